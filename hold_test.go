package icrec_test

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"example.com/icrec"
)

func ptr[T any](v T) *T { return &v }

func TestParseHoldQuery(t *testing.T) {
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     icrec.HoldQuery
	}{
		{"OKEmpty", "", icrec.HoldQuery{}},
		{"OKBlank", " \t ", icrec.HoldQuery{}},
		{"OKWorkgroup", "workgroup=Support", icrec.HoldQuery{Workgroup: "Support"}},
		{"OKEvery", `interaction=1001 participant=agent1 workgroup="Tier 2" media=email since=2024-01-02 until=20240103T000000Z tag=vip attribute="Case Number=42"`,
			icrec.HoldQuery{InteractionID: "1001", ParticipantUserID: "agent1", Workgroup: "Tier 2", MediaType: ptr(icrec.MediaEmail),
				Since: ptr(day), Until: ptr(day.AddDate(0, 0, 1)), Tag: "vip", Attribute: &icrec.Attribute{Name: "Case Number", Value: "42"}}},
		{"OKMediaNumber", "media=5", icrec.HoldQuery{MediaType: ptr(icrec.MediaScreen)}},
		{"OKRFC3339Zone", "since=2024-01-02T01:00:00+01:00", icrec.HoldQuery{Since: ptr(day)}},
		{"OKAttributeEmptyValue", "attribute=Flag=", icrec.HoldQuery{Attribute: &icrec.Attribute{Name: "Flag"}}},
		{"OKAttributeValueWithEquals", "attribute=k=a=b", icrec.HoldQuery{Attribute: &icrec.Attribute{Name: "k", Value: "a=b"}}},
		{"OKQuotedEscapes", `tag="say \"hi\"\t"`, icrec.HoldQuery{Tag: "say \"hi\"\t"}},
		{"OKSpacesAround", "  tag=a   workgroup=b  ", icrec.HoldQuery{Tag: "a", Workgroup: "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := icrec.ParseHoldQuery(tc.in)
			if err != nil {
				t.Fatalf("ParseHoldQuery(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseHoldQuery(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseHoldQueryErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"ErrNoEquals", "Support", `"Support" at byte 1 is not field=value`},
		{"ErrSpaceBeforeEquals", "tag =vip", `"tag" at byte 1 is not field=value`},
		{"ErrUnknownField", "tag=a group=b", `unknown field "group" at byte 7`},
		{"ErrTwice", "tag=a tag=b", `field "tag" given twice`},
		{"ErrEmptyValue", "tag= workgroup=b", "tag has an empty value"},
		{"ErrEmptyQuoted", `tag=""`, "tag has an empty value"},
		{"ErrUnterminated", `tag="abc`, "not a complete string literal"},
		{"ErrQuoteThenText", `tag="a"b`, `followed by "b", not a space`},
		{"ErrMedia", "media=fax", `media type "fax" is not one of`},
		{"ErrMediaRange", "media=9", "out of range"},
		{"ErrTime", "since=yesterday", `since "yesterday": give a time`},
		{"ErrAttributeNoValue", "attribute=Case", `attribute "Case": give NAME=VALUE`},
		{"ErrAttributeNoName", "attribute==42", `give NAME=VALUE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := icrec.ParseHoldQuery(tc.in)
			if err == nil {
				t.Fatalf("ParseHoldQuery(%q) succeeded, want an error containing %q", tc.in, tc.want)
			}
			if !icrec.IsKind(err, icrec.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseHoldQuery(%q) = %v (%s), want Invalid containing %q", tc.in, err, icrec.ErrorKind(err), tc.want)
			}
		})
	}
}

// TestHoldQueryStringRoundTrip: what String writes, ParseHoldQuery reads
// back as the same query, awkward values included.
func TestHoldQueryStringRoundTrip(t *testing.T) {
	since := time.Date(2020, 2, 29, 12, 30, 0, 123e6, time.UTC)
	for _, q := range []icrec.HoldQuery{
		{},
		{Tag: "vip"},
		{InteractionID: "100 200", Workgroup: `a"b`, Tag: `back\slash`, ParticipantUserID: "agent1"},
		{MediaType: ptr(icrec.MediaUnknown), Since: &since, Until: ptr(since.Add(time.Hour))},
		{Attribute: &icrec.Attribute{Name: "Case Number", Value: "x=y z"}},
		{Attribute: &icrec.Attribute{Name: "Flag", Value: ""}},
		{Tag: "ünïcode\u00a0nbsp"},
	} {
		s := q.String()
		got, err := icrec.ParseHoldQuery(s)
		if err != nil {
			t.Errorf("ParseHoldQuery(%q) of %+v: %v", s, q, err)
			continue
		}
		if !reflect.DeepEqual(got, q) {
			t.Errorf("ParseHoldQuery(%q) = %+v, want %+v", s, got, q)
		}
	}
}

func TestHoldQueryMatches(t *testing.T) {
	r := &icrec.Recording{
		ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", InteractionID: "1001", MediaType: icrec.MediaCall,
		RecordingDate: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
		Participants:  []icrec.Participant{{UserID: "Agent1"}, {Name: "Jane", Address: "+1555"}},
		Workgroups:    []string{"Support"},
		Attributes:    []icrec.Attribute{{Name: "Case", Value: "AB-42"}},
		Tags:          []string{"VIP"},
	}
	june := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		query string
		want  bool
	}{
		{"Zero", "", false},
		{"Interaction", "interaction=1001", true},
		{"InteractionOther", "interaction=1002", false},
		{"ParticipantCase", "participant=AGENT1", true},
		{"ParticipantExternalName", "participant=Jane", false},
		{"WorkgroupCase", "workgroup=support", true},
		{"WorkgroupOther", "workgroup=Sales", false},
		{"Media", "media=Call", true},
		{"MediaOther", "media=Email", false},
		{"SinceInclusive", "since=" + june.Format(time.RFC3339), true},
		{"SinceAfter", "since=" + june.Add(time.Second).Format(time.RFC3339), false},
		{"UntilExclusive", "until=" + june.Format(time.RFC3339), false},
		{"UntilAfter", "until=" + june.Add(time.Second).Format(time.RFC3339), true},
		{"TagCase", "tag=vip", true},
		{"TagOther", "tag=gold", false},
		{"AttributeCase", "attribute=case=ab-42", true},
		{"AttributeOtherValue", "attribute=Case=AB-43", false},
		{"AttributeAbsent", "attribute=Other=AB-42", false},
		{"AllMustHold", "workgroup=Support media=Call tag=vip", true},
		{"OneFails", "workgroup=Support media=Email tag=vip", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := icrec.ParseHoldQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Matches(r); got != tc.want {
				t.Errorf("%q matches = %v, want %v", tc.query, got, tc.want)
			}
			h := icrec.LegalHold{Name: "h", Query: q}
			if got := h.Holds(r); got != tc.want {
				t.Errorf("a hold with query %q holds = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

func TestLegalHoldHoldsByID(t *testing.T) {
	r := &icrec.Recording{ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Workgroups: []string{"Support"}}
	for _, tc := range []struct {
		name string
		h    icrec.LegalHold
		want bool
	}{
		{"Named", icrec.LegalHold{RecordingIDs: []string{"0DE0C017-CD4F-D013-8E31-18D8B7470001"}}, true},
		{"NamedLowerCase", icrec.LegalHold{RecordingIDs: []string{"0de0c017-cd4f-d013-8e31-18d8b7470001"}}, true},
		{"OtherID", icrec.LegalHold{RecordingIDs: []string{"0DE0C017-CD4F-D013-8E31-18D8B7470002"}}, false},
		{"OtherIDButQuery", icrec.LegalHold{RecordingIDs: []string{"0DE0C017-CD4F-D013-8E31-18D8B7470002"}, Query: icrec.HoldQuery{Workgroup: "Support"}}, true},
		{"Nothing", icrec.LegalHold{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Holds(r); got != tc.want {
				t.Errorf("Holds = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParseHoldQuery: the parser never panics, and a query it accepts
// survives String and a second parse unchanged.
func FuzzParseHoldQuery(f *testing.F) {
	for _, s := range []string{
		"", "workgroup=Support", `tag="a b" media=1`, "since=2024-01-02 until=20240103T000000Z",
		`attribute="Case Number=42"`, "attribute=k=v", `tag="\xff"`, "tag=a tag=b", `tag="unterminated`,
		"interaction=1 participant=x workgroup=y media=Email since=2024-01-01T00:00:00.5Z until=2025-01-01 tag=t attribute=a=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := icrec.ParseHoldQuery(in)
		if err != nil {
			if q2, err2 := icrec.ParseHoldQuery(in); err2 == nil || !reflect.DeepEqual(q, q2) {
				t.Fatalf("ParseHoldQuery(%q) is not deterministic", in)
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(in) {
				t.Fatalf("ParseHoldQuery(%q): the error %q is not valid UTF-8", in, err)
			}
			return
		}
		s := q.String()
		again, err := icrec.ParseHoldQuery(s)
		if err != nil {
			t.Fatalf("ParseHoldQuery(%q) = %+v, whose String %q does not parse: %v", in, q, s, err)
		}
		// Times compare by instant: the zone is not kept.
		norm := func(q *icrec.HoldQuery) {
			for _, p := range []**time.Time{&q.Since, &q.Until} {
				if *p != nil {
					*p = ptr((*p).UTC())
				}
			}
		}
		norm(&q)
		norm(&again)
		if !reflect.DeepEqual(again, q) {
			t.Fatalf("ParseHoldQuery(%q) = %+v; its String %q parses to %+v", in, q, s, again)
		}
	})
}
