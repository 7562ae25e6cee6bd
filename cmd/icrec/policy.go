package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
)

const policyUsage = `Usage: icrec policy <command> [arguments] [flags]

Manages the recording security policies: who may do what with which
recordings. A user's rights on a recording are the union of every policy
that applies, plus two built-in ones: users with the admin role have every
right on every recording, and participants may read and play the
recordings they took part in.

Commands:
  add      add a policy at the end of the order
  list     list the policies in order
  delete   delete a policy
  move     move a policy before another

Examples:
  icrec policy add --name "Support QA" --role supervisor --scope workgroup:Support --rights read,play,export
  icrec policy list
  icrec policy move "Support QA" --before "Everyone plays own"
  icrec rights agent1 0DE0C017-CD4F-D013-8E31-18D8B7470001

Run 'icrec policy <command> --help' for a command's flags.
`

const policyAddUsage = `Usage: icrec policy add --name NAME [--user U]... [--role R]... [--workgroup W]...
                        [--scope SCOPE]... --rights LIST

Adds a policy at the end of the order. It applies to the users named, to
every user holding one of the roles, and to every member of one of the
workgroups (--user '*' means everyone). It covers the recordings its scopes
select: all, own (recordings the user took part in), workgroup:NAME and
media:TYPE (Call, Chat, ChatTranscript, Email, Screen, SocialConversation).
Scopes of one kind are alternatives; different kinds must all hold, so
--scope workgroup:Support --scope media:Call covers Support's calls. No scope
means all.

Rights: all, or a comma-separated list of ` + "%s" + `.

Example:
  icrec policy add --name "Support QA" --role supervisor --scope workgroup:Support --rights read,play,export
`

func runPolicy(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, policyUsage)
		return usagef("policy", "no policy command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return runPolicyAdd(ctx, rest, e)
	case "list":
		return runPolicyList(ctx, rest, e)
	case "delete":
		return runPolicyDelete(ctx, rest, e)
	case "move":
		return runPolicyMove(ctx, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, policyUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, policyUsage)
		return usagef("policy", "unknown policy command %q", sub)
	}
}

func runPolicyAdd(ctx context.Context, args []string, e env) error {
	var (
		data, name, rights              string
		users, roles, workgroups, scope listFlag
	)
	fs := newFlagSet("policy add", fmt.Sprintf(policyAddUsage, strings.Join(icrec.RightNames(), ", ")), e.stdout)
	fs.StringVar(&name, "name", "", "policy `name` (required)")
	fs.Var(&users, "user", "user `id` the policy applies to; * for everyone (repeatable)")
	fs.Var(&roles, "role", "`role` whose holders it applies to (repeatable)")
	fs.Var(&workgroups, "workgroup", "`workgroup` whose members it applies to (repeatable)")
	fs.Var(&scope, "scope", "recordings covered: all, own, workgroup:NAME, media:TYPE (repeatable)")
	fs.StringVar(&rights, "rights", "", "rights granted: all, or a `list` such as read,play,export (required)")
	pos, err := dataFlags(fs, "policy add", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("policy add", "unexpected argument %q (the name goes in --name)", pos[0])
	}
	if name == "" {
		return usagef("policy add", "--name is required")
	}
	if rights == "" {
		return usagef("policy add", "--rights is required")
	}
	in := archive.NewPolicy{Name: name, Users: users, Roles: roles, Workgroups: workgroups}
	if in.Rights, err = icrec.ParseRights(rights); err != nil {
		return usagef("policy add", "--rights: %v", err)
	}
	for _, s := range scope {
		sc, err := icrec.ParseScope(s)
		if err != nil {
			return usagef("policy add", "--scope: %v", err)
		}
		in.Scopes = append(in.Scopes, sc)
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		p, err := a.archive.AddPolicy(ctx, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added policy %q at position %d\n", p.Name, p.Position)
		return nil
	})
}

func runPolicyList(ctx context.Context, args []string, e env) error {
	var (
		data   string
		asJSON bool
	)
	fs := newFlagSet("policy list", "Usage: icrec policy list [--json]\n\nLists the policies in order.\n\nExample:\n  icrec policy list --json\n", e.stdout)
	fs.BoolVar(&asJSON, "json", false, "print JSON, one object per policy")
	pos, err := dataFlags(fs, "policy list", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("policy list", "unexpected argument %q", pos[0])
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		ps, err := a.archive.Policies(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			for _, p := range ps {
				scopes := make([]string, len(p.Scopes))
				for i, s := range p.Scopes {
					scopes[i] = s.String()
				}
				if err := enc.Encode(map[string]any{
					"position": p.Position, "name": p.Name, "users": nonNil(p.Users), "roles": nonNil(p.Roles),
					"workgroups": nonNil(p.Workgroups), "scopes": scopes, "rights": p.Rights.String(), "rightsMask": uint32(p.Rights),
				}); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tNAME\tWHO\tRECORDINGS\tRIGHTS")
		for _, p := range ps {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.Position, p.Name, who(p), scopes(p), p.Rights)
		}
		return tw.Flush()
	})
}

func who(p *icrec.Policy) string {
	var parts []string
	for _, u := range p.Users {
		if u == icrec.EveryUser {
			parts = append(parts, "everyone")
		} else {
			parts = append(parts, "user:"+u)
		}
	}
	for _, r := range p.Roles {
		parts = append(parts, "role:"+r)
	}
	for _, w := range p.Workgroups {
		parts = append(parts, "workgroup:"+w)
	}
	return strings.Join(parts, ",")
}

func scopes(p *icrec.Policy) string {
	if len(p.Scopes) == 0 {
		return "all"
	}
	parts := make([]string, len(p.Scopes))
	for i, s := range p.Scopes {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

func runPolicyDelete(ctx context.Context, args []string, e env) error {
	var data string
	fs := newFlagSet("policy delete", "Usage: icrec policy delete NAME\n\nDeletes a policy.\n\nExample:\n  icrec policy delete \"Support QA\"\n", e.stdout)
	pos, err := dataFlags(fs, "policy delete", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("policy delete", "give exactly one policy NAME")
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		if err := a.archive.DeletePolicy(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted policy %q\n", pos[0])
		return nil
	})
}

func runPolicyMove(ctx context.Context, args []string, e env) error {
	var data, before string
	fs := newFlagSet("policy move", "Usage: icrec policy move NAME --before OTHER\n\nMoves a policy to just before another in the order.\n\nExample:\n  icrec policy move \"Support QA\" --before \"Everyone plays own\"\n", e.stdout)
	fs.StringVar(&before, "before", "", "the `policy` to move it before (required)")
	pos, err := dataFlags(fs, "policy move", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("policy move", "give exactly one policy NAME")
	}
	if before == "" {
		return usagef("policy move", "--before is required")
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		if err := a.archive.MovePolicy(ctx, pos[0], before); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "moved policy %q before %q\n", pos[0], before)
		return nil
	})
}
