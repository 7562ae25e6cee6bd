package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
)

// testAudit runs the icrec.AuditStore tests.
func testAudit(t *testing.T, open func(t *testing.T) Store) {
	openAudit := func(t *testing.T) icrec.AuditStore { return open(t) }
	t.Run("AppendAudit", func(t *testing.T) { testAppendAudit(t, openAudit) })
	t.Run("FindAudit", func(t *testing.T) { testFindAudit(t, openAudit) })
	t.Run("AuditConcurrency", func(t *testing.T) { testAuditConcurrency(t, openAudit) })
}

// newAuditEvent returns an event with every field the caller sets, at t0
// plus i seconds: its sub-millisecond part tests that stores keep
// milliseconds, and that the hash covers no more than them.
func newAuditEvent(i int) *icrec.AuditEvent {
	return &icrec.AuditEvent{
		Time:        t0.Add(time.Duration(i) * time.Second),
		Kind:        icrec.AuditExportIssued,
		UserID:      "Agent1",
		SessionID:   fmt.Sprint(1000 + i),
		ClientAddr:  "192.0.2.1:4711",
		RecordingID: guid(i + 1),
		Attachment:  i % 3,
		Outcome:     "ok",
		Detail:      fmt.Sprintf(`{"event":%d}`, i),
	}
}

func mustAppendAudit(t *testing.T, s icrec.AuditStore, events ...*icrec.AuditEvent) []*icrec.AuditEvent {
	t.Helper()
	if err := s.AppendAudit(t.Context(), events); err != nil {
		t.Fatalf("AppendAudit(%d events): %v", len(events), err)
	}
	return events
}

func mustFindAudit(t *testing.T, s icrec.AuditStore, f icrec.AuditFilter) []*icrec.AuditEvent {
	t.Helper()
	events, err := s.FindAudit(t.Context(), f)
	if err != nil {
		t.Fatalf("FindAudit(%+v): %v", f, err)
	}
	return events
}

// checkAuditEvent compares every field of got with want, the time to the
// millisecond.
func checkAuditEvent(t *testing.T, got, want *icrec.AuditEvent) {
	t.Helper()
	if got.Seq != want.Seq {
		t.Errorf("Seq = %d, want %d", got.Seq, want.Seq)
	}
	checkTime(t, "Time", got.Time, want.Time)
	checkField(t, "Kind", string(got.Kind), string(want.Kind))
	checkField(t, "UserID", got.UserID, want.UserID)
	checkField(t, "SessionID", got.SessionID, want.SessionID)
	checkField(t, "ClientAddr", got.ClientAddr, want.ClientAddr)
	checkField(t, "RecordingID", got.RecordingID, want.RecordingID)
	if got.Attachment != want.Attachment {
		t.Errorf("Attachment = %d, want %d", got.Attachment, want.Attachment)
	}
	checkField(t, "Outcome", got.Outcome, want.Outcome)
	checkField(t, "Detail", got.Detail, want.Detail)
	checkField(t, "PrevHash", string(got.PrevHash), string(want.PrevHash))
	checkField(t, "Hash", string(got.Hash), string(want.Hash))
}

// checkChain fails the test unless events are the whole trail: Seq 1, 2,
// 3..., each chained to the one before with icrec.AuditEvent.ChainHash.
func checkChain(t *testing.T, events []*icrec.AuditEvent) {
	t.Helper()
	var prev []byte
	for i, e := range events {
		if want := int64(i + 1); e.Seq != want {
			t.Fatalf("event %d has Seq %d, want %d", i, e.Seq, want)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("event %d: PrevHash = %x, want the previous event's Hash %x", e.Seq, e.PrevHash, prev)
		}
		if want := e.ChainHash(e.PrevHash); !bytes.Equal(e.Hash, want) {
			t.Fatalf("event %d: Hash = %x, want ChainHash(PrevHash) = %x", e.Seq, e.Hash, want)
		}
		prev = e.Hash
	}
}

func seqs(events []*icrec.AuditEvent) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

func testAppendAudit(t *testing.T, open func(t *testing.T) icrec.AuditStore) {
	// Two appends, so that the second continues the chain the first
	// ended, and the caller's events learn where they went.
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		events := mustAppendAudit(t, s, newAuditEvent(0), newAuditEvent(1), newAuditEvent(2))
		events = append(events, mustAppendAudit(t, s, newAuditEvent(3), newAuditEvent(4))...)
		checkChain(t, events)
		got := mustFindAudit(t, s, icrec.AuditFilter{})
		if len(got) != len(events) {
			t.Fatalf("FindAudit found %d events, want %d", len(got), len(events))
		}
		for i := range got {
			checkAuditEvent(t, got[i], events[i])
		}
	})

	// The hash covers the time to the millisecond, so the stored event
	// hashes as it did when it was appended whatever the store keeps
	// beyond that; and it must keep the milliseconds themselves.
	t.Run("OKTimeMillis", func(t *testing.T) {
		s := open(t)
		e := newAuditEvent(0)
		e.Time = time.Date(2025, time.March, 14, 9, 26, 53, 999_999_999, time.FixedZone("CET", 3600))
		mustAppendAudit(t, s, e)
		got := mustFindAudit(t, s, icrec.AuditFilter{})
		if len(got) != 1 {
			t.Fatalf("FindAudit found %d events, want 1", len(got))
		}
		if want := e.Time.Truncate(time.Millisecond); !sameTime(got[0].Time, want) {
			t.Errorf("Time = %v, want %v", got[0].Time, want)
		}
		checkChain(t, got)
		checkAuditEvent(t, got[0], e)
	})

	t.Run("OKEmpty", func(t *testing.T) {
		s := open(t)
		mustAppendAudit(t, s)
		if got := mustFindAudit(t, s, icrec.AuditFilter{}); len(got) != 0 {
			t.Errorf("FindAudit found %d events, want none", len(got))
		}
	})

	// An append is one transaction: it stores all its events or none,
	// and the chain goes on from the last event stored. Without a way to
	// make any backend fail on demand, the test cancels the append at
	// ever later moments, some of which fall in the middle of it.
	t.Run("ErrNothingStored", func(t *testing.T) {
		s := open(t)
		first := mustAppendAudit(t, s, newAuditEvent(0))

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.AppendAudit(ctx, []*icrec.AuditEvent{newAuditEvent(1)}); err == nil {
			t.Fatal("AppendAudit with a canceled context succeeded, want an error")
		}
		if got := mustFindAudit(t, s, icrec.AuditFilter{}); len(got) != 1 {
			t.Fatalf("after a failed append, FindAudit found %d events, want 1", len(got))
		}

		const n = 200
		stored := int64(len(first))
		for timeout := 50 * time.Microsecond; ; timeout *= 2 {
			batch := make([]*icrec.AuditEvent, n)
			for i := range batch {
				batch[i] = newAuditEvent(i)
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			err := s.AppendAudit(ctx, batch)
			cancel()
			got := int64(len(mustFindAudit(t, s, icrec.AuditFilter{AfterSeq: stored})))
			switch {
			case err != nil && got != 0:
				t.Fatalf("AppendAudit failed (%v) but stored %d of its %d events", err, got, n)
			case err == nil && got != n:
				t.Fatalf("AppendAudit succeeded but stored %d of its %d events", got, n)
			}
			if err == nil {
				break
			}
			if timeout > time.Minute {
				t.Fatalf("AppendAudit of %d events: %v", n, err)
			}
		}
		checkChain(t, mustFindAudit(t, s, icrec.AuditFilter{}))
	})
}

func testFindAudit(t *testing.T, open func(t *testing.T) icrec.AuditStore) {
	s := open(t)
	kinds := []icrec.AuditKind{icrec.AuditLogin, icrec.AuditExportIssued, icrec.AuditDownload}
	users := []string{"Agent1", "AGENT1", "agent2", "Émile", "", "ÉMILE"}
	var events []*icrec.AuditEvent
	for i := range 12 {
		e := newAuditEvent(i)
		e.Kind = kinds[i%len(kinds)]
		e.UserID = users[i%len(users)]
		e.RecordingID = guid(i%4 + 1)
		events = append(events, e)
	}
	mustAppendAudit(t, s, events...)

	at := func(i int) *time.Time { return &events[i].Time }
	for _, tc := range []struct {
		name string
		f    icrec.AuditFilter
		want []int64
	}{
		{"All", icrec.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		// An event is found from its own Time, with its sub-millisecond
		// part, however the store truncated it: Since <= Time < Until.
		{"Since", icrec.AuditFilter{Since: at(9)}, []int64{10, 11, 12}},
		{"Until", icrec.AuditFilter{Until: at(2)}, []int64{1, 2}},
		{"SinceUntil", icrec.AuditFilter{Since: at(3), Until: at(6)}, []int64{4, 5, 6}},
		{"SinceUntilSame", icrec.AuditFilter{Since: at(3), Until: at(3)}, nil},
		{"UserID", icrec.AuditFilter{UserID: ptr("agent1")}, []int64{1, 2, 7, 8}},
		{"UserIDFolded", icrec.AuditFilter{UserID: ptr("émile")}, []int64{4, 6, 10, 12}},
		{"UserIDEmpty", icrec.AuditFilter{UserID: ptr("")}, []int64{5, 11}},
		{"UserIDNone", icrec.AuditFilter{UserID: ptr("agent3")}, nil},
		{"RecordingID", icrec.AuditFilter{RecordingID: ptr(guid(2))}, []int64{2, 6, 10}},
		{"Kind", icrec.AuditFilter{Kind: ptr(icrec.AuditDownload)}, []int64{3, 6, 9, 12}},
		{"AfterSeq", icrec.AuditFilter{AfterSeq: 9}, []int64{10, 11, 12}},
		{"AfterSeqEnd", icrec.AuditFilter{AfterSeq: 12}, nil},
		{"Limit", icrec.AuditFilter{Limit: 3}, []int64{1, 2, 3}},
		// A page of one user's events, as the CLI walks them.
		{"Page", icrec.AuditFilter{UserID: ptr("AGENT1"), AfterSeq: 2, Limit: 1}, []int64{7}},
		{"AllFilters", icrec.AuditFilter{
			Since: at(1), Until: at(11), UserID: ptr("émile"), RecordingID: ptr(guid(2)),
			Kind: ptr(icrec.AuditLogin), AfterSeq: 5, Limit: 5,
		}, []int64{10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustFindAudit(t, s, tc.f)
			if !slices.Equal(seqs(got), tc.want) {
				t.Fatalf("FindAudit found events %v, want %v", seqs(got), tc.want)
			}
			for _, e := range got {
				checkAuditEvent(t, e, events[e.Seq-1])
			}
		})
	}
}

// Appends from many goroutines, each of several events, still make one
// chain: no two appends may both follow the same last event.
func testAuditConcurrency(t *testing.T, open func(t *testing.T) icrec.AuditStore) {
	s := open(t)
	const writers, appends, size = 8, 10, 3
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, writers*appends)
	for w := range writers {
		wg.Go(func() {
			<-start
			for a := range appends {
				batch := make([]*icrec.AuditEvent, size)
				for i := range batch {
					batch[i] = newAuditEvent(i)
					batch[i].Detail = fmt.Sprintf(`{"writer":%d,"append":%d,"event":%d}`, w, a, i)
				}
				if err := s.AppendAudit(t.Context(), batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AppendAudit: %v", err)
	}

	got := mustFindAudit(t, s, icrec.AuditFilter{})
	if len(got) != writers*appends*size {
		t.Fatalf("FindAudit found %d events, want %d", len(got), writers*appends*size)
	}
	checkChain(t, got)
	// Each append's events are consecutive, in the order given, and each
	// writer's appends come in the order it made them.
	last := make(map[int]int) // writer → its last append seen, plus one
	for i := 0; i < len(got); i += size {
		var w, a int
		for j, e := range got[i : i+size] {
			var ew, ea, ei int
			if _, err := fmt.Sscanf(e.Detail, `{"writer":%d,"append":%d,"event":%d}`, &ew, &ea, &ei); err != nil {
				t.Fatalf("event %d: Detail %q: %v", e.Seq, e.Detail, err)
			}
			if j == 0 {
				w, a = ew, ea
			}
			if ew != w || ea != a || ei != j {
				t.Fatalf("event %d is event %d of writer %d's append %d, want event %d of writer %d's append %d",
					e.Seq, ei, ew, ea, j, w, a)
			}
		}
		if a != last[w] {
			t.Fatalf("event %d starts writer %d's append %d, want its append %d", got[i].Seq, w, a, last[w])
		}
		last[w] = a + 1
	}
}
