-- Two-factor sign-in (TOTP and recovery codes), the pending logins between the password and the
-- code, and the browsers a person has signed in from (known devices).

-- One row per account that has started or finished enrolling. The secret is sealed (AES-256-GCM
-- under a key derived from the secret key, bound to the account): a copy of the database alone
-- yields no code. `enabled_at` is NULL until the person confirmed a code. `last_used_step` is the
-- 30-second step of the last accepted code, so a code is accepted once.
CREATE TABLE two_factor (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    enabled_at     INTEGER,
    last_used_step INTEGER NOT NULL DEFAULT 0
);

-- Ten single-use codes for a lost phone; only SHA-256 of each (80 random bits) is stored.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- A password step that passed and waits for its code: five minutes, single use, found by the
-- SHA-256 of the token in the browser's private pending-login cookie.
CREATE TABLE pending_logins (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    remember   INTEGER NOT NULL DEFAULT 0 CHECK (remember IN (0, 1)),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX pending_logins_by_user ON pending_logins (user_id);
CREATE INDEX pending_logins_by_expiry ON pending_logins (expires_at);

-- A browser that signed in to an account: its long-lived device cookie holds the token, the row
-- holds SHA-256 of it. Sign-in attempts that carry it are throttled per device (failures from
-- elsewhere cannot lock the owner out); a sign-in without one mails the owner. `acknowledged`
-- is set when the owner dismissed the dashboard's new-device notice.
CREATE TABLE known_devices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,
    handle       TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    acknowledged INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1))
);
CREATE INDEX known_devices_by_user ON known_devices (user_id);
CREATE INDEX known_devices_by_expiry ON known_devices (expires_at);
