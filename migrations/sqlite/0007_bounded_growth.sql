-- The audit trail at a million rows: each filter of the audit page reads an index that already
-- returns its rows newest first, and stops after the rows the page needs, instead of reading and
-- sorting every match. (Retention and the throttle's aggregation keep the trail from growing
-- without bound; these keep what it holds fast.)
DROP INDEX audit_by_kind;
DROP INDEX audit_by_subject;
CREATE INDEX audit_by_kind_time ON audit_events (kind, at DESC, id DESC);
CREATE INDEX audit_by_subject_time ON audit_events (subject_user_id, at DESC, id DESC);
CREATE INDEX audit_by_actor ON audit_events (actor_user_id, at DESC, id DESC);
-- Attempts on addresses without an account are found by the whole address.
CREATE INDEX audit_by_typed_email ON audit_events (LOWER(email), at DESC, id DESC);
