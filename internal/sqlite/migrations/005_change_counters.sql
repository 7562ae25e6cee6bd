-- Change counters (icrec.Versions): the database itself counts the changes
-- to what rights checks read, so that a server may keep what it read in
-- memory for as long as the count stays put, and never serve it stale, even
-- when the change comes from another process (an icrec command, another
-- server). Triggers do the counting, in the transaction of the change, so
-- that no writer can forget to, and a reader that sees a count sees the
-- data as of that count or later.
--
-- 'rights' counts the changes to whatever archive.Evaluate reads besides the
-- recording: users, their roles and workgroups, and the policies with
-- everything they hold (their order among it). 'recordings' counts the
-- changes to whatever FindRecordingByID returns: a recording and its child
-- tables. A counter only grows; its value means nothing but "the same as
-- before, or not".
--
-- The tables left out hold nothing either reads: sessions, auth_tokens,
-- pending_blobs, audit_events, holds, hold_recordings (see
-- TestChangeCountersCoverTables, which fails when a new table is neither
-- counted nor left out on purpose).
--
-- SQLite has only row triggers, so a statement changing n rows adds n. The
-- cost falls on writes: a statement that fires a trigger also keeps a
-- statement journal, so that storing a recording's rows takes some 40% more
-- time (BenchmarkCreateRecordings, Counted against Uncounted; more in larger
-- batches), and a whole import, where storing the media dominates, a few
-- percent more. Reads are what the counters save.
CREATE TABLE change_counters (
    name TEXT PRIMARY KEY,
    n    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO change_counters (name, n) VALUES ('rights', 0), ('recordings', 0);

-- Users: a sign-in that upgrades a password hash updates the row, as does a
-- password change, and neither bears on rights; counting them would empty
-- the cache at every login. So an update counts only when a column that
-- rights depend on changes: the id (a user's own recordings and the
-- policies naming them) and whether the user is disabled. UPDATE OF alone
-- would not do: UpdateUser sets every column, changed or not.
CREATE TRIGGER users_insert_counts AFTER INSERT ON users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER users_update_counts AFTER UPDATE OF id, display_id, disabled ON users
WHEN OLD.id IS NOT NEW.id OR OLD.display_id IS NOT NEW.display_id OR OLD.disabled IS NOT NEW.disabled
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER users_delete_counts AFTER DELETE ON users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

CREATE TRIGGER user_roles_insert_counts AFTER INSERT ON user_roles
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER user_roles_update_counts AFTER UPDATE ON user_roles
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER user_roles_delete_counts AFTER DELETE ON user_roles
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

CREATE TRIGGER user_workgroups_insert_counts AFTER INSERT ON user_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER user_workgroups_update_counts AFTER UPDATE ON user_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER user_workgroups_delete_counts AFTER DELETE ON user_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

-- Policies: every column counts, position included, since the order is
-- the order a grant lists its sources in.
CREATE TRIGGER policies_insert_counts AFTER INSERT ON policies
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policies_update_counts AFTER UPDATE ON policies
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policies_delete_counts AFTER DELETE ON policies
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

CREATE TRIGGER policy_users_insert_counts AFTER INSERT ON policy_users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_users_update_counts AFTER UPDATE ON policy_users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_users_delete_counts AFTER DELETE ON policy_users
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

CREATE TRIGGER policy_roles_insert_counts AFTER INSERT ON policy_roles
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_roles_update_counts AFTER UPDATE ON policy_roles
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_roles_delete_counts AFTER DELETE ON policy_roles
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

CREATE TRIGGER policy_workgroups_insert_counts AFTER INSERT ON policy_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_workgroups_update_counts AFTER UPDATE ON policy_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_workgroups_delete_counts AFTER DELETE ON policy_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

CREATE TRIGGER policy_scopes_insert_counts AFTER INSERT ON policy_scopes
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_scopes_update_counts AFTER UPDATE ON policy_scopes
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;
CREATE TRIGGER policy_scopes_delete_counts AFTER DELETE ON policy_scopes
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'rights'; END;

-- Recordings: every column is part of icrec.Recording, so every update
-- counts (a retention date, an archived flag).
CREATE TRIGGER recordings_insert_counts AFTER INSERT ON recordings
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recordings_update_counts AFTER UPDATE ON recordings
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recordings_delete_counts AFTER DELETE ON recordings
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;

CREATE TRIGGER recording_participants_insert_counts AFTER INSERT ON recording_participants
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_participants_update_counts AFTER UPDATE ON recording_participants
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_participants_delete_counts AFTER DELETE ON recording_participants
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;

CREATE TRIGGER recording_workgroups_insert_counts AFTER INSERT ON recording_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_workgroups_update_counts AFTER UPDATE ON recording_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_workgroups_delete_counts AFTER DELETE ON recording_workgroups
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;

CREATE TRIGGER recording_attributes_insert_counts AFTER INSERT ON recording_attributes
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_attributes_update_counts AFTER UPDATE ON recording_attributes
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_attributes_delete_counts AFTER DELETE ON recording_attributes
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;

CREATE TRIGGER recording_tags_insert_counts AFTER INSERT ON recording_tags
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_tags_update_counts AFTER UPDATE ON recording_tags
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_tags_delete_counts AFTER DELETE ON recording_tags
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;

CREATE TRIGGER recording_attachments_insert_counts AFTER INSERT ON recording_attachments
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_attachments_update_counts AFTER UPDATE ON recording_attachments
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
CREATE TRIGGER recording_attachments_delete_counts AFTER DELETE ON recording_attachments
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'recordings'; END;
