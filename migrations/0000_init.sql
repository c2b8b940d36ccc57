CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"wallet_id" uuid,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"wallet_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"type" text NOT NULL,
	"client_order_id" text,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_wallet_seq_unique" UNIQUE("wallet_id","seq")
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"order_id" uuid,
	"fill_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"market" text NOT NULL,
	"side" smallint NOT NULL,
	"price" numeric(78, 18) NOT NULL,
	"size" numeric(78, 18) NOT NULL,
	"fee" numeric(78, 18) NOT NULL,
	"seq" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fills_wallet_fill_id_unique" UNIQUE("wallet_id","fill_id"),
	CONSTRAINT "fills_side_check" CHECK ("fills"."side" in (0, 1))
);
--> statement-breakpoint
CREATE TABLE "intents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"client_ref" text,
	"market" text NOT NULL,
	"side" smallint NOT NULL,
	"price" numeric(78, 18) NOT NULL,
	"size" numeric(78, 18) NOT NULL,
	"time_in_force" smallint NOT NULL,
	"good_till" timestamp with time zone,
	"schedule_id" uuid,
	"slot_at" timestamp with time zone,
	"leg" integer,
	"status" text DEFAULT 'active' NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "intents_kind_check" CHECK ("intents"."kind" in ('limit', 'rebalance')),
	CONSTRAINT "intents_status_check" CHECK ("intents"."status" in ('active', 'cancel_requested', 'cancelled', 'done', 'rejected')),
	CONSTRAINT "intents_side_check" CHECK ("intents"."side" in (0, 1)),
	CONSTRAINT "intents_time_in_force_check" CHECK ("intents"."time_in_force" in (0, 1, 2)),
	CONSTRAINT "intents_amounts_positive" CHECK ("intents"."price" > 0 and "intents"."size" > 0),
	CONSTRAINT "intents_revision_non_negative" CHECK ("intents"."revision" >= 0),
	CONSTRAINT "intents_schedule_complete" CHECK (("intents"."schedule_id" is null and "intents"."slot_at" is null and "intents"."leg" is null) or ("intents"."schedule_id" is not null and "intents"."slot_at" is not null and "intents"."leg" is not null))
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"intent_id" uuid,
	"client_order_id" text NOT NULL,
	"market" text NOT NULL,
	"side" smallint NOT NULL,
	"price" numeric(78, 18) NOT NULL,
	"size" numeric(78, 18) NOT NULL,
	"time_in_force" smallint NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"venue_revision" integer DEFAULT 0 NOT NULL,
	"filled" numeric(78, 18) DEFAULT '0' NOT NULL,
	"filled_notional" numeric(156, 0) DEFAULT '0' NOT NULL,
	"average_price" numeric(78, 18),
	"fees" numeric(78, 18) DEFAULT '0' NOT NULL,
	"venue_order_id" text,
	"session_id" uuid,
	"last_event_seq" bigint,
	"reject_code" text,
	"reject_reason" text,
	"cancel_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_wallet_client_order_id_unique" UNIQUE("wallet_id","client_order_id"),
	CONSTRAINT "orders_state_check" CHECK ("orders"."state" in ('pending', 'submitting', 'unknown', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected')),
	CONSTRAINT "orders_side_check" CHECK ("orders"."side" in (0, 1)),
	CONSTRAINT "orders_time_in_force_check" CHECK ("orders"."time_in_force" in (0, 1, 2)),
	CONSTRAINT "orders_client_order_id_format" CHECK ("orders"."client_order_id" ~ '^0x[0-9a-fA-F]{32}$'),
	CONSTRAINT "orders_filled_non_negative" CHECK ("orders"."filled" >= 0 and "orders"."filled_notional" >= 0)
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "outbox_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"generation" integer DEFAULT 0 NOT NULL,
	"wallet_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"order_id" uuid,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"enqueued_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_kind_check" CHECK ("outbox"."kind" in ('Order', 'ModifyOrder', 'CancelOrder', 'CancelAll')),
	CONSTRAINT "outbox_status_check" CHECK ("outbox"."status" in ('pending', 'enqueued', 'done', 'failed', 'held'))
);
--> statement-breakpoint
CREATE TABLE "requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"order_id" uuid,
	"outbox_id" uuid,
	"family" text NOT NULL,
	"nonce" bigint NOT NULL,
	"deadline" bigint NOT NULL,
	"body" text NOT NULL,
	"status" text DEFAULT 'signed' NOT NULL,
	"receipt" jsonb,
	"duplicate" boolean DEFAULT false NOT NULL,
	"error_code" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	CONSTRAINT "requests_session_nonce_unique" UNIQUE("session_id","nonce"),
	CONSTRAINT "requests_family_check" CHECK ("requests"."family" in ('Order', 'ModifyOrder', 'CancelOrder', 'CancelAll')),
	CONSTRAINT "requests_status_check" CHECK ("requests"."status" in ('signed', 'sent', 'accepted', 'rejected', 'unknown')),
	CONSTRAINT "requests_nonce_uint64" CHECK ("requests"."nonce" >= 0)
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"status_reason" text,
	"public_key" text NOT NULL,
	"sealed_private_key" text NOT NULL,
	"master_key_id" text NOT NULL,
	"acl_scope" text[] NOT NULL,
	"expiry" timestamp with time zone NOT NULL,
	"expiry_unix" bigint NOT NULL,
	"delegation_nonce" numeric(20, 0) NOT NULL,
	"delegation_hash" text,
	"delegated_payload" text,
	"wallet_signer" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delegated_at" timestamp with time zone,
	"activated_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_public_key_unique" UNIQUE("public_key"),
	CONSTRAINT "sessions_delegation_hash_unique" UNIQUE("delegation_hash"),
	CONSTRAINT "sessions_status_check" CHECK ("sessions"."status" in ('pending', 'delegated', 'active', 'rotating', 'revoked', 'expired', 'quarantined')),
	CONSTRAINT "sessions_public_key_format" CHECK ("sessions"."public_key" ~ '^0x0[23][0-9a-fA-F]{64}$'),
	CONSTRAINT "sessions_delegation_hash_format" CHECK ("sessions"."delegation_hash" ~ '^0x[0-9a-fA-F]{64}$'),
	CONSTRAINT "sessions_acl_scope_not_empty" CHECK (cardinality("sessions"."acl_scope") > 0),
	CONSTRAINT "sessions_expiry_matches_unix" CHECK ("sessions"."expiry" = to_timestamp("sessions"."expiry_unix")),
	CONSTRAINT "sessions_delegated_has_payload" CHECK ("sessions"."status" not in ('delegated', 'active', 'rotating') or ("sessions"."delegation_hash" is not null and "sessions"."delegated_payload" is not null))
);
--> statement-breakpoint
CREATE TABLE "stream_cursors" (
	"wallet_id" uuid PRIMARY KEY NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"address" text NOT NULL,
	"tenant_id" text,
	"status" text DEFAULT 'awaiting_delegation' NOT NULL,
	"halted_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallets_address_unique" UNIQUE("address"),
	CONSTRAINT "wallets_status_check" CHECK ("wallets"."status" in ('active', 'halted', 'awaiting_delegation')),
	CONSTRAINT "wallets_address_format" CHECK ("wallets"."address" ~ '^0x[0-9a-fA-F]{40}$'),
	CONSTRAINT "wallets_halted_reason" CHECK ("wallets"."status" <> 'halted' or "wallets"."halted_reason" is not null)
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "intents" ADD CONSTRAINT "intents_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_intent_id_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "requests" ADD CONSTRAINT "requests_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "requests" ADD CONSTRAINT "requests_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "requests" ADD CONSTRAINT "requests_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stream_cursors" ADD CONSTRAINT "stream_cursors_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_wallet_at_idx" ON "audit_log" USING btree ("wallet_id","at");--> statement-breakpoint
CREATE INDEX "events_wallet_client_order_id_idx" ON "events" USING btree ("wallet_id","client_order_id");--> statement-breakpoint
CREATE INDEX "fills_order_idx" ON "fills" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "fills_wallet_client_order_id_idx" ON "fills" USING btree ("wallet_id","client_order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "intents_wallet_client_ref_unique" ON "intents" USING btree ("wallet_id","client_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "intents_schedule_slot_leg_unique" ON "intents" USING btree ("schedule_id","slot_at","leg");--> statement-breakpoint
CREATE INDEX "intents_wallet_status_idx" ON "intents" USING btree ("wallet_id","status");--> statement-breakpoint
CREATE INDEX "orders_wallet_state_idx" ON "orders" USING btree ("wallet_id","state");--> statement-breakpoint
CREATE INDEX "orders_intent_idx" ON "orders" USING btree ("intent_id");--> statement-breakpoint
CREATE INDEX "outbox_status_available_idx" ON "outbox" USING btree ("status","available_at");--> statement-breakpoint
CREATE INDEX "outbox_order_seq_idx" ON "outbox" USING btree ("order_id","seq");--> statement-breakpoint
CREATE INDEX "requests_order_idx" ON "requests" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "requests_status_idx" ON "requests" USING btree ("status");--> statement-breakpoint
CREATE INDEX "requests_outbox_idx" ON "requests" USING btree ("outbox_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_one_active_per_wallet" ON "sessions" USING btree ("wallet_id") WHERE "sessions"."status" = 'active';--> statement-breakpoint
CREATE INDEX "sessions_wallet_status_idx" ON "sessions" USING btree ("wallet_id","status");--> statement-breakpoint
CREATE INDEX "sessions_status_expiry_idx" ON "sessions" USING btree ("status","expiry");