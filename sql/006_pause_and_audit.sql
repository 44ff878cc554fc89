-- Why a job is paused, and until when: `runner pause --reason --until/--for`, the admin API and
-- auto-pause (pauseAfterFailures) write them; a pause whose paused_until has passed is lifted by
-- the loop of any replica (and recorded as a resume by `expiry`). paused_by is the owner.
ALTER TABLE job_state
  ADD COLUMN paused_reason text,
  ADD COLUMN paused_until  timestamptz;

-- The audit trail: every pause, resume, trigger, backfill, registration, deletion and definition
-- change, with who did it (the Basic user, cli:<os user>@<host>, internal-secret, or the runner
-- itself), when, the job and the details. prune_runs deletes rows older than RUN_RETENTION_DAYS.
CREATE TABLE job_audit (
  id       bigserial   PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text        NOT NULL,
  action   text        NOT NULL CHECK (action IN
             ('pause', 'resume', 'trigger', 'backfill', 'register', 'delete', 'change')),
  job_name text,
  details  jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX job_audit_job_idx ON job_audit (job_name, id DESC);
CREATE INDEX job_audit_at_idx ON job_audit (at);
