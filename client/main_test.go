package client_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec/client"
	"example.com/icrec/internal/testutil/faultproxy"
)

// The tests run against a real icrec: TestMain builds it once, fills a data
// directory with the demo archive and starts one server that every test
// shares. Tests that need other server flags start their own on the same
// data directory (SQLite lets several readers share it).

const demoPassword = "demo-password-1"

var (
	// bin is the icrec binary built for the tests.
	bin string
	// srv is the server every test shares.
	srv *icrecServer
	// ids maps the demo walkthrough's labels ("Call/Support",
	// "Email/Sales", ...) to recording ids.
	ids map[string]string
	// The examples run against srv. In real use, exampleServer is the
	// ICWS server's URL, and exampleHTTPClient trusts the CA that signed
	// its certificate (icrec serve's self-signed one is DATA/tls/cert.pem),
	// which the export links, on HTTPS, need.
	exampleServer                 string
	exampleHTTPClient             *http.Client
	exampleCallID, exampleSalesID string // calls of Support and of Sales
	// noServer says why there is no server (the tests then skip).
	noServer string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "icrec-client-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if err := setUp(tmp); err != nil {
		if errors.Is(err, errNoGo) {
			noServer = err.Error()
			fmt.Fprintf(os.Stderr, "client tests: %v; the tests that need a real icrec server are skipped\n", err)
			// Examples cannot skip themselves: leave them out.
			if f := flag.Lookup("test.skip"); f != nil && f.Value.String() == "" {
				flag.Set("test.skip", "^Example")
			}
			return m.Run()
		}
		fmt.Fprintf(os.Stderr, "client tests: setting up the icrec server: %v\n", err)
		return 1
	}
	defer srv.stop()
	return m.Run()
}

var errNoGo = errors.New("no go command found (neither in $GOROOT/bin nor on $PATH) to build icrec")

// goCommand finds the go command that is running the tests.
func goCommand() string {
	name := "go"
	if runtime.GOOS == "windows" {
		name = "go.exe"
	}
	//lint:ignore SA1019 GOROOT is still the best guess at the go command that built this test.
	if p := filepath.Join(runtime.GOROOT(), "bin", name); runtime.GOROOT() != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return ""
}

func setUp(tmp string) error {
	gocmd := goCommand()
	if gocmd == "" {
		return errNoGo
	}
	bin = filepath.Join(tmp, "icrec")
	if out, err := exec.Command(gocmd, "build", "-o", bin, "example.com/icrec/cmd/icrec").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	out, err := exec.Command(bin, "demo", "--data", data, "--demo-password", demoPassword).CombinedOutput()
	if err != nil {
		return fmt.Errorf("icrec demo: %v\n%s", err, out)
	}
	ids = parseDemoIDs(string(out))
	for _, k := range []string{"Call/Support", "Call/Sales", "Email/Support", "Email/Sales"} {
		if ids[k] == "" {
			return fmt.Errorf("icrec demo printed no %s recording:\n%s", k, out)
		}
	}
	srv, err = launch(data)
	if err != nil {
		return err
	}
	exampleServer, exampleCallID, exampleSalesID = srv.http, ids["Call/Support"], ids["Call/Sales"]
	exampleHTTPClient, err = client.NewHTTPClient(client.TLSOptions{CAFile: srv.certFile()})
	return err
}

var demoIDLine = regexp.MustCompile(`(?m)^\s+(\w+/\w+)\s+([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})\s*$`)

// parseDemoIDs reads the "  Call/Support    <GUID>" lines of the demo's
// walkthrough.
func parseDemoIDs(out string) map[string]string {
	m := map[string]string{}
	for _, sub := range demoIDLine.FindAllStringSubmatch(out, -1) {
		m[sub[1]] = sub[2]
	}
	return m
}

// icrecServer is a running icrec serve.
type icrecServer struct {
	http, https string // base URLs of the listeners
	data        string
	cmd         *exec.Cmd
	log         *lockedBuffer
	done        chan struct{}
	stopOnce    sync.Once
}

func (s *icrecServer) certFile() string { return filepath.Join(s.data, "tls", "cert.pem") }

// launch starts icrec serve on data, on free loopback ports, with extra
// flags, and waits until it says it is ready.
func launch(data string, extra ...string) (*icrecServer, error) {
	args := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--https", "127.0.0.1:0",
		"--metrics", "", "--log-format", "json", "--drain-delay", "0s",
		// Tests fail logins on purpose, all from 127.0.0.1: with -count=N
		// they would lock the address out.
		"--login-max-failures-per-address", "0"}, extra...)
	s := &icrecServer{data: data, cmd: exec.Command(bin, args...), log: &lockedBuffer{}, done: make(chan struct{})}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout = io.Discard
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		isReady := false
		for sc.Scan() {
			line := sc.Bytes()
			s.log.Write(append(line, '\n'))
			var m struct{ Msg, Listener, URL string }
			if isReady || json.Unmarshal(line, &m) != nil {
				continue
			}
			switch {
			case m.Msg == "listening" && m.Listener == "http":
				s.http = m.URL
			case m.Msg == "listening" && m.Listener == "https":
				s.https = m.URL
			case m.Msg == "icrec is ready":
				isReady = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
		s.cmd.Wait()
	}()
	select {
	case <-ready:
	case <-s.done:
		return nil, fmt.Errorf("icrec serve %s stopped before it was ready:\n%s", strings.Join(extra, " "), s.log)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("icrec serve %s did not become ready in 30s:\n%s", strings.Join(extra, " "), s.log)
	}
	if s.http == "" || s.https == "" {
		s.stop()
		return nil, fmt.Errorf("icrec serve logged no http and https listeners:\n%s", s.log)
	}
	return s, nil
}

// stop ends the server as SIGTERM does, and kills it if it does not stop.
func (s *icrecServer) stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// needServer skips t when there is no icrec to test against.
func needServer(t testing.TB) {
	t.Helper()
	if srv == nil {
		t.Skip(noServer)
	}
}

// startServer starts a server of the test's own on the shared data
// directory, with extra flags; it stops when the test ends.
func startServer(t testing.TB, extra ...string) *icrecServer {
	t.Helper()
	needServer(t)
	s, err := launch(srv.data, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// proxied starts a server of the test's own behind a fault proxy with
// cfg, whose export links are plain HTTP through the proxy too, and
// returns the proxy and its URL, which clients use as the server.
func proxied(t testing.TB, cfg faultproxy.Config) (*faultproxy.Proxy, string) {
	t.Helper()
	needServer(t)
	proxy := faultproxy.New(cfg)
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	s := startServer(t, "--recorder-https=false", "--public-http-url", front.URL)
	target, err := url.Parse(s.http)
	if err != nil {
		t.Fatal(err)
	}
	proxy.SetTarget(target)
	return proxy, front.URL
}

// icrecCLI runs an icrec command on the shared data directory.
func icrecCLI(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ICREC_DATA="+srv.data)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("icrec %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// addUser adds a user with the admin role and returns its id, unique to
// the test, so that tests that disable users or fail logins do not disturb
// the demo users the other tests log in as.
func addUser(t testing.TB, password string) string {
	t.Helper()
	id := fmt.Sprintf("u%d", userSeq.next())
	icrecCLI(t, password+"\n", "user", "add", id, "--name", "Test "+id, "--role", "admin")
	return id
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

var userSeq = &counter{}

// httpClient returns a client for Config.HTTPClient that trusts the test
// server's certificate, as export links use HTTPS.
func httpClient(t testing.TB) *http.Client {
	t.Helper()
	hc, err := client.NewHTTPClient(client.TLSOptions{CAFile: srv.certFile()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// fastRetry keeps the tests' retries quick.
var fastRetry = client.Retry{Attempts: 5, Base: time.Millisecond, Max: 5 * time.Millisecond}

// connect logs user in to the shared server over HTTP, and logs out when
// the test ends.
func connect(t testing.TB, user string) *client.Client {
	t.Helper()
	needServer(t)
	return connectTo(t, client.Config{Server: srv.http, UserID: user, Password: demoPassword, HTTPClient: httpClient(t), Retry: fastRetry})
}

func connectTo(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("Connect(%s as %s): %v", cfg.Server, cfg.UserID, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// testCtx is a context that ends with the test, bounded so that a hang
// fails instead of stalling the whole run.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// lockedBuffer is a bytes.Buffer that goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recorder wraps an HTTP client's transport to count the requests it makes
// and keep the session credentials of the last session call, so that a
// test can end the client's session behind its back.
type recorder struct {
	mu       sync.Mutex
	requests []string // "METHOD path"
	cookie   string
	csrf     string
	// exportBytes counts the body bytes read from export links.
	exportBytes atomic.Int64
}

func (r *recorder) wrap(hc *http.Client) *http.Client {
	next := hc.Transport
	out := *hc
	out.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		if ck, csrf := req.Header.Get("Cookie"), req.Header.Get("ININ-ICWS-CSRF-Token"); ck != "" && csrf != "" {
			r.cookie, r.csrf = ck, csrf
		}
		r.mu.Unlock()
		resp, err := next.RoundTrip(req)
		if err == nil && strings.HasPrefix(req.URL.Path, "/export/") {
			resp.Body = &countingBody{ReadCloser: resp.Body, n: &r.exportBytes}
		}
		return resp, err
	})
	return &out
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// count returns how many requests had a path containing part.
func (r *recorder) count(method, part string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.requests {
		m, p, _ := strings.Cut(s, " ")
		if m == method && strings.Contains(p, part) {
			n++
		}
	}
	return n
}

func (r *recorder) credentials() (cookie, csrf string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cookie, r.csrf
}

// slogJSON is a logger that writes everything to w, for tests that check
// what the client logs.
func slogJSON(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
