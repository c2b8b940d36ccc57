-- Room on each page for a request's one status change (signed → accepted, with its receipt), so
-- that it can be a HOT update: with status in no index (0007), the new row version then stays on
-- its page and none of the table's four indexes gets a new entry. Applies to pages written from now on.
ALTER TABLE "requests" SET (fillfactor = 60);
