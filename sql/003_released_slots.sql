-- Slots a stopping replica had claimed but not started (their instant had not come). Their
-- job_runs rows are deleted, so the slot key is free again, and listed here, so another replica
-- takes them at its next loop tick (FOR UPDATE SKIP LOCKED: exactly one does) and claims them by
-- its catch-up policy. A restarted process finds the key free and catches the slot up as well.
CREATE TABLE job_released_slots (
  job_name      text        NOT NULL,
  scheduled_for timestamptz NOT NULL,
  released_by   text        NOT NULL,
  released_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_name, scheduled_for)
);
