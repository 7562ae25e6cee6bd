package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/manifest"
)

// Migrator takes recordings out of a Source straight into an archive. Each
// recording is exported to a staging directory, imported from there (the
// import checks the media against the SHA-256 the download verified
// before the recording becomes visible, as any import does), checked once
// more against the source (primary media and every email attachment), and
// its staged files removed. A rerun skips recordings already in the
// archive and resumes staged ones.
type Migrator struct {
	// Exporter fetches into the staging directory (Exporter.Dir). Its Skip
	// and Done are the Migrator's own.
	Exporter Exporter
	Archive  *archive.Service
	// Workers store recordings at once; default 2.
	Workers int
	// Done receives each recording's result, one call at a time.
	Done func(Result)
}

type staged struct {
	res Result
	md  *Metadata
}

// Run migrates the recordings. The caller holds the data directory's
// archive lock. Errors are as Exporter.Run's.
func (m *Migrator) Run(ctx context.Context, ids []ID) error {
	var (
		mu      sync.Mutex
		byLine  = map[int]*staged{} // manifest line fed to the import → its recording
		written int
	)
	report := func(r Result) {
		if m.Done != nil {
			m.Done(r)
		}
	}
	pr, pw := io.Pipe()
	x := m.Exporter
	x.Skip = func(ctx context.Context, id string) (string, error) {
		_, err := m.Archive.Recording(ctx, id)
		switch {
		case err == nil:
			return "already in the archive", nil
		case icrec.IsKind(err, icrec.NotFound):
			return "", nil
		}
		return "", err
	}
	x.Done = func(r Result, md *Metadata) {
		if md == nil || (r.Outcome != Exported && r.Outcome != Skipped) {
			mu.Lock()
			report(r)
			mu.Unlock()
			return
		}
		var line bytes.Buffer
		if err := json.Compact(&line, md.Manifest); err != nil || line.Len() == 0 {
			r.Outcome, r.Err = Failed, fmt.Errorf("no manifest line to import: %v", md.Warnings)
			mu.Lock()
			report(r)
			mu.Unlock()
			return
		}
		line.WriteByte('\n')
		mu.Lock()
		written++
		byLine[written] = &staged{res: r, md: md}
		mu.Unlock()
		// Blocks while the import is busy: that holds the export back
		// rather than the staging directory growing without bound.
		pw.Write(line.Bytes())
	}

	workers := m.Workers
	if workers <= 0 {
		workers = 2
	}
	importDone := make(chan error, 1)
	go func() {
		_, err := m.Archive.Import(context.WithoutCancel(ctx), pr, archive.ImportOptions{Dir: x.Dir, Workers: workers, Batch: 1}, func(ev archive.ImportEvent) {
			mu.Lock()
			defer mu.Unlock()
			s := byLine[ev.Line]
			if s == nil {
				return
			}
			delete(byLine, ev.Line)
			report(m.settle(ctx, x.Dir, s, ev))
		})
		pr.CloseWithError(err) // unblocks a writer if the import stopped early
		importDone <- err
	}()
	runErr := x.Run(ctx, ids)
	pw.Close()
	importErr := <-importDone
	mu.Lock()
	for _, s := range byLine {
		s.res.Outcome, s.res.Err = Failed, errors.New("the import did not take it; run the migration again")
		report(s.res)
	}
	mu.Unlock()
	if runErr != nil {
		return runErr
	}
	if importErr != nil {
		return fmt.Errorf("import: %w", importErr)
	}
	return nil
}

// settle turns the import's word on a staged recording into its result,
// checking the stored recording against the source's files.
func (m *Migrator) settle(ctx context.Context, dir string, s *staged, ev archive.ImportEvent) Result {
	r := s.res
	start := time.Now()
	defer func() { r.Elapsed += time.Since(start) }()
	if ev.Outcome == archive.Failed {
		r.Outcome = Failed
		var me *manifest.Error
		if errors.As(ev.Err, &me) {
			// The line number is of the manifest fed to the import, which
			// nobody sees; the field and cause are what matter.
			if me.Field != "" {
				r.Err = fmt.Errorf("import: %s: %w (staged files kept in %s)", me.Field, me.Err, filepath.Join(dir, r.ID))
			} else {
				r.Err = fmt.Errorf("import: %w (staged files kept in %s)", me.Err, filepath.Join(dir, r.ID))
			}
		} else {
			r.Err = fmt.Errorf("import: %w", ev.Err)
		}
		return r
	}
	rec, err := m.Archive.Recording(context.WithoutCancel(ctx), r.ID)
	if err != nil {
		r.Outcome, r.Err = Failed, fmt.Errorf("read back after import: %w", err)
		return r
	}
	if problems := compare(rec, s.md.Files); len(problems) > 0 {
		r.Outcome = Migrated
		for _, p := range problems {
			r.Warnings = append(r.Warnings, p+fmt.Sprintf(" (the source's files are kept in %s)", filepath.Join(dir, r.ID)))
		}
		return r
	}
	r.Outcome = Migrated
	if ev.Outcome == archive.Skipped {
		r.Outcome = Skipped
		r.Warnings = append(r.Warnings, "already in the archive with the same media")
	}
	if err := os.RemoveAll(filepath.Join(dir, r.ID)); err != nil {
		r.Warnings = append(r.Warnings, "could not remove its staged files: "+err.Error())
	}
	return r
}

// compare checks a stored recording against the files the source served:
// the primary media byte for byte (by SHA-256), and each attachment as the
// archive decodes it against the source's own decoding.
func compare(rec *icrec.Recording, files []File) []string {
	var out []string
	for _, f := range files {
		if f.AttachmentID == 0 {
			if rec.Media.SHA256 != f.SHA256 || rec.Media.Size != f.Size {
				out = append(out, fmt.Sprintf("primary media: the archive holds %d bytes with SHA-256 %s, the source served %d with %s", rec.Media.Size, rec.Media.SHA256, f.Size, f.SHA256))
			}
			continue
		}
		if f.AttachmentID > len(rec.Attachments) {
			out = append(out, fmt.Sprintf("attachment %d: the source has it, the archive finds %d attachments in the message", f.AttachmentID, len(rec.Attachments)))
			continue
		}
		a := rec.Attachments[f.AttachmentID-1]
		if a.SHA256 != f.SHA256 || a.Size != f.Size {
			out = append(out, fmt.Sprintf("attachment %d: the archive decodes %d bytes with SHA-256 %s, the source served %d with %s", f.AttachmentID, a.Size, a.SHA256, f.Size, f.SHA256))
		}
	}
	if n := len(files) - 1; len(rec.Attachments) > n {
		out = append(out, fmt.Sprintf("the archive finds %d attachments in the message, the source served %d", len(rec.Attachments), n))
	}
	return out
}
