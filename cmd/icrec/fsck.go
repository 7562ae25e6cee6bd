package main

import (
	"context"
	"fmt"
	"time"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
)

const fsckUsage = `Usage: icrec fsck [--data DIR] [--quick]

Checks the archive: every recording's media is present, has the recorded
size and checksum and, unless --quick, really has that content (every byte
is read and hashed; an email's attachment index is rebuilt and compared);
and every stored file belongs to a recording. It first removes what an
interrupted import left behind, and otherwise changes nothing: it reports
what is wrong for you to decide. Exit status 1 if anything is wrong.

Examples:
  icrec fsck --data /var/lib/icrec
  icrec fsck --quick
`

func runFsck(ctx context.Context, args []string, e env) error {
	var (
		data  string
		quick bool
	)
	fs := newFlagSet("fsck", fsckUsage, e.stdout)
	fs.BoolVar(&quick, "quick", false, "compare sizes and stored checksums without reading the media")
	pos, err := dataFlags(fs, "fsck", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("fsck", "unexpected argument %q", pos[0])
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		lock, err := datadir.TryLock(data)
		if err != nil {
			return err
		}
		defer lock.Release()
		start := time.Now()
		p := newProgress(e.stderr, -1, "recordings")
		last := 0
		rep, err := a.archive.Fsck(ctx, archive.FsckOptions{Quick: quick}, func(fp archive.FsckProgress) {
			p.Add(fp.Recordings-last, fmt.Sprintf("%d of %d recordings, %s read", fp.Recordings, fp.Total, humanBytes(fp.Bytes)))
			last = fp.Recordings
		})
		p.Finish()
		if err != nil {
			return err
		}
		if n := rep.Recovered.PendingBlobs + rep.Recovered.TempFiles; n > 0 {
			fmt.Fprintf(e.stdout, "removed what an interrupted import left behind: %d media files, %d unfinished writes\n", rep.Recovered.PendingBlobs, rep.Recovered.TempFiles)
		}
		for _, pr := range rep.Problems {
			fmt.Fprintln(e.stdout, pr)
		}
		fmt.Fprintf(e.stdout, "checked %d recordings and %d media files (%s read) in %s: %d problems\n",
			rep.Recordings, rep.Blobs, humanBytes(rep.BytesVerified), time.Since(start).Round(time.Millisecond), len(rep.Problems))
		if len(rep.Problems) > 0 {
			return fmt.Errorf("the archive has %d problems; see above", len(rep.Problems))
		}
		return nil
	})
}
