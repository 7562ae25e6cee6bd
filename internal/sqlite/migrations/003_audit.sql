-- The audit trail: who did what, when, to which recording, with what
-- outcome. Events form a hash chain (icrec.AuditEvent.ChainHash): each
-- event's hash covers its fields and the hash of the event before it, so
-- that a deleted, altered or reordered event shows (audit.Verify).
--
-- seq is the rowid, numbered 1, 2, 3... by the store as the last seq plus
-- one, never by SQLite: a rowid SQLite chooses may reuse a deleted number.
-- user_fold is icrec.FoldID(user_id), as in 001. time is INTEGER
-- milliseconds since the Unix epoch, UTC, the precision ChainHash covers.
-- prev_hash is empty for the first event, and a SHA-256 for the others.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY CHECK (seq > 0),
    time         INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    user_fold    TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    client_addr  TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    attachment   INTEGER NOT NULL,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL,
    prev_hash    BLOB NOT NULL CHECK (length(prev_hash) IN (0, 32)),
    hash         BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- One index per filter of icrec.AuditFilter that selects few events. Each
-- holds the rowid after its column, so that "user X's events after seq N"
-- comes out of audit_events_user in seq order without a sort.
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_user ON audit_events (user_fold);
CREATE INDEX audit_events_recording ON audit_events (recording_id);

-- The trail only grows. These triggers make the database itself refuse to
-- rewrite history through icrec's own connections, whatever a bug in icrec
-- does: an UPDATE or DELETE fails, and an INSERT must continue the chain
-- (the next seq, chained to the last event's hash). They do not stop
-- someone who can write the file: that is what the hash chain is for.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: events cannot be changed');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: events cannot be deleted');
END;

CREATE TRIGGER audit_events_append BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT coalesce((SELECT max(seq) FROM audit_events), 0) + 1
    OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), X'')
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: an event must follow the last one');
END;
