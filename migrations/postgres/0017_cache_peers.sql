-- Exact in-memory caches across instances (src/cache/peers): the shared write generation, each
-- serving instance's lease and the last generation it acknowledged. PostgreSQL only: SQLite keeps
-- its generation in a counter file beside the database.

CREATE TABLE cache_generation (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    value BIGINT NOT NULL
);
INSERT INTO cache_generation (one, value) VALUES (TRUE, 0);

CREATE TABLE cache_instances (
    id TEXT PRIMARY KEY,
    lease_until TIMESTAMPTZ NOT NULL,
    acked BIGINT NOT NULL
);

-- Inside a committing write, just before COMMIT: the next generation, announced at commit. The
-- row lock orders writers, so values are announced in commit order.
CREATE FUNCTION hr_portal_bump_generation() RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    next_value BIGINT;
BEGIN
    UPDATE cache_generation SET value = value + 1 RETURNING value INTO next_value;
    PERFORM pg_notify('hr_portal_generation', next_value::TEXT);
    RETURN next_value;
END
$$;

-- Takes or renews an instance's lease (by this server's clock); whether the previous one was still
-- live. A new row has acknowledged nothing yet: writers wait for it until it has caught up.
CREATE FUNCTION hr_portal_renew_lease(instance TEXT, lease_ms BIGINT) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    was_live BOOLEAN;
BEGIN
    SELECT lease_until > now() INTO was_live FROM cache_instances WHERE id = instance FOR UPDATE;
    IF NOT FOUND THEN
        -- Rows of instances that died long ago go with a new one.
        DELETE FROM cache_instances WHERE lease_until < now() - INTERVAL '1 hour';
        INSERT INTO cache_instances (id, lease_until, acked)
        VALUES (instance, now() + lease_ms * INTERVAL '1 millisecond', 0);
        RETURN FALSE;
    END IF;
    UPDATE cache_instances SET lease_until = now() + lease_ms * INTERVAL '1 millisecond'
    WHERE id = instance;
    RETURN was_live;
END
$$;

-- An instance has dropped everything committed up to `generation`; writers waiting for it wake.
CREATE FUNCTION hr_portal_acknowledge_generation(instance TEXT, generation BIGINT) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_instances SET acked = generation WHERE id = instance AND acked < generation;
    PERFORM pg_notify('hr_portal_generation_ack', generation::TEXT);
END
$$;
