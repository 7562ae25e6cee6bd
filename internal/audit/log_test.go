package audit_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/testutil"
)

var t1 = time.Date(2025, time.March, 14, 9, 26, 53, 589_793_238, time.UTC)

// newLog returns a Log over store, closed when the test ends.
func newLog(t *testing.T, store icrec.AuditStore, log *slog.Logger, opts ...audit.Option) *audit.Log {
	t.Helper()
	l := audit.New(store, log, time.Now, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// newEvent returns an event told apart from others by detail.
func newEvent(detail string) *icrec.AuditEvent {
	return &icrec.AuditEvent{
		Kind:       icrec.AuditDownload,
		UserID:     "agent1",
		ClientAddr: "192.0.2.1:4711",
		Outcome:    "ok",
		Detail:     fmt.Sprintf(`{"n":%q}`, detail),
	}
}

// waitQueued waits until n events wait for l's writer.
func waitQueued(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); audit.Queued(l) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d events queued, want %d", audit.Queued(l), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func mustFindAll(t *testing.T, store icrec.AuditStore) []*icrec.AuditEvent {
	t.Helper()
	events, err := store.FindAudit(t.Context(), icrec.AuditFilter{})
	if err != nil {
		t.Fatalf("FindAudit: %v", err)
	}
	return events
}

// details returns the Detail of each event, in order.
func details(events []*icrec.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Detail
	}
	return out
}

func mustVerify(t *testing.T, store icrec.AuditStore, n int64) {
	t.Helper()
	res, err := audit.Verify(t.Context(), store, 0)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !res.OK() || res.Checked != n {
		t.Fatalf("Verify = %+v, want an intact chain of %d events", res, n)
	}
}

func checkStats(t *testing.T, l *audit.Log, written, failed uint64) {
	t.Helper()
	w, f, _ := l.Stats()
	if w != written || f != failed {
		t.Errorf("Stats: %d written, %d failed; want %d, %d", w, f, written, failed)
	}
}

// Requests record side by side; they must share commits rather than wait
// for one each, and still make one chain.
func TestRecordConcurrent(t *testing.T) {
	d := mustOpen(t, newPath(t))
	store := newFaultStore(d)
	l := newLog(t, store, nil)

	const goroutines, each = 64, 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for i := range each {
				e := newEvent(fmt.Sprint(g, "/", i))
				if err := l.Record(t.Context(), e); err != nil {
					errs <- fmt.Errorf("Record: %w", err)
					return
				}
				if e.Seq == 0 || len(e.Hash) == 0 {
					errs <- fmt.Errorf("after Record, event %q has Seq %d, Hash %x", e.Detail, e.Seq, e.Hash)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	const n = goroutines * each
	got := mustFindAll(t, d)
	if len(got) != n {
		t.Fatalf("%d events stored, want %d", len(got), n)
	}
	seen := make(map[string]bool)
	for _, e := range got {
		if seen[e.Detail] {
			t.Errorf("event %s stored twice", e.Detail)
		}
		seen[e.Detail] = true
	}
	mustVerify(t, d, n)

	appends := len(store.appends())
	t.Logf("%d events in %d appends", n, appends)
	if appends >= n {
		t.Errorf("%d events took %d appends, want fewer: concurrent Records must share them", n, appends)
	}
	written, failed, batches := l.Stats()
	if written != n || failed != 0 || batches != uint64(appends) {
		t.Errorf("Stats = %d written, %d failed, %d batches; want %d, 0, %d", written, failed, batches, n, appends)
	}
}

// Every Record whose batch fails hears of it; Emits are logged, without
// their details; and the Log goes on once the store is back.
func TestStoreFails(t *testing.T) {
	d := mustOpen(t, newPath(t))
	store := newFaultStore(d)
	var logs testutil.Buffer
	l := newLog(t, store, slog.New(slog.NewTextHandler(&logs, nil)))
	errDisk := errors.New("disk on fire")

	// The first event stalls the writer, so that the next ten queue up
	// behind it and make one batch.
	store.stall()
	first := make(chan error, 1)
	go func() { first <- l.Record(t.Context(), newEvent("first")) }()
	store.waitEntered(t)
	const n = 10
	results := make(chan error, n)
	for i := range n {
		go func() { results <- l.Record(t.Context(), newEvent(fmt.Sprint(i))) }()
	}
	waitQueued(t, l, n)
	store.failWith(errDisk)
	store.resume()

	if err := <-first; !errors.Is(err, errDisk) {
		t.Errorf("first Record = %v, want %v", err, errDisk)
	}
	for range n {
		if err := <-results; !errors.Is(err, errDisk) {
			t.Errorf("Record in the failed batch = %v, want %v", err, errDisk)
		}
	}
	if got, want := store.appends(), []int{1, n}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("appends of %v events, want %v", got, want)
	}

	secret := newEvent("secret")
	l.Emit(secret)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, failed, _ := l.Stats(); failed == n+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed Emit was not counted")
		}
	}
	out := logs.String()
	if !strings.Contains(out, "audit: append failed") || !strings.Contains(out, errDisk.Error()) {
		t.Errorf("log does not report the failed Emit:\n%s", out)
	}
	if strings.Contains(out, "secret") || strings.Contains(out, "192.0.2.1") {
		t.Errorf("log shows the event's contents:\n%s", out)
	}

	store.failWith(nil)
	if err := l.Record(t.Context(), newEvent("after")); err != nil {
		t.Fatalf("Record after the store recovered: %v", err)
	}
	l.Emit(newEvent("emitted after"))
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := details(mustFindAll(t, d))
	if want := []string{newEvent("after").Detail, newEvent("emitted after").Detail}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored %q, want %q", got, want)
	}
	mustVerify(t, d, 2)
	checkStats(t, l, 2, n+2)
}

// Events emitted before Close are written before it returns, even those
// still queued behind a slow append.
func TestCloseFlushesEmits(t *testing.T) {
	d := mustOpen(t, newPath(t))
	store := newFaultStore(d)
	l := newLog(t, store, nil)

	store.stall()
	l.Emit(newEvent("0"))
	store.waitEntered(t)
	const n = 100
	for i := 1; i < n; i++ {
		l.Emit(newEvent(fmt.Sprint(i)))
	}
	waitQueued(t, l, n-1)

	closed := make(chan error, 1)
	go func() { closed <- l.Close(t.Context()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v before the queued events were written", err)
	case <-time.After(20 * time.Millisecond):
	}
	store.resume()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := details(mustFindAll(t, d))
	if len(got) != n {
		t.Fatalf("%d events stored, want %d", len(got), n)
	}
	for i, dt := range got {
		if want := newEvent(fmt.Sprint(i)).Detail; dt != want {
			t.Fatalf("event %d is %s, want %s: Emits must be written in order", i+1, dt, want)
		}
	}
	mustVerify(t, d, n)
	checkStats(t, l, n, 0)
}

// Close leaves a caller that gives up on waiting with an error, and the
// events queued are written all the same.
func TestCloseContext(t *testing.T) {
	d := mustOpen(t, newPath(t))
	store := newFaultStore(d)
	l := newLog(t, store, nil)
	store.stall()
	l.Emit(newEvent("0"))
	store.waitEntered(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := l.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a stalled store = %v, want %v", err, context.DeadlineExceeded)
	}
	store.resume()
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	mustVerify(t, d, 1)
}

func TestAfterClose(t *testing.T) {
	d := mustOpen(t, newPath(t))
	var logs testutil.Buffer
	l := newLog(t, d, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Record(t.Context(), newEvent("recorded")); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Record after Close = %v, want %v", err, audit.ErrClosed)
	}
	l.Emit(newEvent("emitted"))
	if out := logs.String(); !strings.Contains(out, "audit: event lost") {
		t.Errorf("log does not report the Emit after Close:\n%s", out)
	}
	if got := mustFindAll(t, d); len(got) != 0 {
		t.Errorf("%d events stored after Close, want none", len(got))
	}
	checkStats(t, l, 0, 1)
}

func TestRecordContext(t *testing.T) {
	t.Run("Canceled", func(t *testing.T) {
		d := mustOpen(t, newPath(t))
		l := newLog(t, d, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := l.Record(ctx, newEvent("0")); !errors.Is(err, context.Canceled) {
			t.Errorf("Record = %v, want %v", err, context.Canceled)
		}
		if err := l.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := mustFindAll(t, d); len(got) != 0 {
			t.Errorf("%d events stored, want none", len(got))
		}
	})

	// A caller that gives up while its event is being written is let go
	// at once, and the event is written anyway, as documented.
	t.Run("CanceledWhileWriting", func(t *testing.T) {
		d := mustOpen(t, newPath(t))
		store := newFaultStore(d)
		l := newLog(t, store, nil)
		store.stall()
		ctx, cancel := context.WithCancel(t.Context())
		result := make(chan error, 1)
		go func() { result <- l.Record(ctx, newEvent("0")) }()
		store.waitEntered(t)
		cancel()
		if err := <-result; !errors.Is(err, context.Canceled) {
			t.Errorf("Record = %v, want %v", err, context.Canceled)
		}
		store.resume()
		if err := l.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		mustVerify(t, d, 1)
	})

	// A full queue holds callers back rather than dropping their events;
	// a Record whose context ends meanwhile gives up, unwritten.
	t.Run("QueueFull", func(t *testing.T) {
		d := mustOpen(t, newPath(t))
		store := newFaultStore(d)
		l := newLog(t, store, nil, audit.QueueSize(1))
		store.stall()
		l.Emit(newEvent("a"))
		store.waitEntered(t)
		l.Emit(newEvent("b"))
		waitQueued(t, l, 1)

		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		if err := l.Record(ctx, newEvent("given up")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Record on a full queue = %v, want %v", err, context.DeadlineExceeded)
		}
		emitted := make(chan struct{})
		go func() {
			l.Emit(newEvent("c"))
			close(emitted)
		}()
		select {
		case <-emitted:
			t.Fatal("Emit on a full queue returned at once, want it to wait")
		case <-time.After(20 * time.Millisecond):
		}
		store.resume()
		<-emitted
		if err := l.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		got := details(mustFindAll(t, d))
		want := []string{newEvent("a").Detail, newEvent("b").Detail, newEvent("c").Detail}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("stored %q, want %q", got, want)
		}
		checkStats(t, l, 3, 0)
	})
}

// An event without a time gets the Log's clock's; one with a time keeps
// it.
func TestTime(t *testing.T) {
	d := mustOpen(t, newPath(t))
	clock := testutil.NewClock(t1)
	l := audit.New(d, nil, clock.Now)
	defer l.Close(t.Context())

	stamped := newEvent("stamped")
	if err := l.Record(t.Context(), stamped); err != nil {
		t.Fatalf("Record: %v", err)
	}
	given := newEvent("given")
	given.Time = t1.Add(-time.Hour)
	if err := l.Record(t.Context(), given); err != nil {
		t.Fatalf("Record: %v", err)
	}
	got := mustFindAll(t, d)
	if len(got) != 2 {
		t.Fatalf("%d events stored, want 2", len(got))
	}
	for i, want := range []time.Time{t1, t1.Add(-time.Hour)} {
		if want := want.Truncate(time.Millisecond); !got[i].Time.Equal(want) {
			t.Errorf("event %d: Time = %v, want %v", got[i].Seq, got[i].Time, want)
		}
	}
}

// A batch holds at most MaxBatch events, however many wait.
func TestMaxBatch(t *testing.T) {
	d := mustOpen(t, newPath(t))
	store := newFaultStore(d)
	l := newLog(t, store, nil, audit.MaxBatch(3))
	store.stall()
	l.Emit(newEvent("0"))
	store.waitEntered(t)
	for i := 1; i <= 10; i++ {
		l.Emit(newEvent(fmt.Sprint(i)))
	}
	waitQueued(t, l, 10)
	store.resume()
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := store.appends(), []int{1, 3, 3, 3, 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("appends of %v events, want %v", got, want)
	}
	mustVerify(t, d, 11)
	if written, _, batches := l.Stats(); written != 11 || batches != 5 {
		t.Errorf("Stats: %d written in %d batches, want 11 in 5", written, batches)
	}
}
