-- The latest ctx.progress(done, total) of a run, kept with it for history and the status page.
-- Null until the job reports; the total stays null when the job does not know it.
-- double precision, not bigint: the values are JavaScript numbers and come back as numbers.
ALTER TABLE job_runs
  ADD COLUMN progress_done  double precision,
  ADD COLUMN progress_total double precision;

-- A total only with a count done; both finite and not negative (in PostgreSQL NaN and Infinity
-- compare above every number). A null column passes its comparisons: a CHECK fails only on false.
-- NOT VALID skips scanning the existing rows, whose progress is all null.
ALTER TABLE job_runs ADD CONSTRAINT job_runs_progress_check CHECK (
  (progress_total IS NULL OR progress_done IS NOT NULL)
  AND progress_done >= 0 AND progress_done < 'Infinity'
  AND progress_total >= 0 AND progress_total < 'Infinity'
) NOT VALID;
