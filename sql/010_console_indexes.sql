-- The console (GET /, /jobs/:name, /runs/:id) reads job_runs by job, newest first, and pages
-- by keyset: (started_at, id) below the last row shown. These indexes give each page an index
-- scan that stops at the page's size, whatever the table holds (bench: "console pages").

-- A job's history, newest first, ties broken by id: the run strips of the overview (a LATERAL
-- per job) and the job page's unfiltered history. It replaces job_runs_job_started_idx, its prefix:
-- one index to maintain per insert, not two.
CREATE INDEX job_runs_job_history_idx ON job_runs (job_name, started_at DESC, id DESC);
DROP INDEX job_runs_job_started_idx;

-- The job page's history filtered by status (?status=failed).
CREATE INDEX job_runs_job_status_history_idx ON job_runs (job_name, status, started_at DESC, id DESC);

-- The run page's timeline: when the row was written (the slot's claim, or a trigger's insert),
-- which is earlier than started_at when a slot is claimed ahead of its instant. The default, set
-- after the column is added, applies to new rows only: older rows say "not recorded".
ALTER TABLE job_runs ADD COLUMN claimed_at timestamptz, ADD COLUMN error_stack text;
ALTER TABLE job_runs ALTER COLUMN claimed_at SET DEFAULT now();
