package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"example.com/icrec"
)

const holdUsage = `Usage: icrec hold <command> [arguments] [flags]

Manages legal holds. While a hold holds a recording, retention never
deletes it, whatever its expiration date says. A hold names recordings by
id, selects them by a query, or both; its query is evaluated at every
retention sweep, so it also holds recordings imported after it was placed.
Holds stack: a recording under two holds stays until both are released.

Commands:
  add       place a hold
  list      list the holds
  release   release a hold

Examples:
  icrec hold add "Smith v. Acme" --query 'participant=agent7 since=2024-01-01 until=2025-01-01'
  icrec hold add "Case 4711" --recording 0DE0C017-CD4F-D013-8E31-18D8B7470001 --recordings-file ids.txt
  icrec hold list
  icrec hold release "Case 4711"

Run 'icrec hold <command> --help' for a command's flags.
`

const holdAddUsage = `Usage: icrec hold add NAME [--recording ID]... [--recordings-file FILE]
                      [--query QUERY] [--by WHO]

Places a legal hold named NAME on the recordings given by id and on those
its query matches, now or later. Ids need not be in the archive yet, and
there is no limit on how many a hold names: --recordings-file reads one id
per line ("-" for standard input; blank lines and lines starting with # are
skipped).

A query is field=value pairs separated by spaces; a recording must match
every one. Quote a value with spaces as a string literal: tag="Case 12".

  interaction=ID      the interaction id
  participant=USERID  recordings the user took part in
  workgroup=NAME      recordings of the workgroup
  media=TYPE          Call, Chat, ChatTranscript, Email, Screen, SocialConversation
  since=TIME          recorded at or after TIME
  until=TIME          recorded before TIME
  tag=TAG             recordings with the tag
  attribute=NAME=V    recordings whose attribute NAME has value V

Times are 2006-01-02T15:04:05Z, 20060102T150405Z or 2006-01-02 (midnight
UTC). Text compares ignoring case. The hold, with every id and its query,
is written to the audit trail as placed by --by (default: your login name).

Examples:
  icrec hold add "Smith v. Acme" --query 'participant=agent7 since=2024-01-01 until=2025-01-01'
  icrec hold add "Case 4711" --recordings-file - < discovery-ids.txt
`

func runHold(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, holdUsage)
		return usagef("hold", "no hold command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return runHoldAdd(ctx, rest, e)
	case "list":
		return runHoldList(ctx, rest, e)
	case "release":
		return runHoldRelease(ctx, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, holdUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, holdUsage)
		return usagef("hold", "unknown hold command %q", sub)
	}
}

func runHoldAdd(ctx context.Context, args []string, e env) error {
	var (
		data, idsFile, query, by string
		ids                      listFlag
	)
	fs := newFlagSet("hold add", holdAddUsage, e.stdout)
	fs.Var(&ids, "recording", "recording `id` to hold (repeatable)")
	fs.StringVar(&idsFile, "recordings-file", "", "`file` of recording ids to hold, one per line; - reads standard input")
	fs.StringVar(&query, "query", "", "hold the recordings this `query` matches, now and later")
	fs.StringVar(&by, "by", "", "who places the hold, for the audit trail (default: your login name)")
	pos, err := dataFlags(fs, "hold add", args, e, &data)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("hold add", "missing the hold's NAME")
	case len(pos) > 1:
		return usagef("hold add", "unexpected argument %q after NAME (quote a name with spaces)", pos[1])
	case len(ids) == 0 && idsFile == "" && query == "":
		return usagef("hold add", "give recordings (--recording, --recordings-file), a --query, or both")
	}
	h := icrec.LegalHold{Name: pos[0], RecordingIDs: ids, CreatedBy: by}
	if h.Query, err = icrec.ParseHoldQuery(query); err != nil {
		return usagef("hold add", "--query: %s", strings.TrimPrefix(icrec.ErrorMessage(err), "query: "))
	}
	if query != "" && h.Query.IsZero() {
		return usagef("hold add", "--query %q has no field=value pair", query)
	}
	if idsFile != "" {
		more, err := readIDs(idsFile, e.stdin)
		if err != nil {
			return err
		}
		h.RecordingIDs = append(h.RecordingIDs, more...)
	}
	if h.CreatedBy == "" {
		h.CreatedBy = loginName(e.getenv)
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		placed, err := a.archive.AddHold(ctx, h)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "placed legal hold %q: %s\n", placed.Name, describeHold(placed))
		return nil
	})
}

// readIDs reads recording ids, one per line, skipping blank lines and
// comments. Ids are checked by the archive; a line that cannot be an id
// is named here, with its number, since the archive sees only the list.
func readIDs(name string, stdin io.Reader) ([]string, error) {
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--recordings-file: %w", err)
		}
		defer f.Close()
		in = f
	} else {
		name = "standard input"
	}
	var ids []string
	sc := bufio.NewScanner(in)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, ok := icrec.CanonicalGUID(line); !ok {
			return nil, fmt.Errorf("--recordings-file %s, line %d: %q is not a recording id (a GUID)", name, n, clipLine(line))
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--recordings-file %s: %w", name, err)
	}
	return ids, nil
}

func clipLine(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// loginName names the person at the terminal, for the audit trail.
func loginName(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return getenv("USER")
}

// describeHold summarises what a hold holds, in one line.
func describeHold(h *icrec.LegalHold) string {
	var parts []string
	if n := len(h.RecordingIDs); n > 0 {
		parts = append(parts, fmt.Sprintf("%d recording%s by id", n, plural(n)))
	}
	if !h.Query.IsZero() {
		parts = append(parts, "recordings matching "+h.Query.String())
	}
	return strings.Join(parts, ", and ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

const holdListUsage = `Usage: icrec hold list [--json]

Lists the legal holds, oldest first: name, when and by whom placed, how
many recordings it names by id, and its query. --json prints one object per
hold, with every id.

Example:
  icrec hold list --json
`

func runHoldList(ctx context.Context, args []string, e env) error {
	var (
		data   string
		asJSON bool
	)
	fs := newFlagSet("hold list", holdListUsage, e.stdout)
	fs.BoolVar(&asJSON, "json", false, "print JSON, one object per hold")
	pos, err := dataFlags(fs, "hold list", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("hold list", "unexpected argument %q", pos[0])
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		holds, err := a.archive.Holds(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			for _, h := range holds {
				if err := enc.Encode(map[string]any{
					"name": h.Name, "created": h.Created.UTC().Format(time.RFC3339Nano), "createdBy": h.CreatedBy,
					"recordingIds": nonNil(h.RecordingIDs), "query": h.Query.String(),
				}); err != nil {
					return err
				}
			}
			return nil
		}
		if len(holds) == 0 {
			fmt.Fprintln(e.stdout, "no legal holds")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPLACED\tBY\tIDS\tQUERY")
		for _, h := range holds {
			q := h.Query.String()
			if q == "" {
				q = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", h.Name, h.Created.UTC().Format(time.DateTime), h.CreatedBy, len(h.RecordingIDs), q)
		}
		return tw.Flush()
	})
}

const holdReleaseUsage = `Usage: icrec hold release NAME [--by WHO]

Releases a legal hold. Recordings another hold holds stay held; the others
are left to retention again, and the next sweep deletes those that have
expired. The release is written to the audit trail as made by --by
(default: your login name).

Example:
  icrec hold release "Case 4711"
`

func runHoldRelease(ctx context.Context, args []string, e env) error {
	var data, by string
	fs := newFlagSet("hold release", holdReleaseUsage, e.stdout)
	fs.StringVar(&by, "by", "", "who releases the hold, for the audit trail (default: your login name)")
	pos, err := dataFlags(fs, "hold release", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("hold release", "give exactly one hold NAME (quote a name with spaces)")
	}
	if by == "" {
		by = loginName(e.getenv)
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		if err := a.archive.ReleaseHold(ctx, pos[0], by); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "released legal hold %q\n", pos[0])
		return nil
	})
}
