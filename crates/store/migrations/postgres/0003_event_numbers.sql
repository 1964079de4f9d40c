-- The single writer numbers events itself (in commit order) and inserts a
-- batch's events in one statement.
ALTER TABLE events ALTER COLUMN seq DROP IDENTITY;
