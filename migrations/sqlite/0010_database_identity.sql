-- A random id of this database, made once. The write-generation counter file beside a SQLite
-- database carries the same id, so a process proves at open (and on every read) that the counter
-- it holds belongs to this database, not to a path spelling or a stale file.
CREATE TABLE database_identity (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL
);
INSERT INTO database_identity (one, id) VALUES (1, lower(hex(randomblob(16))));
