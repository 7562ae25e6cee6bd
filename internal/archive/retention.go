package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"example.com/icrec"
)

// SweepOptions tune a retention sweep.
type SweepOptions struct {
	// DryRun finds what a sweep would delete and writes nothing.
	DryRun bool
	// Batch is how many expired recordings are read, and checked against
	// the holds, at a time; zero means DefaultSweepBatch.
	Batch int
}

// DefaultSweepBatch keeps a page small, since the holds are read anew for
// each page: a hold placed during a sweep applies from the next page.
const DefaultSweepBatch = 100

// SweepOutcome is what a sweep did with one expired recording.
type SweepOutcome uint8

const (
	SweepDeleted     SweepOutcome = iota + 1 // audited, then removed: catalogue row and media
	SweepWouldDelete                         // dry run: would be deleted
	SweepHeld                                // kept: a legal hold holds it
	SweepFailed                              // not (wholly) deleted; Err says why
)

func (o SweepOutcome) String() string {
	return [...]string{"", "deleted", "would delete", "held", "failed"}[o]
}

// SweepEvent reports one expired recording.
type SweepEvent struct {
	Recording *icrec.Recording
	Outcome   SweepOutcome
	// Holds names every hold that holds the recording, when it is held.
	Holds []string
	// Bytes is the media freed, or that a dry run would free.
	Bytes int64
	// MediaMissing says that a deleted recording's media was gone already
	// (an archive fsck reports as damaged): the row went all the same.
	MediaMissing bool
	Err          error
}

// SweepSummary totals a sweep.
type SweepSummary struct {
	Deleted, WouldDelete, Held, Failed int
	MediaMissing                       int
	// Bytes is the media freed, or that a dry run would free.
	Bytes int64
	// HeldBy counts the held recordings of each hold, by hold name; a
	// recording two holds hold counts for both.
	HeldBy  map[string]int
	Elapsed time.Duration
}

// Sweep deletes the recordings whose expiration date has passed (is not
// after s.now() when the sweep starts), except those a legal hold holds.
// Recordings without an expiration date are never deleted.
//
// It works a page of opts.Batch recordings at a time, in an order that a
// crash at any instant leaves safe:
//
//  1. the page's media keys are marked pending, in one transaction;
//  2. an audit event (retention.delete) is made durable for each
//     recording, the page's events sharing commits; a recording whose
//     event cannot be recorded stays;
//  3. the recordings' catalogue rows are deleted, in one transaction;
//  4. each one's media is deleted, unless another recording uses the same
//     blob;
//  5. the pending marks are cleared.
//
// Killed between 1 and 3, the recordings are whole and Recover clears
// their marks (a recording that exists owns its blob); killed between 3
// and 5, they are gone from the catalogue and Recover removes their media.
// A recording whose event was recorded but which a crash kept is deleted,
// and recorded again, by the next sweep.
//
// The holds are read anew for each page. Sweep returns an error only when
// it cannot go on: the store fails, or ctx ends (a page already marked is
// finished first). The caller must hold the data directory's archive lock,
// as for Import: Recover must not run beside a sweep. events is called from
// the calling goroutine.
func (s *Service) Sweep(ctx context.Context, opts SweepOptions, events func(SweepEvent)) (SweepSummary, error) {
	start := time.Now()
	sum := SweepSummary{HeldBy: map[string]int{}}
	if s.holds == nil {
		return sum, errNoHolds
	}
	if !opts.DryRun && s.audit == nil {
		return sum, errors.New("archive: retention deletes recordings only with an audit trail to record them in")
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultSweepBatch
	}
	report := func(ev SweepEvent) {
		switch ev.Outcome {
		case SweepDeleted:
			sum.Deleted++
		case SweepWouldDelete:
			sum.WouldDelete++
		case SweepHeld:
			sum.Held++
			for _, h := range ev.Holds {
				sum.HeldBy[h]++
			}
		case SweepFailed:
			sum.Failed++
		}
		if ev.MediaMissing {
			sum.MediaMissing++
		}
		sum.Bytes += ev.Bytes
		if events != nil {
			events(ev)
		}
	}
	done := func(err error) (SweepSummary, error) {
		sum.Elapsed = time.Since(start)
		return sum, err
	}

	now := s.now()
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return done(err)
		}
		page, err := s.recordings.ExpiredRecordings(ctx, now, after, opts.Batch)
		if err != nil {
			return done(err)
		}
		if len(page) == 0 {
			return done(nil)
		}
		after = page[len(page)-1].ID
		holds, err := s.holds.ListHolds(ctx)
		if err != nil {
			return done(err)
		}
		index := indexHolds(holds)
		var doomed []*icrec.Recording
		for _, r := range page {
			holders := index.holding(r)
			switch {
			case !expired(r, now):
				// The store's query does not decide alone what is
				// deleted.
				report(SweepEvent{Recording: r, Outcome: SweepFailed,
					Err: fmt.Errorf("the catalogue listed recording %s as expired, but it expires %v: not deleted", r.ID, r.ExpirationDate)})
			case len(holders) > 0:
				report(SweepEvent{Recording: r, Outcome: SweepHeld, Holds: holders})
			case opts.DryRun:
				report(SweepEvent{Recording: r, Outcome: SweepWouldDelete, Bytes: r.Media.Size})
			default:
				doomed = append(doomed, r)
			}
		}
		if err := s.expire(ctx, doomed, now, report); err != nil {
			return done(err)
		}
		if len(page) < opts.Batch {
			return done(nil)
		}
	}
}

// expired reports whether r's expiration date is set and not after now.
func expired(r *icrec.Recording, now time.Time) bool {
	return !r.ExpirationDate.IsZero() && !r.ExpirationDate.After(now)
}

// expire deletes a page of recordings, as Sweep describes. It returns an
// error only if it could not go on, having reported each recording it
// dealt with.
func (s *Service) expire(ctx context.Context, recs []*icrec.Recording, now time.Time, report func(SweepEvent)) error {
	if len(recs) == 0 {
		return nil
	}
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Media.Key
	}
	if err := s.recordings.AddPendingBlobs(ctx, keys...); err != nil {
		return err
	}
	// Marked, the page runs to its end whatever happens to the sweep.
	ctx = context.WithoutCancel(ctx)
	// Marks come off only where the outcome is settled; any other is left
	// for Recover, which settles it from whether the row exists.
	var settled []string
	defer func() {
		if err := s.recordings.DeletePendingBlobs(ctx, settled...); err != nil {
			s.log.Warn("clear the pending marks of a retention sweep; the next sweep, start or fsck will", "err", err)
		}
	}()

	var doomed []*icrec.Recording
	for i, err := range s.recordDeletions(ctx, recs, now) {
		r := recs[i]
		if err != nil {
			settled = append(settled, r.Media.Key) // kept whole
			report(SweepEvent{Recording: r, Outcome: SweepFailed, Err: fmt.Errorf("recording %s kept: its audit event could not be recorded: %w", r.ID, err)})
			continue
		}
		doomed = append(doomed, r)
	}
	ids := make([]string, len(doomed))
	for i, r := range doomed {
		ids[i] = r.ID
	}
	// A recording gone meanwhile is what was wanted: its media, if no other
	// recording uses it, is debris all the same.
	if _, err := s.recordings.DeleteRecordings(ctx, ids...); err != nil {
		for _, r := range doomed {
			report(SweepEvent{Recording: r, Outcome: SweepFailed, Err: fmt.Errorf("delete recording %s: %w", r.ID, err)})
		}
		return err
	}
	for _, r := range doomed {
		ev := s.deleteMedia(ctx, r)
		if ev.Outcome == SweepDeleted {
			settled = append(settled, r.Media.Key)
		}
		report(ev)
	}
	return nil
}

// recordDeletions makes durable the retention.delete event of each
// recording, side by side so that the audit trail's group commit gives the
// page a few commits rather than one each. It returns each one's error.
func (s *Service) recordDeletions(ctx context.Context, recs []*icrec.Recording, now time.Time) []error {
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	for i, r := range recs {
		detail, err := json.Marshal(struct {
			InteractionID string `json:"interactionId"`
			RecordingDate string `json:"recordingDate"`
			Expiration    string `json:"expiration"`
			SweptAt       string `json:"sweptAt"`
			MediaKey      string `json:"mediaKey"`
			Bytes         int64  `json:"bytes"`
			SHA256        string `json:"sha256"`
		}{r.InteractionID, r.RecordingDate.UTC().Format(time.RFC3339Nano), r.ExpirationDate.UTC().Format(time.RFC3339Nano),
			now.UTC().Format(time.RFC3339Nano), r.Media.Key, r.Media.Size, r.Media.SHA256})
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Go(func() {
			errs[i] = s.audit.Record(ctx, &icrec.AuditEvent{Kind: icrec.AuditRetentionDelete, RecordingID: r.ID, Outcome: "ok", Detail: string(detail)})
		})
	}
	wg.Wait()
	return errs
}

// deleteMedia deletes the media of a recording whose row is gone, unless
// another recording uses the same blob. A failure leaves the media for
// Recover or fsck: the recording is gone from the catalogue all the same.
func (s *Service) deleteMedia(ctx context.Context, r *icrec.Recording) SweepEvent {
	key := r.Media.Key
	failed := func(err error) SweepEvent {
		return SweepEvent{Recording: r, Outcome: SweepFailed,
			Err: fmt.Errorf("recording %s deleted from the catalogue, but its media %s was left for icrec fsck to remove: %w", r.ID, key, err)}
	}
	if _, err := s.recordings.RecordingByMediaKey(ctx, key); err == nil {
		return SweepEvent{Recording: r, Outcome: SweepDeleted} // another recording's media too: kept
	} else if !icrec.IsKind(err, icrec.NotFound) {
		return failed(err)
	}
	switch err := s.blobs.Delete(ctx, key); {
	case err == nil:
		return SweepEvent{Recording: r, Outcome: SweepDeleted, Bytes: r.Media.Size}
	case icrec.IsKind(err, icrec.NotFound):
		return SweepEvent{Recording: r, Outcome: SweepDeleted, MediaMissing: true}
	default:
		return failed(err)
	}
}
