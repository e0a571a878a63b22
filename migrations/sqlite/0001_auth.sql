-- Accounts, sessions, the audit trail and login throttling.
-- Conventions shared with the PostgreSQL schema: timestamps are integer unix seconds and flags are
-- integers, so one code path (sqlx Any) decodes both backends identically.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    email               TEXT    NOT NULL UNIQUE,          -- normalized: trimmed, NFC, lowercase
    name                TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,                 -- argon2id PHC string
    role                TEXT    NOT NULL CHECK (role IN ('admin', 'employee')),
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,   -- SHA-256 of the cookie token; the token itself is never stored
    handle       TEXT    NOT NULL UNIQUE,   -- public random name shown and posted by account/admin pages
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,          -- absolute limit
    remember     INTEGER NOT NULL DEFAULT 0 CHECK (remember IN (0, 1)),
    ip           TEXT,
    user_agent   TEXT,
    csrf_secret  TEXT    NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_activity ON sessions (last_seen_at DESC, id DESC);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    actor_user_id   INTEGER,               -- who did it (NULL: anonymous or the CLI)
    subject_user_id INTEGER,               -- whose account or session it concerns
    email           TEXT,                  -- for failed logins: the address as typed
    session_handle  TEXT,
    ip              TEXT,
    user_agent      TEXT,
    detail          TEXT
);
CREATE INDEX audit_by_time ON audit_events (at DESC, id DESC);
CREATE INDEX audit_by_subject ON audit_events (subject_user_id, id DESC);
CREATE INDEX audit_by_kind ON audit_events (kind, id DESC);

-- Fixed-window failure counters, one row per throttled key ("account:<email>" or "ip:<addr>").
CREATE TABLE login_throttle (
    key          TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL
);
