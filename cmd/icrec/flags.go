package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a FlagSet for one command that reports nothing itself:
// run decides what the user sees.
func newFlagSet(name, usage string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nFlags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("icrec user add alice --role admin"), and returns the positional ones.
// --help prints the usage and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, cmd string, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return nil, flag.ErrHelp
			}
			// The flag package names flags with one dash; icrec's help
			// shows two.
			msg := strings.NewReplacer(": -", ": --", "flag -", "flag --").Replace(err.Error())
			return nil, usagef(cmd, "%s", msg)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// Parse stops at the first non-flag, or after "--", which ends the
		// flags for good.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// applyEnv sets each flag in names that the command line left unset from
// its environment variable: --idle-timeout from ICREC_IDLE_TIMEOUT. List
// flags take comma-separated values. A variable set to the empty string
// gives a string flag the empty value (ICREC_HTTP= turns the HTTP listener
// off, as --http "" does) and a list flag no values; to any other flag an
// empty value means nothing, so it keeps its default, as when the variable
// is unset: environment files often list every variable, empty or not.
func applyEnv(fs *flag.FlagSet, cmd string, lookupEnv func(string) (string, bool), names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range names {
		if set[name] {
			continue
		}
		key := envName(name)
		v, ok := lookupEnv(key)
		if !ok {
			continue
		}
		f := fs.Lookup(name)
		values := []string{v}
		if l, ok := f.Value.(*listFlag); ok {
			if v == "" {
				*l = nil
				continue
			}
			values = strings.Split(v, ",")
		} else if v == "" && !isStringFlag(f) {
			continue
		}
		for _, v := range values {
			if err := fs.Set(name, strings.TrimSpace(v)); err != nil {
				return usagef(cmd, "invalid value %q for %s (--%s): %v", v, key, name, err)
			}
		}
	}
	return nil
}

// isStringFlag reports a flag whose value is any string, the empty one
// included.
func isStringFlag(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "ICREC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}
