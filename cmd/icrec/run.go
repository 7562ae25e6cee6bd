package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit codes. Scripts can tell a mistake in the command line from a failure
// of the work itself.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line is wrong; nothing was done
)

// usageError is a mistake in the command line. Its message names the flag or
// argument and says how to get help.
type usageError struct {
	cmd string // e.g. "user add"
	msg string
}

func (e *usageError) Error() string {
	if e.cmd == "" {
		return e.msg + "\nRun 'icrec help' for usage."
	}
	return fmt.Sprintf("%s: %s\nRun 'icrec %s --help' for usage.", e.cmd, e.msg, e.cmd)
}

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitFailure
	}
}

// env is the process environment as run sees it, injected for tests.
type env struct {
	// lookupEnv is os.LookupEnv or a stand-in. It tells a variable set to
	// the empty string from an unset one, so that ICREC_HTTP= can turn the
	// HTTP listener off while an unset ICREC_HTTP keeps the default.
	lookupEnv func(string) (string, bool)
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
}

// getenv is lookupEnv for callers to which an empty variable and an unset
// one mean the same.
func (e env) getenv(key string) string {
	v, _ := e.lookupEnv(key)
	return v
}

const mainUsage = `icrec is an ICWS-compatible Interaction Recorder: it serves call, chat,
email and screen recordings through the ICWS API of Genesys PureConnect.

Usage:
  icrec <command> [arguments]

Commands:
  serve     run the ICWS server
  import    bring recordings into the archive from a manifest
  export    take recordings out of any ICWS server into a directory
  migrate   move recordings from any ICWS server into this archive
  recordings list the recordings in the archive
  demo      fill an empty data directory with a demo archive
  fsck      check the archive and clean up after interrupted imports
  user      add, list and manage users
  policy    manage the recording security policies
  rights    explain what a user may do with a recording
  hold      place, list and release legal holds
  retention delete expired recordings that no legal hold holds
  audit     list and verify the audit trail
  keys      rotate and list the keys that sign export links
  version   print the version
  help      show help for a command

Example:
  icrec serve --demo          # try it: demo users and recordings, passwords printed once
  icrec import recordings.jsonl
  icrec user add alice --role admin

Run 'icrec <command> --help' for a command's flags. Every flag that configures
the server can also be set by an environment variable: --idle-timeout is
ICREC_IDLE_TIMEOUT. One set to nothing gives a text flag an empty value
(ICREC_HTTP= turns the HTTP listener off, as --http "" does) and leaves
any other flag at its default.
Exit status: 0 success, 1 failure, 2 bad command line.
`

// run is icrec's whole command line, with the process's surroundings passed
// in so that tests can drive it end to end.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{lookupEnv: lookupEnv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return &usageError{cmd: "", msg: "no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, e)
	case "user":
		return runUser(ctx, rest, e)
	case "policy":
		return runPolicy(ctx, rest, e)
	case "rights":
		return runRights(ctx, rest, e)
	case "import":
		return runImport(ctx, rest, e)
	case "export":
		return runExport(ctx, rest, e)
	case "migrate":
		return runMigrate(ctx, rest, e)
	case "recordings":
		return runRecordings(ctx, rest, e)
	case "fsck":
		return runFsck(ctx, rest, e)
	case "demo":
		return runDemo(ctx, rest, e)
	case "audit":
		return runAudit(ctx, rest, e)
	case "hold":
		return runHold(ctx, rest, e)
	case "retention":
		return runRetention(ctx, rest, e)
	case "keys":
		return runKeys(ctx, rest, e)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run(ctx, []string{rest[0], "--help"}, lookupEnv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage)
		return nil
	default:
		fmt.Fprint(stderr, mainUsage)
		return &usageError{cmd: "", msg: fmt.Sprintf("unknown command %q", cmd)}
	}
}
