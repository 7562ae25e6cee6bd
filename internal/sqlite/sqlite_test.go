package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/sqlite"
	"example.com/icrec/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return mustOpen(t, newPath(t), time.Now)
	})
}

// newPath returns the path of a database file that does not exist yet.
func newPath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "icrec.db")
}

// mustOpen opens the database at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string, now func() time.Time) *sqlite.DB {
	tb.Helper()
	d, err := sqlite.Open(tb.Context(), path, now)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return d
}

// mustClose closes d before the test ends, for tests that reopen the file.
func mustClose(tb testing.TB, d *sqlite.DB) {
	tb.Helper()
	if err := d.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

// openRaw opens the file behind icrec's back, as an administrator's sqlite3
// shell would, with no settings of its own.
func openRaw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatalf("sql.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// clock returns a settable clock.
func clock(t time.Time) (now func() time.Time, set func(time.Time)) {
	var mu sync.Mutex
	return func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return t
		}, func(nt time.Time) {
			mu.Lock()
			defer mu.Unlock()
			t = nt
		}
}

var t1 = time.Date(2025, time.March, 14, 9, 26, 53, 589_793_238, time.UTC)

func newSession(id, userID string) *icrec.Session {
	return &icrec.Session{
		ID: id, UserID: userID,
		CookieHash: []byte("cookie hash " + id), CSRFHash: []byte("csrf hash " + id),
		Language: "en-us", Application: "sqlite_test", ClientAddr: "192.0.2.1",
		Created: t1, LastSeen: t1, Expires: t1.Add(time.Hour),
	}
}

func TestOpenSettings(t *testing.T) {
	d := mustOpen(t, newPath(t), time.Now)
	for _, tc := range []struct {
		pragma       string
		writer, read string
	}{
		{"journal_mode", "wal", "wal"},
		{"foreign_keys", "1", "1"},
		{"synchronous", "2", "2"}, // FULL
		{"busy_timeout", "10000", "10000"},
		{"query_only", "0", "1"},
	} {
		for _, reader := range []bool{false, true} {
			want := tc.writer
			if reader {
				want = tc.read
			}
			got, err := sqlite.Pragma(t.Context(), d, reader, tc.pragma)
			if err != nil {
				t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
			}
			if got != want {
				t.Errorf("PRAGMA %s (reader %v) = %q, want %q", tc.pragma, reader, got, want)
			}
		}
	}
}

// WAL is a property of the file, so a connection that asks for nothing
// must find it.
func TestOpenWAL(t *testing.T) {
	path := newPath(t)
	mustOpen(t, path, time.Now)
	var mode string
	if err := openRaw(t, path).QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("PRAGMA journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want %q", mode, "wal")
	}
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenFileMode(t *testing.T) {
	t.Run("OKNewFile", func(t *testing.T) {
		path := newPath(t)
		d := mustOpen(t, path, time.Now)
		// A write makes sure the WAL exists; SQLite gives it the
		// database's mode.
		if err := d.CreateUser(t.Context(), &icrec.User{ID: "agent1"}); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if got, want := fileMode(t, p), fs.FileMode(0o600); got != want {
				t.Errorf("mode of %s = %v, want %v", filepath.Base(p), got, want)
			}
		}
	})

	// An administrator's choice stands: sharing with a group, say.
	t.Run("OKExistingFileKeepsMode", func(t *testing.T) {
		for _, mode := range []fs.FileMode{0o640, 0o660} {
			path := newPath(t)
			if err := os.WriteFile(path, nil, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil { // past the umask
				t.Fatal(err)
			}
			mustClose(t, mustOpen(t, path, time.Now))
			if got := fileMode(t, path); got != mode {
				t.Errorf("mode = %v, want %v", got, mode)
			}
		}
	})

	t.Run("ErrNoDirectory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing", "icrec.db")
		if d, err := sqlite.Open(t.Context(), path, time.Now); err == nil {
			d.Close()
			t.Fatalf("Open in a missing directory: err = nil, want an error")
		}
	})
}

// A path with the characters that separate parts of a URI must name the
// file it says, not a prefix of it.
func TestOpenPathNeedsEscaping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c=1#d%20e.db")
	d := mustOpen(t, path, time.Now)
	if err := d.CreateUser(t.Context(), &icrec.User{ID: "agent1"}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	mustClose(t, d)
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, ", "), filepath.Base(path); got != want {
		t.Errorf("files = %s, want %s", got, want)
	}
	d = mustOpen(t, path, time.Now)
	if _, err := d.FindUserByID(t.Context(), "agent1"); err != nil {
		t.Errorf("FindUserByID after reopening: %v", err)
	}
}

type migrationRow struct {
	name      string
	appliedAt int64
}

func migrationRows(t *testing.T, path string) []migrationRow {
	t.Helper()
	rows, err := openRaw(t, path).QueryContext(t.Context(), "SELECT name, applied_at FROM migrations ORDER BY name")
	if err != nil {
		t.Fatalf("SELECT migrations: %v", err)
	}
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var r migrationRow
		if err := rows.Scan(&r.name, &r.appliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Sessions are stored so that they survive a restart of the server.
func TestReopen(t *testing.T) {
	path := newPath(t)
	ctx := t.Context()
	now, setNow := clock(t1)
	d := mustOpen(t, path, now)
	u := &icrec.User{ID: "Agent1", Roles: []string{"admin"}, PasswordHash: "hash"}
	if err := d.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	sess := newSession("1001", "Agent1")
	if err := d.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	tok := &icrec.AuthToken{Hash: []byte("token"), Seed: "seed", SessionID: "1001", UserID: "Agent1", Expires: t1}
	if err := d.CreateAuthToken(ctx, tok); err != nil {
		t.Fatalf("CreateAuthToken: %v", err)
	}
	mustClose(t, d)
	before := migrationRows(t, path)
	if len(before) == 0 {
		t.Fatalf("no migrations recorded")
	}

	setNow(t1.Add(time.Hour))
	d = mustOpen(t, path, now)
	if got, want := fmt.Sprint(migrationRows(t, path)), fmt.Sprint(before); got != want {
		t.Errorf("migrations after reopening = %s, want %s (applied once)", got, want)
	}
	gotU, err := d.FindUserByID(ctx, "agent1")
	if err != nil {
		t.Fatalf("FindUserByID: %v", err)
	}
	if gotU.ID != u.ID || !gotU.Created.Equal(u.Created) || len(gotU.Roles) != 1 {
		t.Errorf("user after reopening = %+v, want %+v", gotU, u)
	}
	gotS, err := d.FindSessionByID(ctx, "1001")
	if err != nil {
		t.Fatalf("FindSessionByID: %v", err)
	}
	if string(gotS.CookieHash) != string(sess.CookieHash) || !gotS.Expires.Equal(sess.Expires.Truncate(time.Millisecond)) {
		t.Errorf("session after reopening = %+v, want %+v", gotS, sess)
	}
	if _, err := d.ConsumeAuthToken(ctx, tok.Hash); err != nil {
		t.Errorf("ConsumeAuthToken after reopening: %v", err)
	}
	// And a consumed token stays consumed.
	mustClose(t, d)
	d = mustOpen(t, path, now)
	if _, err := d.ConsumeAuthToken(ctx, tok.Hash); !icrec.IsKind(err, icrec.NotFound) {
		t.Errorf("ConsumeAuthToken after consuming and reopening: err = %v, want NotFound", err)
	}
}

func TestOpenRefusesNewerDatabase(t *testing.T) {
	path := newPath(t)
	mustClose(t, mustOpen(t, path, time.Now))
	const future = "999_from_the_future.sql"
	if _, err := openRaw(t, path).ExecContext(t.Context(), "INSERT INTO migrations (name, applied_at) VALUES (?, 0)", future); err != nil {
		t.Fatal(err)
	}
	d, err := sqlite.Open(t.Context(), path, time.Now)
	if err == nil {
		d.Close()
		t.Fatalf("Open: err = nil, want an error")
	}
	for _, want := range []string{"newer icrec", future} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open: err = %q, want it to contain %q", err, want)
		}
	}
}

// The contract's error messages reach the client; check their wording.
func TestErrorMessages(t *testing.T) {
	ctx := t.Context()
	d := mustOpen(t, newPath(t), time.Now)
	if err := d.CreateUser(ctx, &icrec.User{ID: "agent1"}); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateSession(ctx, newSession("1001", "agent1")); err != nil {
		t.Fatal(err)
	}
	_, findUserErr := d.FindUserByID(ctx, "Agent2")
	_, findSessionErr := d.FindSessionByID(ctx, "123")
	_, consumeErr := d.ConsumeAuthToken(ctx, []byte("nope"))
	for _, tc := range []struct {
		name    string
		err     error
		kind    icrec.Kind
		message string
	}{
		{"FindUserByID", findUserErr, icrec.NotFound, `user "Agent2" not found`},
		{"CreateUser", d.CreateUser(ctx, &icrec.User{ID: "AGENT1"}), icrec.Conflict, `user "AGENT1" already exists`},
		{"CreateUserDuplicateRole", d.CreateUser(ctx, &icrec.User{ID: "x", Roles: []string{"a", "A"}}), icrec.Conflict, `role "A" of user "x" already exists`},
		{"DeleteUser", d.DeleteUser(ctx, "agent2"), icrec.NotFound, `user "agent2" not found`},
		{"FindSessionByID", findSessionErr, icrec.NotFound, "session 123 not found"},
		{"TouchSession", d.TouchSession(ctx, "123", t1), icrec.NotFound, "session 123 not found"},
		{"CreateSessionConflict", d.CreateSession(ctx, newSession("1001", "agent1")), icrec.Conflict, "session 1001 already exists"},
		{"CreateSessionNoUser", d.CreateSession(ctx, newSession("1002", "agent9")), icrec.NotFound, `user "agent9" not found`},
		{"CreateAuthTokenNoSession", d.CreateAuthToken(ctx, &icrec.AuthToken{Hash: []byte("h"), SessionID: "77"}), icrec.NotFound, "session 77 not found"},
		{"ConsumeAuthToken", consumeErr, icrec.NotFound, "auth token not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := errors.AsType[*icrec.Error](tc.err)
			if !ok {
				t.Fatalf("err = %v (%T), want *icrec.Error", tc.err, tc.err)
			}
			if e.Kind != tc.kind || e.Message != tc.message {
				t.Errorf("err = %v %q, want %v %q", e.Kind, e.Message, tc.kind, tc.message)
			}
			if e.Kind == icrec.NotFound && e.ID != icrec.IDNotFound {
				t.Errorf("ID = %q, want %q", e.ID, icrec.IDNotFound)
			}
		})
	}
}

// now stamps users' times, which come back in UTC like every stored time.
func TestTimes(t *testing.T) {
	ctx := t.Context()
	now, setNow := clock(t1.In(time.FixedZone("CET", 3600)))
	d := mustOpen(t, newPath(t), now)
	u := &icrec.User{ID: "agent1"}
	if err := d.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	want := t1.Truncate(time.Millisecond)
	if !u.Created.Equal(want) || !u.Updated.Equal(want) {
		t.Errorf("Created, Updated = %v, %v; want %v", u.Created, u.Updated, want)
	}
	t2 := t1.Add(time.Minute)
	setNow(t2)
	got, err := d.UpdateUser(ctx, "agent1", icrec.UserUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(want) || !got.Updated.Equal(t2.Truncate(time.Millisecond)) {
		t.Errorf("after update: Created, Updated = %v, %v; want %v, %v", got.Created, got.Updated, want, t2)
	}
	if err := d.CreateSession(ctx, newSession("1001", "agent1")); err != nil {
		t.Fatal(err)
	}
	s, err := d.FindSessionByID(ctx, "1001")
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{
		"user Created": got.Created, "user Updated": got.Updated,
		"session Created": s.Created, "session LastSeen": s.LastSeen, "session Expires": s.Expires,
	} {
		if tm.Location() != time.UTC {
			t.Errorf("%s = %v, want UTC", name, tm)
		}
	}
}

// Writers never see SQLITE_BUSY: within one DB they queue for the single
// writer connection, and two DBs on one file (the server and an icrec
// command beside it) wait for each other's IMMEDIATE transactions.
func TestConcurrentWriters(t *testing.T) {
	path := newPath(t)
	dbs := []*sqlite.DB{mustOpen(t, path, time.Now), mustOpen(t, path, time.Now)}
	const writers, perWriter = 8, 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		d := dbs[w%len(dbs)]
		wg.Go(func() {
			<-start
			for i := range perWriter {
				id := fmt.Sprintf("user-%d-%d", w, i)
				u := &icrec.User{ID: id, Roles: []string{"r1", "r2"}, Workgroups: []string{"w"}}
				if err := d.CreateUser(t.Context(), u); err != nil {
					t.Errorf("CreateUser(%s): %v", id, err)
					return
				}
				// Reads run beside the writes.
				if _, err := d.FindUserByID(t.Context(), id); err != nil {
					t.Errorf("FindUserByID(%s): %v", id, err)
					return
				}
				if _, err := d.UpdateUser(t.Context(), id, icrec.UserUpdate{Roles: &[]string{"r3"}}); err != nil {
					t.Errorf("UpdateUser(%s): %v", id, err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for i, d := range dbs {
		n, err := d.CountUsers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n != writers*perWriter {
			t.Errorf("CountUsers on DB %d = %d, want %d", i, n, writers*perWriter)
		}
	}
}

// Two processes may open a new database at once (the server, and an icrec
// command run as it starts). Exactly one applies each migration, and
// neither fails with SQLITE_BUSY on the way: the migration's transaction
// reads before it writes, which only IMMEDIATE transactions survive.
func TestOpenConcurrently(t *testing.T) {
	for range 5 {
		path := newPath(t)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 6 {
			wg.Go(func() {
				<-start
				d, err := sqlite.Open(t.Context(), path, time.Now)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				if err := d.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		mustClose(t, mustOpen(t, path, time.Now))
	}
}

// TestConcurrentFirstReads: many reads at once on a new database, each
// preparing its statement on first use inside its transaction, all finish.
// Before read transactions left a connection free for preparing, a burst
// like this could take every reader connection and wait for one for ever.
func TestConcurrentFirstReads(t *testing.T) {
	for round := range 20 {
		d := mustOpen(t, newPath(t), time.Now)
		if err := d.CreateUser(t.Context(), &icrec.User{ID: "agent1", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 64 {
			wg.Go(func() {
				var err error
				switch i % 4 {
				case 0:
					_, err = d.FindUserByID(ctx, "agent1")
				case 1:
					_, err = d.FindRecordings(ctx, icrec.RecordingFilter{Workgroup: ptr("Support")})
				case 2:
					_, err = d.ListPolicies(ctx)
				default:
					_, err = d.FindAudit(ctx, icrec.AuditFilter{Limit: 10})
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		cancel()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: a concurrent first read failed (a deadlock ends at the deadline): %v", round, err)
		}
	}
}
