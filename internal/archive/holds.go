package archive

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"example.com/icrec"
)

// errNoHolds is returned when the Service was made without a hold store
// (see New).
var errNoHolds = errors.New("archive: no legal hold store, so holds and retention are unavailable")

// AddHold validates a legal hold and places it: from then on no sweep
// deletes a recording it holds. Recording ids may be given in any case, with
// or without braces, and need not be in the archive yet. A hold must name
// recordings or have a query, or both; it holds the recordings named and
// those the query matches. The change is audited (admin.hold) as made by
// h.CreatedBy, with the ids and the query in full, since the hold itself
// goes when it is released.
func (s *Service) AddHold(ctx context.Context, h icrec.LegalHold) (*icrec.LegalHold, error) {
	if s.holds == nil {
		return nil, errNoHolds
	}
	if err := icrec.ValidateID("hold name", h.Name); err != nil {
		return nil, err
	}
	if len(h.CreatedBy) > icrec.MaxNameLength || !utf8.ValidString(h.CreatedBy) {
		return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "the name of who places the hold must be valid UTF-8 of at most %d bytes", icrec.MaxNameLength)
	}
	ids := make([]string, 0, len(h.RecordingIDs))
	for _, id := range h.RecordingIDs {
		c, ok := icrec.CanonicalGUID(id)
		if !ok {
			return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "recording id %q is not a GUID", clip(id))
		}
		ids = append(ids, c)
	}
	slices.Sort(ids)
	h.RecordingIDs = slices.Compact(ids)
	if err := validateQuery(&h.Query); err != nil {
		return nil, err
	}
	if len(h.RecordingIDs) == 0 && h.Query.IsZero() {
		return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "legal hold %q holds nothing: name recordings or give a query", h.Name)
	}
	if err := s.holds.CreateHold(ctx, &h); err != nil {
		return nil, err
	}
	detail, err := json.Marshal(struct {
		Action     string   `json:"action"`
		Hold       string   `json:"hold"`
		Recordings []string `json:"recordings,omitempty"`
		Query      string   `json:"query,omitempty"`
	}{"add", h.Name, h.RecordingIDs, h.Query.String()})
	if err != nil {
		return nil, err
	}
	return &h, s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditHoldChange, UserID: h.CreatedBy, Outcome: "ok", Detail: string(detail)})
}

// validateQuery checks the fields of a hold's query that are set.
func validateQuery(q *icrec.HoldQuery) error {
	for _, f := range []struct{ what, v string }{
		{"interaction id", q.InteractionID},
		{"participant user id", q.ParticipantUserID},
		{"workgroup", q.Workgroup},
		{"tag", q.Tag},
	} {
		if f.v == "" {
			continue
		}
		if err := icrec.ValidateID(f.what, f.v); err != nil {
			return err
		}
	}
	if q.MediaType != nil && !q.MediaType.Valid() {
		return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "the query's media type %d is not an ICWS media type", int(*q.MediaType))
	}
	if q.Since != nil && q.Until != nil && !q.Since.Before(*q.Until) {
		return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "the query's since (%v) must be before its until (%v)", q.Since.UTC(), q.Until.UTC())
	}
	if a := q.Attribute; a != nil {
		if err := icrec.ValidateID("attribute name", a.Name); err != nil {
			return err
		}
		if len(a.Value) > icrec.MaxAttributeValueLength {
			return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "attribute %q has a %d-byte value; the limit is %d", a.Name, len(a.Value), icrec.MaxAttributeValueLength)
		}
	}
	return nil
}

// Holds lists the legal holds, oldest first.
func (s *Service) Holds(ctx context.Context) ([]*icrec.LegalHold, error) {
	if s.holds == nil {
		return nil, errNoHolds
	}
	return s.holds.ListHolds(ctx)
}

// ReleaseHold removes a legal hold, by name ignoring case, and audits it
// (admin.hold) as done by by. Recordings it held stay held if another hold
// holds them too; the others are left to retention again.
func (s *Service) ReleaseHold(ctx context.Context, name, by string) error {
	if s.holds == nil {
		return errNoHolds
	}
	if err := s.holds.DeleteHold(ctx, name); err != nil {
		return err
	}
	detail, err := json.Marshal(struct {
		Action string `json:"action"`
		Hold   string `json:"hold"`
	}{"release", name})
	if err != nil {
		return err
	}
	return s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditHoldChange, UserID: by, Outcome: "ok", Detail: string(detail)})
}

// holdIndex answers which holds hold a recording without walking every id
// of every hold: holds have no cap on their ids, and a sweep asks for each
// expired recording. It answers as LegalHold.Holds does.
type holdIndex struct {
	holds   []*icrec.LegalHold
	byID    map[string][]int // upper-cased id → the holds naming it, by index
	queries []int            // the holds with a query
}

func indexHolds(holds []*icrec.LegalHold) *holdIndex {
	x := &holdIndex{holds: holds, byID: make(map[string][]int)}
	for i, h := range holds {
		for _, id := range h.RecordingIDs {
			// Upper-cased, as Holds compares: canonical ids are.
			x.byID[strings.ToUpper(id)] = append(x.byID[strings.ToUpper(id)], i)
		}
		if !h.Query.IsZero() {
			x.queries = append(x.queries, i)
		}
	}
	return x
}

// holding returns the names of the holds that hold r, in the order of the
// holds given, each once.
func (x *holdIndex) holding(r *icrec.Recording) []string {
	hit := slices.Clone(x.byID[strings.ToUpper(r.ID)])
	for _, i := range x.queries {
		if x.holds[i].Query.Matches(r) {
			hit = append(hit, i)
		}
	}
	if len(hit) == 0 {
		return nil
	}
	slices.Sort(hit)
	hit = slices.Compact(hit)
	names := make([]string, len(hit))
	for i, h := range hit {
		names[i] = x.holds[h].Name
	}
	return names
}
