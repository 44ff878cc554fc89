-- The slot ledger: the fates of planned instants that job_runs does not hold. A slot that ran,
-- was caught up, backfilled, skipped (overlap, concurrency, group) or missed at capacity has its
-- job_runs row, and `runner explain` reads it there. What is recorded here is what a replica
-- decided without a run row: paused, missed (database unreachable, event loop blocked,
-- overloaded) and dropped (catchUp none or latest, outside misfireGraceSeconds). Consecutive
-- slots with the same fate and reason are one row holding a range and a count: a replica extends
-- the row in place when the next slot continues it (last_slot is the previous planned instant),
-- so a per-second job paused for a day is one row, not 86,400.
CREATE TABLE job_slots (
  id          bigserial   PRIMARY KEY,
  job_name    text        NOT NULL,
  first_slot  timestamptz NOT NULL,
  last_slot   timestamptz NOT NULL,
  slot_count  integer     NOT NULL CHECK (slot_count > 0),
  fate        text        NOT NULL CHECK (fate IN ('paused', 'missed', 'dropped')),
  reason      text        NOT NULL,
  recorded_by text        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (last_slot >= first_slot)
);
-- Reading a window (explain) and finding the row a new slot continues.
CREATE INDEX job_slots_job_first_idx ON job_slots (job_name, first_slot);
CREATE INDEX job_slots_job_last_idx ON job_slots (job_name, last_slot);
-- prune_runs deletes ranges that ended before the retention.
CREATE INDEX job_slots_last_idx ON job_slots (last_slot);

-- When each replica that runs jobs was up: one row per process start. Every loop heartbeat moves
-- live_until to its lease time ahead (as job_catalog's); a graceful stop sets it to the stop. A
-- planned instant no span covers, with no run and no ledger row, was missed because no runner was
-- up ("runner down"): derived when read, never written slot by slot.
CREATE TABLE job_runner_spans (
  runner_id  text        NOT NULL,
  started_at timestamptz NOT NULL,
  live_until timestamptz NOT NULL,
  PRIMARY KEY (runner_id, started_at)
);
CREATE INDEX job_runner_spans_live_idx ON job_runner_spans (live_until);
