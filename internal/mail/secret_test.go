package mail

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"example.com/icrec"
)

// testPassword has every character that URL parsing treats specially, and
// a marker that survives percent-encoding, so that a leak of any part of
// it in any encoding shows.
const testPassword = "Tr0ub4dor&3:SECRET/x@y?z#%+ \"'"

// leaks reports where s shows the password.
func leaks(s string) []string {
	var found []string
	for name, form := range map[string]string{
		"marker":       "SECRET",
		"password":     testPassword,
		"base64":       base64.StdEncoding.EncodeToString([]byte(testPassword)),
		"AUTH PLAIN":   base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + testPassword)),
		"path-escaped": url.PathEscape(testPassword),
	} {
		if strings.Contains(s, form) {
			found = append(found, name)
		}
	}
	return found
}

// errorTexts is every way an error may be printed or logged: its own text
// in each verb, the caller-safe message, and each cause on its own.
func errorTexts(err error) []string {
	var texts []string
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err))
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return append(texts, icrec.ErrorMessage(err))
}

func TestNoPasswordInErrorsOrLogs(t *testing.T) {
	withAuth := func(cfg Config) Config {
		cfg.Username, cfg.Password = "alice", testPassword
		return cfg
	}
	scenarios := []struct {
		name string
		run  func(t *testing.T) (*Sender, *Message, context.Context)
		ok   bool
	}{
		{"OK", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{tls: "starttls", user: "alice", pass: testPassword})
			s, _ := newSender(withAuth(ts.config(StartTLSRequired)))
			return s, nil, t.Context()
		}, true},
		{"WrongPassword", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{tls: "starttls", user: "alice", pass: "something else"})
			s, _ := newSender(withAuth(ts.config(StartTLSRequired)))
			return s, nil, t.Context()
		}, false},
		{"ServerEchoesPassword", func(t *testing.T) (*Sender, *Message, context.Context) {
			echo := &smtpd.SMTPError{Code: 535, EnhancedCode: smtpd.EnhancedCode{5, 7, 8},
				Message: "bad password " + testPassword + " in " + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00"+testPassword))}
			ts := startServer(t, serverOpts{tls: "starttls", authReply: echo})
			s, _ := newSender(withAuth(ts.config(StartTLSRequired)))
			return s, nil, t.Context()
		}, false},
		{"NoTLSToRemoteHost", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{user: "alice", pass: testPassword, insecureAuth: true})
			cfg := withAuth(ts.config(StartTLSOpportunistic))
			cfg.Host = "mail.test"
			s, _ := newSender(cfg)
			ts.redirect(s)
			return s, nil, t.Context()
		}, false},
		{"InvalidConfig", func(t *testing.T) (*Sender, *Message, context.Context) {
			s, _ := newSender(withAuth(Config{Host: "mail.test", TLSMode: NoTLS, From: "rec@icrec.test"}))
			return s, nil, t.Context()
		}, false},
		{"Refused", func(t *testing.T) (*Sender, *Message, context.Context) {
			s, _ := newSender(withAuth(Config{Host: "127.0.0.1", Port: refusedPort(t), From: "rec@icrec.test"}))
			return s, nil, t.Context()
		}, false},
		{"Timeout", func(t *testing.T) (*Sender, *Message, context.Context) {
			s, _ := newSender(withAuth(Config{Host: "127.0.0.1", Port: silentServer(t), From: "rec@icrec.test", Timeout: 200 * time.Millisecond}))
			return s, nil, t.Context()
		}, false},
		{"Cancelled", func(t *testing.T) (*Sender, *Message, context.Context) {
			s, _ := newSender(withAuth(Config{Host: "127.0.0.1", Port: silentServer(t), From: "rec@icrec.test"}))
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			t.Cleanup(cancel)
			return s, nil, ctx
		}, false},
		{"UntrustedCertificate", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{tls: "implicit", user: "alice", pass: testPassword})
			cfg := withAuth(ts.config(ImplicitTLS))
			cfg.TLS = nil
			s, _ := newSender(cfg)
			return s, nil, t.Context()
		}, false},
		{"STARTTLSNotOffered", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{user: "alice", pass: testPassword, insecureAuth: true})
			s, _ := newSender(withAuth(ts.config(StartTLSRequired)))
			return s, nil, t.Context()
		}, false},
		{"RecipientRejected", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{tls: "starttls", user: "alice", pass: testPassword, reject: map[string]int{"ops@example.com": 550}})
			s, _ := newSender(withAuth(ts.config(StartTLSRequired)))
			return s, nil, t.Context()
		}, false},
		{"AttachmentFails", func(t *testing.T) (*Sender, *Message, context.Context) {
			ts := startServer(t, serverOpts{tls: "starttls", user: "alice", pass: testPassword})
			s, _ := newSender(withAuth(ts.config(StartTLSRequired)))
			return s, testMessage(Attachment{FileName: "a.wav", Open: func() (io.ReadCloser, error) {
				return io.NopCloser(&failingReader{n: 1000}), nil
			}}), t.Context()
		}, false},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s, m, ctx := sc.run(t)
			logs := &logBuffer{}
			s.log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if m == nil {
				m = testMessage()
			}
			err := s.Send(ctx, m)
			if (err == nil) != sc.ok {
				t.Fatalf("Send: %v", err)
			}
			for _, text := range errorTexts(err) {
				if l := leaks(text); l != nil {
					t.Errorf("error shows the password (%s): %s", strings.Join(l, ", "), text)
				}
			}
			if l := leaks(logs.String()); l != nil {
				t.Errorf("log shows the password (%s): %s", strings.Join(l, ", "), logs)
			}
			if logs.String() == "" && !errors.Is(err, context.Canceled) && sc.name != "InvalidConfig" {
				t.Error("nothing was logged")
			}
		})
	}
}

func TestNoPasswordInConfigOutput(t *testing.T) {
	cfg := Config{Host: "mail.example.com", Username: "alice", Password: testPassword, From: "rec@example.com"}
	var texts []string
	texts = append(texts, fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", cfg, cfg, cfg, cfg, cfg, cfg), fmt.Sprint(&cfg), cfg.String(), cfg.GoString())
	logs := &logBuffer{}
	slog.New(slog.NewJSONHandler(logs, nil)).Info("cfg", "cfg", cfg, "ptr", &cfg)
	slog.New(slog.NewTextHandler(logs, nil)).Info("cfg", "cfg", cfg, "ptr", &cfg)
	texts = append(texts, logs.String())
	s := New(cfg, nil)
	texts = append(texts, fmt.Sprintf("%v|%+v|%#v|%s", s, s, s, *s))
	for _, text := range texts {
		if l := leaks(text); l != nil {
			t.Errorf("shows the password (%s): %s", strings.Join(l, ", "), text)
		}
	}
}

func TestNoPasswordInParseURLErrors(t *testing.T) {
	esc := url.PathEscape(testPassword)
	raw := testPassword
	for _, u := range []string{
		"smtp://alice:" + esc + "@mail.example.com:99999",
		"smtp://alice:" + esc + "@mail.example.com:",
		"smtp://alice:" + esc + "@mail example.com",
		"smtp://alice:" + esc + "@",
		"smtp://alice:" + esc + "@[::1",
		"smtp://alice:" + esc + "@::1",
		"smtp://alice:" + esc + "@mail.example.com?starttls=none",
		"smtps://alice:" + esc + "@mail.example.com?starttls=none",
		"smtp://alice:" + esc + "@mail.example.com?bogus=1",
		"smtp://alice:" + esc + "@mail.example.com?from=bad",
		"smtp://alice:" + esc + "@mail.example.com?%zz",
		"smtp://alice:" + esc + "@mail.example.com/path",
		"smtp://alice:" + esc + "%zz@mail.example.com",
		"smtp://alice:" + esc + "%0A@mail.example.com",
		"smtp://:" + esc + "@mail.example.com",
		"smtp://alice:" + raw + "@mail.example.com",
		"smtp://alice:" + raw + "@mail.example.com?from=rec@example.com",
		"smtp:/alice:" + esc + "@mail.example.com",
		"smtp//alice:" + raw + "@mail.example.com",
		"alice:" + raw + "@mail.example.com",
		"http://alice:" + esc + "@mail.example.com",
		"smtp://alice:" + esc + "@mail.example.com#" + esc,
	} {
		_, err := ParseURL(u)
		if err == nil {
			t.Errorf("ParseURL accepted %q", u)
			continue
		}
		for _, text := range errorTexts(err) {
			if l := leaks(text); l != nil {
				t.Errorf("error shows the password (%s): %s", strings.Join(l, ", "), text)
			}
		}
	}
}
