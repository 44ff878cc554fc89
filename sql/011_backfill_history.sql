-- The job page lists a job's newest backfill requests (open and finished) in the console:
-- job_backfills is never pruned, so without this index that read walks every request of every job.
CREATE INDEX job_backfills_job_idx ON job_backfills (job_name, id DESC);
