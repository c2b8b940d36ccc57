-- Fills the event stream stored without a market (PROTOCOL.md's OrderFilled carries none): they
-- were stored as buys with an empty market; they take their order's market and side.
UPDATE "fills" SET "market" = "orders"."market", "side" = "orders"."side" FROM "orders" WHERE "fills"."order_id" = "orders"."id" AND "fills"."market" = '';
