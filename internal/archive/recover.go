package archive

import (
	"context"

	"example.com/icrec"
)

// RecoverReport says what Recover cleaned up.
type RecoverReport struct {
	// PendingBlobs is how many blobs of recordings that were never created
	// (an import killed between storing a blob and its catalogue row) were
	// removed.
	PendingBlobs int
	// TempFiles is how many staged, unfinished writes were removed.
	TempFiles int
}

// Recover removes what a killed import left behind: blobs marked pending
// whose recording was never created, and unfinished staged writes. The
// caller must hold the data directory's archive lock, so that no import is
// running: Recover would otherwise take a running import's work for debris.
func (s *Service) Recover(ctx context.Context) (RecoverReport, error) {
	var rep RecoverReport
	keys, err := s.recordings.PendingBlobs(ctx)
	if err != nil {
		return rep, err
	}
	for _, key := range keys {
		// A recording that exists owns its blob, whatever the mark says.
		if _, err := s.recordings.RecordingByMediaKey(ctx, key); err == nil {
			if err := s.recordings.DeletePendingBlobs(ctx, key); err != nil {
				return rep, err
			}
			continue
		} else if !icrec.IsKind(err, icrec.NotFound) {
			return rep, err
		}
		switch err := s.blobs.Delete(ctx, key); {
		case err == nil:
			rep.PendingBlobs++
		case !icrec.IsKind(err, icrec.NotFound):
			return rep, err
		}
		if err := s.recordings.DeletePendingBlobs(ctx, key); err != nil {
			return rep, err
		}
	}
	if tc, ok := s.blobs.(icrec.TempCleaner); ok {
		n, err := tc.CleanTemp(ctx)
		rep.TempFiles = n
		if err != nil {
			return rep, err
		}
	}
	if rep.PendingBlobs+rep.TempFiles > 0 {
		s.log.Info("removed what an interrupted import left behind", "blobs", rep.PendingBlobs, "temp_files", rep.TempFiles)
	}
	return rep, nil
}
