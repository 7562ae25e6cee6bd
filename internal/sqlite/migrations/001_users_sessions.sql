-- Users, their roles and workgroups, sessions and auth tokens.
--
-- users.id, and the user_id columns with a foreign key to it, hold the
-- folded id (icrec.FoldID), so that lookups and foreign keys ignore case
-- exactly as the Go code folds it; SQLite's own lower() folds ASCII only.
-- The id as it was created is kept in users.display_id.
--
-- Times are INTEGER milliseconds since the Unix epoch, UTC.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    display_id    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- name_fold is the key, so that the database itself refuses two spellings of
-- one role, and ORDER BY name_fold returns the order icrec.NormalizeNames
-- produces (BINARY collation compares UTF-8 bytes as Go compares strings).
CREATE TABLE user_roles (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name_fold TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (user_id, name_fold)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_workgroups (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name_fold TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (user_id, name_fold)
) STRICT, WITHOUT ROWID;

-- WITHOUT ROWID: the session is found by its id on every authenticated
-- request, and this way that is one b-tree search instead of two.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cookie_hash BLOB NOT NULL,
    csrf_hash   BLOB NOT NULL,
    language    TEXT NOT NULL,
    application TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    created     INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user_id ON sessions (user_id);
-- The expiry sweep (last_seen < ? OR expires <= ?) uses one index per arm.
CREATE INDEX sessions_last_seen ON sessions (last_seen);
CREATE INDEX sessions_expires ON sessions (expires);

-- user_id is kept as the creator of the token gave it and has no foreign key
-- of its own: a token lives and dies with its session, which belongs to the
-- user.
CREATE TABLE auth_tokens (
    hash       BLOB PRIMARY KEY,
    seed       TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    expires    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX auth_tokens_session_id ON auth_tokens (session_id);
CREATE INDEX auth_tokens_expires ON auth_tokens (expires);
