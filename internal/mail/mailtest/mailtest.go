// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests of code that sends mail, and keeps what it receives.
package mailtest

import (
	"bytes"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From  string
	Rcpts []string
	Data  []byte
}

// Server is a plain-text SMTP server without authentication.
type Server struct {
	// Addr is host:port to send to.
	Addr string
	// Reject makes the server refuse these recipients with 550.
	Reject map[string]bool

	mu    sync.Mutex
	msgs  []Message
	got   chan struct{}
	close func()
}

// Close stops the server: later connections are refused.
func (s *Server) Close() { s.close() }

// Start runs a server on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{Reject: map[string]bool{}, got: make(chan struct{}, 64)}
	srv := smtpd.NewServer(smtpd.BackendFunc(func(*smtpd.Conn) (smtpd.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	var once sync.Once
	s.close = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(s.close)
	return s
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits up to d for n messages in all, and returns them.
func (s *Server) Wait(n int, d time.Duration) []Message {
	deadline := time.After(d)
	for len(s.Messages()) < n {
		select {
		case <-s.got:
		case <-deadline:
			return s.Messages()
		}
	}
	return s.Messages()
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return nil }
func (x *session) Reset()                   { x.from, x.to = "", nil }
func (x *session) Logout() error            { return nil }

func (x *session) Mail(from string, _ *smtpd.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtpd.RcptOptions) error {
	x.s.mu.Lock()
	reject := x.s.Reject[strings.ToLower(to)]
	x.s.mu.Unlock()
	if reject {
		return &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, Rcpts: x.to, Data: b.Bytes()})
	x.s.mu.Unlock()
	select {
	case x.s.got <- struct{}{}:
	default:
	}
	return nil
}
