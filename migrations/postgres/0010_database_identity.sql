-- A random id of this database, made once (kept in step with SQLite, where the write-generation
-- counter file beside the database carries it; PostgreSQL has no counter file).
CREATE TABLE database_identity (
    one BIGINT PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL
);
INSERT INTO database_identity (one, id)
VALUES (1, md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text));
