-- Backfill (issue #13 item 3): past slots run again on request, as their slot.
--
-- A backfill run is a job_runs row with trigger 'backfill' and the slot's scheduled_for. It is
-- claimed under the slot key (job_name, scheduled_for, attempt) with the next attempt number of
-- the slot (1 for a slot that has no row yet, one more than its last attempt otherwise): two
-- claimers of one slot compute the same number and the unique index lets one of them insert it.
-- The inline CHECK of 001 was named job_runs_trigger_check by PostgreSQL. NOT VALID: the rows
-- already there satisfy the old, narrower list.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_trigger_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_trigger_check
  CHECK (trigger IN ('schedule', 'catch-up', 'manual', 'once', 'http', 'retry', 'backfill')) NOT VALID;

-- Backfill requests for the running daemons (POST /v1/admin/jobs/:name/backfill, or `runner
-- backfill` without the job's code): every live replica that has the job works on each open
-- request, claiming its slots under the slot key, so each slot runs once. The replica that finds
-- every slot decided sets finished_at.
CREATE TABLE job_backfills (
  id           bigserial   PRIMARY KEY,
  job_name     text        NOT NULL,
  window_from  timestamptz NOT NULL,
  window_to    timestamptz NOT NULL CHECK (window_to >= window_from),
  concurrency  integer     NOT NULL CHECK (concurrency BETWEEN 1 AND 100),
  -- Slots started per second at most, across replicas; null: no limit.
  rate         double precision CHECK (rate > 0),
  requested_by text        NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  -- What the replica that finished it saw: {"slots","succeeded","failed"}.
  summary      jsonb
);
CREATE INDEX job_backfills_open_idx ON job_backfills (job_name) WHERE finished_at IS NULL;

-- The rate check reads the job's newest backfill rows: job_runs_job_started_idx covers it.
