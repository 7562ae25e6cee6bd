// Package archive holds icrec's rules for recordings: who may do what with
// which recording, how recordings enter the archive without ever being half
// written, and how the archive is checked. It sits above the stores, so
// every backend obeys the same rules, and below the HTTP layer and the CLI,
// which both call it.
package archive

import (
	"context"
	"log/slog"
	"time"

	"example.com/icrec"
)

// Service applies the rules. It is safe for concurrent use.
type Service struct {
	recordings icrec.RecordingStore
	policies   icrec.PolicyStore
	users      icrec.UserStore
	blobs      icrec.BlobStore
	audit      icrec.Auditor
	holds      icrec.HoldStore // nil: no holds kept, so no retention
	exports    Exports
	email      Email
	log        *slog.Logger
	now        func() time.Time
	// cache keeps what rights checks read (state.go); nil when the stores
	// keep no change counters.
	cache *stateCache
}

// Exports configures export links. A Service without a Signer issues none.
type Exports struct {
	Signer icrec.LinkSigner
	// TTL is how long a link works; zero means DefaultExportTTL.
	TTL time.Duration
	// BindClient makes a link work only from the address that asked for it.
	BindClient bool
	// Disabled turns export off, as --recorder-export=false does for a
	// compliance lock-down: export-uri and links answer 410.
	Disabled bool
	// BaseURL is the public base of links (https://host:8019), for the
	// links that emails carry.
	BaseURL string
}

// Email configures send-as-email. A Service without a Mailer sends none:
// send-as-email answers 410, as for a call this server's configuration
// removed.
type Email struct {
	Mailer icrec.Mailer
	// MaxAttach is the most media bytes one email carries as attachments;
	// larger recordings go as export links instead. Zero means
	// DefaultMaxAttach.
	MaxAttach int64
}

// DefaultMaxAttach keeps emails under the 10 MB that common mail servers
// accept after base64's third more.
const DefaultMaxAttach = 7 << 20

// Export link lifetimes.
const (
	DefaultExportTTL = time.Hour
	// MaxExportTTL is shorter than the time signing keys are kept after
	// a rotation (internal/signedurl.RetireAfter), so no live link ever
	// outlives its key.
	MaxExportTTL = 7 * 24 * time.Hour
)

// New returns a Service over the catalogue, the policies, the users, the
// legal holds and the media. audit receives the events of imports, policy
// changes and exports; it may be nil for tools that change nothing worth
// auditing. holds may be nil for tools that never delete recordings: such a
// Service refuses to place holds or to sweep, since retention that could
// not see the holds might delete a held recording.
//
// When recordings, policies and users are one store that keeps change
// counters (icrec.VersionStore), rights checks keep what they read in
// memory for as long as the counters say it is current.
func New(recordings icrec.RecordingStore, policies icrec.PolicyStore, users icrec.UserStore, holds icrec.HoldStore, blobs icrec.BlobStore, audit icrec.Auditor, exports Exports, log *slog.Logger, now func() time.Time) *Service {
	if exports.TTL <= 0 {
		exports.TTL = DefaultExportTTL
	}
	return &Service{recordings: recordings, policies: policies, users: users, blobs: blobs, audit: audit, holds: holds, exports: exports, log: log, now: now,
		cache: newStateCache(recordings, policies, users)}
}

// Recording returns a recording by id, in any letter case, with or without
// braces. An id that is not a GUID names no recording. It reads the store,
// never the cache of rights checks, so the recording is the caller's own.
func (s *Service) Recording(ctx context.Context, id string) (*icrec.Recording, error) {
	canonical, err := canonicalID(id)
	if err != nil {
		return nil, err
	}
	return s.recordings.FindRecordingByID(ctx, canonical)
}

// canonicalID returns the canonical form of a recording id, or NotFound
// if it is not a GUID.
func canonicalID(id string) (string, error) {
	canonical, ok := icrec.CanonicalGUID(id)
	if !ok {
		return "", icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "There is no recording %q.", clip(id))
	}
	return canonical, nil
}

// Recordings lists recordings.
func (s *Service) Recordings(ctx context.Context, f icrec.RecordingFilter) ([]*icrec.Recording, error) {
	return s.recordings.FindRecordings(ctx, f)
}

// CountRecordings returns the size of the catalogue.
func (s *Service) CountRecordings(ctx context.Context) (int, error) {
	return s.recordings.CountRecordings(ctx)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
