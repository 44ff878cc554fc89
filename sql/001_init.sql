-- The runner's tables. Unqualified names: the connection's search_path is DATABASE_SCHEMA.

-- One row per run attempt. A scheduled slot is claimed by inserting its first attempt:
-- the unique index on (job_name, scheduled_for, attempt) makes that insert the lock.
CREATE TABLE job_runs (
  id            bigserial PRIMARY KEY,
  job_name      text        NOT NULL,
  scheduled_for timestamptz,
  trigger       text        NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual', 'once', 'http', 'retry')),
  attempt       integer     NOT NULL DEFAULT 1,
  status        text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'skipped', 'interrupted', 'abandoned')),
  runner_id     text        NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  duration_ms   integer,
  lease_until   timestamptz,
  error         text,
  result        jsonb,
  params        jsonb
);
CREATE UNIQUE INDEX job_runs_slot_key ON job_runs (job_name, scheduled_for, attempt) WHERE scheduled_for IS NOT NULL;
CREATE INDEX job_runs_job_started_idx ON job_runs (job_name, started_at DESC);
CREATE INDEX job_runs_running_idx ON job_runs (job_name) WHERE status = 'running';
CREATE INDEX job_runs_lease_idx ON job_runs (lease_until) WHERE status = 'running';
CREATE INDEX job_runs_started_idx ON job_runs (started_at);

-- One row per job, plus 'jobs-runner' for the loop: the health view operators query.
CREATE TABLE job_heartbeats (
  name                 text PRIMARY KEY,
  runner_id            text        NOT NULL,
  last_heartbeat       timestamptz NOT NULL DEFAULT now(),
  last_success_at      timestamptz,
  consecutive_failures integer     NOT NULL DEFAULT 0,
  last_error           text,
  last_error_at        timestamptz
);

-- Each replica's own liveness.
CREATE TABLE job_runners (
  runner_id  text PRIMARY KEY,
  hostname   text        NOT NULL,
  pid        integer     NOT NULL,
  version    text        NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz
);

-- Persisted per-job controls: pause, and when the job was first seen (catch-up never reaches
-- back before a job existed).
CREATE TABLE job_state (
  job_name      text PRIMARY KEY,
  paused        boolean     NOT NULL DEFAULT false,
  paused_at     timestamptz,
  paused_by     text,
  first_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Manual trigger requests, picked up by exactly one live replica (FOR UPDATE SKIP LOCKED).
CREATE TABLE job_triggers (
  id              bigserial PRIMARY KEY,
  job_name        text        NOT NULL,
  params          jsonb       NOT NULL DEFAULT '{}',
  trigger         text        NOT NULL DEFAULT 'manual',
  requested_at    timestamptz NOT NULL DEFAULT now(),
  requested_by    text,
  idempotency_key text,
  claimed_by      text,
  claimed_at      timestamptz,
  run_id          bigint
);
CREATE INDEX job_triggers_pending_idx ON job_triggers (requested_at) WHERE claimed_at IS NULL;
CREATE UNIQUE INDEX job_triggers_idempotency_key ON job_triggers (job_name, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Jobs registered at run time through the scheduler API, shared by every replica.
CREATE TABLE job_definitions (
  name       text PRIMARY KEY,
  definition jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
