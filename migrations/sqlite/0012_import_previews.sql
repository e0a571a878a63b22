-- Staff lists uploaded for a preview, kept server-side until they are applied or expire: the
-- apply form names a preview by its random id, so what is applied is exactly the file the
-- administrator saw previewed, never a second upload. The content hash is checked again when
-- applying; the uploader's id keeps one administrator from applying another's preview.
-- Housekeeping deletes previews an hour old.
CREATE TABLE import_previews (
    id           TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    applied_at   INTEGER
);
CREATE INDEX import_previews_by_age ON import_previews (created_at);
