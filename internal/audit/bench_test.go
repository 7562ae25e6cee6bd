package audit_test

import (
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/audit"
)

// benchParallelism makes RunParallel run this many goroutines per CPU: the
// server records for many requests at once, far more than it has CPUs.
// Both benchmarks use it, so that their ratio is what group commit gains.
const benchParallelism = 16

// Many requests record at once through one Log, sharing commits.
func BenchmarkRecordParallel(b *testing.B) {
	d := mustOpen(b, newPath(b))
	l := audit.New(d, nil, nil)
	ctx := b.Context()
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Record(ctx, newEvent("bench")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if err := l.Close(ctx); err != nil {
		b.Fatal(err)
	}
	written, _, batches := l.Stats()
	b.ReportMetric(float64(written)/float64(batches), "events/batch")
}

// The same requests each append their own event: one commit, and one
// sync, per event.
func BenchmarkAppendEach(b *testing.B) {
	d := mustOpen(b, newPath(b))
	ctx := b.Context()
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := newEvent("bench")
			e.Time = time.Now() // as Log stamps it
			if err := d.AppendAudit(ctx, []*icrec.AuditEvent{e}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
