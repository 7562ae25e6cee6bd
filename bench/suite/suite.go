// Package suite holds the scenarios of icrec's benchmark suite and what
// they need: the servers, the load generators and the table of results.
package suite

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// Config is a run of the suite.
type Config struct {
	Quick    bool
	Rounds   int
	Only     []int // scenario numbers; empty means all
	Markdown string
	Keep     bool
}

// sizes are the data and durations of a run.
type sizes struct {
	rounds       int
	duration     time.Duration // of one load-generator run
	bigMB        int           // the large recording
	smallCount   int           // small recordings imported in scenario 5
	smallKB      int
	ids          int // recordings export-uri draws from (scenario 1)
	catalogueBig int // scenario 6
	catalogueRef int
	downloads    int // concurrent downloads in scenario 7
}

func (c Config) sizes() sizes {
	if c.Quick {
		return sizes{rounds: 1, duration: 2 * time.Second, bigMB: 64, smallCount: 300, smallKB: 50, ids: 200,
			catalogueBig: 20_000, catalogueRef: 2_000, downloads: 8}
	}
	s := sizes{rounds: 3, duration: 10 * time.Second, bigMB: 1024, smallCount: 10_000, smallKB: 50, ids: 2_000,
		catalogueBig: 1_000_000, catalogueRef: 10_000, downloads: 32}
	if c.Rounds > 0 {
		s.rounds = c.Rounds
	}
	return s
}

// Row is one figure of the table.
type Row struct {
	Scenario    int
	Name        string
	Unit        string
	Icrec, Ref  float64 // medians; Ref is 0 for a scenario without a reference
	Extra       string  // more figures, such as p99 latencies
	Goal        string
	Ratio       float64 // the figure the goal is about
	Met         bool
	LowerBetter bool
}

// Result is a run's table.
type Result struct{ Rows []Row }

// AllMet reports whether every goal was met.
func (r *Result) AllMet() bool {
	for _, row := range r.Rows {
		if !row.Met {
			return false
		}
	}
	return true
}

// Scenario is one line of the table.
type Scenario struct {
	Name string
	Run  func(ctx context.Context, e *Env) ([]Row, error)
}

// Scenarios in the order of bench/README.md.
var Scenarios = []Scenario{
	{"export-uri throughput, 64 connections", scenarioExportURI},
	{"download 1 GiB over HTTP", scenarioDownloadHTTP},
	{"download 1 GiB over HTTPS", scenarioDownloadHTTPS},
	{"16 KiB Range requests at random offsets", scenarioRanges},
	{"import vs cp + sync", scenarioImport},
	{"export-uri latency with a large catalogue", scenarioCatalogue},
	{"server peak RSS, concurrent 1 GiB downloads", scenarioRSS},
	{"export-uri p99 under a login flood", scenarioLoginFlood},
}

// Run runs the scenarios cfg selects and prints their table to out and
// progress to log.
func Run(ctx context.Context, cfg Config, out, log io.Writer) (*Result, error) {
	work, err := os.MkdirTemp(os.Getenv("TMPDIR"), "icrec-bench-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		fmt.Fprintf(log, "bench: work directory %s (kept)\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	e := &Env{Work: work, Size: cfg.sizes(), Log: log}
	defer e.Close()
	if err := e.setup(ctx); err != nil {
		return nil, err
	}
	res := &Result{}
	for i, s := range Scenarios {
		n := i + 1
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, n) {
			continue
		}
		fmt.Fprintf(log, "bench: scenario %d: %s\n", n, s.Name)
		rows, err := s.Run(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("scenario %d (%s): %w", n, s.Name, err)
		}
		for j := range rows {
			rows[j].Scenario = n
		}
		res.Rows = append(res.Rows, rows...)
	}
	table := res.table(e.machine())
	fmt.Fprint(out, table)
	if cfg.Markdown != "" {
		if err := os.WriteFile(cfg.Markdown, []byte(table), 0o644); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// table formats the results as a Markdown table, readable as text too.
func (r *Result) table(machine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n\n", machine)
	b.WriteString("| # | scenario | unit | icrec | reference | ratio | goal | met | more |\n|---|---|---|---|---|---|---|---|---|\n")
	rows := slices.Clone(r.Rows)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Scenario < rows[j].Scenario })
	for _, row := range rows {
		ref := "—"
		if row.Ref != 0 {
			ref = num(row.Ref)
		}
		met := "yes"
		if !row.Met {
			met = "**no**"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %.2f | %s | %s | %s |\n", row.Scenario, row.Name, row.Unit, num(row.Icrec), ref, row.Ratio, row.Goal, met, row.Extra)
	}
	return b.String()
}

// num formats a figure with the precision it needs.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// median of the values; 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// alternate runs a and b rounds times, swapping which goes first each
// round, so that neither always meets a cold cache or a warm machine.
func alternate(ctx context.Context, rounds int, a, b func() error) error {
	for i := range rounds {
		first, second := a, b
		if i%2 == 1 {
			first, second = b, a
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
