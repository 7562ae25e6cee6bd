package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"example.com/icrec"
	"example.com/icrec/client"
	"example.com/icrec/icws"
)

// Source is the ICWS server recordings come from; *client.Client is one.
type Source interface {
	Server() string
	FeatureVersion(ctx context.Context, id string) (int, error)
	MediaDetails(ctx context.Context, recordingID string) (icws.MediaDetails, error)
	ExportURI(ctx context.Context, recordingID string, attachment int) (string, error)
	Attributes(ctx context.Context, recordingID string) ([]icws.AttributeItem, error)
	Tags(ctx context.Context, recordingID string) ([]string, error)
	Download(ctx context.Context, uri string, w io.Writer) (*client.Media, error)
}

// Outcome is what became of one recording.
type Outcome uint8

const (
	Exported  Outcome = iota + 1 // written to the export directory, verified
	Migrated                     // stored in the archive, verified
	Skipped                      // already complete: exported before, or already in the archive
	Forbidden                    // the user may not export it (403)
	Missing                      // the server does not have it (404)
	Failed                       // Err says why
)

func (o Outcome) String() string {
	return [...]string{"", "exported", "migrated", "skipped", "forbidden", "missing", "failed"}[o]
}

// Result reports one recording.
type Result struct {
	Line    int // in the ids file
	ID      string
	Outcome Outcome
	Files   int   // media files: primary and attachments
	Bytes   int64 // of those files
	// Fetched is what this run downloaded for the recording; less than
	// Bytes when it resumed or skipped.
	Fetched  int64
	Warnings []string
	Err      error
	Elapsed  time.Duration
}

// Exporter takes recordings out of a Source into an export directory.
type Exporter struct {
	Source Source
	// Dir is the export directory; it is created if need be.
	Dir string
	// Concurrency is how many recordings are fetched at once; default 4.
	Concurrency int
	// Verify re-reads the files of recordings exported before and checks
	// their checksums before skipping them; without it their sizes are
	// checked.
	Verify bool
	// Received is called with each chunk of bytes as downloads write them,
	// from several goroutines at once.
	Received func(n int64)
	// Skip, when set, is asked before a recording is fetched; a reason
	// means the recording is Skipped with that reason as its warning.
	Skip func(ctx context.Context, id string) (reason string, err error)
	// Done receives each recording's result, one call at a time, with its
	// metadata when the recording is complete in Dir (Exported, or Skipped
	// because exported before).
	Done func(Result, *Metadata)
	Log  *slog.Logger
	Now  func() time.Time
}

// ErrExportDisabled means the server answers export-uri 410: its
// configuration took exporting out of the API.
var ErrExportDisabled = errors.New("the server has exporting turned off (export-uri answers 410 Gone)")

// Run exports the recordings, Concurrency at a time, reporting each to
// Done. It returns an error only when it cannot go on at all: the
// directory is unusable or locked, the server has no export-uri, the
// session cannot be renewed, or ctx was cancelled; recordings finished
// before that stay finished, and a new run resumes the rest.
func (x *Exporter) Run(ctx context.Context, ids []ID) error {
	if x.Log == nil {
		x.Log = slog.New(slog.DiscardHandler)
	}
	if x.Now == nil {
		x.Now = time.Now
	}
	n := x.Concurrency
	if n <= 0 {
		n = 4
	}
	if err := os.MkdirAll(x.Dir, 0o755); err != nil {
		return fmt.Errorf("export directory: %w", err)
	}
	unlock, err := lockDir(x.Dir)
	if err != nil {
		return err
	}
	defer unlock()

	rv, err := x.Source.FeatureVersion(ctx, "recordings")
	if err != nil {
		return fmt.Errorf("read the server's features: %w", err)
	}
	if rv < 2 {
		return fmt.Errorf("the server has no export-uri: its recordings feature is version %d, export-uri needs 2", rv)
	}
	if rv < 6 {
		x.Log.Warn("the server has no media-details (recordings feature before 6): metadata come from the ids file only", "recordings", rv)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan ID)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for id := range work {
				res, md := x.one(ctx, id, rv)
				if ctx.Err() != nil && res.Outcome == Failed {
					continue // cancelled: not this recording's failure
				}
				if fatal(res.Err) {
					cancel(res.Err)
					continue
				}
				mu.Lock()
				if x.Done != nil {
					x.Done(res, md)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return nil
}

// fatal tells errors that every later recording would meet too.
func fatal(err error) bool {
	return errors.Is(err, ErrExportDisabled) || icrec.IsKind(err, icrec.Unauthenticated)
}

// one exports a recording.
func (x *Exporter) one(ctx context.Context, id ID, rv int) (Result, *Metadata) {
	start := time.Now()
	res := Result{Line: id.Line, ID: id.ID}
	finish := func(o Outcome, err error) (Result, *Metadata) {
		res.Outcome, res.Err, res.Elapsed = o, err, time.Since(start)
		return res, nil
	}
	dir := filepath.Join(x.Dir, id.ID)

	// Files finished by an earlier run are kept if they still check out:
	// those of a complete recording that was damaged since, or those an
	// interrupted run noted in .partial.json.
	var kept []File
	keep := func(fs []File) {
		for _, f := range fs {
			if x.check(dir, []File{f}) == "" {
				kept = append(kept, f)
			}
		}
	}
	done, err := readMetadata(filepath.Join(dir, MetadataFile))
	if err == nil && done != nil {
		bad := x.check(dir, done.Files)
		if bad == "" {
			res.Outcome, res.Elapsed = Skipped, time.Since(start)
			res.Files, res.Bytes = len(done.Files), sumSizes(done.Files)
			return res, done
		}
		x.Log.Warn("an exported recording is damaged; exporting it again", "recording", id.ID, "problem", bad)
		if err := os.Remove(filepath.Join(dir, MetadataFile)); err != nil {
			return finish(Failed, err)
		}
		keep(done.Files)
	}
	if x.Skip != nil {
		reason, err := x.Skip(ctx, id.ID)
		if err != nil {
			return finish(Failed, err)
		}
		if reason != "" {
			res.Warnings = append(res.Warnings, reason)
			return finish(Skipped, nil)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return finish(Failed, err)
	}

	var details *icws.MediaDetails
	if rv >= 6 {
		d, err := x.Source.MediaDetails(ctx, id.ID)
		if err != nil {
			return finish(classify(err), err)
		}
		details = &d
	}

	if p, err := readMetadata(filepath.Join(dir, partialFile)); err == nil && p != nil {
		keep(p.Files)
	}
	var files []File
	for n := 0; ; n++ {
		if details != nil && n > 0 && (details.NumAttachments == nil || n > *details.NumAttachments) {
			break
		}
		if details == nil && n > 0 && !isEmail(files[0].ContentType) {
			break
		}
		if f, ok := findFile(kept, n); ok {
			files = append(files, f)
			continue
		}
		f, fetched, err := x.fetch(ctx, dir, id.ID, n)
		res.Fetched += fetched
		if err != nil {
			if details == nil && n > 0 && icrec.IsKind(err, icrec.Invalid) {
				break // no media-details: attachments are probed until the server says there are no more
			}
			return finish(classify(err), err)
		}
		files = append(files, f)
		// Note what is finished, for a run that is interrupted before the
		// recording is. After its last file metadata.json says it instead.
		last := details != nil && (details.NumAttachments == nil || n >= *details.NumAttachments)
		if !last {
			if err := writeJSONAtomic(filepath.Join(dir, partialFile), &Metadata{RecordingID: id.ID, Files: files}); err != nil {
				return finish(Failed, err)
			}
		}
	}
	// The files' renames become durable with the directories' syncs: the
	// attachments' here, the recording's with metadata.json below. Until
	// then a crash may lose a rename, which the next run finds (check)
	// and fetches again.
	if len(files) > 1 {
		if err := syncDir(filepath.Join(dir, attachDir)); err != nil {
			return finish(Failed, err)
		}
	}

	md := &Metadata{RecordingID: id.ID, Source: x.Source.Server(), ExportedAt: icws.DateTime{Time: x.Now().UTC().Truncate(time.Second)}, MediaDetails: details, Files: files}
	if attrs, err := x.Source.Attributes(ctx, id.ID); err == nil {
		md.Attributes = attrs
	} else if icrec.IsKind(err, icrec.Forbidden) {
		md.Warnings = append(md.Warnings, "attributes: the user may not read them (CanViewCustomAttributes); exported without")
	} else {
		return finish(classify(err), err)
	}
	if tags, err := x.Source.Tags(ctx, id.ID); err == nil {
		md.Tags = tags
	} else if icrec.IsKind(err, icrec.Forbidden) {
		md.Warnings = append(md.Warnings, "tags: the user may not read them (CanViewTags); exported without")
	} else {
		return finish(classify(err), err)
	}
	line, problem := manifestLine(id, md)
	md.Manifest = line
	if problem != "" {
		md.Warnings = append(md.Warnings, "not importable as it is: "+problem)
	}
	if err := writeJSONAtomic(filepath.Join(dir, MetadataFile), md); err != nil {
		return finish(Failed, err)
	}
	os.Remove(filepath.Join(dir, partialFile))
	res.Outcome, res.Elapsed, res.Warnings = Exported, time.Since(start), md.Warnings
	res.Files, res.Bytes = len(files), sumSizes(files)
	return res, md
}

// maxLinkTries bounds how often a file's download starts over with a new
// export URI, after its link expired or its transfer failed for good.
const maxLinkTries = 3

// fetch downloads attachment n (0: the primary media) into dir, resuming
// a partial file, and moves it into place once verified.
func (x *Exporter) fetch(ctx context.Context, dir, id string, n int) (File, int64, error) {
	part := filepath.Join(dir, fmt.Sprintf(".part-%d", n))
	var fetched int64
	for try := 1; ; try++ {
		uri, err := x.Source.ExportURI(ctx, id, n)
		if err != nil {
			if icrec.IsKind(err, icrec.Gone) {
				err = fmt.Errorf("%w: %w", ErrExportDisabled, err)
			}
			return File{}, fetched, err
		}
		f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return File{}, fetched, err
		}
		cf := &countingFile{File: f, add: x.Received}
		m, err := x.Source.Download(ctx, uri, cf)
		fetched += cf.n.Load()
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			retry := icrec.IsKind(err, icrec.Gone) || temporary(err)
			if !retry || try >= maxLinkTries || ctx.Err() != nil {
				what := "the primary media"
				if n > 0 {
					what = fmt.Sprintf("attachment %d", n)
				}
				return File{}, fetched, fmt.Errorf("%s: %w", what, err)
			}
			x.Log.Warn("download failed; trying again with a new export link", "recording", id, "attachment", n, "try", try, "error", err)
			continue
		}
		rel := fileFor(n, m.FileName, m.ContentType)
		final := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return File{}, fetched, err
		}
		if err := os.Rename(part, final); err != nil {
			return File{}, fetched, err
		}
		return File{AttachmentID: n, Path: rel, FileName: m.FileName, ContentType: m.ContentType, Size: m.Size, SHA256: m.SHA256, Verified: m.Verified}, fetched, nil
	}
}

func temporary(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Temporary()
}

// classify maps an error to the outcome it means for the recording.
func classify(err error) Outcome {
	switch {
	case icrec.IsKind(err, icrec.NotFound):
		return Missing
	case icrec.IsKind(err, icrec.Forbidden):
		return Forbidden
	}
	return Failed
}

// countingFile reports the bytes a download writes.
type countingFile struct {
	*os.File
	add func(int64)
	n   atomic.Int64
}

func (c *countingFile) Write(p []byte) (int, error) {
	n, err := c.File.Write(p)
	c.n.Add(int64(n))
	if c.add != nil && n > 0 {
		c.add(int64(n))
	}
	return n, err
}

func findFile(fs []File, n int) (File, bool) {
	for _, f := range fs {
		if f.AttachmentID == n {
			return f, true
		}
	}
	return File{}, false
}

func sumSizes(fs []File) int64 {
	var n int64
	for _, f := range fs {
		n += f.Size
	}
	return n
}
