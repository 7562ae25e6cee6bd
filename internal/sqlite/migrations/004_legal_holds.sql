-- Legal holds, and the index the retention sweep pages through.
--
-- As in 001 and 002, columns named *_fold hold icrec.FoldID of the name
-- beside them, and times are INTEGER milliseconds since the Unix epoch, UTC.

-- A hold is keyed by folded name, so that the database itself refuses two
-- spellings of one name, as for policies.
--
-- The query (icrec.HoldQuery) is stored as columns, one per field, rather
-- than as JSON, so that it can be read with the sqlite3 shell and checked by
-- the database: an empty string is a string field left unset, NULL an
-- optional field left unset (media type, the two bounds of the recording
-- date, the attribute). The attribute is a name and a value, both set or
-- both NULL. A new query field will take a migration; icrec refuses a
-- database a newer icrec migrated, so an older one never reads a hold
-- without a field it cannot see.
CREATE TABLE holds (
    name_fold         TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    created           INTEGER NOT NULL,
    created_by        TEXT NOT NULL,
    query_interaction TEXT NOT NULL,
    query_participant TEXT NOT NULL,
    query_workgroup   TEXT NOT NULL,
    query_media_type  INTEGER,
    query_since       INTEGER,
    query_until       INTEGER,
    query_tag         TEXT NOT NULL,
    query_attr_name   TEXT,
    query_attr_value  TEXT,
    CHECK ((query_attr_name IS NULL) = (query_attr_value IS NULL))
) STRICT, WITHOUT ROWID;

-- The recordings a hold names. recording_id is a canonical, upper-case GUID,
-- as recordings.id is, but not a foreign key: a hold may name a recording
-- before it is imported, and must outlast any deletion of one. There is no
-- limit on how many a hold names; keyed by hold, they are read in one range
-- search, in id order.
CREATE TABLE hold_recordings (
    hold_fold    TEXT NOT NULL REFERENCES holds (name_fold) ON DELETE CASCADE,
    recording_id TEXT NOT NULL,
    PRIMARY KEY (hold_fold, recording_id)
) STRICT, WITHOUT ROWID;

-- The sweep asks for the recordings expired by now, in id order, a page
-- after a given id. With this index SQLite walks the recordings that can
-- expire in id order from the page's start, testing the date in the index
-- itself, and reads the table only for the rows it returns, so that a whole
-- sweep walks the index once. An index led by expiration_date would find a
-- few expired recordings faster, but each page would then sort every
-- expired recording after the cursor (quadratic in a large backlog), and
-- SQLite's planner prefers walking the table by id to that, reading every
-- row. Partial: recordings without an expiration date never expire.
CREATE INDEX recordings_expiration ON recordings (id, expiration_date)
    WHERE expiration_date IS NOT NULL;
