package main

import (
	"context"
	"fmt"
	"path/filepath"

	"example.com/icrec/internal/transfer"
)

const migrateUsage = `Usage: icrec migrate --server URL --user USERID --ids FILE [--data DIR] [flags]

Moves recordings from any ICWS server, a PureConnect (CIC) server or another
icrec, into this data directory's archive, keeping their recording ids,
metadata, attributes, tags and email attachments. Each recording is
downloaded to a staging directory, checked against the SHA-256 the server
gives, imported (the import checks the media again before the recording
becomes visible), compared with the source once more (primary media and
every attachment) and its staged files removed.

Run the same command again after an interruption or failures: recordings
already in the archive are skipped without being fetched, staged ones are
resumed. A recording the user may not export (403) or that the server does
not have (404) is reported and skipped. Progress, the summary, --report and
the exit status are as for icrec export. 'icrec serve' may run meanwhile;
one import, migrate, fsck or retention sweep works on a data directory at a
time.

ICWS has no call that lists recordings and does not expose participants or
workgroups (which icrec's security policies use): give them in the ids file
(see docs/migration.md); 'icrec recordings list --json' on the source writes
such a file.

Examples:
  icrec migrate --data /srv/icrec --server https://cic1.example.com:8019 \
      --user exporter --password-file ~/.cic-password --ids ids.txt
  icrec migrate --server https://old-icrec:8019 --ca-file old-cert.pem \
      --user admin --ids ids.jsonl --report migrate-report.jsonl
`

func runMigrate(ctx context.Context, args []string, e env) error {
	var (
		src     sourceFlags
		data    string
		staging string
		workers int
	)
	fs := newFlagSet("migrate", migrateUsage, e.stdout)
	src.register(fs)
	fs.StringVar(&staging, "staging", "", "`directory` for downloads on their way into the archive (default: DATA/migrate-staging)")
	fs.IntVar(&workers, "workers", 2, "recordings stored at once")
	pos, err := dataFlags(fs, "migrate", args, e, &data)
	if err != nil {
		return err
	}
	if err := applyEnv(fs, "migrate", e.lookupEnv, append(sourceEnv, "staging")...); err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("migrate", "unexpected argument %q", pos[0])
	}
	if err := src.validate("migrate"); err != nil {
		return err
	}
	if workers < 1 || workers > 64 {
		return usagef("migrate", "--workers must be between 1 and 64, not %d", workers)
	}
	if staging == "" {
		staging = filepath.Join(data, "migrate-staging")
	}
	ids, err := src.readIDs("migrate", e)
	if err != nil {
		return err
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		lock, err := lockArchive(ctx, a)
		if err != nil {
			return err
		}
		defer lock.Release()
		c, err := src.connect(ctx, e)
		if err != nil {
			return err
		}
		defer c.Close(context.WithoutCancel(ctx))

		fmt.Fprintf(e.stderr, "migrating %d recordings from %s as %s into %s, %d at a time\n", len(ids), c.Server(), src.user, data, src.concurrency)
		t, err := newTally(e, "migrated", len(ids), src.report)
		if err != nil {
			return err
		}
		m := &transfer.Migrator{
			Exporter: transfer.Exporter{
				Source:      c,
				Dir:         staging,
				Concurrency: src.concurrency,
				Received:    func(n int64) { t.received.Add(n) },
				Log:         discardLogger(),
			},
			Archive: a.archive,
			Workers: workers,
			Done:    t.add,
		}
		return t.finish(m.Run(ctx, ids))
	})
}
