CREATE TABLE "policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"session_id" uuid,
	"rules" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "schedule_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"schedule_id" uuid NOT NULL,
	"wallet_id" uuid NOT NULL,
	"slot_at" timestamp with time zone NOT NULL,
	"schedule_version" integer NOT NULL,
	"job_id" text,
	"status" text DEFAULT 'running' NOT NULL,
	"stage" text,
	"reason" text NOT NULL,
	"detail" text NOT NULL,
	"coalesced" integer DEFAULT 0 NOT NULL,
	"coalesced_slots" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"portfolio_value" numeric(78, 18),
	"before" jsonb,
	"after" jsonb,
	"legs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"skipped_legs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"adjustments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cancelled_order_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"notes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedule_runs_status_check" CHECK ("schedule_runs"."status" in ('running', 'completed', 'skipped', 'awaiting_delegation', 'failed')),
	CONSTRAINT "schedule_runs_stage_check" CHECK ("schedule_runs"."stage" is null or "schedule_runs"."stage" in ('settling', 'selling')),
	CONSTRAINT "schedule_runs_stage_only_running" CHECK ("schedule_runs"."stage" is null or "schedule_runs"."status" = 'running'),
	CONSTRAINT "schedule_runs_finished" CHECK (("schedule_runs"."status" = 'running') = ("schedule_runs"."finished_at" is null))
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" uuid NOT NULL,
	"targets" jsonb NOT NULL,
	"cron" text NOT NULL,
	"time_zone" text NOT NULL,
	"tolerance_band" numeric(78, 18) NOT NULL,
	"min_trade_notional" numeric(78, 18) NOT NULL,
	"limit_offset_bps" integer NOT NULL,
	"max_notional_per_run" numeric(78, 18),
	"status" text DEFAULT 'active' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"active_since" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedules_status_check" CHECK ("schedules"."status" in ('active', 'paused', 'deleted')),
	CONSTRAINT "schedules_version_positive" CHECK ("schedules"."version" >= 1),
	CONSTRAINT "schedules_limit_offset_bps_range" CHECK ("schedules"."limit_offset_bps" between 0 and 1000),
	CONSTRAINT "schedules_deleted_at" CHECK (("schedules"."status" = 'deleted') = ("schedules"."deleted_at" is not null))
);
--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policies" ADD CONSTRAINT "policies_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_runs" ADD CONSTRAINT "schedule_runs_schedule_id_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."schedules"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_runs" ADD CONSTRAINT "schedule_runs_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "policies_wallet_unique" ON "policies" USING btree ("wallet_id") WHERE "policies"."session_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "policies_wallet_session_unique" ON "policies" USING btree ("wallet_id","session_id") WHERE "policies"."session_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "schedule_runs_schedule_slot_unique" ON "schedule_runs" USING btree ("schedule_id","slot_at");--> statement-breakpoint
CREATE INDEX "schedule_runs_schedule_status_idx" ON "schedule_runs" USING btree ("schedule_id","status");--> statement-breakpoint
CREATE INDEX "schedules_wallet_status_idx" ON "schedules" USING btree ("wallet_id","status");--> statement-breakpoint
CREATE INDEX "schedules_status_idx" ON "schedules" USING btree ("status");