-- The output of a run: lines its handler wrote through ctx.log, and a command job's stdout and
-- stderr, redacted before they are written. Bounded per run (RUN_OUTPUT_MAX_LINES and
-- RUN_OUTPUT_MAX_BYTES): the writer deletes a run's oldest lines past the bounds. Deleted with
-- the run (prune_runs), by the foreign key.
CREATE TABLE job_run_output (
  run_id bigint      NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
  seq    integer     NOT NULL,
  at     timestamptz NOT NULL,
  stream text        NOT NULL CHECK (stream IN ('log', 'stdout', 'stderr')),
  line   text        NOT NULL,
  PRIMARY KEY (run_id, seq)
);
