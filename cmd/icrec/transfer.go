package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"example.com/icrec/client"
	"example.com/icrec/internal/transfer"
)

// sourceFlags are the flags of the commands that read an ICWS server:
// export and migrate.
type sourceFlags struct {
	server, user, passwordFile string
	ids                        string
	caFile                     string
	insecure                   bool
	concurrency                int
	retries                    int
	report                     string
}

// statusEvery is how often progress is reported off a terminal.
var statusEvery = 30 * time.Second

// maxConcurrency keeps one export from overwhelming a production server.
const maxConcurrency = 64

func (s *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.server, "server", "", "the ICWS server's `URL`, e.g. https://cic.example.com:8019 (a bare host name means https on port 8019)")
	fs.StringVar(&s.user, "user", "", "log in as this `user` id")
	fs.StringVar(&s.passwordFile, "password-file", "", "read the password from the first line of this `file` (default: prompt on a terminal, else the first line of standard input)")
	fs.StringVar(&s.ids, "ids", "", "`file` of recording ids, one per line, or - for standard input (see docs/migration.md)")
	fs.StringVar(&s.caFile, "ca-file", "", "trust the certificates in this PEM `file` too (a self-signed server's certificate)")
	fs.BoolVar(&s.insecure, "insecure", false, "do not verify the server's TLS certificate (test servers only)")
	fs.IntVar(&s.concurrency, "concurrency", 4, "recordings fetched at once (1 to 64)")
	fs.IntVar(&s.retries, "retries", 5, "tries per request before a recording fails (1 to 20)")
	fs.StringVar(&s.report, "report", "", "write each recording's outcome to this `file`, one JSON object per line")
}

// sourceEnv lists the flags that take ICREC_ environment fallbacks.
var sourceEnv = []string{"server", "user", "password-file", "ca-file", "insecure", "concurrency", "retries"}

func (s *sourceFlags) validate(cmd string) error {
	switch {
	case s.server == "":
		return usagef(cmd, "--server is required, e.g. --server https://cic.example.com:8019")
	case s.user == "":
		return usagef(cmd, "--user is required")
	case s.ids == "":
		return usagef(cmd, "--ids is required: a file of recording ids, or - for standard input")
	case s.ids == "-" && s.passwordFile == "":
		return usagef(cmd, "with --ids - the ids come on standard input, so give the password with --password-file")
	case s.concurrency < 1 || s.concurrency > maxConcurrency:
		return usagef(cmd, "--concurrency must be between 1 and %d, not %d", maxConcurrency, s.concurrency)
	case s.retries < 1 || s.retries > 20:
		return usagef(cmd, "--retries must be between 1 and 20, not %d", s.retries)
	case s.insecure && s.caFile != "":
		return usagef(cmd, "give --ca-file or --insecure, not both")
	}
	if _, err := client.ParseServer(s.server); err != nil {
		return usagef(cmd, "--server: %s", strings.TrimPrefix(err.Error(), "client: "))
	}
	return nil
}

// readIDs reads and checks the ids file before anything else is done.
func (s *sourceFlags) readIDs(cmd string, e env) ([]transfer.ID, error) {
	var r io.Reader = e.stdin
	name := "standard input"
	if s.ids != "-" {
		f, err := os.Open(s.ids)
		if err != nil {
			return nil, usagef(cmd, "--ids: %v", err)
		}
		defer f.Close()
		r, name = f, s.ids
	}
	ids, dups, err := transfer.ReadIDs(r)
	var bad *transfer.IDsError
	if errors.As(err, &bad) {
		return nil, usagef(cmd, "--ids %s: %v", name, err)
	}
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, usagef(cmd, "--ids %s names no recordings", name)
	}
	if dups > 0 {
		fmt.Fprintf(e.stderr, "%s: %d ids appear more than once; each is fetched once\n", name, dups)
	}
	return ids, nil
}

// password reads the source password as --password-file or the terminal
// gives it. It never comes from the command line, where ps shows it.
func (s *sourceFlags) password(e env) (string, error) {
	if s.passwordFile != "" {
		f, err := os.Open(s.passwordFile)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		return firstLine(f, "--password-file "+s.passwordFile)
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s on %s: ", s.user, s.server)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	return firstLine(e.stdin, "standard input")
}

func firstLine(r io.Reader, where string) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from %s: %w", where, err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("no password in %s", where)
	}
	return line, nil
}

// connect logs in to the source server.
func (s *sourceFlags) connect(ctx context.Context, e env) (*client.Client, error) {
	pw, err := s.password(e)
	if err != nil {
		return nil, err
	}
	hc, err := client.NewHTTPClient(client.TLSOptions{CAFile: s.caFile, Insecure: s.insecure, MaxConnsPerHost: s.concurrency + 2})
	if err != nil {
		return nil, err
	}
	c, err := client.Connect(ctx, client.Config{
		Server:          s.server,
		UserID:          s.user,
		Password:        pw,
		ApplicationName: "icrec " + versionString(),
		HTTPClient:      hc,
		Retry:           client.Retry{Attempts: s.retries},
		Logger:          discardLogger(),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot log in to %s as %s: %w", s.server, s.user, err)
	}
	return c, nil
}

// tally counts outcomes and shows progress while recordings come in.
type tally struct {
	e        env
	verb     string // "exported", "migrated"
	total    int
	p        *progress
	report   *json.Encoder
	reportF  *os.File
	start    time.Time
	received atomic.Int64

	mu     sync.Mutex
	counts map[transfer.Outcome]int
	bytes  int64 // of the recordings done, fetched or not
	done   chan struct{}
	wg     sync.WaitGroup
}

func newTally(e env, verb string, total int, reportPath string) (*tally, error) {
	t := &tally{e: e, verb: verb, total: total, start: time.Now(), counts: map[transfer.Outcome]int{}, done: make(chan struct{})}
	if reportPath != "" {
		f, err := os.OpenFile(reportPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--report: %w", err)
		}
		t.reportF, t.report = f, json.NewEncoder(f)
		t.report.SetEscapeHTML(false)
	}
	t.p = newProgress(e.stderr, int64(total), "recordings")
	t.wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-t.done:
				return
			case now := <-tick.C:
				t.p.Add(0, t.describe())
				// Off a terminal (a log file, a journal) there is no bar:
				// say how far it got now and then instead.
				if t.p.bar == nil && now.Sub(last) >= statusEvery {
					last = now
					t.mu.Lock()
					n := 0
					for _, c := range t.counts {
						n += c
					}
					t.mu.Unlock()
					t.p.Printf("%d of %d recordings, %s", n, t.total, t.describe())
				}
			}
		}
	})
	return t, nil
}

// describe is the progress bar's text: bytes, rate and failures.
func (t *tally) describe() string {
	t.mu.Lock()
	bad := t.counts[transfer.Failed] + t.counts[transfer.Forbidden] + t.counts[transfer.Missing]
	t.mu.Unlock()
	n := t.received.Load()
	s := humanBytes(n)
	if secs := time.Since(t.start).Seconds(); secs > 0 {
		s += fmt.Sprintf(" at %s/s", humanBytes(int64(float64(n)/secs)))
	}
	if bad > 0 {
		s += fmt.Sprintf(", %d not %s", bad, t.verb)
	}
	return s
}

// reportLine is one line of --report.
type reportLine struct {
	Line        int      `json:"line"`
	RecordingID string   `json:"recordingId"`
	Outcome     string   `json:"outcome"`
	Files       int      `json:"files,omitempty"`
	Bytes       int64    `json:"bytes,omitempty"`
	Fetched     int64    `json:"fetched,omitempty"`
	ElapsedMS   int64    `json:"elapsedMs"`
	Warnings    []string `json:"warnings,omitempty"`
	Error       string   `json:"error,omitempty"`
}

func (t *tally) add(r transfer.Result) {
	t.mu.Lock()
	t.counts[r.Outcome]++
	t.bytes += r.Bytes
	t.mu.Unlock()
	switch r.Outcome {
	case transfer.Failed, transfer.Forbidden, transfer.Missing:
		t.p.Printf("%s (ids line %d): %s: %v", r.ID, r.Line, r.Outcome, r.Err)
	}
	for _, w := range r.Warnings {
		if r.Outcome != transfer.Skipped {
			t.p.Printf("%s: warning: %s", r.ID, w)
		}
	}
	if t.report != nil {
		l := reportLine{Line: r.Line, RecordingID: r.ID, Outcome: r.Outcome.String(), Files: r.Files, Bytes: r.Bytes, Fetched: r.Fetched, ElapsedMS: r.Elapsed.Milliseconds(), Warnings: r.Warnings}
		if r.Err != nil {
			l.Error = r.Err.Error()
		}
		t.report.Encode(l)
	}
	t.p.Add(1, t.describe())
}

// finish stops the display, prints the summary and returns the error the
// command ends with: any recording not done is a failure.
func (t *tally) finish(runErr error) error {
	close(t.done)
	t.wg.Wait()
	t.p.Finish()
	var rerr error
	if t.reportF != nil {
		if err := t.reportF.Sync(); err != nil {
			rerr = err
		}
		if err := t.reportF.Close(); err != nil && rerr == nil {
			rerr = err
		}
	}
	t.mu.Lock()
	c := t.counts
	t.mu.Unlock()
	el := time.Since(t.start)
	done := c[transfer.Exported] + c[transfer.Migrated]
	got := t.received.Load()
	rate := ""
	if secs := el.Seconds(); secs > 0 {
		rate = fmt.Sprintf(" (%s/s, %s recordings/s)", humanBytes(int64(float64(got)/secs)), perSecond(float64(done)/secs))
	}
	fmt.Fprintf(t.e.stdout, "%s %d, skipped %d, forbidden %d, missing %d, failed %d of %d; %s fetched in %s%s\n",
		t.verb, done, c[transfer.Skipped], c[transfer.Forbidden], c[transfer.Missing], c[transfer.Failed], t.total,
		humanBytes(got), el.Round(time.Millisecond), rate)
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return errors.New("interrupted; what was finished is kept, and running the same command again resumes the rest")
		}
		return runErr
	}
	if rerr != nil {
		return fmt.Errorf("--report: %w", rerr)
	}
	notDone := c[transfer.Failed] + c[transfer.Forbidden] + c[transfer.Missing]
	if notDone > 0 {
		return fmt.Errorf("%d of %d recordings were not %s; run the command again to retry the failed ones (finished ones are skipped)", notDone, t.total, t.verb)
	}
	return nil
}
