package archive

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"example.com/icrec"
)

// authorized returns a recording for the user of sess, if the user holds
// want on it. The checks run in the order ICWS clients expect: the
// recording (NotFound), then the right (Forbidden, audited). The recording
// may come from the cache of rights checks, shared with other requests:
// callers read it and never change it.
func (s *Service) authorized(ctx context.Context, sess *icrec.Session, recordingID string, want icrec.Rights, clientAddr, what string) (*icrec.Recording, error) {
	id, err := canonicalID(recordingID)
	if err != nil {
		return nil, err
	}
	w, err := s.view(ctx)
	if err != nil {
		return nil, err
	}
	r, u, err := w.recordingFor(ctx, sess, id)
	if err != nil {
		return nil, err
	}
	if err := w.authorize(ctx, u, r, want); err != nil {
		s.emit(&icrec.AuditEvent{Kind: icrec.AuditDenied, UserID: u.ID, SessionID: sess.ID, ClientAddr: clientAddr,
			RecordingID: r.ID, Outcome: what + ": not authorized"})
		return nil, err
	}
	return r, nil
}

// MediaDetails returns a recording for a user who may access it
// (ReadAccess), for GET .../media-details. The recording is shared with
// other requests (rights checks keep it in memory): read it, never change
// it.
func (s *Service) MediaDetails(ctx context.Context, sess *icrec.Session, recordingID, clientAddr string) (*icrec.Recording, error) {
	return s.authorized(ctx, sess, recordingID, icrec.ReadAccess, clientAddr, "media-details")
}

// Tags returns a recording's tags, for a user who may view them.
func (s *Service) Tags(ctx context.Context, sess *icrec.Session, recordingID, clientAddr string) ([]string, error) {
	r, err := s.authorized(ctx, sess, recordingID, icrec.CanViewTags, clientAddr, "tags")
	if err != nil {
		return nil, err
	}
	// A copy: r is shared, and a caller may sort or append.
	return slices.Clone(r.Tags), nil
}

// Parsed is a request's input as the HTTP layer decoded it: its value, or
// why it could not be decoded. The Service takes it, rather than the value
// alone, so that it reports a bad input only after the recording and the
// user's right have been checked, in the order ICWS clients expect: 404,
// then 403, then 400.
type Parsed[T any] struct {
	Value T
	Err   error
}

// change is an edit of a recording through the API, as its audit event
// describes it.
type change struct {
	Action     string   `json:"action"`
	Attributes []string `json:"attributes,omitempty"` // names only: values may be personal data
	Tags       []string `json:"tags,omitempty"`
	Expiration string   `json:"expirationDate,omitempty"`
}

// edit runs f on a recording the user may change (want), and audits the
// change f describes before reporting it done. f validates its input after
// the recording and the right are checked, so that the answer to a bad
// value for a recording the user may not touch is 403, not 400.
func (s *Service) edit(ctx context.Context, sess *icrec.Session, recordingID string, want icrec.Rights, clientAddr, action string, f func(r *icrec.Recording) (change, error)) error {
	r, err := s.authorized(ctx, sess, recordingID, want, clientAddr, action)
	if err != nil {
		return err
	}
	c, err := f(r)
	if err != nil {
		return err
	}
	c.Action = action
	detail, _ := json.Marshal(c)
	return s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditRecordingChange, UserID: sess.UserID, SessionID: sess.ID,
		ClientAddr: clientAddr, RecordingID: r.ID, Outcome: "ok", Detail: string(detail)})
}

// SetAttributes sets custom attributes (CanModifyCustomAttributes): each
// one given replaces the value of an attribute of that name, in any letter
// case, and attributes not given are kept. This is the Direct Usage
// example's reading of PUT; IceLib's AddRecordingAttributes, which never
// updates, would make a value impossible to correct through ICWS.
func (s *Service) SetAttributes(ctx context.Context, sess *icrec.Session, recordingID string, attrs Parsed[[]icrec.Attribute], clientAddr string) error {
	return s.edit(ctx, sess, recordingID, icrec.CanModifyCustomAttributes, clientAddr, "set attributes", func(r *icrec.Recording) (change, error) {
		if attrs.Err != nil {
			return change{}, attrs.Err
		}
		norm, err := icrec.NormalizeAttributes(attrs.Value)
		if err != nil {
			return change{}, asProperty(err, "attributesValues")
		}
		if len(norm) > icrec.MaxAttributes {
			return change{}, icrec.InvalidProperty("attributesValues", "%d attributes are given; a recording has at most %d.", len(norm), icrec.MaxAttributes)
		}
		c := change{Attributes: make([]string, len(norm))}
		for i, a := range norm {
			c.Attributes[i] = a.Name
		}
		// The store enforces the cap on the attributes a recording has in
		// all, old and new; its refusal is about this property too.
		return c, asProperty(s.recordings.SetAttributes(ctx, r.ID, norm), "attributesValues")
	})
}

// DeleteAttribute removes an attribute by name (CanModifyCustomAttributes);
// a name the recording does not have is not an error.
func (s *Service) DeleteAttribute(ctx context.Context, sess *icrec.Session, recordingID string, names Parsed[[]string], clientAddr string) error {
	return s.edit(ctx, sess, recordingID, icrec.CanModifyCustomAttributes, clientAddr, "delete attribute", func(r *icrec.Recording) (change, error) {
		name, err := oneQuery("attributeName", names)
		if err != nil {
			return change{}, err
		}
		return change{Attributes: []string{name}}, s.recordings.DeleteAttribute(ctx, r.ID, name)
	})
}

// AddTags adds tags (CanModifyTags), ignoring case; a tag the recording
// has already is kept once, in its first spelling.
func (s *Service) AddTags(ctx context.Context, sess *icrec.Session, recordingID string, tags Parsed[[]string], clientAddr string) error {
	return s.edit(ctx, sess, recordingID, icrec.CanModifyTags, clientAddr, "add tags", func(r *icrec.Recording) (change, error) {
		if tags.Err != nil {
			return change{}, tags.Err
		}
		norm, err := icrec.NormalizeNames("tag", tags.Value)
		if err != nil {
			return change{}, asProperty(err, "tags")
		}
		if len(norm) > icrec.MaxTags {
			return change{}, icrec.InvalidProperty("tags", "%d tags are given; a recording has at most %d.", len(norm), icrec.MaxTags)
		}
		return change{Tags: norm}, asProperty(s.recordings.AddTags(ctx, r.ID, norm), "tags")
	})
}

// DeleteTag removes a tag (CanModifyTags), ignoring case; a tag the
// recording does not have is not an error.
func (s *Service) DeleteTag(ctx context.Context, sess *icrec.Session, recordingID string, tags Parsed[[]string], clientAddr string) error {
	return s.edit(ctx, sess, recordingID, icrec.CanModifyTags, clientAddr, "delete tag", func(r *icrec.Recording) (change, error) {
		tag, err := oneQuery("tag", tags)
		if err != nil {
			return change{}, err
		}
		return change{Tags: []string{tag}}, s.recordings.DeleteTag(ctx, r.ID, tag)
	})
}

// SetRetention sets when a recording expires, for POST
// .../retention-expiration: at the given date, or now when none is given
// (a nil date). A date in the past is refused. recordingRights has no bit
// for the Recorder's "Modify Retention Expiration Period" right, so icrec
// asks for WriteAccess, the right to change a recording.
func (s *Service) SetRetention(ctx context.Context, sess *icrec.Session, recordingID string, date Parsed[*time.Time], clientAddr string) error {
	return s.edit(ctx, sess, recordingID, icrec.WriteAccess, clientAddr, "set retention", func(r *icrec.Recording) (change, error) {
		if date.Err != nil {
			return change{}, date.Err
		}
		now := s.now()
		when := now
		if date.Value != nil {
			when = *date.Value
		}
		if date.Value != nil && when.Before(now.Truncate(time.Second)) {
			return change{}, icrec.InvalidProperty("expirationDate", "The expiration date %s is in the past; give a date from now on, or none for now.",
				when.UTC().Format("20060102T150405Z"))
		}
		return change{Expiration: when.UTC().Format(time.RFC3339)}, s.recordings.SetExpiration(ctx, r.ID, when)
	})
}

// oneQuery returns the one value of a required query parameter.
func oneQuery(name string, p Parsed[[]string]) (string, error) {
	values := p.Value
	switch {
	case p.Err != nil:
		return "", p.Err
	case len(values) == 0:
		return "", icrec.MissingProperty(name, "The query parameter %s is required.", name)
	case len(values) > 1:
		return "", icrec.InvalidProperty(name, "The query parameter %s is given %d times; give it once.", name, len(values))
	case values[0] == "":
		return "", icrec.InvalidProperty(name, "The query parameter %s is empty.", name)
	}
	return values[0], nil
}

// asProperty names the property of a validation error that has none.
func asProperty(err error, property string) error {
	if e, ok := err.(*icrec.Error); ok && e.Property == "" {
		c := *e
		c.Property = property
		return &c
	}
	return err
}
