package icrec

import (
	"context"
	"slices"
	"time"
)

// Recording is one recorded interaction: a call, chat, email, screen or
// social conversation, with the metadata ICWS media-details exposes and the
// facts icrec needs to serve and protect it.
type Recording struct {
	// ID is the recording's GUID in canonical form (CanonicalGUID).
	ID                   string
	InteractionID        string
	MediaType            MediaType
	RecordingType        RecordingType
	CallType             CallType
	Direction            Direction
	RecordingDate        time.Time
	Duration             time.Duration
	ExpirationDate       time.Time // zero: kept until a retention policy says otherwise
	InitiationPolicyName string
	LineName             string
	SnippetInitiator     string
	RelatedRecordingID   string // canonical GUID or empty
	IsEncrypted          bool
	IsArchived           bool

	// Participants took part in the interaction, in the order given.
	Participants []Participant
	// Workgroups the interaction belongs to: normalised (NormalizeNames).
	Workgroups []string
	// Attributes are custom name/value pairs; names are unique ignoring
	// case and sorted by folded name (NormalizeAttributes).
	Attributes []Attribute
	// Tags are unique ignoring case and sorted by folded form
	// (NormalizeNames).
	Tags []string

	// Media is the primary media as stored.
	Media Media
	// Attachments index the attachments of an email recording, numbered
	// 1..n in the order they appear in the message; empty otherwise.
	Attachments []Attachment

	// Created is when the recording entered this archive.
	Created time.Time
}

// Participant is someone who took part in a recording: an icrec user, or an
// external party known by name or address.
type Participant struct {
	UserID  string // icrec user id; empty for an external party
	Name    string
	Address string // a phone number or e-mail address
}

// Attribute is a custom attribute of a recording.
type Attribute struct {
	Name  string
	Value string
}

// Media describes the stored primary media of a recording.
type Media struct {
	Key         string // blob key
	ContentType string
	Size        int64
	SHA256      string // lower-case hex
	FileName    string // the original file name, offered to downloaders
}

// Attachment is one recorded email attachment. Its bytes are not stored
// apart: they are decoded from the message on demand.
type Attachment struct {
	Index       int    // 1..n: the ICWS attachmentId
	Part        string // where the part is in the message's MIME tree, e.g. "2.1"
	FileName    string
	ContentType string
	Size        int64  // decoded size
	SHA256      string // of the decoded bytes, lower-case hex
}

// HasParticipant reports whether the user with userID took part, ignoring
// case as user ids do.
func (r *Recording) HasParticipant(userID string) bool {
	return slices.ContainsFunc(r.Participants, func(p Participant) bool {
		return p.UserID != "" && SameID(p.UserID, userID)
	})
}

// InWorkgroup reports whether the recording belongs to workgroup, ignoring
// case.
func (r *Recording) InWorkgroup(workgroup string) bool {
	return slices.ContainsFunc(r.Workgroups, func(w string) bool { return SameID(w, workgroup) })
}

// Attribute returns the value of the attribute name, ignoring case.
func (r *Recording) Attribute(name string) (string, bool) {
	f := FoldID(name)
	for _, a := range r.Attributes {
		if FoldID(a.Name) == f {
			return a.Value, true
		}
	}
	return "", false
}

// NormalizeAttributes validates attribute names and returns the attributes
// sorted by folded name with duplicate names (ignoring case) removed; the
// last value given for a name wins, as a later assignment would.
func NormalizeAttributes(attrs []Attribute) ([]Attribute, error) {
	byName := make(map[string]int, len(attrs))
	out := make([]Attribute, 0, len(attrs))
	for _, a := range attrs {
		if err := ValidateID("attribute name", a.Name); err != nil {
			return nil, err
		}
		if len(a.Value) > MaxAttributeValueLength {
			return nil, Errorf(Invalid, IDInvalidProperty, "attribute %q has a %d-byte value; the limit is %d", a.Name, len(a.Value), MaxAttributeValueLength)
		}
		f := FoldID(a.Name)
		if i, ok := byName[f]; ok {
			out[i].Value = a.Value
			continue
		}
		byName[f] = len(out)
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Attribute) int { return compareFolded(a.Name, b.Name) })
	return out, nil
}

// MaxAttributeValueLength bounds one attribute value, in bytes.
const MaxAttributeValueLength = 4096

func compareFolded(a, b string) int {
	fa, fb := FoldID(a), FoldID(b)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

// RecordingFilter selects recordings; nil fields do not filter. Results come
// ordered by recording date, then id.
type RecordingFilter struct {
	InteractionID *string
	// ParticipantUserID selects recordings the user took part in.
	ParticipantUserID *string
	Workgroup         *string
	MediaType         *MediaType
	// Since and Until bound the recording date: Since <= date < Until.
	Since, Until *time.Time
	// After continues a listing after the given recording.
	After *RecordingCursor
	// Limit caps the number of results; zero means no limit.
	Limit int
}

// RecordingCursor is a position in the order of a recording listing.
type RecordingCursor struct {
	RecordingDate time.Time
	ID            string
}

// RecordingStore persists the recording catalogue. Media bytes live in a
// BlobStore; a recording row refers to its blob by Media.Key.
type RecordingStore interface {
	// CreateRecordings adds recordings in one transaction, all or none,
	// setting their Created times, and removes their media keys from the
	// pending blobs in the same transaction. Returns Conflict if any id
	// exists already.
	CreateRecordings(ctx context.Context, recs []*Recording) error
	// FindRecordingByID returns the recording whose id equals id, ignoring
	// case. Returns NotFound if there is none.
	FindRecordingByID(ctx context.Context, id string) (*Recording, error)
	// ExistingRecordings returns those of ids (in any letter case) that
	// name a recording, in the stored case, in no particular order: one
	// read for a batch of ids where FindRecordingByID would take one each.
	ExistingRecordings(ctx context.Context, ids []string) ([]string, error)
	// FindRecordings returns the recordings the filter selects.
	FindRecordings(ctx context.Context, f RecordingFilter) ([]*Recording, error)
	// CountRecordings returns the number of recordings.
	CountRecordings(ctx context.Context) (int, error)
	// DeleteRecordings removes recordings (not their blobs) by id, in any
	// letter case, in one transaction: all or none. Ids of recordings not
	// in the catalogue are skipped. It returns how many were removed.
	DeleteRecordings(ctx context.Context, ids ...string) (int, error)
	// ExpiredRecordings returns, with their children, up to limit
	// recordings whose expiration date is set and not after now, ordered
	// by id, starting after the id after ("" starts at the beginning).
	// Recordings without an expiration date never expire. limit must be
	// positive.
	ExpiredRecordings(ctx context.Context, now time.Time, after string, limit int) ([]*Recording, error)

	// AddPendingBlobs records, durably, in one transaction and before the
	// blobs are written, that blobs are about to be stored for recordings
	// not yet created, so that a crash between the two leaves a trace to
	// clean up. Adding a key twice is not an error.
	AddPendingBlobs(ctx context.Context, keys ...string) error
	// PendingBlobs lists the pending keys.
	PendingBlobs(ctx context.Context) ([]string, error)
	// DeletePendingBlobs forgets pending keys, in one transaction; an
	// absent key is not an error.
	DeletePendingBlobs(ctx context.Context, keys ...string) error
	// RecordingByMediaKey returns the recording whose media is stored under
	// key. Returns NotFound if there is none.
	RecordingByMediaKey(ctx context.Context, key string) (*Recording, error)

	// The edits below each run in one transaction and return NotFound if
	// there is no recording id. Their inputs are normalised
	// (NormalizeAttributes, NormalizeNames) by the caller.

	// SetAttributes gives a recording the attributes attrs, replacing the
	// value of each it has already (names ignoring case) and keeping the
	// others. Returns Invalid, changing nothing, if the recording would
	// have more than MaxAttributes.
	SetAttributes(ctx context.Context, id string, attrs []Attribute) error
	// DeleteAttribute removes an attribute by name, ignoring case; a name
	// the recording does not have is not an error.
	DeleteAttribute(ctx context.Context, id, name string) error
	// AddTags adds tags, ignoring case: a tag the recording has already
	// keeps its first spelling. Returns Invalid, changing nothing, if the
	// recording would have more than MaxTags.
	AddTags(ctx context.Context, id string, tags []string) error
	// DeleteTag removes a tag, ignoring case; a tag the recording does not
	// have is not an error.
	DeleteTag(ctx context.Context, id, tag string) error
	// SetExpiration sets a recording's expiration date; the zero time
	// clears it.
	SetExpiration(ctx context.Context, id string, t time.Time) error
}

// Limits on what one recording carries, so that no client can grow a row
// without bound.
const (
	MaxAttributes = 256
	MaxTags       = 256
)
