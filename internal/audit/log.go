// Package audit writes icrec's audit trail and checks it.
//
// Log is the icrec.Auditor the server runs with. Every commit of the trail
// costs a sync of the database, a few milliseconds on most disks, and
// requests that must be recorded arrive side by side; appending each event
// on its own would make them queue for the disk one after another. Log
// instead hands everything that is waiting to the store in one append, so
// that one commit serves every request queued behind the one before
// (group commit). No timer delays a batch: while one commit runs, the next
// batch gathers by itself.
//
// Verify walks the hash chain that the store keeps, and names the first
// event that was deleted, altered or moved.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"example.com/icrec"
)

var _ icrec.Auditor = (*Log)(nil)

// ErrClosed is returned by Record once Close has been called.
var ErrClosed = errors.New("audit: log closed")

// Defaults for New.
const (
	// DefaultMaxBatch bounds one append: large enough that a burst of
	// requests shares a handful of commits, small enough that one
	// transaction never holds the database's write lock for long.
	DefaultMaxBatch = 512
	// DefaultQueueSize bounds what waits for the writer. Beyond it Record
	// and Emit block: a store that cannot keep up slows the callers down
	// rather than growing memory without limit or dropping events.
	DefaultQueueSize = 4096
)

// Option configures New.
type Option func(*options)

type options struct {
	maxBatch  int
	queueSize int
}

// MaxBatch sets the most events one append writes; n < 1 means the
// default.
func MaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// QueueSize sets how many events may wait for the writer before Record and
// Emit block; n < 1 means the default.
func QueueSize(n int) Option { return func(o *options) { o.queueSize = n } }

// Log records audit events in a store, batching concurrent events into one
// append. Its methods are safe for concurrent use.
//
// An event passed to Record or Emit belongs to the Log from then on: the
// store sets its Seq, PrevHash, Hash and Time when it is written, from the
// Log's goroutine. The caller may read it again once Record has returned
// nil or the store's error, and must not touch it at all after Emit, or
// after a Record that returned because its context ended.
type Log struct {
	store    icrec.AuditStore
	log      *slog.Logger
	now      func() time.Time
	maxBatch int
	queue    chan request
	stopped  chan struct{} // closed when the writer has flushed and exited

	// mu guards closed against the senders count, so that no send can
	// start once Close has begun waiting for the senders to finish: only
	// then is closing queue safe.
	mu        sync.Mutex
	closed    bool
	senders   sync.WaitGroup
	closeOnce sync.Once

	written, failed, batches atomic.Uint64
}

// request is one queued event. done is nil for Emit, and otherwise
// buffered, so that the writer never waits for a caller who gave up.
type request struct {
	e    *icrec.AuditEvent
	done chan error
}

// New returns a Log over store and starts its writer; Close stops it. now
// stamps the events that have no Time; nil means time.Now. log receives the
// failures no caller hears of (see Emit).
func New(store icrec.AuditStore, log *slog.Logger, now func() time.Time, opts ...Option) *Log {
	o := options{maxBatch: DefaultMaxBatch, queueSize: DefaultQueueSize}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBatch < 1 {
		o.maxBatch = DefaultMaxBatch
	}
	if o.queueSize < 1 {
		o.queueSize = DefaultQueueSize
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Log{
		store:    store,
		log:      log,
		now:      now,
		maxBatch: o.maxBatch,
		queue:    make(chan request, o.queueSize),
		stopped:  make(chan struct{}),
	}
	go l.run()
	return l
}

// Record writes e and returns once the append that holds it has committed,
// with the store's error if that failed. It implements icrec.Auditor: a
// caller that tells a client something happened records it first.
//
// If ctx ends first, Record returns ctx.Err() at once, but an event that
// was already queued is still written: the caller cannot tell whether it
// was, and must not reuse e. Record returns ErrClosed after Close.
func (l *Log) Record(ctx context.Context, e *icrec.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	if err := l.enqueue(ctx, request{e: e, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Emit queues e and returns without waiting for it to be written. It is
// for events that happen after the client has its answer, such as a
// finished download or a failed login, where nobody is left to tell of a
// failure: a failed append is logged and counted (Stats) instead. Emit
// still blocks while the queue is full, so that no event is dropped. After
// Close the event is not written, and that is logged and counted too.
func (l *Log) Emit(e *icrec.AuditEvent) {
	if err := l.enqueue(context.Background(), request{e: e}); err != nil {
		l.failed.Add(1)
		l.log.Error("audit: event lost", "kind", e.Kind, "err", err)
	}
}

// enqueue stamps r's event and queues it, blocking while the queue is
// full.
func (l *Log) enqueue(ctx context.Context, r request) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.senders.Add(1)
	l.mu.Unlock()
	defer l.senders.Done()

	// Stamped here, not by the writer: the event happened when it was
	// recorded, not when its batch came up.
	if r.e.Time.IsZero() {
		r.e.Time = l.now()
	}
	select {
	case l.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the Log taking events, and returns once every event queued
// before has been written, or when ctx ends, with ctx.Err(); the writer
// then goes on flushing by itself. Failures while flushing are reported
// as they are for Record and Emit. Calling Close again waits again.
func (l *Log) Close(ctx context.Context) error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		// Senders blocked on a full queue finish as the writer drains
		// it; only after the last of them may the queue be closed.
		go func() {
			l.senders.Wait()
			close(l.queue)
		}()
	})
	select {
	case <-l.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the number of events written, of events lost (failed
// appends, and Emits after Close), and of appends committed; written /
// batches is the mean batch size.
func (l *Log) Stats() (written, failed, batches uint64) {
	return l.written.Load(), l.failed.Load(), l.batches.Load()
}

// run is the writer: it takes whatever is queued, up to maxBatch events,
// and appends it in one call, until Close has closed the queue and it is
// empty.
func (l *Log) run() {
	defer close(l.stopped)
	batch := make([]request, 0, l.maxBatch)
	events := make([]*icrec.AuditEvent, 0, l.maxBatch)
	for r := range l.queue {
		batch = append(batch, r)
	gather:
		for len(batch) < l.maxBatch {
			select {
			case r, ok := <-l.queue:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		for _, r := range batch {
			events = append(events, r.e)
		}
		l.append(batch, events)
		// Drop the references, so that written events can be collected.
		clear(batch)
		clear(events)
		batch, events = batch[:0], events[:0]
	}
}

// append writes one batch and tells its Records how it went. The store
// gets a context of its own: one caller giving up must not fail the
// events of the others.
func (l *Log) append(batch []request, events []*icrec.AuditEvent) {
	err := l.store.AppendAudit(context.Background(), events)
	if err == nil {
		l.written.Add(uint64(len(events)))
		l.batches.Add(1)
	} else {
		l.failed.Add(uint64(len(events)))
		emitted := 0
		for _, r := range batch {
			if r.done == nil {
				emitted++
			}
		}
		// The events themselves are not logged: their details may be
		// more than a log reader should see. The kinds say what was lost.
		l.log.Error("audit: append failed", "events", len(events), "emitted", emitted,
			"kinds", kinds(events), "err", err)
	}
	for _, r := range batch {
		if r.done != nil {
			r.done <- err
		}
	}
}

// kinds returns how many events of each kind events holds, for the log.
func kinds(events []*icrec.AuditEvent) map[icrec.AuditKind]int {
	m := make(map[icrec.AuditKind]int)
	for _, e := range events {
		m[e.Kind]++
	}
	return m
}
