-- Retries waiting for their backoff: one row per failed attempt whose next attempt is due at
-- run_after. The replica that ran the failed attempt starts the next one at its time; when that
-- replica is gone (SIGKILL, SIGTERM, a lost node), any replica that has the job takes the row a
-- moment later (src/run/retries.ts). Taking it is deleting it, in the same statement that inserts
-- the attempt's job_runs row: exactly one replica gets the row back, so each attempt runs once,
-- and the attempt's run id (its fencing token) comes from the sequence when it starts.
-- Keyed by the failed run, so a failed attempt schedules at most one next attempt; pruned with
-- that run (prune_runs), by the foreign key.
CREATE TABLE job_retries (
  retry_of        bigint      PRIMARY KEY REFERENCES job_runs (id) ON DELETE CASCADE,
  job_name        text        NOT NULL,
  -- The slot of the failed attempt (null for a run without one): kept by every attempt.
  scheduled_for   timestamptz,
  -- The number of the attempt that is waiting (2, 3, ...).
  attempt         integer     NOT NULL CHECK (attempt >= 2),
  params          jsonb,
  -- ctx.idempotencyKey of the first attempt, kept by its retries on any replica.
  idempotency_key text        NOT NULL,
  run_after       timestamptz NOT NULL,
  -- The job's overlap was `skip` when the retry was scheduled: manual triggers are refused (409)
  -- while it waits. Kept here because `runner trigger` may have no definition of the job.
  overlap_skip    boolean     NOT NULL,
  scheduled_by    text        NOT NULL,
  scheduled_at    timestamptz NOT NULL DEFAULT now()
);
-- The loop's look for retries coming due, and a job's pending retries (409, status, history).
CREATE INDEX job_retries_due_idx ON job_retries (run_after);
CREATE INDEX job_retries_job_idx ON job_retries (job_name, run_after);
