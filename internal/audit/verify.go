package audit

import (
	"bytes"
	"context"
	"fmt"

	"example.com/icrec"
)

// DefaultPageSize is the number of events Verify reads at a time when
// given none: few enough to keep memory small on a trail of millions.
const DefaultPageSize = 1000

// Result is what Verify found.
type Result struct {
	// Checked is the number of events read, up to and including the
	// first broken one.
	Checked int64
	// Broken is the Seq of the first broken event, or 0 if the chain is
	// intact; Reason then says what is wrong with it, for a person.
	Broken int64
	Reason string
	// LastSeq and LastHash name the newest event when the chain is
	// intact. The chain cannot show that its newest events were removed,
	// since nothing follows them: keeping these elsewhere, and checking a
	// later trail still holds them, can.
	LastSeq  int64
	LastHash []byte
}

// OK reports whether the chain is intact.
func (r Result) OK() bool { return r.Broken == 0 }

// Verify walks the whole audit trail in Seq order, pageSize events at a
// time (pageSize < 1 means DefaultPageSize), and stops at the first event
// that shows the trail was tampered with: a Seq gap (events deleted), a
// Hash that does not match the event (an event altered), or a PrevHash that
// is not the previous event's Hash (events moved, or replaced by others).
// A broken chain is a Result, not an error; the error is the store's.
//
// The hash is not keyed: someone who can write the database and rewrites
// every event from the change on, hashes included, is not detected. Only a
// copy of a later hash kept elsewhere (Result.LastHash) catches that.
func Verify(ctx context.Context, store icrec.AuditStore, pageSize int) (Result, error) {
	if pageSize < 1 {
		pageSize = DefaultPageSize
	}
	var res Result
	var prev *icrec.AuditEvent
	for {
		page, err := store.FindAudit(ctx, icrec.AuditFilter{AfterSeq: res.LastSeq, Limit: pageSize})
		if err != nil {
			return res, fmt.Errorf("audit: verify after event %d: %w", res.LastSeq, err)
		}
		for _, e := range page {
			res.Checked++
			if reason := broken(prev, e); reason != "" {
				return Result{Checked: res.Checked, Broken: e.Seq, Reason: reason}, nil
			}
			prev = e
			res.LastSeq, res.LastHash = e.Seq, e.Hash
		}
		// A short page is the end: events appended meanwhile come after
		// it, and a later Verify checks them.
		if len(page) < pageSize {
			return res, nil
		}
	}
}

// broken returns why e cannot follow prev (nil: e is the first event
// found), or "" if it can. A gap is named before a bad hash, since a
// deleted event also leaves its successor's PrevHash dangling, and the
// deletion is what happened.
func broken(prev, e *icrec.AuditEvent) string {
	want := int64(1)
	if prev != nil {
		want = prev.Seq + 1
	}
	switch {
	case e.Seq < want && prev != nil:
		return fmt.Sprintf("event %d follows event %d: seq numbers repeat or go backwards", e.Seq, prev.Seq)
	case e.Seq < want:
		return fmt.Sprintf("event %d: seq numbers start at 1", e.Seq)
	case e.Seq > want && prev != nil:
		return fmt.Sprintf("event %d follows event %d: %s deleted", e.Seq, prev.Seq, missing(want, e.Seq-1))
	case e.Seq > want:
		return fmt.Sprintf("event %d is the first: %s deleted", e.Seq, missing(want, e.Seq-1))
	case !bytes.Equal(e.Hash, e.ChainHash(e.PrevHash)):
		return fmt.Sprintf("event %d: its hash does not match its contents: altered", e.Seq)
	case prev == nil && len(e.PrevHash) != 0:
		return fmt.Sprintf("event %d is the first but follows a hash: events reordered or replaced", e.Seq)
	case prev != nil && !bytes.Equal(e.PrevHash, prev.Hash):
		return fmt.Sprintf("event %d does not follow event %d's hash: events reordered or replaced", e.Seq, prev.Seq)
	}
	return ""
}

// missing names the events from to through, as "event 16 was" or
// "events 15 to 16 were".
func missing(from, through int64) string {
	if from == through {
		return fmt.Sprintf("event %d was", from)
	}
	return fmt.Sprintf("events %d to %d were", from, through)
}
