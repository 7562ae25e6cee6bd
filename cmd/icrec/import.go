package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"example.com/icrec/internal/archive"
)

const importUsage = `Usage: icrec import [--data DIR] [--dry-run] [--workers N] MANIFEST.jsonl

Brings recordings into the archive from a manifest: one JSON object per line,
fields named as in ICWS media-details plus "file" (relative to the manifest),
participants, workgroups, attributes and tags (see docs/import.md). "-" reads
the manifest from standard input; its paths are then relative to the current
directory.

Each line is checked whole (fields, file, content type, checksum, email
structure) before anything is written for it; a line that fails is reported
and the import goes on. A recording already present with the same media is
skipped; with different media it fails and nothing is overwritten. An import
interrupted at any moment, even by kill -9, leaves every recording whole or
absent; run it again to finish. Exit status 1 if any line failed.

Examples:
  icrec import /mnt/export/manifest.jsonl
  icrec import --dry-run manifest.jsonl
  icrec export --server URL --user U --ids ids.txt --out /mnt/export && icrec import /mnt/export/manifest.jsonl
`

func runImport(ctx context.Context, args []string, e env) error {
	var (
		data    string
		dryRun  bool
		workers int
	)
	fs := newFlagSet("import", importUsage, e.stdout)
	fs.BoolVar(&dryRun, "dry-run", false, "check everything and write nothing")
	fs.IntVar(&workers, "workers", 4, "recordings read and stored at once")
	pos, err := dataFlags(fs, "import", args, e, &data)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usagef("import", "give exactly one MANIFEST (or - for standard input)")
	case workers < 1 || workers > 256:
		return usagef("import", "--workers must be between 1 and 256, not %d", workers)
	}

	var (
		in    io.Reader
		dir   string
		total int64 = -1
	)
	if pos[0] == "-" {
		in, dir = e.stdin, "."
	} else {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("open the manifest: %w", err)
		}
		defer f.Close()
		if total, err = countLines(f); err != nil {
			return fmt.Errorf("read the manifest: %w", err)
		}
		in, dir = f, filepath.Dir(pos[0])
	}

	return withApp(ctx, data, discardLogger(), func(a *app) error {
		if !dryRun {
			lock, err := lockArchive(ctx, a)
			if err != nil {
				return err
			}
			defer lock.Release()
		}
		verb := "importing"
		if dryRun {
			verb = "checking"
		}
		fmt.Fprintf(e.stderr, "%s %s with %d workers into %s\n", verb, manifestName(pos[0], total), workers, data)
		p := newProgress(e.stderr, total, "recordings")
		var bytes int64
		failed := 0
		sum, err := a.archive.Import(ctx, in, archive.ImportOptions{Dir: dir, Workers: workers, DryRun: dryRun}, func(ev archive.ImportEvent) {
			bytes += ev.Bytes
			if ev.Outcome == archive.Failed {
				failed++
				p.Printf("%v", ev.Err)
			}
			desc := humanBytes(bytes)
			if failed > 0 {
				desc += fmt.Sprintf(", %d failed", failed)
			}
			p.Add(1, desc)
		})
		p.Finish()
		printImportSummary(e, sum, dryRun)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return errors.New("interrupted; the recordings imported so far are kept, and a rerun finishes the import")
			}
			return err
		}
		if sum.Failed > 0 {
			return fmt.Errorf("%d of %d lines failed; fix them and run the import again (the rest is skipped)", sum.Failed, sum.Imported+sum.Skipped+sum.Checked+sum.Failed)
		}
		return nil
	})
}

func manifestName(name string, lines int64) string {
	if name == "-" {
		return "the manifest on standard input"
	}
	return fmt.Sprintf("%s (%d lines)", name, lines)
}

func printImportSummary(e env, s archive.ImportSummary, dryRun bool) {
	secs := s.Elapsed.Seconds()
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf(" (%s/s, %s recordings/s)", humanBytes(int64(float64(s.Bytes)/secs)), perSecond(float64(s.Imported+s.Checked)/secs))
	}
	if dryRun {
		fmt.Fprintf(e.stdout, "checked %d, would skip %d, failed %d; %s read in %s%s\n", s.Checked, s.Skipped, s.Failed, humanBytes(s.Bytes), s.Elapsed.Round(time.Millisecond), rate)
		return
	}
	fmt.Fprintf(e.stdout, "imported %d, skipped %d, failed %d; %s in %s%s\n", s.Imported, s.Skipped, s.Failed, humanBytes(s.Bytes), s.Elapsed.Round(time.Millisecond), rate)
}

// perSecond formats a rate with the precision it needs: 0.3, 12, 1500.
func perSecond(r float64) string {
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

// countLines counts the non-blank lines of a file, for the progress bar, and
// rewinds it.
func countLines(f *os.File) (int64, error) {
	var n int64
	br := bufio.NewReaderSize(f, 256<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 && !errors.Is(err, bufio.ErrBufferFull) {
			n++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, err
		}
	}
	_, err := f.Seek(0, io.SeekStart)
	return n, err
}
