package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
)

const rightsUsage = `Usage: icrec rights USERID RECORDINGID

Prints what a user may do with a recording, and which policy granted each
right.

Example:
  icrec rights agent1 0DE0C017-CD4F-D013-8E31-18D8B7470001
`

func runRights(ctx context.Context, args []string, e env) error {
	var data string
	fs := newFlagSet("rights", rightsUsage, e.stdout)
	pos, err := dataFlags(fs, "rights", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("rights", "give USERID and RECORDINGID")
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		u, err := a.db.FindUserByID(ctx, pos[0])
		if err != nil {
			return err
		}
		r, err := a.archive.Recording(ctx, pos[1])
		if err != nil {
			return err
		}
		g, err := a.archive.Rights(ctx, u, r)
		if err != nil {
			return err
		}
		printGrant(e, u, r, g)
		return nil
	})
}

func printGrant(e env, u *icrec.User, r *icrec.Recording, g archive.Grant) {
	fmt.Fprintf(e.stdout, "user %s on recording %s (%s, %s):\n", u.ID, r.ID, r.MediaType, r.RecordingDate.Format("2006-01-02 15:04 MST"))
	if u.Disabled {
		fmt.Fprintln(e.stdout, "  the user is disabled: no rights")
		return
	}
	fmt.Fprintf(e.stdout, "  rights: %s (%d)\n", g.Rights, uint32(g.Rights))
	if g.Rights == 0 {
		fmt.Fprintln(e.stdout, "  no policy applies to this user and recording")
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, right := range g.Rights.Each() {
		var from []string
		for _, s := range g.Sources {
			if s.Rights&right != 0 {
				from = append(from, s.Policy)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\n", right, strings.Join(from, "; "))
	}
	tw.Flush()
}
