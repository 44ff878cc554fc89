-- The jobs each replica runs, published by the replica itself: at start, and at every loop tick
-- (the whole list only when it changed, otherwise last_seen and live_until). Management commands
-- (trigger, pause, resume, status, history) read it to know jobs that only a daemon's --jobs or
-- JOBS_FILE defines, and which live replicas run each one.
CREATE TABLE job_catalog (
  runner_id        text        NOT NULL,
  job_name         text        NOT NULL,
  schedule         text        NOT NULL,
  timezone         text        NOT NULL,
  source           text        NOT NULL,
  enabled          boolean     NOT NULL,
  -- The replica's --interval: a trigger request waits at most about this long for it.
  interval_seconds integer     NOT NULL,
  published_at     timestamptz NOT NULL DEFAULT now(),
  last_seen        timestamptz NOT NULL DEFAULT now(),
  -- The replica counts as live until then (its lease time past its last tick), unless it stopped.
  live_until       timestamptz NOT NULL,
  PRIMARY KEY (runner_id, job_name)
);
CREATE INDEX job_catalog_job_idx ON job_catalog (job_name);
