-- Placeholder: number 007 belongs to a migration written in a parallel branch (issue #13).
-- readMigrations refuses gaps, so this branch holds the number with a statement that changes
-- nothing. When the branch that owns 007 is merged, delete this file (two 007 files stop every
-- start with "expected number 8", so the merge cannot miss it).
SELECT 1;
