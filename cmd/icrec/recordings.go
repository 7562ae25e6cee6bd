package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/manifest"
)

const recordingsUsage = `Usage: icrec recordings <command> [flags]

Reads the recording catalogue of the data directory.

Commands:
  list     list recordings, oldest first

Examples:
  icrec recordings list --since 2024-01-01 --until 2024-02-01 --media Call
  icrec recordings list --json > ids.jsonl

Run 'icrec recordings <command> --help' for a command's flags.
`

const recordingsListUsage = `Usage: icrec recordings list [--since T] [--until T] [--media TYPE]
                             [--interaction ID] [--json]

Lists the recordings of the archive by recording date, then id: as a
table, or with --json as one JSON object per line. Each such line is an
import-manifest line (docs/import.md) without "file": export and migrate
read it as an ids file, keeping the participants and workgroups that the
ICWS API does not show, and with a "file" added, icrec import reads it
(docs/migration.md). The number of recordings listed goes to standard
error.

The catalogue is read a page at a time, so a listing of millions of
recordings starts at once and takes little memory; it may run beside
icrec serve and imports.

--since is inclusive and --until exclusive. Times are 20060102T150405Z,
RFC 3339 (2006-01-02T15:04:05Z) or a date (2006-01-02, midnight UTC).
--media is Call, Chat, ChatTranscript, Email, Screen, SocialConversation or
Unknown, in any case, or its ICWS number 0-6.

Examples:
  icrec recordings list --since 2024-01-01 --until 2024-02-01 --media call
  icrec recordings list --interaction 1001365309 --json
`

// recordingsPage is how many recordings one query of a listing reads.
// Tests lower it to cross pages with a small archive.
var recordingsPage = 1000

func runRecordings(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, recordingsUsage)
		return usagef("recordings", "no recordings command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list":
		return runRecordingsList(ctx, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, recordingsUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, recordingsUsage)
		return usagef("recordings", "unknown recordings command %q", sub)
	}
}

func runRecordingsList(ctx context.Context, args []string, e env) error {
	const cmd = "recordings list"
	var (
		data, since, until, media, interaction string
		asJSON                                 bool
	)
	fs := newFlagSet(cmd, recordingsListUsage, e.stdout)
	fs.StringVar(&since, "since", "", "only recordings made at or after this `time`")
	fs.StringVar(&until, "until", "", "only recordings made before this `time`")
	fs.StringVar(&media, "media", "", "only recordings of this media `type`: a name or its number")
	fs.StringVar(&interaction, "interaction", "", "only the recordings of the interaction with this `id`")
	fs.BoolVar(&asJSON, "json", false, "print one import-manifest line (without \"file\") per recording instead of a table")
	pos, err := dataFlags(fs, cmd, args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef(cmd, "unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	f := icrec.RecordingFilter{Limit: recordingsPage}
	for _, t := range []struct {
		flag, value string
		dst         **time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if !set[t.flag] {
			continue
		}
		v, err := parseCLITime(t.value)
		if err != nil {
			return usagef(cmd, "--%s %q: %v", t.flag, t.value, err)
		}
		*t.dst = &v
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		return usagef(cmd, "--until %s is before --since %s", until, since)
	}
	if set["media"] {
		m, err := icrec.ParseMediaType(media)
		if err != nil {
			return usagef(cmd, "--media %q is not a media type: give one of %s, or its number", media, mediaTypeNames())
		}
		f.MediaType = &m
	}
	if set["interaction"] {
		// Imports trim interaction ids; so does the filter, for an id
		// pasted with the space around it.
		id := strings.TrimSpace(interaction)
		if id == "" {
			return usagef(cmd, "--interaction must not be empty")
		}
		f.InteractionID = &id
	}
	// Opening a data directory creates it; a listing must not, or a
	// mistyped --data would list an empty archive and leave it behind.
	if _, err := os.Stat(data); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no data directory %s (--data, ICREC_DATA)", data)
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		n, err := listRecordings(ctx, a, f, asJSON, e)
		fmt.Fprintf(e.stderr, "%d recording%s\n", n, plural(n))
		return err
	})
}

// listRecordings writes the recordings f selects, a page at a time, each
// page flushed before the next is read, and returns how many it wrote.
// A table's columns are as wide as one page needs; a page of a thousand
// recordings sets them for the rest in all but odd archives.
func listRecordings(ctx context.Context, a *app, f icrec.RecordingFilter, asJSON bool, e env) (int, error) {
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	n := 0
	header := !asJSON
	for {
		page, err := a.archive.Recordings(ctx, f)
		if err != nil {
			return n, err
		}
		if asJSON {
			for _, r := range page {
				line, err := manifest.Marshal(&manifest.Entry{Recording: *r})
				if err != nil {
					return n, fmt.Errorf("recording %s: %w", r.ID, err)
				}
				out.Write(line)
				out.WriteByte('\n')
				n++
			}
		} else {
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if header {
				fmt.Fprintln(tw, "RECORDING ID\tDATE\tMEDIA\tDURATION\tSIZE\tINTERACTION\tATTACH")
				header = false
			}
			for _, r := range page {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.RecordingDate.UTC().Format(time.RFC3339), r.MediaType,
					clock(r.Duration), humanBytes(r.Media.Size), r.InteractionID, attachments(r))
				n++
			}
			if err := tw.Flush(); err != nil {
				return n, err
			}
		}
		if err := out.Flush(); err != nil {
			return n, err
		}
		if f.Limit <= 0 || len(page) < f.Limit {
			return n, nil
		}
		last := page[len(page)-1]
		f.After = &icrec.RecordingCursor{RecordingDate: last.RecordingDate, ID: last.ID}
	}
}

// mediaTypeNames lists the names of the ICWS media types.
func mediaTypeNames() string {
	var names []string
	for m := icrec.MediaType(0); m.Valid(); m++ {
		names = append(names, m.String())
	}
	return strings.Join(names, ", ")
}

// clock writes a recording's length as hours:minutes:seconds, as players
// show it; "-" for none (emails, or a length the recorder did not give).
func clock(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// attachments is the ATTACH column: how many attachments an email has.
func attachments(r *icrec.Recording) string {
	if r.MediaType != icrec.MediaEmail {
		return "-"
	}
	return strconv.Itoa(len(r.Attachments))
}
