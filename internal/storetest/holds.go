package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
)

// newHold returns a hold with every query field and a few ids set, the ids
// in lower case and out of order.
func newHold(name string) *icrec.LegalHold {
	media := icrec.MediaCall
	since, until := t0.AddDate(-1, 0, 0), t0.AddDate(0, 6, 0)
	return &icrec.LegalHold{
		Name:         name,
		RecordingIDs: []string{strings.ToLower(guid(3)), guid(1), guid(2)},
		Query: icrec.HoldQuery{
			InteractionID:     "1001365309",
			ParticipantUserID: "Agent1",
			Workgroup:         "Support",
			MediaType:         &media,
			Since:             &since,
			Until:             &until,
			Tag:               "VIP",
			Attribute:         &icrec.Attribute{Name: "Case", Value: "42"},
		},
		CreatedBy: "counsel " + name,
	}
}

func mustCreateHold(t *testing.T, s Store, h *icrec.LegalHold) *icrec.LegalHold {
	t.Helper()
	if err := s.CreateHold(t.Context(), h); err != nil {
		t.Fatalf("CreateHold(%q): %v", h.Name, err)
	}
	return h
}

func mustListHolds(t *testing.T, s Store) []*icrec.LegalHold {
	t.Helper()
	holds, err := s.ListHolds(t.Context())
	if err != nil {
		t.Fatalf("ListHolds: %v", err)
	}
	return holds
}

// checkHold compares every field of got with want, whose recording ids are
// expected back upper-case and sorted, and times to the millisecond.
func checkHold(t *testing.T, got, want *icrec.LegalHold) {
	t.Helper()
	if got == nil {
		t.Fatalf("hold = nil, want %q", want.Name)
	}
	checkField(t, "Name", got.Name, want.Name)
	checkField(t, "CreatedBy", got.CreatedBy, want.CreatedBy)
	checkTime(t, "Created", got.Created, want.Created)
	ids := make([]string, len(want.RecordingIDs))
	for i, id := range want.RecordingIDs {
		ids[i] = strings.ToUpper(id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	checkNames(t, "RecordingIDs of "+want.Name, got.RecordingIDs, ids)
	g, w := &got.Query, &want.Query
	checkField(t, "Query.InteractionID", g.InteractionID, w.InteractionID)
	checkField(t, "Query.ParticipantUserID", g.ParticipantUserID, w.ParticipantUserID)
	checkField(t, "Query.Workgroup", g.Workgroup, w.Workgroup)
	checkField(t, "Query.Tag", g.Tag, w.Tag)
	if (g.MediaType == nil) != (w.MediaType == nil) || g.MediaType != nil && *g.MediaType != *w.MediaType {
		t.Errorf("Query.MediaType = %v, want %v", deref(g.MediaType), deref(w.MediaType))
	}
	for _, c := range []struct {
		what      string
		got, want *time.Time
	}{{"Query.Since", g.Since, w.Since}, {"Query.Until", g.Until, w.Until}} {
		if (c.got == nil) != (c.want == nil) || c.got != nil && !sameTime(*c.got, *c.want) {
			t.Errorf("%s = %v, want %v", c.what, deref(c.got), deref(c.want))
		}
	}
	if (g.Attribute == nil) != (w.Attribute == nil) || g.Attribute != nil && *g.Attribute != *w.Attribute {
		t.Errorf("Query.Attribute = %v, want %v", deref(g.Attribute), deref(w.Attribute))
	}
}

// deref shows an optional field in a failure message.
func deref[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func holdNames(holds []*icrec.LegalHold) []string {
	out := make([]string, len(holds))
	for i, h := range holds {
		out[i] = h.Name
	}
	return out
}

func testCreateHold(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		h := newHold("Case 42")
		mustCreateHold(t, s, h)
		if h.Created.IsZero() {
			t.Error("CreateHold did not set Created")
		}
		holds := mustListHolds(t, s)
		if len(holds) != 1 {
			t.Fatalf("ListHolds = %q, want one hold", holdNames(holds))
		}
		checkHold(t, holds[0], h)
	})

	// A hold with ids only, and one with a query only: unset fields stay
	// unset, and the zero values of the optional ones are kept apart from
	// unset.
	t.Run("OKPartial", func(t *testing.T) {
		s := open(t)
		ids := &icrec.LegalHold{Name: "ids", RecordingIDs: []string{guid(7)}}
		unknown := icrec.MediaUnknown
		epoch := time.Unix(0, 0).UTC()
		query := &icrec.LegalHold{Name: "query", Query: icrec.HoldQuery{MediaType: &unknown, Since: &epoch, Attribute: &icrec.Attribute{Name: "Empty"}}}
		mustCreateHold(t, s, ids)
		mustCreateHold(t, s, query)
		byName := map[string]*icrec.LegalHold{}
		for _, h := range mustListHolds(t, s) {
			byName[h.Name] = h
		}
		checkHold(t, byName["ids"], ids)
		checkHold(t, byName["query"], query)
	})

	// No cap on the ids a hold names; an id given twice, in two cases, is
	// kept once.
	t.Run("OKManyIDs", func(t *testing.T) {
		s := open(t)
		h := &icrec.LegalHold{Name: "big", CreatedBy: "counsel"}
		for i := range 5000 {
			h.RecordingIDs = append(h.RecordingIDs, guid(5000-i))
		}
		h.RecordingIDs = append(h.RecordingIDs, strings.ToLower(guid(1)))
		mustCreateHold(t, s, h)
		checkHold(t, mustListHolds(t, s)[0], h)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		first := mustCreateHold(t, s, newHold("Case 42"))
		other := &icrec.LegalHold{Name: "CASE 42", RecordingIDs: []string{guid(9)}}
		wantKind(t, s.CreateHold(t.Context(), other), icrec.Conflict)
		// Nothing of the refused hold was stored.
		holds := mustListHolds(t, s)
		if len(holds) != 1 {
			t.Fatalf("ListHolds = %q, want one hold", holdNames(holds))
		}
		checkHold(t, holds[0], first)
	})
}

func testListHolds(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		if holds := mustListHolds(t, s); len(holds) != 0 {
			t.Errorf("ListHolds = %q, want none", holdNames(holds))
		}
	})

	// By Created, then by name ignoring case; with a fixed clock all come
	// in name order, with a real one in creation order, so the expected
	// order is taken from the Created times the store set.
	t.Run("Order", func(t *testing.T) {
		s := open(t)
		var want []*icrec.LegalHold
		for _, name := range []string{"delta", "Bravo", "alpha", "Charlie"} {
			want = append(want, mustCreateHold(t, s, &icrec.LegalHold{Name: name, Query: icrec.HoldQuery{Tag: name}}))
		}
		slices.SortStableFunc(want, func(a, b *icrec.LegalHold) int {
			if c := a.Created.Truncate(time.Millisecond).Compare(b.Created.Truncate(time.Millisecond)); c != 0 {
				return c
			}
			return strings.Compare(icrec.FoldID(a.Name), icrec.FoldID(b.Name))
		})
		got := mustListHolds(t, s)
		checkNames(t, "ListHolds", holdNames(got), holdNames(want))
		for i := range min(len(got), len(want)) {
			checkHold(t, got[i], want[i])
		}
	})
}

func testDeleteHold(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateHold(t, s, newHold("Case 42"))
		other := mustCreateHold(t, s, newHold("Audit"))
		if err := s.DeleteHold(t.Context(), "case 42"); err != nil {
			t.Fatalf("DeleteHold: %v", err)
		}
		holds := mustListHolds(t, s)
		checkNames(t, "ListHolds", holdNames(holds), []string{"Audit"})
		checkHold(t, holds[0], other)
	})

	// A new hold under a released one's name starts afresh: none of the
	// old one's ids come back.
	t.Run("OKCascades", func(t *testing.T) {
		s := open(t)
		mustCreateHold(t, s, newHold("Case 42"))
		if err := s.DeleteHold(t.Context(), "Case 42"); err != nil {
			t.Fatalf("DeleteHold: %v", err)
		}
		h := mustCreateHold(t, s, &icrec.LegalHold{Name: "Case 42", RecordingIDs: []string{guid(8)}})
		checkHold(t, mustListHolds(t, s)[0], h)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantKind(t, s.DeleteHold(t.Context(), "nope"), icrec.NotFound)
		mustCreateHold(t, s, newHold("Case 42"))
		if err := s.DeleteHold(t.Context(), "Case 42"); err != nil {
			t.Fatalf("DeleteHold: %v", err)
		}
		wantKind(t, s.DeleteHold(t.Context(), "Case 42"), icrec.NotFound)
	})
}
