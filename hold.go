package icrec

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// LegalHold keeps recordings from retention: while any hold holds a
// recording, no sweep deletes it, whatever its expiration date says. Holds
// stack: a recording under two holds stays until both are released.
//
// A hold names recordings by id, selects them by a query, or both; it holds
// the recordings it names and those its query matches. A query is evaluated
// whenever a sweep looks at a recording, not when the hold is made, so it
// also holds recordings imported after the hold, and recordings whose
// attributes or tags come to match it later.
type LegalHold struct {
	// Name identifies the hold, ignoring case, as policy names do.
	Name string
	// RecordingIDs are canonical GUIDs (CanonicalGUID), sorted, each once.
	// They need not name a recording of the archive: a hold may come
	// before the recordings it is for. There is no limit on their number.
	RecordingIDs []string
	Query        HoldQuery
	// Created is set by the store.
	Created time.Time
	// CreatedBy names who placed the hold, for the record.
	CreatedBy string
}

// HoldQuery selects recordings for a hold. Every field is optional, and a
// recording matches when it matches every field that is set; a query with
// no field set matches nothing (IsZero). Strings compare ignoring case,
// attribute values included: a hold errs on the side of keeping.
type HoldQuery struct {
	InteractionID string
	// ParticipantUserID matches recordings the user took part in, as
	// Recording.HasParticipant does.
	ParticipantUserID string
	Workgroup         string
	MediaType         *MediaType
	// Since and Until bound the recording date: Since <= date < Until, as
	// in RecordingFilter.
	Since, Until *time.Time
	Tag          string
	// Attribute matches recordings with an attribute of this name and
	// value.
	Attribute *Attribute
}

// IsZero reports whether the query has no field set, and so selects
// nothing.
func (q *HoldQuery) IsZero() bool {
	return q.InteractionID == "" && q.ParticipantUserID == "" && q.Workgroup == "" && q.MediaType == nil &&
		q.Since == nil && q.Until == nil && q.Tag == "" && q.Attribute == nil
}

// String describes the query as field=value pairs, in the syntax that
// ParseHoldQuery reads: workgroup=Support media=Call
// since=2024-01-01T00:00:00Z. A zero query is the empty string.
func (q *HoldQuery) String() string {
	var parts []string
	add := func(name, v string) {
		if v == "" {
			return
		}
		if strings.ContainsFunc(v, unicode.IsSpace) || strings.ContainsAny(v, "\"\\") || !utf8.ValidString(v) {
			v = strconv.Quote(v)
		}
		parts = append(parts, name+"="+v)
	}
	add("interaction", q.InteractionID)
	add("participant", q.ParticipantUserID)
	add("workgroup", q.Workgroup)
	if q.MediaType != nil {
		add("media", q.MediaType.String())
	}
	if q.Since != nil {
		add("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Until != nil {
		add("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	add("tag", q.Tag)
	if q.Attribute != nil {
		// The whole pair, quoted as one value if need be.
		add("attribute", q.Attribute.Name+"="+q.Attribute.Value)
	}
	return strings.Join(parts, " ")
}

// holdQueryFields are the field names of the query syntax, in String's
// order.
var holdQueryFields = []string{"interaction", "participant", "workgroup", "media", "since", "until", "tag", "attribute"}

// ParseHoldQuery reads a query written as String writes it: field=value
// pairs separated by spaces, each field at most once. A value with spaces
// or quotes is written as a Go (or JSON) string literal:
// attribute="Case Number=42". The fields are interaction, participant,
// workgroup and tag (any text), media (a media type's name or number),
// since and until (RFC 3339, 20060102T150405Z, or a date, 2006-01-02,
// meaning midnight UTC) and attribute (NAME=VALUE, split at the first =).
// An empty query parses to the zero HoldQuery. Errors name the field, or
// the position in s, at fault; the values themselves are checked by the
// archive when the hold is placed.
func ParseHoldQuery(s string) (HoldQuery, error) {
	var q HoldQuery
	seen := map[string]bool{}
	for rest := s; ; {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			return q, nil
		}
		at := len(s) - len(rest) + 1 // 1-based, in bytes
		eq := strings.IndexByte(rest, '=')
		sp := strings.IndexFunc(rest, unicode.IsSpace)
		if eq < 0 || sp >= 0 && sp < eq {
			word, _, _ := strings.Cut(rest, " ")
			return q, Errorf(Invalid, IDInvalidProperty, "query: %q at byte %d is not field=value (fields: %s)", clipQuery(word), at, strings.Join(holdQueryFields, ", "))
		}
		field := rest[:eq]
		rest = rest[eq+1:]
		if !slices.Contains(holdQueryFields, field) {
			return q, Errorf(Invalid, IDInvalidProperty, "query: unknown field %q at byte %d (fields: %s)", clipQuery(field), at, strings.Join(holdQueryFields, ", "))
		}
		if seen[field] {
			return q, Errorf(Invalid, IDInvalidProperty, "query: field %q given twice", field)
		}
		seen[field] = true
		var v string
		if strings.HasPrefix(rest, "\"") {
			lit, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return q, Errorf(Invalid, IDInvalidProperty, "query: the quoted value of %s at byte %d is not a complete string literal", field, at)
			}
			v, _ = strconv.Unquote(lit) // QuotedPrefix vouches for it
			rest = rest[len(lit):]
			if rest != "" && !startsWithSpace(rest) {
				return q, Errorf(Invalid, IDInvalidProperty, "query: the quoted value of %s at byte %d is followed by %q, not a space", field, at, clipQuery(rest))
			}
		} else {
			end := strings.IndexFunc(rest, unicode.IsSpace)
			if end < 0 {
				end = len(rest)
			}
			v, rest = rest[:end], rest[end:]
		}
		if v == "" {
			return q, Errorf(Invalid, IDInvalidProperty, "query: %s has an empty value", field)
		}
		if err := q.set(field, v); err != nil {
			return q, err
		}
	}
}

// set sets one field of the query syntax from its value.
func (q *HoldQuery) set(field, v string) error {
	switch field {
	case "interaction":
		q.InteractionID = v
	case "participant":
		q.ParticipantUserID = v
	case "workgroup":
		q.Workgroup = v
	case "tag":
		q.Tag = v
	case "media":
		m, err := ParseMediaType(v)
		if err != nil {
			return Errorf(Invalid, IDInvalidProperty, "query: media: %s", ErrorMessage(err))
		}
		q.MediaType = &m
	case "since", "until":
		t, err := parseQueryTime(v)
		if err != nil {
			return Errorf(Invalid, IDInvalidProperty, "query: %s %q: give a time as 2006-01-02T15:04:05Z, 20060102T150405Z or 2006-01-02", field, clipQuery(v))
		}
		if field == "since" {
			q.Since = &t
		} else {
			q.Until = &t
		}
	case "attribute":
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return Errorf(Invalid, IDInvalidProperty, "query: attribute %q: give NAME=VALUE", clipQuery(v))
		}
		q.Attribute = &Attribute{Name: name, Value: value}
	}
	return nil
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// parseQueryTime accepts RFC 3339, the ICWS basic format and a plain date,
// as the command line does elsewhere. Times without a zone are UTC.
func parseQueryTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "20060102T150405Z0700", "20060102T150405Z", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, Errorf(Invalid, IDInvalidProperty, "not a time: %q", s)
}

// clipQuery keeps an echoed piece of a query short in a message.
func clipQuery(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Matches reports whether the query selects r. A zero query selects
// nothing, so that a hold without a query never holds everything by
// accident.
func (q *HoldQuery) Matches(r *Recording) bool {
	if q.IsZero() {
		return false
	}
	switch {
	case q.InteractionID != "" && FoldID(q.InteractionID) != FoldID(r.InteractionID),
		q.ParticipantUserID != "" && !r.HasParticipant(q.ParticipantUserID),
		q.Workgroup != "" && !r.InWorkgroup(q.Workgroup),
		q.MediaType != nil && *q.MediaType != r.MediaType,
		q.Since != nil && r.RecordingDate.Before(*q.Since),
		q.Until != nil && !r.RecordingDate.Before(*q.Until),
		q.Tag != "" && !slices.ContainsFunc(r.Tags, func(t string) bool { return FoldID(t) == FoldID(q.Tag) }):
		return false
	}
	if q.Attribute != nil {
		v, ok := r.Attribute(q.Attribute.Name)
		if !ok || FoldID(v) != FoldID(q.Attribute.Value) {
			return false
		}
	}
	return true
}

// Holds reports whether h holds r: h names r's id (ignoring case), or h's
// query matches r.
func (h *LegalHold) Holds(r *Recording) bool {
	id := strings.ToUpper(r.ID)
	if slices.ContainsFunc(h.RecordingIDs, func(x string) bool { return strings.ToUpper(x) == id }) {
		return true
	}
	return h.Query.Matches(r)
}

// HoldStore persists legal holds.
type HoldStore interface {
	// CreateHold adds h, with its recording ids and query, in one
	// transaction, setting Created. Returns Conflict if a hold has the
	// same name, ignoring case.
	CreateHold(ctx context.Context, h *LegalHold) error
	// ListHolds returns every hold, ordered by Created, then by name
	// ignoring case.
	ListHolds(ctx context.Context) ([]*LegalHold, error)
	// DeleteHold removes the hold name, ignoring case. Returns NotFound if
	// there is none.
	DeleteHold(ctx context.Context, name string) error
}
