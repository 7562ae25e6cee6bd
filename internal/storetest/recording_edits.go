package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/testutil"
)

func testEditRecording(t *testing.T, open func(t *testing.T) Store) {
	ctx := t.Context()
	t.Run("Attributes", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(1), newRecording(2))
		id := strings.ToLower(guid(1)) // ids in any case
		// Replace one by another spelling of its name, add one.
		if err := s.SetAttributes(ctx, id, []icrec.Attribute{{Name: "PRIORITY", Value: "low"}, {Name: "Agent", Value: "émile"}}); err != nil {
			t.Fatal(err)
		}
		got := mustFindRecording(t, s, guid(1))
		checkList(t, "attributes", got.Attributes, []icrec.Attribute{
			{Name: "Agent", Value: "émile"}, {Name: "Campaign", Value: "spring 1"}, {Name: "priority", Value: "low"},
		})
		if err := s.DeleteAttribute(ctx, guid(1), "campaign"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAttribute(ctx, guid(1), "never-there"); err != nil {
			t.Errorf("deleting an absent attribute: %v", err)
		}
		got = mustFindRecording(t, s, guid(1))
		checkList(t, "attributes after delete", got.Attributes, []icrec.Attribute{{Name: "Agent", Value: "émile"}, {Name: "priority", Value: "low"}})
		// The other recording is untouched.
		checkList(t, "other recording's attributes", mustFindRecording(t, s, guid(2)).Attributes, newRecording(2).Attributes)

		testutil.WantKind(t, s.SetAttributes(ctx, guid(99), []icrec.Attribute{{Name: "a", Value: "b"}}), icrec.NotFound)
		testutil.WantKind(t, s.DeleteAttribute(ctx, guid(99), "a"), icrec.NotFound)
	})
	t.Run("AttributeLimit", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, bareRecording(1))
		many := make([]icrec.Attribute, icrec.MaxAttributes)
		for i := range many {
			many[i] = icrec.Attribute{Name: fmt.Sprintf("a%03d", i), Value: "v"}
		}
		if err := s.SetAttributes(ctx, guid(1), many); err != nil {
			t.Fatalf("%d attributes: %v", len(many), err)
		}
		testutil.WantKind(t, s.SetAttributes(ctx, guid(1), []icrec.Attribute{{Name: "one-more", Value: "v"}, {Name: "a000", Value: "changed"}}), icrec.Invalid)
		got := mustFindRecording(t, s, guid(1))
		if len(got.Attributes) != icrec.MaxAttributes || got.Attributes[0].Value != "v" {
			t.Errorf("a refused SetAttributes changed the recording: %d attributes, first %v", len(got.Attributes), got.Attributes[0])
		}
	})
	t.Run("Tags", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(1))
		if err := s.AddTags(ctx, guid(1), []string{"vip", "Complaint"}); err != nil {
			t.Fatal(err)
		}
		got := mustFindRecording(t, s, guid(1))
		// "vip" is "VIP" already: the first spelling stays.
		checkList(t, "tags", got.Tags, []string{"Complaint", "escalated1", "VIP"})
		if err := s.DeleteTag(ctx, guid(1), "COMPLAINT"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTag(ctx, guid(1), "absent"); err != nil {
			t.Errorf("deleting an absent tag: %v", err)
		}
		checkList(t, "tags after delete", mustFindRecording(t, s, guid(1)).Tags, []string{"escalated1", "VIP"})
		testutil.WantKind(t, s.AddTags(ctx, guid(99), []string{"x"}), icrec.NotFound)
		testutil.WantKind(t, s.DeleteTag(ctx, guid(99), "x"), icrec.NotFound)

		many := make([]string, icrec.MaxTags)
		for i := range many {
			many[i] = fmt.Sprintf("t%03d", i)
		}
		testutil.WantKind(t, s.AddTags(ctx, guid(1), many), icrec.Invalid) // two there already
		checkList(t, "tags after a refused add", mustFindRecording(t, s, guid(1)).Tags, []string{"escalated1", "VIP"})
	})
	t.Run("Expiration", func(t *testing.T) {
		s := open(t)
		mustCreateRecordings(t, s, newRecording(1))
		when := t0.Add(48 * time.Hour)
		if err := s.SetExpiration(ctx, guid(1), when); err != nil {
			t.Fatal(err)
		}
		if got := mustFindRecording(t, s, guid(1)).ExpirationDate; !got.Equal(when.Truncate(time.Millisecond)) {
			t.Errorf("expiration %v, want %v", got, when)
		}
		if err := s.SetExpiration(ctx, guid(1), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := mustFindRecording(t, s, guid(1)).ExpirationDate; !got.IsZero() {
			t.Errorf("cleared expiration is %v", got)
		}
		testutil.WantKind(t, s.SetExpiration(ctx, guid(99), when), icrec.NotFound)
	})
	t.Run("ConcurrentTags", func(t *testing.T) {
		// Concurrent edits of one recording lose none of each other's.
		s := open(t)
		mustCreateRecordings(t, s, bareRecording(1))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := s.AddTags(ctx, guid(1), []string{fmt.Sprint("tag", i)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := mustFindRecording(t, s, guid(1)).Tags; len(got) != 8 {
			t.Errorf("tags %v, want 8", got)
		}
	})
}
