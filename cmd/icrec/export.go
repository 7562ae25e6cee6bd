package main

import (
	"context"
	"fmt"

	"example.com/icrec/internal/transfer"
)

const exportUsage = `Usage: icrec export --server URL --user USERID --ids FILE --out DIR [flags]

Takes recordings out of any ICWS server, a PureConnect (CIC) server or
icrec, through its API: for each recording id, its media-details, primary
media, every email attachment, attributes and tags, written as

  DIR/<id>/<file>             the primary media, named as the server names it
  DIR/<id>/attachments/<n>-<name>
  DIR/<id>/metadata.json      what the server said, and each file's SHA-256
  DIR/manifest.jsonl          icrec's import format: icrec import DIR/manifest.jsonl

Every download is checked against the SHA-256 the server gives (icrec gives
one as the ETag) and its announced length; a file is in place only once it
checks out, and metadata.json, written last, marks a recording complete.
Run the same command again after an interruption or failures: complete
recordings are skipped, partial files resumed. A recording the user may
not export (403) or that the server does not have (404) is reported and
skipped. On a terminal a progress bar shows recordings, bytes, rate, ETA
and failures; a summary follows. Exit status 1 if any recording was not
exported, 2 for a bad command line.

The ids file has one recording id per line (or a JSON object with
recordingId and manifest fields the API does not expose, such as
participants and workgroups); see docs/migration.md for how to list them
from a PureConnect Interaction Recorder database or from icrec.

Examples:
  icrec export --server https://cic1.example.com:8019 --user exporter \
      --password-file ~/.cic-password --ids ids.txt --out /mnt/export
  icrec recordings list --json --since 2024-01-01 > ids.jsonl
  icrec export --server http://127.0.0.1:8018 --user admin --ids ids.jsonl \
      --out export --concurrency 8 --report export-report.jsonl
`

func runExport(ctx context.Context, args []string, e env) error {
	var (
		src    sourceFlags
		out    string
		verify bool
	)
	fs := newFlagSet("export", exportUsage, e.stdout)
	src.register(fs)
	fs.StringVar(&out, "out", "", "export `directory`; created if need be")
	fs.BoolVar(&verify, "verify", false, "re-read the files of recordings exported before and check their SHA-256 before skipping them (default: check their sizes)")
	pos, err := parseFlags(fs, "export", args)
	if err != nil {
		return err
	}
	if err := applyEnv(fs, "export", e.lookupEnv, append(sourceEnv, "out")...); err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("export", "unexpected argument %q", pos[0])
	}
	if err := src.validate("export"); err != nil {
		return err
	}
	if out == "" {
		return usagef("export", "--out is required: the directory to export into")
	}
	ids, err := src.readIDs("export", e)
	if err != nil {
		return err
	}
	c, err := src.connect(ctx, e)
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))

	fmt.Fprintf(e.stderr, "exporting %d recordings from %s as %s into %s, %d at a time\n", len(ids), c.Server(), src.user, out, src.concurrency)
	t, err := newTally(e, "exported", len(ids), src.report)
	if err != nil {
		return err
	}
	x := &transfer.Exporter{
		Source:      c,
		Dir:         out,
		Concurrency: src.concurrency,
		Verify:      verify,
		Received:    func(n int64) { t.received.Add(n) },
		Done:        func(r transfer.Result, _ *transfer.Metadata) { t.add(r) },
		Log:         discardLogger(),
	}
	runErr := x.Run(ctx, ids)
	// The manifest covers every recording complete in the directory, from
	// this run and earlier ones; it is written even after an interruption.
	if n, err := transfer.WriteManifest(out); err != nil && runErr == nil {
		runErr = fmt.Errorf("write %s: %w", transfer.ManifestFile, err)
	} else if err == nil {
		defer fmt.Fprintf(e.stderr, "%s/%s lists %d recordings\n", out, transfer.ManifestFile, n)
	}
	return t.finish(runErr)
}
