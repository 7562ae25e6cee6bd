package audit_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/sqlite"
)

// newPath returns the path of a database file that does not exist yet.
func newPath(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "icrec.db")
}

// mustOpen opens the database at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	d, err := sqlite.Open(tb.Context(), path, time.Now)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return d
}

// faultStore wraps a real store to count its appends and to make them
// fail or stall on demand; it changes nothing else.
type faultStore struct {
	icrec.AuditStore

	mu      sync.Mutex
	sizes   []int // of every append, failed or not
	err     error // returned by appends, instead of appending, while set
	findErr error // the same for FindAudit
	hold    chan struct{}
	entered chan struct{}
}

func newFaultStore(s icrec.AuditStore) *faultStore {
	return &faultStore{AuditStore: s, entered: make(chan struct{}, 100)}
}

func (f *faultStore) AppendAudit(ctx context.Context, events []*icrec.AuditEvent) error {
	f.mu.Lock()
	f.sizes = append(f.sizes, len(events))
	hold := f.hold
	f.mu.Unlock()
	select {
	case f.entered <- struct{}{}:
	default: // nobody is watching
	}
	if hold != nil {
		<-hold
	}
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.AuditStore.AppendAudit(ctx, events)
}

func (f *faultStore) FindAudit(ctx context.Context, filter icrec.AuditFilter) ([]*icrec.AuditEvent, error) {
	f.mu.Lock()
	err := f.findErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.AuditStore.FindAudit(ctx, filter)
}

// stall makes appends wait, from the next one on, until resume.
func (f *faultStore) stall() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = make(chan struct{})
}

// resume lets the stalled appends, and all later ones, go on.
func (f *faultStore) resume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

// waitEntered waits until an append has begun (and, if stalled, waits).
func (f *faultStore) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no append began")
	}
}

func (f *faultStore) failWith(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// appends returns the size of every append so far.
func (f *faultStore) appends() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.sizes...)
}
