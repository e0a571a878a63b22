-- When each account last signed in, and the sign-in before that (see migrations/sqlite).
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;
ALTER TABLE users ADD COLUMN previous_sign_in_at BIGINT;
