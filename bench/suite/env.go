package suite

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"example.com/icrec/internal/selfcert"
)

const benchPassword = "bench-password-1"

// Env is what the scenarios share: the built binary, the generated data,
// and the servers.
type Env struct {
	Work string
	Size sizes
	Log  io.Writer

	icrec    string // the built binary
	cert     string // PEM files shared by icrec and nginx
	key      string
	bigFile  string // the large recording's media, also nginx's
	data     string // the main data directory
	ids      []string
	bigID    string
	serve    *server
	ref      *exec.Cmd
	refURL   string
	nginx    *exec.Cmd
	nginxDir string
	ngHTTP   string // base URLs
	ngHTTPS  string
	session  session
	hc       *http.Client // trusts the bench certificate; keep-alive
}

// session is a logged-in ICWS session.
type session struct {
	base, sid, csrf, cookie string
}

// server is a running icrec serve.
type server struct {
	cmd         *exec.Cmd
	http, https string
}

func (e *Env) logf(format string, args ...any) { fmt.Fprintf(e.Log, "bench: "+format+"\n", args...) }

func (e *Env) setup(ctx context.Context) error {
	// nginx's workers may run as another user: let them in.
	os.Chmod(e.Work, 0o755)
	e.icrec = filepath.Join(e.Work, "icrec")
	e.logf("building icrec")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", e.icrec, "example.com/icrec/cmd/icrec").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := e.makeCert(); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(e.cert)
	pool.AppendCertsFromPEM(pem)
	e.hc = &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 128,
		DisableCompression:  true,
	}}

	e.data = filepath.Join(e.Work, "data")
	if err := e.addUser(ctx, e.data); err != nil {
		return err
	}
	gen := filepath.Join(e.Work, "gen")
	e.logf("generating %d small recordings and one of %d MB", e.Size.ids, e.Size.bigMB)
	var lines []string
	for i := range e.Size.ids {
		id := fmt.Sprintf("B0000000-0000-0000-0000-%012d", i)
		name := fmt.Sprintf("ids/%06d.wav", i)
		if err := writeWAV(filepath.Join(gen, name), 4<<10, uint64(i)); err != nil {
			return err
		}
		lines = append(lines, manifestLine(id, i, name))
		e.ids = append(e.ids, id)
	}
	e.bigID = "B16B16B1-0000-0000-0000-000000000001"
	e.bigFile = filepath.Join(gen, "www", "big.wav")
	if err := writeWAV(e.bigFile, e.Size.bigMB<<20, 42); err != nil {
		return err
	}
	rel, _ := filepath.Rel(gen, e.bigFile)
	lines = append(lines, manifestLine(e.bigID, 999999, filepath.ToSlash(rel)))
	manifest := filepath.Join(gen, "manifest.jsonl")
	if err := os.WriteFile(manifest, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, e.icrec, "import", "--data", e.data, manifest).CombinedOutput(); err != nil {
		return fmt.Errorf("import: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(e.Work, "ids.txt"), []byte(strings.Join(e.ids, "\n")+"\n"), 0o644); err != nil {
		return err
	}

	var err error
	if e.serve, err = e.startServe(ctx, e.data, "main"); err != nil {
		return err
	}
	if e.session, err = e.login(ctx, e.serve.http); err != nil {
		return err
	}
	// The reference answers a JSON body as long as a real export-uri answer.
	body, err := e.get(ctx, e.session.base+"/recordings/"+e.ids[0]+"/export-uri")
	if err != nil {
		return err
	}
	if err := e.startRef(ctx, len(body)); err != nil {
		return err
	}
	return e.startNginx(ctx)
}

// Close stops the servers.
func (e *Env) Close() {
	for _, c := range []*exec.Cmd{e.ref, e.nginx} {
		if c != nil && c.Process != nil {
			c.Process.Signal(os.Interrupt)
			c.Wait()
		}
	}
	if e.serve != nil {
		e.serve.stop()
	}
}

func (e *Env) addUser(ctx context.Context, data string) error {
	cmd := exec.CommandContext(ctx, e.icrec, "user", "add", "bench", "--role", "admin", "--data", data)
	cmd.Stdin = strings.NewReader(benchPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("user add: %v\n%s", err, out)
	}
	return nil
}

func manifestLine(id string, i int, file string) string {
	b, _ := json.Marshal(map[string]any{"recordingId": id, "interactionId": fmt.Sprint(1000000 + i), "mediaType": "Call",
		"recordingDate": "20240101T000000Z", "file": file, "workgroups": []string{"Support"}})
	return string(b)
}

// writeWAV writes size bytes of a WAV-like file: the signature import
// checks, then pseudo-random bytes that no filesystem or link compresses.
func writeWAV(path string, size int, seed uint64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rng := mrand.New(mrand.NewPCG(seed, 7))
	buf := make([]byte, 1<<20)
	header := []byte("RIFF\x24\x00\x00\x00WAVEfmt ")
	for written := 0; written < size; {
		for i := 0; i+8 <= len(buf); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], rng.Uint64())
		}
		if written == 0 {
			copy(buf, header)
		}
		n := min(len(buf), size-written)
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		written += n
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}

// startServe runs icrec serve on data with the bench certificate, and
// waits until it is ready.
func (e *Env) startServe(ctx context.Context, data, name string, extra ...string) (*server, error) {
	logPath := filepath.Join(e.Work, "serve-"+name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--metrics", "",
		"--tls-cert", e.cert, "--tls-key", e.key, "--log-format", "json", "--drain-delay", "0s", "--retention-interval", "0"}, extra...)
	cmd := exec.Command(e.icrec, args...)
	cmd.Stderr, cmd.Stdout = logf, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		f, _ := os.Open(logPath)
		sc := bufio.NewScanner(f)
		ready := false
		for sc.Scan() {
			var m struct{ Msg, Listener, URL string }
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			switch {
			case m.Msg == "listening" && m.Listener == "http":
				s.http = m.URL
			case m.Msg == "listening" && m.Listener == "https":
				s.https = m.URL
			case m.Msg == "icrec is ready":
				ready = true
			}
		}
		f.Close()
		if ready && s.http != "" && s.https != "" {
			return s, nil
		}
		if cmd.ProcessState != nil || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	log, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("icrec serve did not become ready:\n%s", log)
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
}

// login opens an ICWS session as the bench user.
func (e *Env) login(ctx context.Context, base string) (session, error) {
	body := `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"bench","userID":"bench","password":"` + benchPassword + `"}`
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/icws/connection", strings.NewReader(body))
	req.Header.Set("Accept-Language", "en-us")
	resp, err := e.hc.Do(req)
	if err != nil {
		return session{}, err
	}
	defer resp.Body.Close()
	var r struct{ SessionID, CSRFToken string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusCreated {
		return session{}, fmt.Errorf("login: %s %v", resp.Status, err)
	}
	s := session{base: base + "/icws/" + r.SessionID, sid: r.SessionID, csrf: r.CSRFToken}
	for _, c := range resp.Cookies() {
		if c.Name == "icws_"+r.SessionID {
			s.cookie = c.Name + "=" + c.Value
		}
	}
	return s, nil
}

// get makes a session call and returns its body.
func (e *Env) get(ctx context.Context, u string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Cookie", e.session.cookie)
	req.Header.Set("ININ-ICWS-CSRF-Token", e.session.csrf)
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s %s", u, resp.Status, body)
	}
	return body, err
}

// exportPath returns the path of a fresh export link for a recording: the
// same path works on icrec's HTTP and HTTPS listeners.
func (e *Env) exportPath(ctx context.Context, id string) (string, error) {
	body, err := e.get(ctx, e.session.base+"/recordings/"+id+"/export-uri")
	if err != nil {
		return "", err
	}
	var r struct{ URI string }
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	u, err := url.Parse(r.URI)
	if err != nil {
		return "", err
	}
	return u.RequestURI(), nil
}

// makeCert has icrec's own code make a self-signed certificate for
// 127.0.0.1, which icrec and nginx both serve, so that their TLS is the
// same.
func (e *Env) makeCert() error {
	dir := filepath.Join(e.Work, "tls")
	if _, _, err := selfcert.LoadOrCreate(dir, []string{"127.0.0.1", "localhost"}, time.Now()); err != nil {
		return err
	}
	// nginx's workers may run as another user.
	os.Chmod(dir, 0o755)
	e.cert, e.key = filepath.Join(dir, selfcert.CertFile), filepath.Join(dir, selfcert.KeyFile)
	return os.Chmod(e.key, 0o644)
}

// machine describes where the suite ran.
func (e *Env) machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("Machine: %s, %d cores%s, %s/%s, %s; rounds %d, %s per load run.", model, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), e.Size.rounds, e.Size.duration)
}

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
