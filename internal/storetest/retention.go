package storetest

import (
	"strings"
	"testing"
	"time"

	"example.com/icrec"
)

func mustExpiredRecordings(t *testing.T, s Store, now time.Time, after string, limit int) []*icrec.Recording {
	t.Helper()
	recs, err := s.ExpiredRecordings(t.Context(), now, after, limit)
	if err != nil {
		t.Fatalf("ExpiredRecordings(%v, %q, %d): %v", now, after, limit, err)
	}
	return recs
}

func testExpiredRecordings(t *testing.T, open func(t *testing.T) Store) {
	// now has a sub-millisecond part; the boundaries are whole
	// milliseconds around it, as stores keep them.
	now := t0
	ms := now.Truncate(time.Millisecond)

	t.Run("Boundaries", func(t *testing.T) {
		s := open(t)
		exp := func(n int, e time.Time) *icrec.Recording {
			r := newRecording(n)
			r.ExpirationDate = e
			return r
		}
		var (
			atNow  = exp(1, ms)                                          // expires at now: expired
			before = exp(2, ms.Add(-time.Millisecond))                   // just before
			long   = exp(3, time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)) // long ago
			after  = exp(4, ms.Add(time.Millisecond))                    // a millisecond to go
			future = exp(5, now.AddDate(7, 0, 0))
			never  = exp(6, time.Time{}) // no expiration date: never
		)
		mustCreateRecordings(t, s, future, atNow, never, long, after, before)
		got := mustExpiredRecordings(t, s, now, "", 100)
		// With their children, in id order.
		checkRecordings(t, got, []*icrec.Recording{atNow, before, long})
	})

	t.Run("Paging", func(t *testing.T) {
		s := open(t)
		var want []*icrec.Recording
		for n := 20; n >= 1; n-- {
			r := bareRecording(n)
			switch {
			case n%5 == 0:
				r.ExpirationDate = now.Add(time.Hour) // not yet
			case n%7 == 0:
				// never
			default:
				r.ExpirationDate = now.Add(-time.Duration(n) * time.Hour)
				want = append([]*icrec.Recording{r}, want...)
			}
			mustCreateRecordings(t, s, r)
		}
		var got []*icrec.Recording
		after := ""
		for range 100 {
			page := mustExpiredRecordings(t, s, now, after, 3)
			if len(page) > 3 {
				t.Fatalf("a page of %d recordings, want at most 3", len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			// Cursors may be given in any case.
			after = strings.ToLower(page[len(page)-1].ID)
		}
		checkNames(t, "expired recordings, paged", recordingIDs(got), recordingIDs(want))
		// After the last, and after a recording that has not expired.
		if rest := mustExpiredRecordings(t, s, now, guid(19), 10); len(rest) != 0 {
			t.Errorf("after the last: %q, want none", recordingIDs(rest))
		}
		checkNames(t, "after an unexpired recording", recordingIDs(mustExpiredRecordings(t, s, now, guid(15), 10)), []string{guid(16), guid(17), guid(18), guid(19)})
	})

	// What expires changes with the recording: a new date takes effect, a
	// cleared one removes it, and a deleted recording is gone.
	t.Run("FollowsEdits", func(t *testing.T) {
		s := open(t)
		a, b, c := bareRecording(1), bareRecording(2), bareRecording(3)
		a.ExpirationDate, b.ExpirationDate = now.Add(-time.Hour), now.Add(-time.Hour)
		mustCreateRecordings(t, s, a, b, c)
		if err := s.SetExpiration(t.Context(), a.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetExpiration(t.Context(), c.ID, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		mustDeleteRecordings(t, s, 1, b.ID)
		checkNames(t, "expired recordings", recordingIDs(mustExpiredRecordings(t, s, now, "", 10)), []string{c.ID})
	})
}
