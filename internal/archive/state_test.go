package archive_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/signedurl"
	"example.com/icrec/internal/sqlite"
)

const (
	stateRecording = "5A000000-0000-0000-0000-000000000001"
	stateMedia     = "a call's bytes"
)

// counting is the server's store with a count of the reads rights checks
// make; Versions comes through unchanged, so a Service over it caches.
type counting struct {
	*sqlite.DB
	recordings, users, policies atomic.Int64
	// afterRecording and afterUser, if set, run once after the next read
	// of a recording or a user, before the read returns: a change that
	// lands just then.
	afterRecording, afterUser func()
}

func (c *counting) FindRecordingByID(ctx context.Context, id string) (*icrec.Recording, error) {
	c.recordings.Add(1)
	r, err := c.DB.FindRecordingByID(ctx, id)
	once(&c.afterRecording)
	return r, err
}

func (c *counting) FindUserByID(ctx context.Context, id string) (*icrec.User, error) {
	c.users.Add(1)
	u, err := c.DB.FindUserByID(ctx, id)
	once(&c.afterUser)
	return u, err
}

func once(f *func()) {
	if g := *f; g != nil {
		*f = nil
		g()
	}
}

func (c *counting) ListPolicies(ctx context.Context) ([]*icrec.Policy, error) {
	c.policies.Add(1)
	return c.DB.ListPolicies(ctx)
}

// reads returns the counts as recordings, users, policies.
func (c *counting) reads() [3]int64 {
	return [3]int64{c.recordings.Load(), c.users.Load(), c.policies.Load()}
}

// stateEnv is a server's Service over one handle on a database file, and
// another handle on the same file for the changes that an icrec command
// in another process would make.
type stateEnv struct {
	t      testing.TB
	path   string
	store  *counting
	other  *sqlite.DB
	blobs  *fsblob.Store
	signer *signedurl.Signer
	svc    *archive.Service
	sess   *icrec.Session
}

// newStateEnv holds a call of workgroup Support, a supervisor whose role
// the policy "Support QA" lets export the workgroup's recordings, and a
// Service whose stores are one *counting, so that it caches.
func newStateEnv(t testing.TB) *stateEnv {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	e := &stateEnv{t: t, path: filepath.Join(dir, "icrec.db"), sess: &icrec.Session{ID: "1001", UserID: "Supervisor"}}
	db, err := sqlite.Open(ctx, e.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.store = &counting{DB: db}
	if e.other, err = sqlite.Open(ctx, e.path, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.other.Close() })
	if e.blobs, err = fsblob.New(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.blobs.Close() })
	keys, err := signedurl.LoadOrCreate(filepath.Join(dir, "link-keys.json"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.signer = signedurl.New(keys, time.Now)

	info, err := e.blobs.Put(ctx, icrec.MediaKey(stateRecording), bytes.NewReader([]byte(stateMedia)), "")
	if err != nil {
		t.Fatal(err)
	}
	rec := &icrec.Recording{ID: stateRecording, InteractionID: "1", MediaType: icrec.MediaCall, RecordingDate: time.Now(),
		Workgroups:   []string{"Support"},
		Participants: []icrec.Participant{{UserID: "agent1", Name: "Agent One"}, {Name: "Caller", Address: "+15550100"}},
		Attributes:   []icrec.Attribute{{Name: "Campaign", Value: "spring"}, {Name: "Queue", Value: "billing"}},
		Media:        icrec.Media{Key: info.Key, ContentType: "audio/wav", Size: info.Size, SHA256: info.SHA256, FileName: "call.wav"}}
	if err := db.CreateRecordings(ctx, []*icrec.Recording{rec}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &icrec.User{ID: "Supervisor", PasswordHash: "h", Roles: []string{"supervisor"}}); err != nil {
		t.Fatal(err)
	}
	e.svc = e.service(e.store)
	if _, err := e.svc.AddPolicy(ctx, supportQA); err != nil {
		t.Fatal(err)
	}
	return e
}

var supportQA = archive.NewPolicy{Name: "Support QA", Roles: []string{"supervisor"},
	Scopes: []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: "Support"}}, Rights: icrec.ReadAccess | icrec.CanExportOrArchive}

// service returns a Service whose recordings come from recordings, and
// everything else from the env's store.
func (e *stateEnv) service(recordings icrec.RecordingStore) *archive.Service {
	return archive.New(recordings, e.store, e.store, e.store, e.blobs, nil, archive.Exports{Signer: e.signer}, discard, nowFunc)
}

var (
	discard = slog.New(slog.DiscardHandler)
	nowFunc = time.Now
)

// export asks for an export link as the supervisor and returns the kind of
// the error, or "" if the link was issued.
func (e *stateEnv) export() string {
	e.t.Helper()
	_, err := e.svc.IssueExport(e.t.Context(), e.sess, stateRecording, archive.Parsed[[]string]{}, "192.0.2.1")
	return kindOf(e.t, err)
}

// download opens the link and returns the kind of the error, or "".
func (e *stateEnv) download(token icrec.Secret) string {
	e.t.Helper()
	d, err := e.svc.OpenDownload(e.t.Context(), string(token), "192.0.2.1")
	if err == nil {
		d.Blob.Close()
	}
	return kindOf(e.t, err)
}

func kindOf(t testing.TB, err error) string {
	t.Helper()
	switch {
	case err == nil:
		return ""
	case icrec.IsKind(err, icrec.Forbidden):
		return "Forbidden"
	case icrec.IsKind(err, icrec.NotFound):
		return "NotFound"
	}
	t.Fatalf("unexpected error: %v", err)
	return ""
}

// A change made through another handle on the file, as an icrec command in
// another process makes it, shows in the very next rights check, however
// warm the cache is.
func TestCacheSeesOtherWriters(t *testing.T) {
	e := newStateEnv(t)
	ctx := t.Context()
	ex, err := e.svc.IssueExport(ctx, e.sess, stateRecording, archive.Parsed[[]string]{}, "192.0.2.1")
	if err != nil {
		t.Fatalf("IssueExport: %v", err)
	}
	steps := []struct {
		what   string
		change func() error
		want   string // of both export-uri and the download
	}{
		{"nothing changed", func() error { return nil }, ""},
		{"user disabled", func() error {
			_, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Disabled: ptr(true)})
			return err
		}, "Forbidden"},
		{"user enabled", func() error {
			_, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Disabled: ptr(false)})
			return err
		}, ""},
		{"role taken away", func() error {
			_, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Roles: &[]string{}})
			return err
		}, "Forbidden"},
		{"role given back", func() error {
			_, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Roles: &[]string{"Supervisor"}})
			return err
		}, ""},
		{"password changed (rights unchanged)", func() error {
			_, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{PasswordHash: ptr("new")})
			return err
		}, ""},
		{"the granting policy deleted", func() error { return e.other.DeletePolicy(ctx, supportQA.Name) }, "Forbidden"},
		{"a policy added", func() error {
			return e.other.CreatePolicy(ctx, &icrec.Policy{Name: "Everyone exports", Users: []string{icrec.EveryUser},
				Scopes: []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: "Support"}}, Rights: icrec.CanExportOrArchive})
		}, ""},
		{"a tag added (the recording changed, still allowed)", func() error {
			return e.other.AddTags(ctx, stateRecording, []string{"reviewed"})
		}, ""},
		{"the recording moved to another workgroup", func() error {
			// No store method changes a recording's workgroups: an
			// administrator's sqlite3 shell would.
			raw, err := sql.Open("sqlite", e.path)
			if err != nil {
				return err
			}
			defer raw.Close()
			_, err = raw.ExecContext(ctx, "UPDATE recording_workgroups SET name_fold = 'sales', name = 'Sales' WHERE recording_id = ?", stateRecording)
			return err
		}, "Forbidden"},
		{"the recording deleted", func() error {
			_, err := e.other.DeleteRecordings(ctx, stateRecording)
			return err
		}, "NotFound"},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		// Twice each: the second check finds the first one's reads cached.
		for range 2 {
			if got := e.export(); got != s.want {
				t.Errorf("%s: export-uri %q, want %q", s.what, got, s.want)
			}
			if got := e.download(ex.Token); got != s.want {
				t.Errorf("%s: download %q, want %q", s.what, got, s.want)
			}
		}
	}
}

// A change that lands between a check's read of a row and its return
// does not stay hidden behind the cache: the row was filed under the
// counters as read before it, which the change moved.
func TestCacheChangeDuringRead(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		what   string
		hook   func(c *counting) *func()
		change func(e *stateEnv) error
		want   string
	}{
		{"recording deleted while read", func(c *counting) *func() { return &c.afterRecording }, func(e *stateEnv) error {
			_, err := e.other.DeleteRecordings(ctx, stateRecording)
			return err
		}, "NotFound"},
		{"user disabled while read", func(c *counting) *func() { return &c.afterUser }, func(e *stateEnv) error {
			_, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Disabled: ptr(true)})
			return err
		}, "Forbidden"},
	} {
		e := newStateEnv(t)
		// The first check reads the row as it was, and the change lands
		// before the read returns; the second check must see it.
		hook := tc.hook(e.store)
		*hook = func() {
			if err := tc.change(e); err != nil {
				t.Errorf("%s: %v", tc.what, err)
			}
		}
		if got := e.export(); got != "" {
			t.Fatalf("%s: the first export-uri %q, want allowed (as read)", tc.what, got)
		}
		if *hook != nil {
			t.Fatalf("%s: the first check did not read", tc.what)
		}
		if got := e.export(); got != tc.want {
			t.Errorf("%s: the next export-uri %q, want %q", tc.what, got, tc.want)
		}
	}
}

// A check that finds everything cached reads only the counters; a change
// makes the next check read again what the change's counter covers, and
// no more.
func TestCacheHitReadsNothing(t *testing.T) {
	e := newStateEnv(t)
	ctx := t.Context()
	check := func(what string, want [3]int64) {
		t.Helper()
		if got := e.export(); got != "" {
			t.Fatalf("%s: export-uri: %s", what, got)
		}
		if got := e.store.reads(); got != want {
			t.Errorf("%s: reads of recording, user, policies = %v, want %v", what, got, want)
		}
	}
	check("first", [3]int64{1, 1, 1})
	check("second", [3]int64{1, 1, 1})
	if _, err := e.svc.MediaDetails(ctx, e.sess, stateRecording, ""); err != nil {
		t.Fatal(err)
	}
	check("after media-details", [3]int64{1, 1, 1})

	if err := e.other.AddTags(ctx, stateRecording, []string{"reviewed"}); err != nil {
		t.Fatal(err)
	}
	check("after a tag added", [3]int64{2, 1, 1})
	if _, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{PasswordHash: ptr("rehashed")}); err != nil {
		t.Fatal(err)
	}
	check("after a password rehash", [3]int64{2, 1, 1})
	if err := e.other.CreatePolicy(ctx, &icrec.Policy{Name: "Other", Users: []string{"agent1"}, Rights: icrec.CanPlay}); err != nil {
		t.Fatal(err)
	}
	check("after a policy added", [3]int64{2, 2, 2})

	// A recording that is not there is read each time, never kept.
	for range 2 {
		if _, err := e.svc.IssueExport(ctx, e.sess, "5A000000-0000-0000-0000-0000000000FF", archive.Parsed[[]string]{}, ""); !icrec.IsKind(err, icrec.NotFound) {
			t.Fatalf("IssueExport of an unknown recording: %v, want NotFound", err)
		}
	}
	check("after two unknown recordings", [3]int64{4, 2, 2})
}

// The cache is for one store that keeps Versions: a Service whose stores
// are not one (a wrapper that injects faults, say) reads them all on every
// check, as before.
func TestCacheOnlyForOneStore(t *testing.T) {
	e := newStateEnv(t)
	e.svc = e.service(struct{ icrec.RecordingStore }{e.store})
	for range 3 {
		if got := e.export(); got != "" {
			t.Fatalf("export-uri: %s", got)
		}
	}
	if got, want := e.store.reads(), [3]int64{3, 3, 3}; got != want {
		t.Errorf("reads of recording, user, policies = %v, want %v", got, want)
	}
}

// Checks run side by side with changes from another writer (run with
// -race); once the changes stop, the next check sees the last of them.
func TestCacheConcurrentChanges(t *testing.T) {
	e := newStateEnv(t)
	ctx := t.Context()
	ex, err := e.svc.IssueExport(ctx, e.sess, stateRecording, archive.Parsed[[]string]{}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if i%2 == 0 {
					_, err = e.svc.IssueExport(ctx, e.sess, stateRecording, archive.Parsed[[]string]{}, "192.0.2.1")
				} else {
					var d *archive.Download
					if d, err = e.svc.OpenDownload(ctx, string(ex.Token), "192.0.2.1"); err == nil {
						d.Blob.Close()
					}
				}
				if err != nil && !icrec.IsKind(err, icrec.Forbidden) {
					t.Errorf("check: %v", err)
					return
				}
			}
		})
	}
	for i := range 20 {
		disabled := i%2 == 0
		if _, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		if err := e.other.AddTags(ctx, stateRecording, []string{"t"}); err != nil {
			t.Fatal(err)
		}
		if err := e.other.DeleteTag(ctx, stateRecording, "t"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	// The last change enabled the user again.
	if got := e.export(); got != "" {
		t.Errorf("export-uri after the changes: %q, want allowed", got)
	}
	if _, err := e.other.UpdateUser(ctx, "supervisor", icrec.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if got := e.download(ex.Token); got != "Forbidden" {
		t.Errorf("download after disabling: %q, want Forbidden", got)
	}
}

func ptr[T any](v T) *T { return &v }
