package audit_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/sqlite"
	_ "modernc.org/sqlite" // the driver internal/sqlite uses, for tampering
)

// writeTrail writes a trail of n events to a new database file, closes it
// and returns its path and the events as stored.
func writeTrail(t *testing.T, n int) (string, []*icrec.AuditEvent) {
	t.Helper()
	path := newPath(t)
	d, err := sqlite.Open(t.Context(), path, time.Now)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	events := make([]*icrec.AuditEvent, n)
	for i := range events {
		events[i] = newEvent(fmt.Sprint(i + 1))
		events[i].Time = t1.Add(time.Duration(i) * time.Second)
	}
	if err := d.AppendAudit(t.Context(), events); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path, events
}

// openTamper opens the file as someone with write access to it would, and
// drops the triggers that keep icrec's own connections from rewriting the
// trail: the hash chain must catch what they then do.
func openTamper(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	for _, trigger := range []string{"audit_events_no_update", "audit_events_no_delete", "audit_events_append"} {
		mustExec(t, db, "DROP TRIGGER "+trigger)
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// overwrite stores e's contents in the row with e's Seq.
func overwrite(t *testing.T, db *sql.DB, e *icrec.AuditEvent) {
	t.Helper()
	mustExec(t, db, `UPDATE audit_events SET time = ?, kind = ?, user_id = ?, user_fold = ?,
		session_id = ?, client_addr = ?, recording_id = ?, attachment = ?, outcome = ?,
		detail = ?, prev_hash = ?, hash = ? WHERE seq = ?`,
		e.Time.UnixMilli(), string(e.Kind), e.UserID, icrec.FoldID(e.UserID),
		e.SessionID, e.ClientAddr, e.RecordingID, e.Attachment, e.Outcome,
		e.Detail, e.PrevHash, e.Hash, e.Seq)
}

// moved returns a copy of e as it would be at seq; rehash recomputes its
// hash there, as someone who knows ChainHash would.
func moved(e *icrec.AuditEvent, seq int64, rehash bool) *icrec.AuditEvent {
	m := *e
	m.Seq = seq
	if rehash {
		m.Hash = m.ChainHash(m.PrevHash)
	}
	return &m
}

func TestVerifyEmpty(t *testing.T) {
	res, err := audit.Verify(t.Context(), mustOpen(t, newPath(t)), 0)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !res.OK() || res.Checked != 0 || res.LastSeq != 0 {
		t.Errorf("Verify = %+v, want an intact chain of 0 events", res)
	}
}

// Every page size walks the whole trail, including ones that end a page
// on its last event.
func TestVerifyIntact(t *testing.T) {
	path, events := writeTrail(t, 20)
	d := mustOpen(t, path)
	for _, size := range []int{1, 7, 10, 20, 21, 0} {
		t.Run(fmt.Sprint("PageSize", size), func(t *testing.T) {
			res, err := audit.Verify(t.Context(), d, size)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !res.OK() || res.Checked != 20 || res.LastSeq != 20 || !bytes.Equal(res.LastHash, events[19].Hash) {
				t.Errorf("Verify = %+v, want an intact chain of 20 events ending in %x", res, events[19].Hash)
			}
		})
	}
}

func TestVerifyTampered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB, events []*icrec.AuditEvent)
		want   audit.Result
	}{
		{
			"Deleted",
			func(t *testing.T, db *sql.DB, _ []*icrec.AuditEvent) {
				mustExec(t, db, "DELETE FROM audit_events WHERE seq = 10")
			},
			audit.Result{Checked: 10, Broken: 11, Reason: "event 11 follows event 9: event 10 was deleted"},
		},
		{
			"DeletedSeveral",
			func(t *testing.T, db *sql.DB, _ []*icrec.AuditEvent) {
				mustExec(t, db, "DELETE FROM audit_events WHERE seq BETWEEN 10 AND 12")
			},
			audit.Result{Checked: 10, Broken: 13, Reason: "event 13 follows event 9: events 10 to 12 were deleted"},
		},
		{
			"DeletedFirst",
			func(t *testing.T, db *sql.DB, _ []*icrec.AuditEvent) {
				mustExec(t, db, "DELETE FROM audit_events WHERE seq = 1")
			},
			audit.Result{Checked: 1, Broken: 2, Reason: "event 2 is the first: event 1 was deleted"},
		},
		{
			"AlteredDetail",
			func(t *testing.T, db *sql.DB, _ []*icrec.AuditEvent) {
				mustExec(t, db, `UPDATE audit_events SET detail = '{"n":"nothing to see"}' WHERE seq = 10`)
			},
			audit.Result{Checked: 10, Broken: 10, Reason: "event 10: its hash does not match its contents: altered"},
		},
		{
			"AlteredOutcome",
			func(t *testing.T, db *sql.DB, _ []*icrec.AuditEvent) {
				mustExec(t, db, "UPDATE audit_events SET outcome = 'denied' WHERE seq = 10")
			},
			audit.Result{Checked: 10, Broken: 10, Reason: "event 10: its hash does not match its contents: altered"},
		},
		{
			"AlteredTime",
			func(t *testing.T, db *sql.DB, _ []*icrec.AuditEvent) {
				mustExec(t, db, "UPDATE audit_events SET time = time - 3600000 WHERE seq = 10")
			},
			audit.Result{Checked: 10, Broken: 10, Reason: "event 10: its hash does not match its contents: altered"},
		},
		// Two events swap places, their seq staying with the row; the
		// hash covers the seq, so the first of them no longer matches.
		{
			"Reordered",
			func(t *testing.T, db *sql.DB, events []*icrec.AuditEvent) {
				overwrite(t, db, moved(events[10], 10, false))
				overwrite(t, db, moved(events[9], 11, false))
			},
			audit.Result{Checked: 10, Broken: 10, Reason: "event 10: its hash does not match its contents: altered"},
		},
		// The same, with each event's hash recomputed for its new place:
		// its PrevHash still names the event it used to follow.
		{
			"ReorderedRehashed",
			func(t *testing.T, db *sql.DB, events []*icrec.AuditEvent) {
				overwrite(t, db, moved(events[10], 10, true))
				overwrite(t, db, moved(events[9], 11, true))
			},
			audit.Result{Checked: 10, Broken: 10, Reason: "event 10 does not follow event 9's hash: events reordered or replaced"},
		},
		// A forged event chained properly to its predecessor leaves its
		// successor pointing at the hash of the event it replaced.
		{
			"Replaced",
			func(t *testing.T, db *sql.DB, events []*icrec.AuditEvent) {
				forged := *events[9]
				forged.Outcome = "denied"
				forged.Hash = forged.ChainHash(forged.PrevHash)
				overwrite(t, db, &forged)
			},
			audit.Result{Checked: 11, Broken: 11, Reason: "event 11 does not follow event 10's hash: events reordered or replaced"},
		},
		{
			"FirstReplaced",
			func(t *testing.T, db *sql.DB, events []*icrec.AuditEvent) {
				forged := *events[0]
				forged.PrevHash = events[5].Hash
				forged.Hash = forged.ChainHash(forged.PrevHash)
				overwrite(t, db, &forged)
			},
			audit.Result{Checked: 1, Broken: 1, Reason: "event 1 is the first but follows a hash: events reordered or replaced"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, events := writeTrail(t, 20)
			tc.tamper(t, openTamper(t, path), events)
			res, err := audit.Verify(t.Context(), mustOpen(t, path), 7)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.OK() || res.Checked != tc.want.Checked || res.Broken != tc.want.Broken || res.Reason != tc.want.Reason {
				t.Errorf("Verify = %+v\nwant %+v", res, tc.want)
			}
		})
	}
}

// Nothing follows the newest event, so the chain cannot show it was
// deleted; the LastSeq and LastHash of an earlier Verify, kept
// elsewhere, can.
func TestVerifyTruncated(t *testing.T) {
	path, events := writeTrail(t, 20)
	mustExec(t, openTamper(t, path), "DELETE FROM audit_events WHERE seq = 20")
	res, err := audit.Verify(t.Context(), mustOpen(t, path), 7)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !res.OK() || res.LastSeq != 19 {
		t.Fatalf("Verify = %+v, want an intact chain ending at event 19", res)
	}
	if bytes.Equal(res.LastHash, events[19].Hash) {
		t.Errorf("LastHash is the deleted event's hash")
	}
}

func TestVerifyStoreError(t *testing.T) {
	store := newFaultStore(mustOpen(t, newPath(t)))
	errDisk := errors.New("disk on fire")
	store.findErr = errDisk
	if _, err := audit.Verify(t.Context(), store, 0); !errors.Is(err, errDisk) {
		t.Errorf("Verify = %v, want %v", err, errDisk)
	}
}
