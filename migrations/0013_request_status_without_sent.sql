-- A request's statuses lose 'sent', which nothing ever wrote: a request is 'signed' (persisted, maybe
-- sent) until its outcome is stored, and sent_at now says when its first send with a stored outcome
-- began. No row holds 'sent', so the new check passes on every existing row (a scan of requests).
ALTER TABLE "requests" DROP CONSTRAINT "requests_status_check";--> statement-breakpoint
ALTER TABLE "requests" ADD CONSTRAINT "requests_status_check" CHECK ("requests"."status" in ('signed', 'accepted', 'rejected', 'unknown'));