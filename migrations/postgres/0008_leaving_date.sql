-- The day someone left the company. The status alone said *that* a person left but not *when*,
-- so the dashboard could not count leavers per month nor the headcount of a year ago.
-- NULL for everyone still here; people marked as left before this column existed keep NULL
-- (their leaving day is unknown, and the dashboard counts them as gone since before any month
-- it shows). The form requires it for a leaver from now on.
ALTER TABLE employees ADD COLUMN left_on TEXT COLLATE "C"
    CHECK (left_on IS NULL OR left_on ~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]$');
-- Dashboard: leavers by month.
CREATE INDEX employees_by_leaving ON employees (left_on) WHERE left_on IS NOT NULL;
