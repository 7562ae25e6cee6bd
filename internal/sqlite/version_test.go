package sqlite_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/sqlite"
)

// counts says which counters a change must move.
type counts struct{ rights, recordings bool }

// checkMoves runs change and checks that exactly the counters want names
// moved, as d reads them.
func checkMoves(t *testing.T, d *sqlite.DB, what string, want counts, change func(ctx context.Context) error) {
	t.Helper()
	ctx := t.Context()
	before, err := d.Versions(ctx)
	if err != nil {
		t.Fatalf("Versions: %v", err)
	}
	if err := change(ctx); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	after, err := d.Versions(ctx)
	if err != nil {
		t.Fatalf("Versions: %v", err)
	}
	got := counts{rights: after.Rights != before.Rights, recordings: after.Recordings != before.Recordings}
	if got != want {
		t.Errorf("%s: moved %+v (from %+v to %+v), want %+v", what, got, before, after, want)
	}
}

// versionsFixture is a database holding one user, one policy and one
// recording, each with children, for changes to start from.
func versionsFixture(t *testing.T) (d *sqlite.DB, raw *sql.DB) {
	t.Helper()
	path := newPath(t)
	d = mustOpen(t, path, time.Now)
	ctx := t.Context()
	if err := d.CreateUser(ctx, &icrec.User{ID: "Agent1", PasswordHash: "h", Roles: []string{"agent"}, Workgroups: []string{"Support"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.CreatePolicy(ctx, &icrec.Policy{Name: "P", Users: []string{"agent1"}, Roles: []string{"agent"}, Workgroups: []string{"Support"},
		Scopes: []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: "Support"}}, Rights: icrec.CanPlay}); err != nil {
		t.Fatal(err)
	}
	r := catalogueRecording(10) // an email: it has attachments
	if err := d.CreateRecordings(ctx, []*icrec.Recording{r}); err != nil {
		t.Fatal(err)
	}
	return d, openRaw(t, path)
}

// Every write to a table the counters cover moves its counter, whoever
// writes: here a connection of its own, as the sqlite3 shell or another
// process would have.
func TestVersionsCountEveryTable(t *testing.T) {
	d, raw := versionsFixture(t)
	rec := catalogueRecording(10).ID
	rights, recordings := counts{rights: true}, counts{recordings: true}
	for _, tc := range []struct {
		table string
		want  counts
		// insert, update and delete one row, in that order.
		dml [3]string
	}{
		{"users", rights, [3]string{
			"INSERT INTO users (id, display_id, name, password_hash, disabled, created, updated) VALUES ('x', 'X', '', '', 0, 0, 0)",
			"UPDATE users SET disabled = 1 WHERE id = 'x'",
			"DELETE FROM users WHERE id = 'x'"}},
		{"user_roles", rights, [3]string{
			"INSERT INTO user_roles (user_id, name_fold, name) VALUES ('agent1', 'qa', 'QA')",
			"UPDATE user_roles SET name = 'Qa' WHERE name_fold = 'qa'",
			"DELETE FROM user_roles WHERE name_fold = 'qa'"}},
		{"user_workgroups", rights, [3]string{
			"INSERT INTO user_workgroups (user_id, name_fold, name) VALUES ('agent1', 'sales', 'Sales')",
			"UPDATE user_workgroups SET name = 'SALES' WHERE name_fold = 'sales'",
			"DELETE FROM user_workgroups WHERE name_fold = 'sales'"}},
		{"policies", rights, [3]string{
			"INSERT INTO policies (name_fold, name, position, rights, created) VALUES ('q', 'Q', 2, 1, 0)",
			"UPDATE policies SET rights = 4 WHERE name_fold = 'q'",
			"DELETE FROM policies WHERE name_fold = 'q'"}},
		{"policy_users", rights, [3]string{
			"INSERT INTO policy_users (policy_fold, position, user_id) VALUES ('p', 1, 'agent2')",
			"UPDATE policy_users SET user_id = 'agent3' WHERE position = 1",
			"DELETE FROM policy_users WHERE position = 1"}},
		{"policy_roles", rights, [3]string{
			"INSERT INTO policy_roles (policy_fold, name_fold, name) VALUES ('p', 'qa', 'QA')",
			"UPDATE policy_roles SET name = 'Qa' WHERE name_fold = 'qa'",
			"DELETE FROM policy_roles WHERE name_fold = 'qa'"}},
		{"policy_workgroups", rights, [3]string{
			"INSERT INTO policy_workgroups (policy_fold, name_fold, name) VALUES ('p', 'sales', 'Sales')",
			"UPDATE policy_workgroups SET name = 'SALES' WHERE name_fold = 'sales'",
			"DELETE FROM policy_workgroups WHERE name_fold = 'sales'"}},
		{"policy_scopes", rights, [3]string{
			"INSERT INTO policy_scopes (policy_fold, position, kind, value) VALUES ('p', 1, 4, 'Call')",
			"UPDATE policy_scopes SET value = 'Email' WHERE position = 1",
			"DELETE FROM policy_scopes WHERE position = 1"}},
		{"recordings", recordings, [3]string{
			`INSERT INTO recordings (id, interaction_id, media_type, recording_type, call_type, direction,
				recording_date, duration, expiration_date, initiation_policy_name, line_name, snippet_initiator,
				related_recording_id, is_encrypted, is_archived, media_key, media_content_type, media_size,
				media_sha256, media_file_name, created)
			VALUES ('N', '', 1, 0, 0, 0, 0, 0, NULL, '', '', '', '', 0, 0, 'k', '', 0, '', '', 0)`,
			"UPDATE recordings SET is_archived = 1 WHERE id = 'N'",
			"DELETE FROM recordings WHERE id = 'N'"}},
		{"recording_participants", recordings, [3]string{
			"INSERT INTO recording_participants (recording_id, position, user_id, user_fold, name, address) VALUES ('" + rec + "', 9, 'Agent9', 'agent9', '', '')",
			"UPDATE recording_participants SET name = 'Nine' WHERE position = 9",
			"DELETE FROM recording_participants WHERE position = 9"}},
		{"recording_workgroups", recordings, [3]string{
			"INSERT INTO recording_workgroups (recording_id, name_fold, name) VALUES ('" + rec + "', 'sales', 'Sales')",
			"UPDATE recording_workgroups SET name = 'SALES' WHERE name_fold = 'sales'",
			"DELETE FROM recording_workgroups WHERE name_fold = 'sales'"}},
		{"recording_attributes", recordings, [3]string{
			"INSERT INTO recording_attributes (recording_id, name_fold, name, value) VALUES ('" + rec + "', 'x', 'X', '1')",
			"UPDATE recording_attributes SET value = '2' WHERE name_fold = 'x'",
			"DELETE FROM recording_attributes WHERE name_fold = 'x'"}},
		{"recording_tags", recordings, [3]string{
			"INSERT INTO recording_tags (recording_id, name_fold, name) VALUES ('" + rec + "', 'x', 'X')",
			"UPDATE recording_tags SET name = 'x' WHERE name_fold = 'x'",
			"DELETE FROM recording_tags WHERE name_fold = 'x'"}},
		{"recording_attachments", recordings, [3]string{
			"INSERT INTO recording_attachments (recording_id, idx, part, file_name, content_type, size, sha256) VALUES ('" + rec + "', 9, '4', 'a', 'b', 1, '')",
			"UPDATE recording_attachments SET size = 2 WHERE idx = 9",
			"DELETE FROM recording_attachments WHERE idx = 9"}},
	} {
		for i, op := range []string{"insert", "update", "delete"} {
			checkMoves(t, d, tc.table+" "+op, tc.want, func(ctx context.Context) error {
				_, err := raw.ExecContext(ctx, tc.dml[i])
				return err
			})
		}
	}

	// The columns of users that rights do not depend on move nothing: a
	// sign-in's rehash, a password change, a new display name. (The
	// conformance suite, storetest, checks the store's own methods.)
	checkMoves(t, d, "users update of the password hash, name and time", counts{}, func(ctx context.Context) error {
		_, err := raw.ExecContext(ctx, "UPDATE users SET password_hash = 'rehashed', name = 'Agent One', updated = 99 WHERE id = 'agent1'")
		return err
	})
	checkMoves(t, d, "users update that sets disabled as it was", counts{}, func(ctx context.Context) error {
		_, err := raw.ExecContext(ctx, "UPDATE users SET disabled = disabled, display_id = display_id WHERE id = 'agent1'")
		return err
	})
}

// Every table is either counted, by an insert, an update and a delete
// trigger, or left out on purpose: a table a later migration adds must be
// one or the other, or a server's cache could miss its changes.
func TestChangeCountersCoverTables(t *testing.T) {
	_, raw := versionsFixture(t)
	notCounted := []string{"audit_events", "auth_tokens", "change_counters", "hold_recordings", "holds", "migrations", "pending_blobs", "sessions"}
	rows, err := raw.QueryContext(t.Context(), `
		SELECT t.name, coalesce(group_concat(g.name, ' '), '')
		FROM sqlite_schema t LEFT JOIN sqlite_schema g ON g.type = 'trigger' AND g.tbl_name = t.name AND g.name LIKE '%\_counts' ESCAPE '\'
		WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		GROUP BY t.name ORDER BY t.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, triggers string
		if err := rows.Scan(&table, &triggers); err != nil {
			t.Fatal(err)
		}
		got := strings.Fields(triggers)
		slices.Sort(got)
		var want []string
		if !slices.Contains(notCounted, table) {
			want = []string{table + "_delete_counts", table + "_insert_counts", table + "_update_counts"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("table %s: counting triggers %q, want %q", table, got, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVersions(b *testing.B) {
	d := mustOpen(b, newPath(b), time.Now)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Versions(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
