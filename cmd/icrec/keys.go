package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/signedurl"
)

const keysUsage = `Usage: icrec keys <command> [flags]

Manages the keys that sign export links, kept in keys/link-keys.json in the
data directory (readable by its owner only). The newest key signs new links;
a rotated-out key goes on verifying the links it signed for 8 days, longer
than any link lives, so rotating never breaks a live link. A running server
picks a new key up by itself.

Commands:
  rotate   add a new signing key and retire the current one
  list     list the keys (never their secrets)

Examples:
  icrec keys rotate --data /var/lib/icrec
  icrec keys list
`

const keysRotateUsage = `Usage: icrec keys rotate

Adds a new signing key, retires the current one (it keeps verifying for 8
days), and drops keys retired longer ago than that. The change is audited.

Example:
  icrec keys rotate --data /var/lib/icrec
`

const keysListUsage = `Usage: icrec keys list

Lists the export link keys: id, created, retired, and whether the key signs
or only verifies. Secrets are never printed.

Example:
  icrec keys list
`

func runKeys(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, keysUsage)
		return usagef("keys", "no keys command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "rotate":
		return runKeysRotate(ctx, rest, e)
	case "list":
		return runKeysList(ctx, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, keysUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, keysUsage)
		return usagef("keys", "unknown keys command %q", sub)
	}
}

func keyFile(data string) string {
	return filepath.Join(data, filepath.FromSlash(datadir.LinkKeysFile))
}

func runKeysRotate(ctx context.Context, args []string, e env) error {
	var data string
	fs := newFlagSet("keys rotate", keysRotateUsage, e.stdout)
	pos, err := dataFlags(fs, "keys rotate", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("keys rotate", "unexpected argument %q", pos[0])
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		rot, err := signedurl.Rotate(keyFile(data), time.Now())
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"action": "rotate", "new": rot.New.ID, "retired": rot.Retired, "dropped": rot.Dropped})
		if err := a.audit.Record(ctx, &icrec.AuditEvent{Kind: icrec.AuditKeyChange, Outcome: "ok", Detail: string(detail)}); err != nil {
			return fmt.Errorf("the key was rotated, but the audit trail did not record it: %w", err)
		}
		fmt.Fprintf(e.stdout, "new signing key %s", rot.New.ID)
		if len(rot.Retired) > 0 {
			fmt.Fprintf(e.stdout, "; retired %s (verifying until %s)", strings.Join(rot.Retired, ", "),
				time.Now().Add(signedurl.RetireAfter).UTC().Format(time.RFC3339))
		}
		if len(rot.Dropped) > 0 {
			fmt.Fprintf(e.stdout, "; dropped %s", strings.Join(rot.Dropped, ", "))
		}
		fmt.Fprintln(e.stdout)
		return nil
	})
}

func runKeysList(ctx context.Context, args []string, e env) error {
	var data string
	fs := newFlagSet("keys list", keysListUsage, e.stdout)
	pos, err := dataFlags(fs, "keys list", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("keys list", "unexpected argument %q", pos[0])
	}
	ring, err := signedurl.Load(keyFile(data), time.Now())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tRETIRED\tUSE")
	signing := ring.SigningKeyID()
	for _, k := range ring.Keys() {
		retired, use := "-", "verifies"
		if !k.Retired.IsZero() {
			retired = k.Retired.UTC().Format(time.RFC3339)
			use = "verifies until " + k.Retired.Add(signedurl.RetireAfter).UTC().Format(time.RFC3339)
		}
		if k.ID == signing {
			use = "signs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Created.UTC().Format(time.RFC3339), retired, use)
	}
	return tw.Flush()
}
