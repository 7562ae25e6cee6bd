package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/auth"
)

const userUsage = `Usage: icrec user <command> [arguments] [flags]

Manages the users who can log in. Works while icrec serve is running: a
user disabled, deleted or given a new password loses every session at once.

Commands:
  add USERID      add a user; the password is read from standard input
  list            list the users
  passwd USERID   set a new password
  disable USERID  forbid logins and end the user's sessions
  enable USERID   allow logins again
  delete USERID   delete the user and end the user's sessions

Examples:
  icrec user add alice --name "Alice Smith" --role admin
  echo 's3cret-passw0rd' | icrec user add bob --workgroup Support --workgroup Sales
  icrec user list --json
  icrec user disable bob

Run 'icrec user <command> --help' for a command's flags.
`

const (
	userAddUsage = `Usage: icrec user add USERID [--name NAME] [--role ROLE]... [--workgroup WG]...

Adds a user. On a terminal the password is asked for twice without echo;
otherwise it is the first line of standard input. Passwords need at least 8
characters. User ids, roles and workgroups are compared ignoring case.

Example:
  icrec user add alice --name "Alice Smith" --role admin --workgroup Support
`
	userListUsage = `Usage: icrec user list [--json]

Lists the users: id, name, roles, workgroups and whether they may log in.

Example:
  icrec user list --json
`
	userPasswdUsage = `Usage: icrec user passwd USERID

Sets a new password, read as for user add, and ends the user's sessions.

Example:
  icrec user passwd alice
`
	userOneUsage = `Usage: icrec user %[1]s USERID

%[2]s

Example:
  icrec user %[1]s alice
`
)

func runUser(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, userUsage)
		return usagef("user", "no user command given")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add":
		return runUserAdd(ctx, rest, e)
	case "list":
		return runUserList(ctx, rest, e)
	case "passwd":
		return runUserPasswd(ctx, rest, e)
	case "disable", "enable", "delete":
		return runUserOne(ctx, sub, rest, e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, userUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, userUsage)
		return usagef("user", "unknown user command %q", sub)
	}
}

// dataFlags parses a subcommand's flags, with --data (and ICREC_DATA)
// shared by all, and returns the positional arguments.
func dataFlags(fs *flag.FlagSet, cmd string, args []string, e env, data *string) ([]string, error) {
	fs.StringVar(data, "data", "./icrec-data", "data `directory`")
	pos, err := parseFlags(fs, cmd, args)
	if err != nil {
		return nil, err
	}
	return pos, applyEnv(fs, cmd, e.lookupEnv, "data")
}

// oneUserID checks that exactly one USERID was given.
func oneUserID(cmd string, pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "", usagef(cmd, "missing USERID")
	case 1:
		return pos[0], nil
	default:
		return "", usagef(cmd, "unexpected argument %q after USERID", pos[1])
	}
}

// withUsers opens the data directory's store and runs f with the user rules
// on it.
func withUsers(ctx context.Context, data string, f func(*auth.Service) error) error {
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		svc, err := a.users(auth.DefaultConfig())
		if err != nil {
			return err
		}
		return f(svc)
	})
}

func runUserAdd(ctx context.Context, args []string, e env) error {
	var (
		data, name        string
		roles, workgroups listFlag
	)
	fs := newFlagSet("user add", userAddUsage, e.stdout)
	fs.StringVar(&name, "name", "", "display `name`")
	fs.Var(&roles, "role", "`role` (repeatable)")
	fs.Var(&workgroups, "workgroup", "`workgroup` (repeatable)")
	pos, err := dataFlags(fs, "user add", args, e, &data)
	if err != nil {
		return err
	}
	id, err := oneUserID("user add", pos)
	if err != nil {
		return err
	}
	// Check the arguments before asking for a password.
	if err := icrec.ValidateID("user id", id); err != nil {
		return usagef("user add", "%v", err)
	}
	if err := icrec.ValidateName(name); err != nil {
		return usagef("user add", "--name: %v", err)
	}
	if _, err := icrec.NormalizeNames("role", roles); err != nil {
		return usagef("user add", "--role: %v", err)
	}
	if _, err := icrec.NormalizeNames("workgroup", workgroups); err != nil {
		return usagef("user add", "--workgroup: %v", err)
	}
	return withUsers(ctx, data, func(svc *auth.Service) error {
		pw, err := readNewPassword(e, id)
		if err != nil {
			return err
		}
		u, err := svc.AddUser(ctx, auth.NewUser{ID: id, Name: name, Roles: roles, Workgroups: workgroups, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added user %s\n", u.ID)
		return nil
	})
}

func runUserList(ctx context.Context, args []string, e env) error {
	var (
		data   string
		asJSON bool
	)
	fs := newFlagSet("user list", userListUsage, e.stdout)
	fs.BoolVar(&asJSON, "json", false, "print JSON, one object per user, for scripts")
	pos, err := dataFlags(fs, "user list", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("user list", "unexpected argument %q", pos[0])
	}
	return withUsers(ctx, data, func(svc *auth.Service) error {
		users, err := svc.Users(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return printUsersJSON(e, users)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLES\tWORKGROUPS\tENABLED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, dash(strings.Join(u.Roles, ",")), dash(strings.Join(u.Workgroups, ",")), yesNo(!u.Disabled))
		}
		return tw.Flush()
	})
}

func printUsersJSON(e env, users []*icrec.User) error {
	type userJSON struct {
		ID         string    `json:"id"`
		Name       string    `json:"name"`
		Roles      []string  `json:"roles"`
		Workgroups []string  `json:"workgroups"`
		Enabled    bool      `json:"enabled"`
		Created    time.Time `json:"created"`
		Updated    time.Time `json:"updated"`
	}
	enc := json.NewEncoder(e.stdout)
	for _, u := range users {
		err := enc.Encode(userJSON{ID: u.ID, Name: u.Name, Roles: nonNil(u.Roles), Workgroups: nonNil(u.Workgroups), Enabled: !u.Disabled, Created: u.Created, Updated: u.Updated})
		if err != nil {
			return err
		}
	}
	return nil
}

func runUserPasswd(ctx context.Context, args []string, e env) error {
	var data string
	fs := newFlagSet("user passwd", userPasswdUsage, e.stdout)
	pos, err := dataFlags(fs, "user passwd", args, e, &data)
	if err != nil {
		return err
	}
	id, err := oneUserID("user passwd", pos)
	if err != nil {
		return err
	}
	return withUsers(ctx, data, func(svc *auth.Service) error {
		// Fail before the prompt if there is no such user.
		if _, err := svc.User(ctx, id); err != nil {
			return err
		}
		pw, err := readNewPassword(e, id)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, id, pw); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "changed the password of %s; the user's sessions have ended\n", id)
		return nil
	})
}

var userOneDoc = map[string]string{
	"disable": "Forbids the user to log in and ends the user's sessions at once.",
	"enable":  "Allows a disabled user to log in again.",
	"delete":  "Deletes the user and ends the user's sessions at once.",
}

func runUserOne(ctx context.Context, sub string, args []string, e env) error {
	var data string
	cmd := "user " + sub
	fs := newFlagSet(cmd, fmt.Sprintf(userOneUsage, sub, userOneDoc[sub]), e.stdout)
	pos, err := dataFlags(fs, cmd, args, e, &data)
	if err != nil {
		return err
	}
	id, err := oneUserID(cmd, pos)
	if err != nil {
		return err
	}
	return withUsers(ctx, data, func(svc *auth.Service) error {
		switch sub {
		case "delete":
			if err := svc.DeleteUser(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted user %s; the user's sessions have ended\n", id)
		default:
			u, err := svc.SetDisabled(ctx, id, sub == "disable")
			if err != nil {
				return err
			}
			if u.Disabled {
				fmt.Fprintf(e.stdout, "disabled user %s; the user's sessions have ended\n", u.ID)
			} else {
				fmt.Fprintf(e.stdout, "enabled user %s\n", u.ID)
			}
		}
		return nil
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
