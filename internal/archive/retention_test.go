package archive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/sqlite"
)

// sweepNow is the fixed clock of the retention tests.
var sweepNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// retention is an archive with an audit trail, on a fixed clock, whose
// recordings are imported through a manifest.
type retention struct {
	*fixture
	trail *audit.Log
	now   time.Time
}

func newRetention(t *testing.T) *retention {
	t.Helper()
	f := newFixture(t)
	r := &retention{fixture: f, trail: audit.New(f.db, nil, nil), now: sweepNow}
	t.Cleanup(func() { r.trail.Close(context.Background()) })
	r.svc = r.service(r.trail)
	return r
}

// service returns the archive over r's stores with a as its auditor.
func (r *retention) service(a icrec.Auditor) *archive.Service {
	return archive.New(r.db, r.db, r.db, r.db, r.blobs, a, archive.Exports{}, slog.New(slog.DiscardHandler), func() time.Time { return r.now })
}

// recording adds a call recording, expiring at exp (never if zero), in
// workgroup wg if given, and returns its id.
func (r *retention) recording(n int, exp time.Time, wg string) string {
	r.t.Helper()
	id := fmt.Sprintf("22222222-0000-0000-0000-%012d", n)
	name := fmt.Sprintf("m/%d.wav", n)
	r.file(name, wav(r.t, 1))
	line := base(id, "Call", name)
	if !exp.IsZero() {
		line["expirationDate"] = exp.Format("20060102T150405Z")
	}
	if wg != "" {
		line["workgroups"] = []string{wg}
	}
	r.line(line)
	return id
}

// importAll imports the lines given since the last call.
func (r *retention) importAll() {
	r.t.Helper()
	sum, _ := r.run(false)
	if sum.Failed > 0 {
		r.t.Fatalf("import: %+v", sum)
	}
	r.lines = nil
}

// sweep runs a sweep and returns its summary and events by recording id.
func (r *retention) sweep(opts archive.SweepOptions) (archive.SweepSummary, map[string]archive.SweepEvent) {
	r.t.Helper()
	events := map[string]archive.SweepEvent{}
	sum, err := r.svc.Sweep(r.t.Context(), opts, func(ev archive.SweepEvent) {
		if _, dup := events[ev.Recording.ID]; dup {
			r.t.Errorf("recording %s reported twice", ev.Recording.ID)
		}
		events[ev.Recording.ID] = ev
	})
	if err != nil {
		r.t.Fatalf("Sweep: %v", err)
	}
	return sum, events
}

// present reports whether the recording is in the catalogue and its media
// in the blob store, failing if only one of the two is.
func (r *retention) present(id string) bool {
	r.t.Helper()
	rec, err := r.db.FindRecordingByID(r.t.Context(), id)
	if icrec.IsKind(err, icrec.NotFound) {
		if b, err := r.blobs.Open(r.t.Context(), icrec.MediaKey(id)); err == nil {
			b.Close()
			r.t.Errorf("recording %s is gone but its media is still stored", id)
		}
		return false
	}
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := r.blobs.Open(r.t.Context(), rec.Media.Key)
	if err != nil {
		r.t.Errorf("recording %s is catalogued but its media cannot be opened: %v", id, err)
		return true
	}
	b.Close()
	return true
}

// auditOf returns the retention.delete events, by recording id.
func (r *retention) auditOf(kind icrec.AuditKind) []*icrec.AuditEvent {
	r.t.Helper()
	events, err := r.db.FindAudit(r.t.Context(), icrec.AuditFilter{Kind: &kind})
	if err != nil {
		r.t.Fatal(err)
	}
	return events
}

func (r *retention) hold(h icrec.LegalHold) {
	r.t.Helper()
	if _, err := r.svc.AddHold(r.t.Context(), h); err != nil {
		r.t.Fatalf("AddHold(%q): %v", h.Name, err)
	}
}

func TestSweepDeletesExpired(t *testing.T) {
	r := newRetention(t)
	var (
		long   = r.recording(1, sweepNow.AddDate(-2, 0, 0), "")
		atNow  = r.recording(2, sweepNow, "")                  // expires at the sweep's instant: expired
		soon   = r.recording(3, sweepNow.Add(time.Second), "") // a second to go
		future = r.recording(4, sweepNow.AddDate(1, 0, 0), "")
		never  = r.recording(5, time.Time{}, "")
	)
	r.importAll()
	size := int64(len(wav(t, 1)))

	sum, events := r.sweep(archive.SweepOptions{})
	if sum.Deleted != 2 || sum.Held+sum.Failed+sum.WouldDelete+sum.MediaMissing != 0 || sum.Bytes != 2*size {
		t.Errorf("summary %+v, want 2 deleted, %d bytes", sum, 2*size)
	}
	for _, id := range []string{long, atNow} {
		if ev := events[id]; ev.Outcome != archive.SweepDeleted || ev.Bytes != size || ev.Err != nil {
			t.Errorf("%s: %+v, want deleted with %d bytes", id, ev, size)
		}
		if r.present(id) {
			t.Errorf("expired recording %s is still there", id)
		}
	}
	for _, id := range []string{soon, future, never} {
		if _, ok := events[id]; ok {
			t.Errorf("recording %s that has not expired was reported: %+v", id, events[id])
		}
		if !r.present(id) {
			t.Errorf("recording %s that has not expired was deleted", id)
		}
	}

	// One audit event per deleted recording, saying what went.
	got := r.auditOf(icrec.AuditRetentionDelete)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.RecordingID)
		var d map[string]any
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			t.Fatalf("detail %q: %v", e.Detail, err)
		}
		if d["sha256"] == "" || d["bytes"] != float64(size) || d["sweptAt"] != sweepNow.Format(time.RFC3339Nano) || e.Outcome != "ok" {
			t.Errorf("event %+v with detail %v", e, d)
		}
	}
	slices.Sort(ids)
	if want := []string{long, atNow}; !slices.Equal(ids, want) {
		t.Errorf("retention.delete events for %q, want %q", ids, want)
	}
	if keys, _ := r.db.PendingBlobs(t.Context()); len(keys) > 0 {
		t.Errorf("pending marks left after the sweep: %q", keys)
	}

	// The clock moves on: the next sweep takes the one that expired since,
	// and nothing twice.
	r.now = sweepNow.Add(time.Minute)
	sum, events = r.sweep(archive.SweepOptions{})
	if sum.Deleted != 1 || events[soon].Outcome != archive.SweepDeleted {
		t.Errorf("second sweep: %+v %+v, want %s deleted", sum, events, soon)
	}
	if !r.present(future) || !r.present(never) {
		t.Error("the second sweep deleted a recording that has not expired")
	}
}

func TestSweepDryRun(t *testing.T) {
	r := newRetention(t)
	a := r.recording(1, sweepNow.AddDate(0, -1, 0), "")
	held := r.recording(2, sweepNow.AddDate(0, -1, 0), "Legal")
	r.importAll()
	r.hold(icrec.LegalHold{Name: "Case 1", Query: icrec.HoldQuery{Workgroup: "legal"}})
	before := len(r.auditOf(icrec.AuditHoldChange))

	sum, events := r.sweep(archive.SweepOptions{DryRun: true})
	if sum.WouldDelete != 1 || sum.Held != 1 || sum.Deleted != 0 || sum.Bytes != int64(len(wav(t, 1))) {
		t.Errorf("summary %+v, want 1 would delete, 1 held", sum)
	}
	if events[a].Outcome != archive.SweepWouldDelete || events[held].Outcome != archive.SweepHeld {
		t.Errorf("events %+v", events)
	}
	if !r.present(a) || !r.present(held) {
		t.Error("a dry run deleted a recording")
	}
	if n := len(r.auditOf(icrec.AuditRetentionDelete)); n != 0 {
		t.Errorf("a dry run wrote %d retention.delete events", n)
	}
	if n := len(r.auditOf(icrec.AuditHoldChange)); n != before {
		t.Errorf("a dry run wrote audit events")
	}
}

func TestSweepHolds(t *testing.T) {
	r := newRetention(t)
	expired := sweepNow.AddDate(-1, 0, 0)
	var (
		byID    = r.recording(1, expired, "")
		byQuery = r.recording(2, expired, "Legal")
		byBoth  = r.recording(3, expired, "Legal")
		free    = r.recording(4, expired, "Sales")
	)
	r.importAll()
	r.hold(icrec.LegalHold{Name: "Case A", RecordingIDs: []string{strings.ToLower(byID), "{" + byBoth + "}"}, CreatedBy: "counsel"})
	r.hold(icrec.LegalHold{Name: "Case B", Query: icrec.HoldQuery{Workgroup: "LEGAL"}, CreatedBy: "counsel"})
	// A hold whose query matches nothing holds nothing.
	r.hold(icrec.LegalHold{Name: "Case C", Query: icrec.HoldQuery{Tag: "nothing-has-this"}, CreatedBy: "counsel"})

	sum, events := r.sweep(archive.SweepOptions{Batch: 2})
	if sum.Deleted != 1 || sum.Held != 3 {
		t.Errorf("summary %+v, want 1 deleted, 3 held", sum)
	}
	for id, want := range map[string][]string{byID: {"Case A"}, byQuery: {"Case B"}, byBoth: {"Case A", "Case B"}} {
		if ev := events[id]; ev.Outcome != archive.SweepHeld || !slices.Equal(ev.Holds, want) {
			t.Errorf("%s: %+v, want held by %q", id, ev, want)
		}
		if !r.present(id) {
			t.Errorf("held recording %s was deleted", id)
		}
	}
	if want := map[string]int{"Case A": 2, "Case B": 2}; !maps.Equal(sum.HeldBy, want) {
		t.Errorf("HeldBy %v, want %v", sum.HeldBy, want)
	}
	if r.present(free) {
		t.Errorf("recording %s under no hold was kept", free)
	}

	// Holds stack: releasing one keeps what the other holds.
	if err := r.svc.ReleaseHold(t.Context(), "case a", "counsel"); err != nil {
		t.Fatal(err)
	}
	sum, events = r.sweep(archive.SweepOptions{})
	if events[byID].Outcome != archive.SweepDeleted || events[byBoth].Outcome != archive.SweepHeld || events[byQuery].Outcome != archive.SweepHeld {
		t.Errorf("after releasing Case A: %+v", events)
	}
	if err := r.svc.ReleaseHold(t.Context(), "Case B", "counsel"); err != nil {
		t.Fatal(err)
	}
	sum, _ = r.sweep(archive.SweepOptions{})
	if sum.Deleted != 2 || r.present(byBoth) || r.present(byQuery) {
		t.Errorf("after releasing every hold: %+v, want the last two deleted", sum)
	}

	// Every placement and release is on the audit trail, by whom, with what.
	changes := r.auditOf(icrec.AuditHoldChange)
	if len(changes) != 5 {
		t.Fatalf("%d admin.hold events, want 5", len(changes))
	}
	if c := changes[0]; c.UserID != "counsel" || !strings.Contains(c.Detail, `"action":"add"`) || !strings.Contains(c.Detail, byID) || !strings.Contains(c.Detail, byBoth) {
		t.Errorf("first admin.hold event %+v", c)
	}
	if c := changes[1]; !strings.Contains(c.Detail, `"query":"workgroup=LEGAL"`) {
		t.Errorf("second admin.hold event %+v", c)
	}
	if c := changes[3]; !strings.Contains(c.Detail, `"action":"release"`) || !strings.Contains(c.Detail, "case a") {
		t.Errorf("fourth admin.hold event %+v", c)
	}
}

// A hold's query is evaluated at each sweep, so it holds what is imported,
// or comes to match, after the hold was placed.
func TestSweepHoldQueryCoversLaterRecordings(t *testing.T) {
	r := newRetention(t)
	r.hold(icrec.LegalHold{Name: "Everything of Legal", Query: icrec.HoldQuery{Workgroup: "Legal"}})
	r.hold(icrec.LegalHold{Name: "By id before import", RecordingIDs: []string{"22222222-0000-0000-0000-000000000003"}})
	later := r.recording(1, sweepNow.AddDate(0, 0, -1), "Legal")
	other := r.recording(2, sweepNow.AddDate(0, 0, -1), "Sales")
	named := r.recording(3, sweepNow.AddDate(0, 0, -1), "")
	r.importAll()
	_, events := r.sweep(archive.SweepOptions{})
	if events[later].Outcome != archive.SweepHeld || events[named].Outcome != archive.SweepHeld || events[other].Outcome != archive.SweepDeleted {
		t.Errorf("events %+v", events)
	}
}

func TestSweepPagesAndLimits(t *testing.T) {
	r := newRetention(t)
	var ids []string
	for n := range 7 {
		ids = append(ids, r.recording(n, sweepNow.Add(-time.Duration(n+1)*time.Hour), ""))
	}
	r.importAll()
	sum, events := r.sweep(archive.SweepOptions{Batch: 3})
	if sum.Deleted != 7 || len(events) != 7 {
		t.Errorf("summary %+v, %d events, want 7 deleted", sum, len(events))
	}
	for _, id := range ids {
		if r.present(id) {
			t.Errorf("%s survived a paged sweep", id)
		}
	}
}

func TestSweepMediaMissing(t *testing.T) {
	r := newRetention(t)
	id := r.recording(1, sweepNow.AddDate(0, 0, -1), "")
	r.importAll()
	if err := r.blobs.Delete(t.Context(), icrec.MediaKey(id)); err != nil {
		t.Fatal(err)
	}
	sum, events := r.sweep(archive.SweepOptions{})
	if ev := events[id]; ev.Outcome != archive.SweepDeleted || !ev.MediaMissing || sum.MediaMissing != 1 || sum.Bytes != 0 {
		t.Errorf("event %+v, summary %+v, want deleted with its media missing", ev, sum)
	}
	if r.present(id) {
		t.Error("recording still catalogued")
	}
}

// Two recordings sharing one blob: the first to go leaves the blob to the
// other.
func TestSweepSharedMedia(t *testing.T) {
	r := newRetention(t)
	a := r.recording(1, sweepNow.AddDate(0, 0, -1), "")
	r.importAll()
	rec, err := r.db.FindRecordingByID(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	twin := *rec
	twin.ID, twin.InteractionID, twin.ExpirationDate = "22222222-0000-0000-0000-000000000099", "twin", time.Time{}
	if err := r.db.CreateRecordings(t.Context(), []*icrec.Recording{&twin}); err != nil {
		t.Fatal(err)
	}
	sum, _ := r.sweep(archive.SweepOptions{})
	if sum.Deleted != 1 || sum.Bytes != 0 {
		t.Errorf("summary %+v, want 1 deleted and no bytes freed", sum)
	}
	b, err := r.blobs.Open(t.Context(), rec.Media.Key)
	if err != nil {
		t.Fatalf("the media the twin still uses was deleted: %v", err)
	}
	b.Close()
}

// failingAuditor refuses to record: a fault injected where the sweep must
// not delete what it cannot record.
type failingAuditor struct {
	mu sync.Mutex
	n  int
}

func (f *failingAuditor) Record(context.Context, *icrec.AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return errors.New("disk full")
}

func TestSweepKeepsWhatItCannotAudit(t *testing.T) {
	r := newRetention(t)
	id := r.recording(1, sweepNow.AddDate(0, 0, -1), "")
	r.importAll()
	fa := &failingAuditor{}
	r.svc = r.service(fa)
	sum, events := r.sweep(archive.SweepOptions{})
	if ev := events[id]; ev.Outcome != archive.SweepFailed || ev.Err == nil || !strings.Contains(ev.Err.Error(), "disk full") || sum.Failed != 1 {
		t.Errorf("event %+v, summary %+v, want failed for the audit trail", ev, sum)
	}
	if !r.present(id) {
		t.Error("a recording was deleted without its audit event")
	}
	if fa.n != 1 {
		t.Errorf("%d audit attempts, want 1", fa.n)
	}
	if keys, _ := r.db.PendingBlobs(t.Context()); len(keys) > 0 {
		t.Errorf("pending marks left: %q", keys)
	}
}

func TestSweepNeedsAuditAndHolds(t *testing.T) {
	r := newRetention(t)
	noAudit := archive.New(r.db, r.db, r.db, r.db, r.blobs, nil, archive.Exports{}, slog.New(slog.DiscardHandler), time.Now)
	if _, err := noAudit.Sweep(t.Context(), archive.SweepOptions{}, nil); err == nil || !strings.Contains(err.Error(), "audit") {
		t.Errorf("Sweep without an audit trail: %v, want a refusal", err)
	}
	// A dry run deletes nothing, so needs no trail.
	if _, err := noAudit.Sweep(t.Context(), archive.SweepOptions{DryRun: true}, nil); err != nil {
		t.Errorf("dry run without an audit trail: %v", err)
	}
	noHolds := archive.New(r.db, r.db, r.db, nil, r.blobs, r.trail, archive.Exports{}, slog.New(slog.DiscardHandler), time.Now)
	for what, err := range map[string]error{
		"Sweep": func() error {
			_, err := noHolds.Sweep(t.Context(), archive.SweepOptions{DryRun: true}, nil)
			return err
		}(),
		"AddHold": func() error {
			_, err := noHolds.AddHold(t.Context(), icrec.LegalHold{Name: "x", Query: icrec.HoldQuery{Tag: "x"}})
			return err
		}(),
		"Holds":       func() error { _, err := noHolds.Holds(t.Context()); return err }(),
		"ReleaseHold": noHolds.ReleaseHold(t.Context(), "x", ""),
	} {
		if err == nil || !strings.Contains(err.Error(), "no legal hold store") {
			t.Errorf("%s without a hold store: %v, want a refusal", what, err)
		}
	}
}

func TestSweepStopsWithContext(t *testing.T) {
	r := newRetention(t)
	for n := range 5 {
		r.recording(n, sweepNow.AddDate(0, 0, -1), "")
	}
	r.importAll()
	ctx, cancel := context.WithCancel(t.Context())
	deleted := 0
	sum, err := r.svc.Sweep(ctx, archive.SweepOptions{Batch: 2}, func(ev archive.SweepEvent) {
		if ev.Outcome == archive.SweepDeleted {
			deleted++
			cancel() // at the first deletion
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Sweep = %v, want context.Canceled", err)
	}
	// The page under way (two recordings) is finished, no more.
	if deleted != 2 || sum.Deleted != 2 {
		t.Errorf("%d deleted (summary %+v), want the sweep to stop after the page under way", deleted, sum)
	}
	n, _ := r.db.CountRecordings(t.Context())
	if n != 3 {
		t.Errorf("%d recordings left, want 3", n)
	}
	if keys, _ := r.db.PendingBlobs(t.Context()); len(keys) > 0 {
		t.Errorf("pending marks left by a cancelled sweep: %q", keys)
	}
}

func TestAddHoldValidation(t *testing.T) {
	r := newRetention(t)
	since := sweepNow
	bad := icrec.MediaType(42)
	for _, tc := range []struct {
		name string
		h    icrec.LegalHold
		want string
	}{
		{"ErrEmptyName", icrec.LegalHold{Query: icrec.HoldQuery{Tag: "x"}}, "hold name must not be empty"},
		{"ErrNameSpace", icrec.LegalHold{Name: " x", Query: icrec.HoldQuery{Tag: "x"}}, "leading or trailing space"},
		{"ErrHoldsNothing", icrec.LegalHold{Name: "x"}, "holds nothing"},
		{"ErrBadID", icrec.LegalHold{Name: "x", RecordingIDs: []string{"22222222-0000-0000-0000-00000000000"}}, "is not a GUID"},
		{"ErrBadWorkgroup", icrec.LegalHold{Name: "x", Query: icrec.HoldQuery{Workgroup: "a\x00b"}}, "control character"},
		{"ErrSinceNotBeforeUntil", icrec.LegalHold{Name: "x", Query: icrec.HoldQuery{Since: &since, Until: &since}}, "must be before its until"},
		{"ErrMediaType", icrec.LegalHold{Name: "x", Query: icrec.HoldQuery{MediaType: &bad}}, "media type 42"},
		{"ErrAttributeName", icrec.LegalHold{Name: "x", Query: icrec.HoldQuery{Attribute: &icrec.Attribute{Name: ""}}}, "attribute name must not be empty"},
		{"ErrAttributeValue", icrec.LegalHold{Name: "x", Query: icrec.HoldQuery{Attribute: &icrec.Attribute{Name: "a", Value: strings.Repeat("v", icrec.MaxAttributeValueLength+1)}}}, "the limit is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.svc.AddHold(t.Context(), tc.h)
			if !icrec.IsKind(err, icrec.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddHold = %v, want Invalid containing %q", err, tc.want)
			}
		})
	}
	if holds, _ := r.svc.Holds(t.Context()); len(holds) != 0 {
		t.Errorf("refused holds were stored: %d", len(holds))
	}
	if n := len(r.auditOf(icrec.AuditHoldChange)); n != 0 {
		t.Errorf("refused holds were audited: %d events", n)
	}

	r.hold(icrec.LegalHold{Name: "Case 1", Query: icrec.HoldQuery{Tag: "x"}})
	if _, err := r.svc.AddHold(t.Context(), icrec.LegalHold{Name: "CASE 1", Query: icrec.HoldQuery{Tag: "y"}}); !icrec.IsKind(err, icrec.Conflict) {
		t.Errorf("a second hold of the same name: %v, want Conflict", err)
	}
	if err := r.svc.ReleaseHold(t.Context(), "Case 2", ""); !icrec.IsKind(err, icrec.NotFound) {
		t.Errorf("releasing an unknown hold: %v, want NotFound", err)
	}
}

// lyingStore lists every recording as expired: a fault injected to show
// that the sweep checks the dates itself before deleting.
type lyingStore struct{ *sqlite.DB }

func (s lyingStore) ExpiredRecordings(ctx context.Context, _ time.Time, after string, limit int) ([]*icrec.Recording, error) {
	return s.DB.ExpiredRecordings(ctx, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), after, limit)
}

func TestSweepChecksDatesItself(t *testing.T) {
	r := newRetention(t)
	future := r.recording(1, sweepNow.AddDate(1, 0, 0), "")
	r.importAll()
	r.svc = archive.New(lyingStore{r.db}, r.db, r.db, r.db, r.blobs, r.trail, archive.Exports{}, slog.New(slog.DiscardHandler), func() time.Time { return r.now })
	sum, events := r.sweep(archive.SweepOptions{})
	if ev := events[future]; ev.Outcome != archive.SweepFailed || sum.Failed != 1 || sum.Deleted != 0 {
		t.Errorf("event %+v, summary %+v, want the unexpired recording refused", ev, sum)
	}
	if !r.present(future) {
		t.Error("a recording that has not expired was deleted")
	}
}
