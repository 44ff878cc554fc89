-- Placeholder: number 008 belongs to a migration written in a parallel branch (issue #13).
-- readMigrations refuses gaps, so this branch holds the number with a statement that changes
-- nothing. When the branch that owns 008 is merged, delete this file (two 008 files stop every
-- start with "expected number 9", so the merge cannot miss it).
SELECT 1;
