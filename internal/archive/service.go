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
	blobs      icrec.BlobStore
	log        *slog.Logger
	now        func() time.Time
}

// New returns a Service over the catalogue, the policies and the media.
func New(recordings icrec.RecordingStore, policies icrec.PolicyStore, blobs icrec.BlobStore, log *slog.Logger, now func() time.Time) *Service {
	return &Service{recordings: recordings, policies: policies, blobs: blobs, log: log, now: now}
}

// Recording returns a recording by id, in any letter case, with or without
// braces. An id that is not a GUID names no recording.
func (s *Service) Recording(ctx context.Context, id string) (*icrec.Recording, error) {
	canonical, ok := icrec.CanonicalGUID(id)
	if !ok {
		return nil, icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "There is no recording %q.", clip(id))
	}
	return s.recordings.FindRecordingByID(ctx, canonical)
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
