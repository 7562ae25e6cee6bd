// Command bench is icrec's benchmark suite. It builds icrec, prepares a
// generated archive in a temporary directory, starts icrec and each
// scenario's reference (a trivial Go handler, nginx, cp) on loopback, runs
// every scenario against both in the same run, alternating them, for
// several rounds, and prints the medians with the ratio icrec ÷ reference
// and the goal. See bench/README.md.
//
// Usage:
//
//	go run ./bench [--quick] [--rounds N] [--only 1,4] [--markdown FILE] [--keep]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"example.com/icrec/bench/suite"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == suite.RefServerArg {
		// The reference server of scenario 1, run as a process of its own
		// as icrec serve is.
		if err := suite.RunRefServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench refserver:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

const usage = `Usage: go run ./bench [--quick] [--rounds N] [--only 1,4] [--markdown FILE] [--keep]

Runs icrec's benchmark scenarios against their references in one run on this
machine (loopback), alternating icrec and reference, and prints a table of
medians with the ratio icrec/reference and each goal. It needs the Debian
packages wrk and nginx-light (nginx on Debian 12), and Go; it installs
nothing and exits 2 naming what is missing.

--quick runs every scenario for a couple of seconds on small data, to show
the suite works (CI runs it); its figures mean nothing.

Examples:
  go run ./bench                          # the full suite, about 6 minutes on 2 cores
  go run ./bench --only 1,8 --rounds 5
  go run ./bench --quick
`

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage); fs.PrintDefaults() }
	var (
		cfg  suite.Config
		only string
	)
	fs.BoolVar(&cfg.Quick, "quick", false, "a few seconds per scenario on small data: proves the suite runs")
	fs.IntVar(&cfg.Rounds, "rounds", 0, "rounds per scenario, icrec and reference alternating (default 3, 1 with --quick)")
	fs.StringVar(&only, "only", "", "comma-separated scenario `numbers` to run (default all)")
	fs.StringVar(&cfg.Markdown, "markdown", "", "also write the results table as Markdown to this `file`")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the work directory (archives, logs) for a look afterwards")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	for f := range strings.SplitSeq(only, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > len(suite.Scenarios) {
			fmt.Fprintf(os.Stderr, "bench: --only: %q is not a scenario number (1 to %d)\n", f, len(suite.Scenarios))
			return 2
		}
		cfg.Only = append(cfg.Only, n)
	}
	if cfg.Rounds < 0 || cfg.Rounds > 50 {
		fmt.Fprintf(os.Stderr, "bench: --rounds must be between 1 and 50\n")
		return 2
	}
	if missing := suite.MissingTools(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "bench: missing: %s\nInstall the Debian packages it needs: sudo apt-get install wrk nginx-light\n", strings.Join(missing, ", "))
		return 2
	}
	start := time.Now()
	res, err := suite.Run(ctx, cfg, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(start).Round(time.Second))
	if cfg.Quick {
		return 0 // the figures of a quick run mean nothing; it ran
	}
	if !res.AllMet() {
		return 3
	}
	return 0
}
