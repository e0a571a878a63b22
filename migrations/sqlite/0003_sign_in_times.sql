-- When each account last signed in, and the sign-in before that (shown on the dashboard as
-- "previous sign-in", so people notice a sign-in that was not theirs). Read with the session
-- lookup's existing join, so showing it costs no extra query.
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
ALTER TABLE users ADD COLUMN previous_sign_in_at INTEGER;
