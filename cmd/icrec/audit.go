package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/audit"
)

const auditUsage = `Usage: icrec audit <command> [flags]

Reads the audit trail: logins, logouts, export links issued, downloads,
denied attempts and every administrative change. Each event is chained to
the one before it by a SHA-256 hash, so that a deleted, altered or reordered
event shows.

Commands:
  list     print events, oldest first
  verify   check the whole chain

Examples:
  icrec audit list --since 2026-12-01 --user agent1
  icrec audit list --recording 0DE0C017-CD4F-D013-8E31-18D8B7470001 --json
  icrec audit verify
`

const auditListUsage = `Usage: icrec audit list [--since T] [--until T] [--user U] [--recording R]
                        [--kind K] [--limit N] [--json]

Prints audit events, oldest first, as a table or, with --json, as one JSON
object per line. Times are 20060102T150405Z, RFC 3339 (2006-01-02T15:04:05Z)
or a date (2006-01-02, midnight UTC).

Example:
  icrec audit list --since 2026-12-01 --kind export.issued
`

const auditVerifyUsage = `Usage: icrec audit verify

Checks every event of the trail: that none is missing, that each one's hash
covers its contents, and that each follows the one before it. Exits 1 and
names the first broken event if any is.

Example:
  icrec audit verify
`

func runAudit(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, auditUsage)
		return usagef("audit", "no audit command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list":
		return runAuditList(ctx, rest, e)
	case "verify":
		return runAuditVerify(ctx, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, auditUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, auditUsage)
		return usagef("audit", "unknown audit command %q", sub)
	}
}

func runAuditList(ctx context.Context, args []string, e env) error {
	var (
		data, since, until, user, recording, kind string
		limit                                     int
		asJSON                                    bool
	)
	fs := newFlagSet("audit list", auditListUsage, e.stdout)
	fs.StringVar(&since, "since", "", "only events at or after this `time`")
	fs.StringVar(&until, "until", "", "only events before this `time`")
	fs.StringVar(&user, "user", "", "only events of this `user` id")
	fs.StringVar(&recording, "recording", "", "only events about this `recording` id")
	fs.StringVar(&kind, "kind", "", "only events of this `kind` (login, login.failed, logout, export.issued, export.download, denied, admin.user, admin.policy, admin.key, admin.import, admin.hold, recording.change, recording.email, retention.delete)")
	fs.IntVar(&limit, "limit", 0, "print at most `N` events; 0 prints all")
	fs.BoolVar(&asJSON, "json", false, "print JSON lines instead of a table")
	pos, err := dataFlags(fs, "audit list", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit list", "unexpected argument %q", pos[0])
	}
	var f icrec.AuditFilter
	for _, t := range []struct {
		flag, value string
		dst         **time.Time
	}{{"--since", since, &f.Since}, {"--until", until, &f.Until}} {
		if t.value == "" {
			continue
		}
		v, err := parseCLITime(t.value)
		if err != nil {
			return usagef("audit list", "%s %q: %v", t.flag, t.value, err)
		}
		*t.dst = &v
	}
	if user != "" {
		f.UserID = &user
	}
	if recording != "" {
		id, ok := icrec.CanonicalGUID(recording)
		if !ok {
			return usagef("audit list", "--recording %q is not a recording id (a GUID)", recording)
		}
		f.RecordingID = &id
	}
	if kind != "" {
		k := icrec.AuditKind(kind)
		if !knownAuditKind(k) {
			return usagef("audit list", "--kind %q is not an audit event kind; see --help", kind)
		}
		f.Kind = &k
	}
	if limit < 0 {
		return usagef("audit list", "--limit must not be negative")
	}
	f.Limit = limit
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		events, err := a.db.FindAudit(ctx, f)
		if err != nil {
			return err
		}
		if asJSON {
			return writeAuditJSON(e.stdout, events)
		}
		writeAuditTable(e.stdout, events)
		return nil
	})
}

func knownAuditKind(k icrec.AuditKind) bool {
	switch k {
	case icrec.AuditLogin, icrec.AuditLoginFailed, icrec.AuditLogout, icrec.AuditExportIssued, icrec.AuditDownload,
		icrec.AuditDenied, icrec.AuditUserChange, icrec.AuditPolicyChange, icrec.AuditKeyChange, icrec.AuditImport,
		icrec.AuditRecordingChange, icrec.AuditEmail, icrec.AuditRetentionDelete, icrec.AuditHoldChange:
		return true
	}
	return false
}

// parseCLITime accepts the ICWS format, RFC 3339 and a plain date.
func parseCLITime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := icws.ParseTime(s)
	if err != nil {
		return time.Time{}, errors.New("give a time as 20060102T150405Z, 2006-01-02T15:04:05Z or 2006-01-02")
	}
	return t, nil
}

// auditJSON is the --json form of an event.
type auditJSON struct {
	Seq         int64           `json:"seq"`
	Time        string          `json:"time"`
	Kind        string          `json:"kind"`
	UserID      string          `json:"userId,omitempty"`
	SessionID   string          `json:"sessionId,omitempty"`
	ClientAddr  string          `json:"clientAddr,omitempty"`
	RecordingID string          `json:"recordingId,omitempty"`
	Attachment  int             `json:"attachmentId,omitempty"`
	Outcome     string          `json:"outcome"`
	Detail      json.RawMessage `json:"detail,omitempty"`
	Hash        string          `json:"hash"`
}

func writeAuditJSON(w io.Writer, events []*icrec.AuditEvent) error {
	enc := json.NewEncoder(w)
	for _, ev := range events {
		j := auditJSON{Seq: ev.Seq, Time: ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"), Kind: string(ev.Kind), UserID: ev.UserID,
			SessionID: ev.SessionID, ClientAddr: ev.ClientAddr, RecordingID: ev.RecordingID, Attachment: ev.Attachment,
			Outcome: ev.Outcome, Hash: hex.EncodeToString(ev.Hash)}
		if ev.Detail != "" && json.Valid([]byte(ev.Detail)) {
			j.Detail = json.RawMessage(ev.Detail)
		} else if ev.Detail != "" {
			j.Detail, _ = json.Marshal(ev.Detail)
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

func writeAuditTable(w io.Writer, events []*icrec.AuditEvent) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tKIND\tUSER\tSESSION\tCLIENT\tRECORDING\tOUTCOME\tDETAIL")
	for _, ev := range events {
		rec := ev.RecordingID
		if ev.Attachment > 0 {
			rec += fmt.Sprintf(" #%d", ev.Attachment)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Seq, ev.Time.UTC().Format(time.RFC3339), ev.Kind,
			dash(ev.UserID), dash(ev.SessionID), dash(ev.ClientAddr), dash(rec), ev.Outcome, dash(oneLine(ev.Detail)))
	}
	tw.Flush()
	if len(events) == 0 {
		fmt.Fprintln(w, "(no events)")
	}
}

// oneLine keeps a table row on one line whatever a detail holds.
func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}

func runAuditVerify(ctx context.Context, args []string, e env) error {
	var data string
	fs := newFlagSet("audit verify", auditVerifyUsage, e.stdout)
	pos, err := dataFlags(fs, "audit verify", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit verify", "unexpected argument %q", pos[0])
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		res, err := audit.Verify(ctx, a.db, 0)
		if err != nil {
			return err
		}
		if !res.OK() {
			return fmt.Errorf("the audit trail is broken after %d events checked: %s", res.Checked, res.Reason)
		}
		fmt.Fprintf(e.stdout, "audit trail intact: %d events, the last is %d with hash %s\n", res.Checked, res.LastSeq, hex.EncodeToString(res.LastHash))
		return nil
	})
}
