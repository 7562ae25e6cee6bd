package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
)

// guid returns the canonical (upper-case) GUID numbered n.
func guid(n int) string { return fmt.Sprintf("0DE0C017-CD4F-D013-8E31-%012X", n) }

// sha returns a lower-case hex SHA-256 of s, as Media.SHA256 holds.
func sha(s string) string { return fmt.Sprintf("%x", hash(s)) }

// newRecording returns the recording with the GUID numbered n, with every
// field and child set but Created. The values are set from n, so that the
// children of one recording cannot pass for another's, and the bools and
// enumerations are not their zero values. Its duration has a
// sub-millisecond part, like t0.
func newRecording(n int) *icrec.Recording {
	id := guid(n)
	return &icrec.Recording{
		ID:                   id,
		InteractionID:        fmt.Sprint("100100", n),
		MediaType:            icrec.MediaEmail,
		RecordingType:        icrec.RecordingSnippet,
		CallType:             icrec.CallConference,
		Direction:            icrec.DirectionOutbound,
		RecordingDate:        t0.Add(time.Duration(n) * time.Minute),
		Duration:             3*time.Minute + 25*time.Second + 678_901_234*time.Nanosecond,
		ExpirationDate:       t0.AddDate(7, 0, n),
		InitiationPolicyName: fmt.Sprint("Policy ", n),
		LineName:             fmt.Sprint("Line ", n),
		SnippetInitiator:     fmt.Sprint("agent", n),
		RelatedRecordingID:   guid(n + 1000),
		IsEncrypted:          true,
		IsArchived:           true,
		// In no order of their own: stores keep the order given.
		Participants: []icrec.Participant{
			{UserID: fmt.Sprint("Agent", n), Name: fmt.Sprint("Agent ", n), Address: fmt.Sprintf("agent%d@example.com", n)},
			{Name: fmt.Sprint("Customer ", n), Address: fmt.Sprint("+1555000", n)},
			{UserID: "émile", Name: "Émile", Address: "sip:emile@example.com"},
		},
		// Normalised, as callers store them.
		Workgroups: []string{fmt.Sprint("Sales", n), "support"},
		Attributes: []icrec.Attribute{
			{Name: "Campaign", Value: fmt.Sprint("spring ", n)},
			{Name: "priority", Value: "high"},
		},
		Tags: []string{fmt.Sprint("escalated", n), "VIP"},
		Media: icrec.Media{
			Key:         icrec.MediaKey(id),
			ContentType: "message/rfc822",
			Size:        int64(100_000 + n),
			SHA256:      sha(id),
			FileName:    fmt.Sprintf("message-%d.eml", n),
		},
		Attachments: []icrec.Attachment{
			{Index: 1, Part: "2", FileName: fmt.Sprintf("invoice-%d.pdf", n), ContentType: "application/pdf", Size: int64(2048 + n), SHA256: sha(id + "/1")},
			{Index: 2, Part: "3.1", FileName: "photo.jpg", ContentType: "image/jpeg", Size: 4096, SHA256: sha(id + "/2")},
		},
	}
}

// bareRecording returns a recording with the GUID numbered n and nothing
// else but its media key: every other field is its zero value.
func bareRecording(n int) *icrec.Recording {
	return &icrec.Recording{ID: guid(n), Media: icrec.Media{Key: icrec.MediaKey(guid(n))}}
}

func mustCreateRecordings(t *testing.T, s Store, recs ...*icrec.Recording) []*icrec.Recording {
	t.Helper()
	if err := s.CreateRecordings(t.Context(), recs); err != nil {
		t.Fatalf("CreateRecordings(%q): %v", recordingIDs(recs), err)
	}
	return recs
}

func mustFindRecording(t *testing.T, s Store, id string) *icrec.Recording {
	t.Helper()
	r, err := s.FindRecordingByID(t.Context(), id)
	if err != nil {
		t.Fatalf("FindRecordingByID(%q): %v", id, err)
	}
	return r
}

func mustFindRecordings(t *testing.T, s Store, f icrec.RecordingFilter) []*icrec.Recording {
	t.Helper()
	recs, err := s.FindRecordings(t.Context(), f)
	if err != nil {
		t.Fatalf("FindRecordings(%s): %v", describeFilter(f), err)
	}
	return recs
}

// wantRecordingGone fails the test unless no recording has the id.
func wantRecordingGone(t *testing.T, s Store, id string) {
	t.Helper()
	_, err := s.FindRecordingByID(t.Context(), id)
	wantKind(t, err, icrec.NotFound)
}

func wantRecordingCount(t *testing.T, s Store, want int) {
	t.Helper()
	n, err := s.CountRecordings(t.Context())
	if err != nil {
		t.Fatalf("CountRecordings: %v", err)
	}
	if n != want {
		t.Errorf("CountRecordings = %d, want %d", n, want)
	}
}

func mustPendingBlobs(t *testing.T, s Store) []string {
	t.Helper()
	keys, err := s.PendingBlobs(t.Context())
	if err != nil {
		t.Fatalf("PendingBlobs: %v", err)
	}
	return keys
}

func mustAddPendingBlob(t *testing.T, s Store, key string) {
	t.Helper()
	if err := s.AddPendingBlobs(t.Context(), key); err != nil {
		t.Fatalf("AddPendingBlobs(%q): %v", key, err)
	}
}

// checkRecording compares every field of got with want, times and the
// duration to the millisecond.
func checkRecording(t *testing.T, got, want *icrec.Recording) {
	t.Helper()
	if got == nil {
		t.Fatalf("recording = nil, want %q", want.ID)
	}
	checkField(t, "ID", got.ID, want.ID)
	checkField(t, "InteractionID", got.InteractionID, want.InteractionID)
	checkEqual(t, "MediaType", got.MediaType, want.MediaType)
	checkEqual(t, "RecordingType", got.RecordingType, want.RecordingType)
	checkEqual(t, "CallType", got.CallType, want.CallType)
	checkEqual(t, "Direction", got.Direction, want.Direction)
	checkTime(t, "RecordingDate", got.RecordingDate, want.RecordingDate)
	checkEqual(t, "Duration", got.Duration.Truncate(time.Millisecond), want.Duration.Truncate(time.Millisecond))
	if want.ExpirationDate.IsZero() {
		if !got.ExpirationDate.IsZero() {
			t.Errorf("ExpirationDate = %v, want the zero time", got.ExpirationDate)
		}
	} else {
		checkTime(t, "ExpirationDate", got.ExpirationDate, want.ExpirationDate)
	}
	checkField(t, "InitiationPolicyName", got.InitiationPolicyName, want.InitiationPolicyName)
	checkField(t, "LineName", got.LineName, want.LineName)
	checkField(t, "SnippetInitiator", got.SnippetInitiator, want.SnippetInitiator)
	checkField(t, "RelatedRecordingID", got.RelatedRecordingID, want.RelatedRecordingID)
	checkEqual(t, "IsEncrypted", got.IsEncrypted, want.IsEncrypted)
	checkEqual(t, "IsArchived", got.IsArchived, want.IsArchived)
	checkList(t, "Participants", got.Participants, want.Participants)
	checkNames(t, "Workgroups", got.Workgroups, want.Workgroups)
	checkList(t, "Attributes", got.Attributes, want.Attributes)
	checkNames(t, "Tags", got.Tags, want.Tags)
	checkEqual(t, "Media", got.Media, want.Media)
	checkList(t, "Attachments", got.Attachments, want.Attachments)
	checkTime(t, "Created", got.Created, want.Created)
}

// checkRecordings compares got with want, recording by recording, in
// order.
func checkRecordings(t *testing.T, got, want []*icrec.Recording) {
	t.Helper()
	checkNames(t, "recording ids", recordingIDs(got), recordingIDs(want))
	if len(got) == len(want) {
		for i := range got {
			checkRecording(t, got[i], want[i])
		}
	}
}

func checkEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// checkList compares two lists; nil and empty are equal.
func checkList[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// recordingIDs returns the ids of recs, in order.
func recordingIDs(recs []*icrec.Recording) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func describeFilter(f icrec.RecordingFilter) string {
	var parts []string
	add := func(name string, v any) { parts = append(parts, fmt.Sprintf("%s=%v", name, v)) }
	if f.InteractionID != nil {
		add("InteractionID", *f.InteractionID)
	}
	if f.ParticipantUserID != nil {
		add("ParticipantUserID", *f.ParticipantUserID)
	}
	if f.Workgroup != nil {
		add("Workgroup", *f.Workgroup)
	}
	if f.MediaType != nil {
		add("MediaType", *f.MediaType)
	}
	if f.Since != nil {
		add("Since", *f.Since)
	}
	if f.Until != nil {
		add("Until", *f.Until)
	}
	if f.After != nil {
		add("After", *f.After)
	}
	if f.Limit != 0 {
		add("Limit", f.Limit)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func testCreateRecordings(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		r := newRecording(1)
		if err := s.CreateRecordings(t.Context(), []*icrec.Recording{r}); err != nil {
			t.Fatalf("CreateRecordings: %v", err)
		}
		if r.Created.IsZero() {
			t.Errorf("Created is zero; CreateRecordings must set it")
		}
		checkRecording(t, mustFindRecording(t, s, r.ID), r)
	})

	t.Run("OKBatch", func(t *testing.T) {
		s := open(t)
		recs := mustCreateRecordings(t, s, newRecording(1), newRecording(2), bareRecording(3))
		for _, r := range recs {
			if r.Created.IsZero() {
				t.Errorf("Created of %s is zero; CreateRecordings must set it", r.ID)
			}
			checkRecording(t, mustFindRecording(t, s, r.ID), r)
		}
		wantRecordingCount(t, s, 3)
	})

	// Zero values are values too: an unset expiration date stays unset,
	// and no child list gains an element.
	t.Run("OKZeroValues", func(t *testing.T) {
		s := open(t)
		r := mustCreateRecordings(t, s, bareRecording(1))[0]
		got := mustFindRecording(t, s, r.ID)
		checkRecording(t, got, r)
		if !got.ExpirationDate.IsZero() {
			t.Errorf("ExpirationDate = %v, want the zero time", got.ExpirationDate)
		}
	})

	// Participants keep the order given; workgroups, attributes and tags
	// come back sorted by folded form, attachments by index, whatever order
	// they were stored in. Plain byte order would put "Beta" before
	// "alpha", and an ASCII-only fold "Émeute" before "éclair".
	t.Run("OKOrdersChildren", func(t *testing.T) {
		s := open(t)
		r := newRecording(1)
		r.Participants = []icrec.Participant{
			{UserID: "zed", Name: "Zed"},
			{Name: "External", Address: "+15550001"},
			{UserID: "Alice", Name: "Alice"},
			{UserID: "bob", Name: "Bob"},
		}
		r.Workgroups = []string{"support", "Émeute", "Sales", "éclair"}
		r.Attributes = []icrec.Attribute{{Name: "Zeta", Value: "1"}, {Name: "Émeute", Value: "2"}, {Name: "alpha", Value: "3"}, {Name: "éclair", Value: "4"}, {Name: "Beta", Value: "5"}}
		r.Tags = []string{"Zeta", "Émeute", "alpha", "éclair", "Beta"}
		// By index, not by part, file name or the order given.
		r.Attachments = []icrec.Attachment{
			{Index: 2, Part: "2", FileName: "b.pdf", ContentType: "application/pdf", Size: 2, SHA256: sha("2")},
			{Index: 3, Part: "1.2", FileName: "a.pdf", ContentType: "application/pdf", Size: 3, SHA256: sha("3")},
			{Index: 1, Part: "3", FileName: "c.pdf", ContentType: "application/pdf", Size: 1, SHA256: sha("1")},
		}
		mustCreateRecordings(t, s, r)

		want := *r
		want.Workgroups = []string{"Sales", "support", "éclair", "Émeute"}
		want.Attributes = []icrec.Attribute{{Name: "alpha", Value: "3"}, {Name: "Beta", Value: "5"}, {Name: "Zeta", Value: "1"}, {Name: "éclair", Value: "4"}, {Name: "Émeute", Value: "2"}}
		want.Tags = []string{"alpha", "Beta", "Zeta", "éclair", "Émeute"}
		want.Attachments = []icrec.Attachment{r.Attachments[2], r.Attachments[0], r.Attachments[1]}
		checkRecording(t, mustFindRecording(t, s, r.ID), &want)
	})

	t.Run("OKEmpty", func(t *testing.T) {
		s := open(t)
		if err := s.CreateRecordings(t.Context(), nil); err != nil {
			t.Fatalf("CreateRecordings(nil): %v", err)
		}
		wantRecordingCount(t, s, 0)
	})

	// All or none: a batch with one recording that exists already stores
	// nothing, and leaves the existing one alone.
	t.Run("ErrConflictExisting", func(t *testing.T) {
		s := open(t)
		first := mustCreateRecordings(t, s, newRecording(1))[0]
		again := newRecording(1)
		again.LineName = "another line"
		again.Participants = again.Participants[:1]
		err := s.CreateRecordings(t.Context(), []*icrec.Recording{newRecording(2), again, newRecording(3)})
		wantKind(t, err, icrec.Conflict)
		checkRecording(t, mustFindRecording(t, s, first.ID), first)
		wantRecordingGone(t, s, guid(2))
		wantRecordingGone(t, s, guid(3))
		wantRecordingCount(t, s, 1)
	})

	t.Run("ErrConflictInBatch", func(t *testing.T) {
		s := open(t)
		err := s.CreateRecordings(t.Context(), []*icrec.Recording{newRecording(1), newRecording(2), bareRecording(1)})
		wantKind(t, err, icrec.Conflict)
		wantRecordingGone(t, s, guid(1))
		wantRecordingGone(t, s, guid(2))
		wantRecordingCount(t, s, 0)
		// Nothing of the batch lingers to get in the way of a good one.
		r := mustCreateRecordings(t, s, newRecording(1))[0]
		checkRecording(t, mustFindRecording(t, s, r.ID), r)
	})
}

func testFindRecordingByID(t *testing.T, open func(t *testing.T) Store) {
	// Ids are canonical, upper-case GUIDs; callers may look them up in any
	// case.
	t.Run("OKIgnoresCase", func(t *testing.T) {
		s := open(t)
		r := newRecording(0xABCDEF)
		mustCreateRecordings(t, s, r)
		for _, id := range []string{r.ID, strings.ToLower(r.ID), "0de0C017-cd4F-D013-8e31-000000aBcDeF"} {
			checkRecording(t, mustFindRecording(t, s, id), r)
		}
	})

	t.Run("OKAmongOthers", func(t *testing.T) {
		s := open(t)
		recs := mustCreateRecordings(t, s, newRecording(1), newRecording(2))
		recs = append(recs, mustCreateRecordings(t, s, newRecording(3))...)
		for _, r := range recs {
			checkRecording(t, mustFindRecording(t, s, r.ID), r)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantRecordingGone(t, s, guid(1))
		mustCreateRecordings(t, s, newRecording(1))
		wantRecordingGone(t, s, guid(2))
		wantRecordingGone(t, s, "")
	})
}

// listing is the fixture of the FindRecordings tests: recordings that
// differ in each field a filter selects by, created in an order unlike the
// listing order. In listing order, by (RecordingDate, ID):
//
//	name  date   id  media   interaction  participant users  workgroups
//	f     -1h    20  Screen  I-1          Émile, agent1      sales
//	b     0      2   Email   I-2          émile              Support
//	d     +1h    3   Chat    I-3          AGENT1             -
//	a     +1h    10  Call    I-1          Agent1 (+ extern)  Sales
//	c     +2h    1   Call    I-1          agent2 (+ extern)  Sales, Support
//	e     +3h    5   Call    I-4          (extern only)      Émeute
//
// a and d share a date, so the id decides; they are created in the other
// order.
type listing struct {
	s     Store
	byKey map[string]*icrec.Recording
}

func newListing(t *testing.T, open func(t *testing.T) Store) *listing {
	l := &listing{s: open(t), byKey: make(map[string]*icrec.Recording)}
	extern := icrec.Participant{Name: "Customer", Address: "+15550100"}
	user := func(id string) icrec.Participant { return icrec.Participant{UserID: id, Name: "Name of " + id} }
	for _, f := range []struct {
		key          string
		n            int
		date         time.Duration
		media        icrec.MediaType
		interaction  string
		participants []icrec.Participant
		workgroups   []string
	}{
		{"a", 10, time.Hour, icrec.MediaCall, "I-1", []icrec.Participant{user("Agent1"), extern}, []string{"Sales"}},
		{"b", 2, 0, icrec.MediaEmail, "I-2", []icrec.Participant{user("émile")}, []string{"Support"}},
		{"c", 1, 2 * time.Hour, icrec.MediaCall, "I-1", []icrec.Participant{extern, user("agent2")}, []string{"Sales", "Support"}},
		{"d", 3, time.Hour, icrec.MediaChat, "I-3", []icrec.Participant{user("AGENT1")}, nil},
		{"e", 5, 3 * time.Hour, icrec.MediaCall, "I-4", []icrec.Participant{extern}, []string{"Émeute"}},
		{"f", 20, -time.Hour, icrec.MediaScreen, "I-1", []icrec.Participant{user("Émile"), user("agent1")}, []string{"sales"}},
	} {
		r := newRecording(f.n)
		r.RecordingDate = t0.Add(f.date)
		r.MediaType = f.media
		r.InteractionID = f.interaction
		r.Participants = f.participants
		r.Workgroups = f.workgroups
		l.byKey[f.key] = r
	}
	// In two batches, so that a batch boundary does not order them either.
	mustCreateRecordings(t, l.s, l.byKey["a"], l.byKey["b"], l.byKey["c"])
	mustCreateRecordings(t, l.s, l.byKey["d"], l.byKey["e"], l.byKey["f"])
	return l
}

// recs returns the fixture's recordings named by the letters of keys.
func (l *listing) recs(keys string) []*icrec.Recording {
	var out []*icrec.Recording
	for _, k := range keys {
		out = append(out, l.byKey[string(k)])
	}
	return out
}

// cursor returns the cursor just after the recording named key.
func (l *listing) cursor(key string) *icrec.RecordingCursor {
	r := l.byKey[key]
	return &icrec.RecordingCursor{RecordingDate: r.RecordingDate, ID: r.ID}
}

func testFindRecordings(t *testing.T, open func(t *testing.T) Store) {
	l := newListing(t, open)
	at := func(d time.Duration) *time.Time { return ptr(t0.Add(d)) }
	for _, tc := range []struct {
		name   string
		filter icrec.RecordingFilter
		want   string // keys of the fixture, in listing order
	}{
		{"All", icrec.RecordingFilter{}, "fbdace"},
		{"InteractionID", icrec.RecordingFilter{InteractionID: ptr("I-1")}, "fac"},
		{"InteractionIDNone", icrec.RecordingFilter{InteractionID: ptr("I-9")}, ""},
		{"ParticipantIgnoresCase", icrec.RecordingFilter{ParticipantUserID: ptr("agent1")}, "fda"},
		{"ParticipantNonASCII", icrec.RecordingFilter{ParticipantUserID: ptr("ÉMILE")}, "fb"},
		{"ParticipantOne", icrec.RecordingFilter{ParticipantUserID: ptr("Agent2")}, "c"},
		// An external party's name is no user id.
		{"ParticipantNotExternal", icrec.RecordingFilter{ParticipantUserID: ptr("Customer")}, ""},
		{"WorkgroupIgnoresCase", icrec.RecordingFilter{Workgroup: ptr("SALES")}, "fac"},
		{"WorkgroupNonASCII", icrec.RecordingFilter{Workgroup: ptr("émeute")}, "e"},
		{"WorkgroupNone", icrec.RecordingFilter{Workgroup: ptr("Billing")}, ""},
		{"MediaType", icrec.RecordingFilter{MediaType: ptr(icrec.MediaCall)}, "ace"},
		// A pointer to the zero value filters too.
		{"MediaTypeZero", icrec.RecordingFilter{MediaType: ptr(icrec.MediaUnknown)}, ""},
		// Since <= date < Until, each bound on a recording's date exactly.
		{"Since", icrec.RecordingFilter{Since: at(time.Hour)}, "dace"},
		{"Until", icrec.RecordingFilter{Until: at(time.Hour)}, "fb"},
		{"SinceUntil", icrec.RecordingFilter{Since: at(0), Until: at(2 * time.Hour)}, "bda"},
		{"SinceUntilEmpty", icrec.RecordingFilter{Since: at(time.Hour), Until: at(time.Hour)}, ""},
		// Strictly after: the cursor's own recording is not repeated, and
		// the id orders recordings of one date.
		{"AfterTie", icrec.RecordingFilter{After: l.cursor("d")}, "ace"},
		{"AfterTieSecond", icrec.RecordingFilter{After: l.cursor("a")}, "ce"},
		{"AfterFirst", icrec.RecordingFilter{After: l.cursor("f")}, "bdace"},
		{"AfterLast", icrec.RecordingFilter{After: l.cursor("e")}, ""},
		// A cursor need not be a recording's: (date of d, an id after d's
		// and before a's).
		{"AfterBetween", icrec.RecordingFilter{After: &icrec.RecordingCursor{RecordingDate: t0.Add(time.Hour), ID: guid(4)}}, "ace"},
		{"Limit", icrec.RecordingFilter{Limit: 2}, "fb"},
		{"LimitOver", icrec.RecordingFilter{Limit: 100}, "fbdace"},
		{"ParticipantWorkgroup", icrec.RecordingFilter{ParticipantUserID: ptr("agent1"), Workgroup: ptr("sales")}, "fa"},
		{"ParticipantWorkgroupMedia", icrec.RecordingFilter{ParticipantUserID: ptr("agent1"), Workgroup: ptr("sales"), MediaType: ptr(icrec.MediaCall)}, "a"},
		{"InteractionWorkgroup", icrec.RecordingFilter{InteractionID: ptr("I-1"), Workgroup: ptr("Support")}, "c"},
		{"ParticipantSince", icrec.RecordingFilter{ParticipantUserID: ptr("AGENT1"), Since: at(0)}, "da"},
		{"ParticipantAfterLimit", icrec.RecordingFilter{ParticipantUserID: ptr("agent1"), After: l.cursor("f"), Limit: 1}, "d"},
		{"Everything", icrec.RecordingFilter{
			InteractionID: ptr("I-1"), ParticipantUserID: ptr("agent1"), Workgroup: ptr("SALES"),
			MediaType: ptr(icrec.MediaCall), Since: at(-time.Hour), Until: at(3 * time.Hour),
			After: l.cursor("d"), Limit: 5,
		}, "a"},
	} {
		t.Run("OK"+tc.name, func(t *testing.T) {
			checkRecordings(t, mustFindRecordings(t, l.s, tc.filter), l.recs(tc.want))
		})
	}

	t.Run("OKEmptyStore", func(t *testing.T) {
		s := open(t)
		if got := mustFindRecordings(t, s, icrec.RecordingFilter{}); len(got) != 0 {
			t.Errorf("FindRecordings = %q, want none", recordingIDs(got))
		}
	})
}

// walk lists the recordings f selects in pages of size, each continuing
// after the last recording of the one before, until a page comes back
// short, and returns them all.
func walk(t *testing.T, s Store, f icrec.RecordingFilter, size int) []*icrec.Recording {
	t.Helper()
	var all []*icrec.Recording
	f.Limit = size
	for range 1000 { // a bound, in case the cursor does not advance
		page := mustFindRecordings(t, s, f)
		if len(page) > size {
			t.Fatalf("page after %d recordings has %d, more than the limit %d", len(all), len(page), size)
		}
		all = append(all, page...)
		if len(page) < size {
			return all
		}
		last := page[len(page)-1]
		f.After = &icrec.RecordingCursor{RecordingDate: last.RecordingDate, ID: last.ID}
	}
	t.Fatalf("pages of %d after %d recordings do not end", size, len(all))
	return nil
}

func testPagination(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		l := newListing(t, open)
		for size := 1; size <= 7; size++ {
			checkRecordings(t, walk(t, l.s, icrec.RecordingFilter{}, size), l.recs("fbdace"))
			checkRecordings(t, walk(t, l.s, icrec.RecordingFilter{Workgroup: ptr("sales")}, size), l.recs("fac"))
		}
	})

	// Many recordings share each date, and their ids are created in no
	// order, so pages break inside runs of one date.
	t.Run("OKSameDates", func(t *testing.T) {
		s := open(t)
		var want []*icrec.Recording
		for i := range 24 {
			r := newRecording((i * 7) % 24) // 0, 7, 14, 21, 4, ...
			r.RecordingDate = t0.Add(time.Duration(i%4) * time.Hour)
			if i%3 == 0 {
				r.Workgroups = []string{"Night"}
			}
			want = append(want, r)
		}
		mustCreateRecordings(t, s, want...)
		slices.SortFunc(want, func(a, b *icrec.Recording) int {
			if c := a.RecordingDate.Compare(b.RecordingDate); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		night := slices.DeleteFunc(slices.Clone(want), func(r *icrec.Recording) bool { return !r.InWorkgroup("night") })
		for _, size := range []int{1, 2, 5, 6, 23, 24, 25} {
			checkRecordings(t, walk(t, s, icrec.RecordingFilter{}, size), want)
			checkRecordings(t, walk(t, s, icrec.RecordingFilter{Workgroup: ptr("NIGHT")}, size), night)
		}
	})
}

func testCountRecordings(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		wantRecordingCount(t, s, 0)
		mustCreateRecordings(t, s, newRecording(1), newRecording(2))
		mustCreateRecordings(t, s, bareRecording(3))
		wantRecordingCount(t, s, 3)
		mustDeleteRecordings(t, s, 1, guid(2))
		wantRecordingCount(t, s, 2)
	})
}

func mustDeleteRecordings(t *testing.T, s Store, want int, ids ...string) {
	t.Helper()
	n, err := s.DeleteRecordings(t.Context(), ids...)
	if err != nil {
		t.Fatalf("DeleteRecordings(%q): %v", ids, err)
	}
	if n != want {
		t.Errorf("DeleteRecordings(%q) = %d, want %d", ids, n, want)
	}
}

func testDeleteRecordings(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		r, other := newRecording(1), newRecording(2)
		mustCreateRecordings(t, s, r, other)
		mustDeleteRecordings(t, s, 1, r.ID)
		wantRecordingGone(t, s, r.ID)
		_, err := s.RecordingByMediaKey(t.Context(), r.Media.Key)
		wantKind(t, err, icrec.NotFound)
		checkRecordings(t, mustFindRecordings(t, s, icrec.RecordingFilter{}), []*icrec.Recording{other})
		// Nor do its participants and workgroups find it.
		checkRecordings(t, mustFindRecordings(t, s, icrec.RecordingFilter{ParticipantUserID: ptr("agent1")}), nil)
		checkRecordings(t, mustFindRecordings(t, s, icrec.RecordingFilter{Workgroup: ptr("sales1")}), nil)
		checkRecordings(t, mustFindRecordings(t, s, icrec.RecordingFilter{Workgroup: ptr("support")}), []*icrec.Recording{other})
		checkRecording(t, mustFindRecording(t, s, other.ID), other)
	})

	// A new recording under a deleted one's id starts afresh: nothing of
	// the old one's children comes back.
	t.Run("OKCascades", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(1))
		mustDeleteRecordings(t, s, 1, guid(1))
		r := newRecording(1)
		r.Participants = r.Participants[1:2]
		r.Workgroups = nil
		r.Attributes = r.Attributes[1:]
		r.Tags = nil
		r.Attachments = r.Attachments[:1]
		mustCreateRecordings(t, s, r)
		checkRecording(t, mustFindRecording(t, s, r.ID), r)
		checkRecordings(t, mustFindRecordings(t, s, icrec.RecordingFilter{ParticipantUserID: ptr("agent1")}), nil)
		checkRecordings(t, mustFindRecordings(t, s, icrec.RecordingFilter{Workgroup: ptr("support")}), nil)
	})

	// The recording goes, not the pending mark of any blob.
	t.Run("OKKeepsPendingBlobs", func(t *testing.T) {
		s := open(t)
		r := mustCreateRecordings(t, s, newRecording(1))[0]
		mustAddPendingBlob(t, s, "pending/a")
		mustDeleteRecordings(t, s, 1, r.ID)
		checkNames(t, "PendingBlobs", mustPendingBlobs(t, s), []string{"pending/a"})
	})

	// Several at once, in any case, skipping ids that name nothing.
	t.Run("OKMany", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(1), newRecording(2), bareRecording(3), bareRecording(4))
		mustDeleteRecordings(t, s, 3, strings.ToLower(guid(1)), guid(9), guid(3), guid(4), guid(3))
		checkNames(t, "recordings left", recordingIDs(mustFindRecordings(t, s, icrec.RecordingFilter{})), []string{guid(2)})
	})

	t.Run("OKNone", func(t *testing.T) {
		s := open(t)
		mustDeleteRecordings(t, s, 0)
		mustDeleteRecordings(t, s, 0, guid(1))
		other := mustCreateRecordings(t, s, newRecording(1), newRecording(2))[1]
		mustDeleteRecordings(t, s, 0, guid(3))
		mustDeleteRecordings(t, s, 1, guid(1))
		mustDeleteRecordings(t, s, 0, guid(1))
		checkRecording(t, mustFindRecording(t, s, other.ID), other)
	})
}

func testPendingBlobs(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		if got := mustPendingBlobs(t, s); len(got) != 0 {
			t.Errorf("PendingBlobs = %q, want none", got)
		}
		for _, k := range []string{"recordings/0D/E0/b", "recordings/0D/E0/a", "recordings/0D/E0/b"} {
			mustAddPendingBlob(t, s, k)
		}
		// In any order, each once.
		checkNames(t, "PendingBlobs", sorted(mustPendingBlobs(t, s)), []string{"recordings/0D/E0/a", "recordings/0D/E0/b"})

		if err := s.DeletePendingBlobs(t.Context(), "recordings/0D/E0/a"); err != nil {
			t.Fatalf("DeletePendingBlob: %v", err)
		}
		checkNames(t, "PendingBlobs after DeletePendingBlob", mustPendingBlobs(t, s), []string{"recordings/0D/E0/b"})
		// An absent key is not an error, whether it was there once or never.
		for _, k := range []string{"recordings/0D/E0/a", "never/added"} {
			if err := s.DeletePendingBlobs(t.Context(), k); err != nil {
				t.Errorf("DeletePendingBlobs(%q) of an absent key: %v", k, err)
			}
		}
		checkNames(t, "PendingBlobs", mustPendingBlobs(t, s), []string{"recordings/0D/E0/b"})
		// A forgotten key can come back.
		mustAddPendingBlob(t, s, "recordings/0D/E0/a")
		checkNames(t, "PendingBlobs after adding again", sorted(mustPendingBlobs(t, s)), []string{"recordings/0D/E0/a", "recordings/0D/E0/b"})
	})

	// Creating a recording forgets its media key as a pending blob, and no
	// other.
	t.Run("OKCreateRecordingsRemoves", func(t *testing.T) {
		s := open(t)
		a, b, c := newRecording(1), newRecording(2), newRecording(3)
		for _, k := range []string{a.Media.Key, b.Media.Key, c.Media.Key, "unrelated"} {
			mustAddPendingBlob(t, s, k)
		}
		mustCreateRecordings(t, s, a, b)
		checkNames(t, "PendingBlobs", sorted(mustPendingBlobs(t, s)), sorted([]string{c.Media.Key, "unrelated"}))
		// A recording whose key was never pending is no error.
		mustCreateRecordings(t, s, newRecording(4))
		checkNames(t, "PendingBlobs", sorted(mustPendingBlobs(t, s)), sorted([]string{c.Media.Key, "unrelated"}))
	})

	// In the same transaction: a batch that fails forgets nothing.
	t.Run("OKFailedCreateKeeps", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(1))
		b := newRecording(2)
		mustAddPendingBlob(t, s, b.Media.Key)
		err := s.CreateRecordings(t.Context(), []*icrec.Recording{b, newRecording(1)})
		wantKind(t, err, icrec.Conflict)
		checkNames(t, "PendingBlobs", mustPendingBlobs(t, s), []string{b.Media.Key})
	})
}

func testRecordingByMediaKey(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		recs := mustCreateRecordings(t, s, newRecording(1), newRecording(2), bareRecording(3))
		for _, r := range recs {
			got, err := s.RecordingByMediaKey(t.Context(), r.Media.Key)
			if err != nil {
				t.Fatalf("RecordingByMediaKey(%q): %v", r.Media.Key, err)
			}
			checkRecording(t, got, r)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.RecordingByMediaKey(t.Context(), icrec.MediaKey(guid(1)))
		wantKind(t, err, icrec.NotFound)
		mustCreateRecordings(t, s, newRecording(1))
		_, err = s.RecordingByMediaKey(t.Context(), icrec.MediaKey(guid(2)))
		wantKind(t, err, icrec.NotFound)
		// A pending blob has no recording yet.
		mustAddPendingBlob(t, s, icrec.MediaKey(guid(3)))
		_, err = s.RecordingByMediaKey(t.Context(), icrec.MediaKey(guid(3)))
		wantKind(t, err, icrec.NotFound)
	})
}

func testExistingRecordings(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		if got, err := s.ExistingRecordings(t.Context(), []string{guid(1)}); err != nil || len(got) != 0 {
			t.Errorf("ExistingRecordings in an empty catalogue = %q, %v; want none", got, err)
		}
		mustCreateRecordings(t, s, newRecording(1), newRecording(2), bareRecording(3))
		// Ids in any case, absent ones, and one named twice.
		ask := []string{strings.ToLower(guid(3)), guid(4), guid(1), guid(1), "not a guid"}
		got, err := s.ExistingRecordings(t.Context(), ask)
		if err != nil {
			t.Fatalf("ExistingRecordings(%q): %v", ask, err)
		}
		slices.Sort(got)
		if want := []string{guid(1), guid(3)}; !slices.Equal(got, want) {
			t.Errorf("ExistingRecordings(%q) = %q, want %q", ask, got, want)
		}
		if got, err := s.ExistingRecordings(t.Context(), nil); err != nil || len(got) != 0 {
			t.Errorf("ExistingRecordings(nil) = %q, %v; want none", got, err)
		}
	})
	t.Run("OKManyIDs", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(7))
		// More ids than a statement takes parameters, in some stores.
		ask := make([]string, 5000)
		for i := range ask {
			ask[i] = guid(100 + i)
		}
		ask[4321] = guid(7)
		got, err := s.ExistingRecordings(t.Context(), ask)
		if err != nil || !slices.Equal(got, []string{guid(7)}) {
			t.Errorf("ExistingRecordings of 5000 ids = %q, %v; want [%s]", got, err, guid(7))
		}
	})
}
