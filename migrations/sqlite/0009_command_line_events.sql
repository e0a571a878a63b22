-- Events done from the command line say so in a column of their own, so pages and exports can
-- show "command line" as who did it and from where (instead of no one from an unknown device).
-- Before this column they were told apart only by the detail the application wrote for them:
-- no actor, no address, no user agent, and a detail beginning "command line".
ALTER TABLE audit_events ADD COLUMN command_line INTEGER NOT NULL DEFAULT 0
    CHECK (command_line IN (0, 1));
UPDATE audit_events SET command_line = 1
 WHERE actor_user_id IS NULL AND ip IS NULL AND user_agent IS NULL
   AND (detail = 'command line' OR detail LIKE 'command line; %');
