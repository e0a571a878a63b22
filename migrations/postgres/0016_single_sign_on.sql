-- Single sign-on (OpenID Connect). An account remembers the provider's subject (`sub`) from its
-- first SSO sign-in; later sign-ins must carry the same one, so an address changed at the
-- provider cannot take over another account. A session started through SSO is marked, keeps the
-- provider's session id (`sid`, which back-channel logout names) and the ID token (sealed with
-- the secret key; sent back as `id_token_hint` when the person signs out).
-- (A table of its own rather than a column on users: SQLite rebuilds users to change its
-- role CHECK, see src/db/roles.rs, and a column added here would not survive that.)
CREATE TABLE sso_identities (
    user_id   BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    subject   TEXT NOT NULL UNIQUE,
    linked_at BIGINT NOT NULL
);
ALTER TABLE sessions ADD COLUMN single_sign_on BIGINT NOT NULL DEFAULT 0 CHECK (single_sign_on IN (0, 1));
ALTER TABLE sessions ADD COLUMN sso_sid TEXT;
ALTER TABLE sessions ADD COLUMN sso_id_token TEXT;
-- A single sign-on waiting for the portal's own code (`sso_second_factor`) carries the same.
ALTER TABLE pending_logins ADD COLUMN single_sign_on BIGINT NOT NULL DEFAULT 0 CHECK (single_sign_on IN (0, 1));
ALTER TABLE pending_logins ADD COLUMN sso_sid TEXT;
ALTER TABLE pending_logins ADD COLUMN sso_id_token TEXT;
CREATE INDEX sessions_by_sso_sid ON sessions (sso_sid) WHERE sso_sid IS NOT NULL;

-- Logout tokens already used (their `jti`), kept until they could no longer be accepted anyway.
CREATE TABLE sso_logout_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
