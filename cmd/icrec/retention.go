package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
)

const retentionUsage = `Usage: icrec retention run [--dry-run] [--list] [--batch N]

Deletes the recordings whose expiration date has passed, except those a
legal hold holds (see 'icrec hold'). Recordings without an expiration date
are kept. Each deletion is written to the audit trail before the recording
goes; then its catalogue entry and its media are removed. A sweep killed at
any instant leaves every recording whole or gone, and a rerun finishes it.

'icrec serve' runs the same sweep at start and every --retention-interval;
this command runs it now, for example from cron with the server stopped,
or to see with --dry-run what the next sweep would delete. Exit status 1 if
any recording could not be deleted.

Examples:
  icrec retention run --dry-run --list
  icrec retention run --data /var/lib/icrec
`

func runRetention(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, retentionUsage)
		return usagef("retention", "no retention command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "run":
		return runRetentionRun(ctx, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, retentionUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, retentionUsage)
		return usagef("retention", "unknown retention command %q", sub)
	}
}

func runRetentionRun(ctx context.Context, args []string, e env) error {
	var (
		data         string
		dryRun, list bool
		batch        int
	)
	fs := newFlagSet("retention run", retentionUsage, e.stdout)
	fs.BoolVar(&dryRun, "dry-run", false, "report what would be deleted, and delete nothing")
	fs.BoolVar(&list, "list", false, "print a line for every expired recording: deleted, held (and by which holds) or failed")
	fs.IntVar(&batch, "batch", archive.DefaultSweepBatch, "expired recordings deleted per transaction")
	pos, err := dataFlags(fs, "retention run", args, e, &data)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("retention run", "unexpected argument %q", pos[0])
	case batch < 1 || batch > 10000:
		return usagef("retention run", "--batch must be between 1 and 10000, not %d", batch)
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		p := newProgress(e.stderr, -1, "expired recordings")
		seen := 0
		sum, err := sweepArchive(ctx, a, archive.SweepOptions{DryRun: dryRun, Batch: batch}, func(ev archive.SweepEvent) {
			seen++
			if ev.Outcome == archive.SweepFailed {
				p.Printf("%v", ev.Err)
			}
			if list && ev.Outcome != archive.SweepFailed {
				p.Println(e.stdout, sweepLine(ev))
			}
			p.Add(1, fmt.Sprintf("%d expired recordings", seen))
		})
		p.Finish()
		fmt.Fprintln(e.stdout, sweepSummary(sum, dryRun))
		switch {
		case errors.Is(err, context.Canceled):
			return errors.New("interrupted; what was deleted is on the audit trail, and a rerun finishes the sweep")
		case err != nil:
			return err
		case sum.Failed > 0:
			return fmt.Errorf("%d expired recordings could not be deleted; see above", sum.Failed)
		}
		return nil
	})
}

// sweepArchive runs one retention sweep of a's archive. A sweep that
// deletes takes the data directory's archive lock, and first cleans up
// after anything interrupted (as an import does), so that it never runs
// beside an import, an fsck or another sweep.
func sweepArchive(ctx context.Context, a *app, opts archive.SweepOptions, events func(archive.SweepEvent)) (archive.SweepSummary, error) {
	if !opts.DryRun {
		lock, err := lockArchive(ctx, a)
		if err != nil {
			return archive.SweepSummary{}, err
		}
		defer lock.Release()
	}
	return a.archive.Sweep(ctx, opts, events)
}

// sweepLine describes one expired recording for --list.
func sweepLine(ev archive.SweepEvent) string {
	r := ev.Recording
	line := fmt.Sprintf("%-12s %s  %-8s expired %s", ev.Outcome, r.ID, r.MediaType, r.ExpirationDate.UTC().Format(time.RFC3339))
	switch {
	case ev.Outcome == archive.SweepHeld:
		line += "  held by " + strings.Join(ev.Holds, ", ")
	case ev.MediaMissing:
		line += "  (its media was missing already)"
	case ev.Bytes > 0:
		line += "  " + humanBytes(ev.Bytes)
	}
	return line
}

// sweepSummary is the one-line outcome of a sweep.
func sweepSummary(s archive.SweepSummary, dryRun bool) string {
	var b strings.Builder
	if dryRun {
		fmt.Fprintf(&b, "would delete %d recordings (%s)", s.WouldDelete, humanBytes(s.Bytes))
	} else {
		fmt.Fprintf(&b, "deleted %d recordings (%s freed)", s.Deleted, humanBytes(s.Bytes))
	}
	fmt.Fprintf(&b, "; kept %d under legal hold", s.Held)
	if len(s.HeldBy) > 0 {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(s.HeldBy)) {
			parts = append(parts, fmt.Sprintf("%s: %d", name, s.HeldBy[name]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "; %d failed", s.Failed)
	if s.MediaMissing > 0 {
		fmt.Fprintf(&b, "; %d had lost their media already (see icrec fsck)", s.MediaMissing)
	}
	fmt.Fprintf(&b, "; in %s", s.Elapsed.Round(time.Millisecond))
	return b.String()
}

// retentionLoop sweeps a's archive at once and then every interval until
// ctx ends, as 'icrec serve' does. A sweep that finds the archive locked
// (an import is running) waits for the next round.
func retentionLoop(ctx context.Context, a *app, every time.Duration, observe func(archive.SweepSummary), log *slog.Logger) {
	for {
		sweepOnce(ctx, a, observe, log)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func sweepOnce(ctx context.Context, a *app, observe func(archive.SweepSummary), log *slog.Logger) {
	sum, err := sweepArchive(ctx, a, archive.SweepOptions{}, func(ev archive.SweepEvent) {
		r := ev.Recording
		switch ev.Outcome {
		case archive.SweepDeleted:
			log.Info("retention deleted a recording", "recording", r.ID, "interaction", r.InteractionID,
				"expired", r.ExpirationDate.UTC().Format(time.RFC3339), "bytes", ev.Bytes, "media_missing", ev.MediaMissing)
		case archive.SweepHeld:
			log.Debug("retention kept a recording under legal hold", "recording", r.ID, "holds", ev.Holds)
		case archive.SweepFailed:
			log.Warn("retention could not delete a recording", "recording", r.ID, "err", ev.Err)
		}
	})
	switch {
	case errors.Is(err, datadir.ErrLocked):
		log.Info("retention sweep postponed: another icrec process holds the archive", "reason", err.Error())
		return
	case err != nil && ctx.Err() != nil:
		return
	case err != nil:
		log.Error("retention sweep failed; the next one starts over", "err", err)
	}
	if observe != nil {
		observe(sum)
	}
	level := slog.LevelDebug
	if sum.Deleted+sum.Held+sum.Failed > 0 {
		level = slog.LevelInfo
	}
	log.Log(ctx, level, "retention sweep done", "deleted", sum.Deleted, "held", sum.Held, "failed", sum.Failed,
		"bytes_freed", sum.Bytes, "elapsed", sum.Elapsed.Round(time.Millisecond).String())
}
