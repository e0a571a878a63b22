-- Passkeys (WebAuthn credentials) and the ceremonies that register them and sign in with them.

-- One row per registered passkey. `credential` is the library's record of it as JSON: the public
-- key, the signature counter and the backup flags — nothing secret (the private key never leaves
-- the authenticator). `credential_id` (base64url) is unique across all accounts: one credential can
-- never be registered twice. `user_handle` is the WebAuthn user id the authenticator stores with a
-- discoverable credential and returns at sign-in; it must match the account the credential is
-- registered to. `handle` is the public random name the account page posts.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    handle        TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT    NOT NULL UNIQUE,
    user_handle   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    credential    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A started ceremony: the library's state (challenge and policy) stays here and never goes to the
-- browser, which holds only a random token whose SHA-256 is `token_hash`. The row is deleted by
-- the statement that reads it, so a challenge answers once; it is worthless after `expires_at`.
-- A registration belongs to the session that started it (and ends with it).
CREATE TABLE passkey_ceremonies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,
    purpose      TEXT    NOT NULL CHECK (purpose IN ('register', 'sign_in')),
    session_id   INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    passkey_name TEXT,
    state        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_by_session ON passkey_ceremonies (session_id);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);
