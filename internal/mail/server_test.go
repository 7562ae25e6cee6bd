package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtpd "github.com/emersion/go-smtp"
)

// serverOpts shapes a test mail server.
type serverOpts struct {
	tls          string // "" (plain), "starttls" or "implicit"
	user, pass   string // when user is set, AUTH PLAIN is offered and required
	insecureAuth bool   // offer AUTH without TLS
	reject       map[string]int
	maxBytes     int64
	// authReply, when set, is the server's reply to any AUTH attempt.
	authReply *smtpd.SMTPError
}

// received is what a server saw in one session. The test reads it only
// after the session has ended (testServer.sessions).
type received struct {
	Helo               string
	TLS                bool // the session was encrypted when MAIL FROM came
	AuthUser, AuthPass string
	From               string
	Rcpts              []string
	Data               []byte
	Complete           bool // DATA was read to its end
	done               chan struct{}
}

type testServer struct {
	opts serverOpts
	addr string
	port int

	mu   sync.Mutex
	recs []*received
}

// startServer runs a go-smtp server on 127.0.0.1 for the length of the
// test.
func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	ts := &testServer{opts: o}
	srv := smtpd.NewServer(smtpd.BackendFunc(ts.newSession))
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = o.insecureAuth
	srv.MaxMessageBytes = o.maxBytes
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch o.tls {
	case "starttls":
		srv.TLSConfig = serverTLS(t)
	case "implicit":
		ln = tls.NewListener(ln, serverTLS(t))
	}
	ts.addr = ln.Addr().String()
	ts.port = ln.Addr().(*net.TCPAddr).Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *testServer) newSession(c *smtpd.Conn) (smtpd.Session, error) {
	rec := &received{Helo: c.Hostname(), done: make(chan struct{})}
	ts.mu.Lock()
	ts.recs = append(ts.recs, rec)
	ts.mu.Unlock()
	return &session{ts: ts, conn: c, rec: rec}, nil
}

// sessions waits for every session so far to end, and returns them.
func (ts *testServer) sessions(t *testing.T) []*received {
	t.Helper()
	ts.mu.Lock()
	recs := append([]*received(nil), ts.recs...)
	ts.mu.Unlock()
	for _, r := range recs {
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Fatal("a server session did not end")
		}
	}
	return recs
}

// only returns the one session the test expects. go-smtp starts a session
// anew after STARTTLS, so the session before it may be there too, empty.
func (ts *testServer) only(t *testing.T) *received {
	t.Helper()
	recs := ts.sessions(t)
	if len(recs) == 0 || len(recs) > 2 || len(recs) == 2 && (recs[0].From != "" || recs[0].AuthUser != "") {
		t.Fatalf("server saw %d sessions, want 1 (and one before STARTTLS)", len(recs))
	}
	return recs[len(recs)-1]
}

// config is a Config for this server, trusting the test certificate.
func (ts *testServer) config(mode TLSMode) Config {
	return Config{
		Host:    "127.0.0.1",
		Port:    ts.port,
		TLSMode: mode,
		From:    "Recordings <rec@icrec.test>",
		HELO:    "icrec.test",
		Timeout: 10 * time.Second,
		TLS:     &tls.Config{RootCAs: testCert().pool},
	}
}

// redirect makes s dial ts whatever host its Config names, to test names
// other than localhost without DNS.
func (ts *testServer) redirect(s *Sender) {
	var d net.Dialer
	s.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, ts.addr)
	}
}

type session struct {
	ts     *testServer
	conn   *smtpd.Conn
	rec    *received
	authed bool
}

func (s *session) AuthMechanisms() []string {
	if s.ts.opts.user == "" && s.ts.opts.authReply == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.rec.AuthUser, s.rec.AuthPass = user, pass
		if s.ts.opts.authReply != nil {
			return s.ts.opts.authReply
		}
		if user != s.ts.opts.user || pass != s.ts.opts.pass {
			return smtpd.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtpd.MailOptions) error {
	if s.ts.opts.user != "" && !s.authed {
		return smtpd.ErrAuthRequired
	}
	s.rec.From = from
	_, s.rec.TLS = s.conn.TLSConnectionState()
	return nil
}

func (s *session) Rcpt(to string, _ *smtpd.RcptOptions) error {
	if code := s.ts.opts.reject[to]; code != 0 {
		return &smtpd.SMTPError{Code: code, EnhancedCode: smtpd.EnhancedCode{code / 100, 1, 1}, Message: "No such user here"}
	}
	s.rec.Rcpts = append(s.rec.Rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.rec.Data = b
	if err != nil {
		return err
	}
	s.rec.Complete = true
	return nil
}

func (s *session) Reset() {}

func (s *session) Logout() error {
	close(s.rec.done)
	return nil
}

// silentServer accepts connections and never says a word, like a server
// that hangs or a TLS port spoken to in plain text.
func silentServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// refusedPort returns a port on 127.0.0.1 where nothing listens.
func refusedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

type certs struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, time.March, 3, 14, 15, 16, 0, time.FixedZone("CET", 3600))

var testCert = sync.OnceValue(func() certs { return makeCert(time.Now()) })

// makeCert makes a self-signed certificate for 127.0.0.1, ::1, localhost
// and mail.test.
func makeCert(now time.Time) certs {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "icrec mail test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", "mail.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return certs{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool: pool}
}

func serverTLS(*testing.T) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{testCert().cert}, MinVersion: tls.VersionTLS12}
}

// logBuffer is a JSON log that tests read back, safe for the server's and
// the client's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newSender returns a Sender for cfg with a fixed clock and a log to read.
func newSender(cfg Config) (*Sender, *logBuffer) {
	lb := &logBuffer{}
	s := New(cfg, slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s.Now = func() time.Time { return t0 }
	return s, lb
}

func portString(p int) string { return strconv.Itoa(p) }
