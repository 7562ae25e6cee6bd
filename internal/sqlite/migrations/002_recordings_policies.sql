-- The recording catalogue, the blobs about to be stored for it, and the
-- ordered security policies.
--
-- As in 001, columns named *_fold hold icrec.FoldID of the name beside them,
-- so that lookups and keys ignore case exactly as the Go code folds it, and
-- ORDER BY *_fold returns the order icrec.NormalizeNames produces. Times are
-- INTEGER milliseconds since the Unix epoch, UTC.

-- id is the recording's GUID in canonical, upper-case form: the store
-- upper-cases ids on the way in and in lookups, so a plain BINARY key
-- compares them ignoring case.
--
-- Not WITHOUT ROWID, unlike the tables around it. A row is some 350 bytes,
-- and a WITHOUT ROWID b-tree keeps whole rows in its interior pages too:
-- on 100,000 recordings that made the table five levels deep, with over
-- 700 interior pages, more than a connection's page cache holds. As a rowid
-- table, the id index and the table are three levels deep with some 40
-- interior pages between them, which stay cached; lookups by id measured
-- the same either way, and the secondary indexes below point at an 8-byte
-- rowid rather than a 36-byte id.
CREATE TABLE recordings (
    id                     TEXT NOT NULL PRIMARY KEY,
    interaction_id         TEXT NOT NULL,
    media_type             INTEGER NOT NULL,
    recording_type         INTEGER NOT NULL,
    call_type              INTEGER NOT NULL,
    direction              INTEGER NOT NULL,
    recording_date         INTEGER NOT NULL,
    -- Nanoseconds, time.Duration's own unit, so that a duration comes back
    -- exactly as it was given.
    duration               INTEGER NOT NULL,
    -- NULL: kept until a retention policy says otherwise (the zero
    -- icrec.Recording.ExpirationDate).
    expiration_date        INTEGER,
    initiation_policy_name TEXT NOT NULL,
    line_name              TEXT NOT NULL,
    snippet_initiator      TEXT NOT NULL,
    related_recording_id   TEXT NOT NULL,
    is_encrypted           INTEGER NOT NULL CHECK (is_encrypted IN (0, 1)),
    is_archived            INTEGER NOT NULL CHECK (is_archived IN (0, 1)),
    media_key              TEXT NOT NULL,
    media_content_type     TEXT NOT NULL,
    media_size             INTEGER NOT NULL,
    media_sha256           TEXT NOT NULL,
    media_file_name        TEXT NOT NULL,
    created                INTEGER NOT NULL
) STRICT;

-- Listings come ordered by (recording_date, id), and a cursor continues
-- after such a pair: this index serves both without a sort.
CREATE INDEX recordings_date ON recordings (recording_date, id);
-- The interaction's recordings, already in listing order.
CREATE INDEX recordings_interaction ON recordings (interaction_id, recording_date, id);
-- Not UNIQUE: the contract does not say that two recordings never share a
-- blob, and refusing it here would be a rule no other store keeps.
CREATE INDEX recordings_media_key ON recordings (media_key);

-- The child tables are keyed by (recording_id, ...) WITHOUT ROWID, so that a
-- recording's children lie together, in the order they are returned in, and
-- one range search reads them all. The key also serves the foreign key's
-- ON DELETE CASCADE.

-- position keeps the order the participants were given in. user_fold is
-- empty for an external party.
CREATE TABLE recording_participants (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    user_id      TEXT NOT NULL,
    user_fold    TEXT NOT NULL,
    name         TEXT NOT NULL,
    address      TEXT NOT NULL,
    PRIMARY KEY (recording_id, position)
) STRICT, WITHOUT ROWID;

-- "The recordings user X took part in". External parties, most of the rows,
-- are left out: they are no user, and Recording.HasParticipant never
-- matches them either.
CREATE INDEX recording_participants_user ON recording_participants (user_fold, recording_id)
    WHERE user_fold <> '';

CREATE TABLE recording_workgroups (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    name_fold    TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (recording_id, name_fold)
) STRICT, WITHOUT ROWID;

CREATE INDEX recording_workgroups_name ON recording_workgroups (name_fold, recording_id);

CREATE TABLE recording_attributes (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    name_fold    TEXT NOT NULL,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (recording_id, name_fold)
) STRICT, WITHOUT ROWID;

CREATE TABLE recording_tags (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    name_fold    TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (recording_id, name_fold)
) STRICT, WITHOUT ROWID;

-- idx is icrec.Attachment.Index, 1..n: the ICWS attachmentId.
CREATE TABLE recording_attachments (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    part         TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (recording_id, idx)
) STRICT, WITHOUT ROWID;

-- Blobs about to be stored for recordings not yet created. created tells a
-- cleanup how old a trace is, so that it can leave an import in progress
-- alone.
CREATE TABLE pending_blobs (
    key     TEXT PRIMARY KEY,
    created INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Policies are keyed by folded name, so that the database itself refuses two
-- spellings of one name; the children refer to that key.
--
-- position is UNIQUE, so that the order is always total. Renumbering
-- therefore goes through negative positions (see policy.go): SQLite checks
-- UNIQUE row by row, and shifting a range in place would collide half-way.
CREATE TABLE policies (
    name_fold TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    position  INTEGER NOT NULL UNIQUE,
    rights    INTEGER NOT NULL,
    created   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Users are kept as given, in the order given ("*" among them), so position
-- is the key.
CREATE TABLE policy_users (
    policy_fold TEXT NOT NULL REFERENCES policies (name_fold) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (policy_fold, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE policy_roles (
    policy_fold TEXT NOT NULL REFERENCES policies (name_fold) ON DELETE CASCADE,
    name_fold   TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (policy_fold, name_fold)
) STRICT, WITHOUT ROWID;

CREATE TABLE policy_workgroups (
    policy_fold TEXT NOT NULL REFERENCES policies (name_fold) ON DELETE CASCADE,
    name_fold   TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (policy_fold, name_fold)
) STRICT, WITHOUT ROWID;

-- kind is icrec.ScopeKind; value the workgroup or media type name. Scopes
-- are kept in the order given.
CREATE TABLE policy_scopes (
    policy_fold TEXT NOT NULL REFERENCES policies (name_fold) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (policy_fold, position)
) STRICT, WITHOUT ROWID;
