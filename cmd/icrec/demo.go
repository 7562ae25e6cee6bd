package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"example.com/icrec"
	"example.com/icrec/internal/auth"
)

// demoUsers are created by serve --demo on an empty data directory: one of
// each kind of user that later features (rights, recordings) tell apart.
var demoUsers = []auth.NewUser{
	{ID: "admin", Name: "Administrator", Roles: []string{icrec.RoleAdmin}},
	{ID: "supervisor", Name: "Sam Supervisor", Roles: []string{"supervisor"}, Workgroups: []string{"Support"}},
	{ID: "agent1", Name: "Agent One", Roles: []string{"agent"}, Workgroups: []string{"Support"}},
	{ID: "agent2", Name: "Agent Two", Roles: []string{"agent"}, Workgroups: []string{"Sales"}},
}

// createDemoUsers creates the demo users if there are no users at all, and
// prints their passwords, which are stored only as hashes, this one time.
func createDemoUsers(ctx context.Context, sessions *auth.Service, password string, out io.Writer) error {
	n, err := sessions.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(out, "icrec: the data directory already has %d users; --demo created none.\n"+
			"Their passwords were shown when they were created; set a new one with: icrec user passwd USERID\n", n)
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(out, "icrec demo users (the passwords are shown only this once):")
	fmt.Fprintln(tw, "  USER\tPASSWORD\tROLES\tWORKGROUPS")
	for _, u := range demoUsers {
		pw := password
		if pw == "" {
			if pw, err = randomPassword(); err != nil {
				return err
			}
		}
		u.Password = icrec.Secret(pw)
		if _, err := sessions.AddUser(ctx, u); err != nil {
			return fmt.Errorf("create demo user %s: %w", u.ID, err)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.ID, pw, strings.Join(u.Roles, ","), strings.Join(u.Workgroups, ","))
	}
	return tw.Flush()
}

// randomPassword returns 16 characters from an alphabet without look-alikes
// (about 90 bits), easy to copy from a terminal.
func randomPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"
	// Bytes at or above the largest multiple of the alphabet's size are
	// skipped, so that every character is equally likely.
	const limit = 256 / len(alphabet) * len(alphabet)
	out := make([]byte, 0, 16)
	var buf [32]byte
	for len(out) < cap(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < cap(out) {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
