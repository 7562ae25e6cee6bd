package mail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
)

const (
	testSubject = "Aufnahme vom 3. März – Anruf 42, die sehr lange Betreffzeile mit Umlauten äöü 🎧"
	testBody    = "Hallo Jürgen,\n\nanbei die Aufnahme.\n.\n" +
		"This line is longer than seventy-six characters, so quoted-printable has to wrap it with soft breaks.\n" +
		"From here on, = signs and trailing spaces stay intact.  \nGrüße\n"
)

func testMessage(atts ...Attachment) *Message {
	return &Message{
		To: []netmail.Address{
			{Name: "Jürgen Müller", Address: "juergen@example.com"},
			{Address: "ops@example.com"},
		},
		Cc:          []netmail.Address{{Name: "Doe, Jane", Address: "jane@example.com"}},
		ReplyTo:     "Agent Smith <agent@example.com>",
		Subject:     testSubject,
		Body:        testBody,
		Priority:    PriorityHigh,
		Attachments: atts,
	}
}

func bytesAttachment(name, contentType string, data []byte) Attachment {
	return Attachment{
		FileName:    name,
		ContentType: contentType,
		Size:        int64(len(data)),
		Open:        func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// genSource makes n pseudo-random bytes as they are read, so that the test
// holds no copy of its big attachment, and counts opens and closes.
type genSource struct {
	n             int64
	seed          byte
	opens, closes atomic.Int32
}

func (g *genSource) reader() io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{g.seed}), g.n)
}

func (g *genSource) attachment(name string) Attachment {
	return Attachment{
		FileName:    name,
		ContentType: "audio/ogg; codecs=opus",
		Size:        g.n,
		Open: func() (io.ReadCloser, error) {
			g.opens.Add(1)
			return readCloser{g.reader(), func() { g.closes.Add(1) }}, nil
		},
	}
}

func (g *genSource) sum() [32]byte {
	h := sha256.New()
	io.Copy(h, g.reader())
	return [32]byte(h.Sum(nil))
}

type readCloser struct {
	io.Reader
	onClose func()
}

func (r readCloser) Close() error { r.onClose(); return nil }

type parsedPart struct {
	header  textproto.MIMEHeader
	content []byte // decoded
}

// parseMessage reads a received message as a mail reader would.
func parseMessage(t *testing.T, data []byte) (*netmail.Message, []parsedPart) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %q, %v", msg.Header.Get("Content-Type"), mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []parsedPart
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextRawPart: %v", err)
		}
		var r io.Reader = p
		switch cte := p.Header.Get("Content-Transfer-Encoding"); cte {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, p)
		case "quoted-printable":
			r = quotedprintable.NewReader(p)
		default:
			t.Fatalf("part has Content-Transfer-Encoding %q", cte)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		parts = append(parts, parsedPart{p.Header, b})
	}
	return msg, parts
}

// checkWire checks what any message must be on the wire: 7-bit, CRLF line
// ends, and lines of at most 78 characters (the headers folded, the
// encodings wrapped), but for file names, which stay whole up to the limit
// of 998 rather than use RFC 2231 continuations that fewer readers know.
func checkWire(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Error("message does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > 78 && !(bytes.HasPrefix(line, []byte(" filename")) && len(line) <= 998) {
			t.Errorf("line %d has %d characters: %.90q", i+1, len(line), line)
		}
		for _, b := range line {
			if b >= 0x80 || b == '\n' || b == '\r' || b == 0 {
				t.Fatalf("line %d has byte %#x: %q", i+1, b, line)
			}
		}
	}
}

func TestSendPlain(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s, logs := newSender(ts.config(NoTLS))
	small := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00 not really a wav \xff\xfe")
	big := &genSource{n: 3<<20 + 12345, seed: 7}
	m := testMessage(
		bytesAttachment("Aufnahme – Müller.wav", "audio/wav", small),
		big.attachment("call-42.opus"),
	)
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}

	rec := ts.only(t)
	if !rec.Complete || rec.TLS || rec.Helo != "icrec.test" || rec.From != "rec@icrec.test" {
		t.Errorf("session: complete %v, TLS %v, HELO %q, MAIL FROM %q", rec.Complete, rec.TLS, rec.Helo, rec.From)
	}
	if want := []string{"juergen@example.com", "ops@example.com", "jane@example.com"}; !slices.Equal(rec.Rcpts, want) {
		t.Errorf("RCPT TO: got %q, want %q", rec.Rcpts, want)
	}
	checkWire(t, rec.Data)
	msg, parts := parseMessage(t, rec.Data)
	h := msg.Header

	if d, err := h.Date(); err != nil || !d.Equal(t0) {
		t.Errorf("Date %q: got %v, %v; want %v", h.Get("Date"), d, err, t0)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@icrec\.test>$`).MatchString(id) {
		t.Errorf("Message-ID %q", id)
	}
	checkAddrs(t, h, "From", []*netmail.Address{{Name: "Recordings", Address: "rec@icrec.test"}})
	checkAddrs(t, h, "To", []*netmail.Address{&m.To[0], &m.To[1]})
	checkAddrs(t, h, "Cc", []*netmail.Address{&m.Cc[0]})
	checkAddrs(t, h, "Reply-To", []*netmail.Address{{Name: "Agent Smith", Address: "agent@example.com"}})
	if got, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || got != testSubject {
		t.Errorf("Subject %q decodes to %q, %v; want %q", h.Get("Subject"), got, err, testSubject)
	}
	for k, want := range map[string]string{"MIME-Version": "1.0", "X-Priority": "1", "Importance": "high"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}

	if len(parts) != 3 {
		t.Fatalf("got %d parts, want 3", len(parts))
	}
	if ct := parts[0].header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("body Content-Type %q", ct)
	}
	if got, want := string(parts[0].content), strings.ReplaceAll(testBody, "\n", "\r\n"); got != want {
		t.Errorf("body:\ngot  %q\nwant %q", got, want)
	}

	disp, params, err := mime.ParseMediaType(parts[1].header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != "Aufnahme – Müller.wav" {
		t.Errorf("Content-Disposition %q: %q %q %v", parts[1].header.Get("Content-Disposition"), disp, params, err)
	}
	for _, want := range []string{
		"Content-Disposition: attachment;\r\n filename=\"Aufnahme _ Muller.wav\";\r\n filename*=UTF-8''Aufnahme%20%E2%80%93%20M%C3%BCller.wav;\r\n size=",
		"Content-Type: audio/wav; name=\"Aufnahme _ Muller.wav\"\r\n",
	} {
		if !bytes.Contains(rec.Data, []byte(want)) {
			t.Errorf("message lacks %q", want)
		}
	}
	if !bytes.Equal(parts[1].content, small) {
		t.Errorf("small attachment: got %q, want %q", parts[1].content, small)
	}
	if mt, _, _ := mime.ParseMediaType(parts[2].header.Get("Content-Type")); mt != "audio/ogg" {
		t.Errorf("big attachment Content-Type %q", parts[2].header.Get("Content-Type"))
	}
	if int64(len(parts[2].content)) != big.n || sha256.Sum256(parts[2].content) != big.sum() {
		t.Errorf("big attachment: got %d bytes that differ from the %d sent", len(parts[2].content), big.n)
	}
	if big.opens.Load() != 1 || big.closes.Load() != 1 {
		t.Errorf("big attachment opened %d and closed %d times, want 1 and 1", big.opens.Load(), big.closes.Load())
	}

	line := onlyLogLine(t, logs)
	if line["msg"] != "mail sent" || line["level"] != "INFO" || line["recipients"] != 3.0 || line["attachments"] != 2.0 ||
		line["bytes"] != float64(len(rec.Data)) || line["server"] != ts.addr || line["message_id"] != h.Get("Message-ID") {
		t.Errorf("log line %v", line)
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("log line has no duration: %v", line)
	}
	for _, private := range []string{"Aufnahme", "Hallo", "juergen", "Müller"} {
		if strings.Contains(logs.String(), private) {
			t.Errorf("log shows %q: %s", private, logs)
		}
	}
}

func checkAddrs(t *testing.T, h netmail.Header, key string, want []*netmail.Address) {
	t.Helper()
	got, err := h.AddressList(key)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s %q: got %v, %v; want %v", key, h.Get(key), got, err, want)
	}
}

func onlyLogLine(t *testing.T, logs *logBuffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), logs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendTLS(t *testing.T) {
	tests := []struct {
		name string
		opts serverOpts
		mode TLSMode
		host string // redirected to the server
	}{
		{"StartTLSWithAuth", serverOpts{tls: "starttls", user: "alice", pass: "pw"}, StartTLSRequired, ""},
		{"StartTLSServerNameFromHost", serverOpts{tls: "starttls", user: "alice", pass: "pw"}, StartTLSRequired, "mail.test"},
		{"Opportunistic", serverOpts{tls: "starttls", user: "alice", pass: "pw"}, StartTLSOpportunistic, "mail.test"},
		{"ImplicitWithAuth", serverOpts{tls: "implicit", user: "alice", pass: "pw"}, ImplicitTLS, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.opts)
			cfg := ts.config(tt.mode)
			cfg.Username, cfg.Password = "alice", "pw"
			if tt.host != "" {
				cfg.Host = tt.host
			}
			s, _ := newSender(cfg)
			ts.redirect(s)
			if err := s.Send(t.Context(), testMessage(bytesAttachment("a.txt", "text/plain", []byte("hello")))); err != nil {
				t.Fatal(err)
			}
			rec := ts.only(t)
			if !rec.TLS || !rec.Complete || rec.AuthUser != "alice" || rec.AuthPass != "pw" {
				t.Errorf("TLS %v, complete %v, AUTH %q/%q", rec.TLS, rec.Complete, rec.AuthUser, rec.AuthPass)
			}
		})
	}
}

func TestSendPlainFallback(t *testing.T) {
	t.Run("OpportunisticWithoutSTARTTLS", func(t *testing.T) {
		ts := startServer(t, serverOpts{})
		s, _ := newSender(ts.config(StartTLSOpportunistic))
		if err := s.Send(t.Context(), testMessage()); err != nil {
			t.Fatal(err)
		}
		if rec := ts.only(t); rec.TLS || !rec.Complete {
			t.Errorf("TLS %v, complete %v", rec.TLS, rec.Complete)
		}
	})
	t.Run("AuthToLocalhostWithoutTLS", func(t *testing.T) {
		// As net/smtp allows: a relay on the same host.
		ts := startServer(t, serverOpts{user: "alice", pass: "pw", insecureAuth: true})
		cfg := ts.config(NoTLS)
		cfg.Username, cfg.Password = "alice", "pw"
		s, _ := newSender(cfg)
		if err := s.Send(t.Context(), testMessage()); err != nil {
			t.Fatal(err)
		}
		if rec := ts.only(t); rec.AuthUser != "alice" || !rec.Complete {
			t.Errorf("AUTH %q, complete %v", rec.AuthUser, rec.Complete)
		}
	})
}

// sendErr sends testMessage with s and checks the error's kind and that its
// message holds each of want.
func sendErr(t *testing.T, s *Sender, m *Message, kind icrec.Kind, want ...string) *icrec.Error {
	t.Helper()
	if m == nil {
		m = testMessage(bytesAttachment("a.txt", "text/plain", []byte("hello")))
	}
	err := s.Send(t.Context(), m)
	if err == nil {
		t.Fatal("Send succeeded")
	}
	e, ok := errors.AsType[*icrec.Error](err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *icrec.Error", err, err)
	}
	if e.Kind != kind {
		t.Errorf("kind: got %v, want %v (%v)", e.Kind, kind, err)
	}
	for _, w := range want {
		if !strings.Contains(e.Message, w) {
			t.Errorf("message %q lacks %q", e.Message, w)
		}
	}
	return e
}

func TestSendTLSFailures(t *testing.T) {
	t.Run("ErrSTARTTLSNotOffered", func(t *testing.T) {
		ts := startServer(t, serverOpts{})
		s, _ := newSender(ts.config(StartTLSRequired))
		sendErr(t, s, nil, icrec.Unavailable, "mail server "+ts.addr+" does not offer STARTTLS")
		if rec := ts.only(t); rec.From != "" {
			t.Errorf("the server got MAIL FROM %q", rec.From)
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		ts := startServer(t, serverOpts{tls: "starttls"})
		cfg := ts.config(StartTLSRequired)
		cfg.TLS = nil // the system roots, which do not know the test's certificate
		s, _ := newSender(cfg)
		sendErr(t, s, nil, icrec.Unavailable, "TLS handshake with the mail server "+ts.addr+" failed")
	})
	t.Run("ErrWrongHostName", func(t *testing.T) {
		ts := startServer(t, serverOpts{tls: "implicit"})
		cfg := ts.config(ImplicitTLS)
		cfg.Host = "other.test"
		s, _ := newSender(cfg)
		ts.redirect(s)
		sendErr(t, s, nil, icrec.Unavailable, "TLS handshake", `valid for "other.test"`)
	})
	t.Run("ErrImplicitTLSToPlainServer", func(t *testing.T) {
		ts := startServer(t, serverOpts{})
		s, _ := newSender(ts.config(ImplicitTLS))
		sendErr(t, s, nil, icrec.Unavailable, "did not answer in TLS", "use smtp://")
	})
	t.Run("ErrPlainToImplicitTLSServer", func(t *testing.T) {
		ts := startServer(t, serverOpts{tls: "implicit"})
		cfg := ts.config(StartTLSRequired)
		cfg.Timeout = 300 * time.Millisecond
		s, _ := newSender(cfg)
		sendErr(t, s, nil, icrec.Unavailable, "did not respond in time during greeting", "use smtps://")
	})
}

func TestSendAuthFailures(t *testing.T) {
	t.Run("ErrPasswordNotSentInPlainText", func(t *testing.T) {
		// The server would take AUTH without TLS; the sender must not offer
		// a password to it when it is not on this host.
		ts := startServer(t, serverOpts{user: "alice", pass: "pw", insecureAuth: true})
		cfg := ts.config(StartTLSOpportunistic)
		cfg.Host, cfg.Username, cfg.Password = "mail.test", "alice", "pw"
		s, _ := newSender(cfg)
		ts.redirect(s)
		sendErr(t, s, nil, icrec.Unavailable, "not encrypted", `password of "alice" was not sent`)
		if rec := ts.only(t); rec.AuthUser != "" || rec.From != "" {
			t.Errorf("the server got AUTH %q, MAIL FROM %q", rec.AuthUser, rec.From)
		}
	})
	t.Run("ErrNoTLSToRemoteHost", func(t *testing.T) {
		cfg := Config{Host: "mail.test", TLSMode: NoTLS, Username: "alice", Password: "pw", From: "rec@icrec.test"}
		s, _ := newSender(cfg)
		s.dial = noDial(t)
		e := sendErr(t, s, nil, icrec.Internal, "mail settings are not valid")
		if !strings.Contains(e.Error(), "unencrypted") {
			t.Errorf("error %q does not say why", e)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		ts := startServer(t, serverOpts{tls: "starttls", user: "alice", pass: "right"})
		cfg := ts.config(StartTLSRequired)
		cfg.Username, cfg.Password = "alice", "wrong"
		s, _ := newSender(cfg)
		sendErr(t, s, nil, icrec.Internal, `rejected the user name or password of "alice"`, "535")
	})
	t.Run("ErrAuthRequired", func(t *testing.T) {
		ts := startServer(t, serverOpts{tls: "starttls", user: "alice", pass: "pw"})
		s, _ := newSender(ts.config(StartTLSRequired))
		sendErr(t, s, nil, icrec.Internal, "rec@icrec.test", "require a user and password")
	})
	t.Run("ErrAuthNotOffered", func(t *testing.T) {
		ts := startServer(t, serverOpts{})
		cfg := ts.config(NoTLS)
		cfg.Username, cfg.Password = "alice", "pw"
		s, _ := newSender(cfg)
		sendErr(t, s, nil, icrec.Internal, "does not offer AUTH", `"alice"`)
	})
}

func TestSendRecipientRejected(t *testing.T) {
	t.Run("ErrOne", func(t *testing.T) {
		ts := startServer(t, serverOpts{reject: map[string]int{"jane@example.com": 550}})
		s, logs := newSender(ts.config(NoTLS))
		e := sendErr(t, s, nil, icrec.Invalid, "mail server "+ts.addr+" rejected the recipient jane@example.com (550 5.1.1 No such user here)")
		if e.Property != "cc[0]" || e.ID != icrec.IDInvalidProperty {
			t.Errorf("property %q, id %q", e.Property, e.ID)
		}
		if rec := ts.only(t); rec.Data != nil {
			t.Error("the server got DATA")
		}
		if line := onlyLogLine(t, logs); line["msg"] != "mail not sent" || line["level"] != "WARN" || line["kind"] != "invalid" {
			t.Errorf("log line %v", line)
		}
	})
	t.Run("ErrTwo", func(t *testing.T) {
		ts := startServer(t, serverOpts{reject: map[string]int{"jane@example.com": 550, "ops@example.com": 553}})
		s, _ := newSender(ts.config(NoTLS))
		e := sendErr(t, s, nil, icrec.Invalid, "rejected 2 recipients: ops@example.com (553", "jane@example.com (550")
		if e.Property != "to[1]" {
			t.Errorf("property %q, want to[1]", e.Property)
		}
	})
	t.Run("ErrTemporary", func(t *testing.T) {
		ts := startServer(t, serverOpts{reject: map[string]int{"ops@example.com": 450}})
		s, _ := newSender(ts.config(NoTLS))
		sendErr(t, s, nil, icrec.Unavailable, "temporarily refused the recipient ops@example.com (450", "try again later")
	})
}

func TestSendTooLarge(t *testing.T) {
	big := &genSource{n: 3 << 20, seed: 1}
	t.Run("ErrKnownSize", func(t *testing.T) {
		ts := startServer(t, serverOpts{maxBytes: 1 << 20})
		s, _ := newSender(ts.config(NoTLS))
		sendErr(t, s, testMessage(big.attachment("big.opus")), icrec.TooLarge, "over the 1048576-byte limit of the mail server "+ts.addr)
		if rec := ts.only(t); rec.From != "" {
			t.Error("the server got MAIL FROM")
		}
	})
	t.Run("ErrUnknownSize", func(t *testing.T) {
		ts := startServer(t, serverOpts{maxBytes: 1 << 20})
		s, _ := newSender(ts.config(NoTLS))
		a := big.attachment("big.opus")
		a.Size = 0
		sendErr(t, s, testMessage(a), icrec.TooLarge, "too large for the mail server", "552")
		if rec := ts.only(t); rec.Complete {
			t.Error("the server took the message")
		}
	})
	t.Run("OKJustUnder", func(t *testing.T) {
		// The estimate is exact, so a message that fits is not refused.
		m := testMessage(big.attachment("big.opus"))
		e, err := compose(m, &netmail.Address{Name: "Recordings", Address: "rec@icrec.test"}, "icrec.test", t0)
		if err != nil {
			t.Fatal(err)
		}
		// go-smtp refuses a message of exactly MaxMessageBytes.
		ts := startServer(t, serverOpts{maxBytes: e.size + 1})
		s, _ := newSender(ts.config(NoTLS))
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if rec := ts.only(t); int64(len(rec.Data)) != e.size {
			t.Errorf("sent %d bytes, estimated %d", len(rec.Data), e.size)
		}
	})
}

// failingReader gives n bytes, then fails.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk on fire")
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestSendAttachmentFailure(t *testing.T) {
	tests := []struct {
		name string
		att  Attachment
		kind icrec.Kind
	}{
		{"ErrOpenNotFound", Attachment{FileName: "gone.wav", Open: func() (io.ReadCloser, error) {
			return nil, icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "no such recording")
		}}, icrec.NotFound},
		{"ErrReadFails", Attachment{FileName: "gone.wav", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(&failingReader{n: 200 << 10}), nil
		}}, icrec.Internal},
		{"ErrShorterThanSize", Attachment{FileName: "gone.wav", Size: 200<<10 + 1, Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.LimitReader(zeros{}, 200<<10)), nil
		}}, icrec.Internal},
		{"ErrLongerThanSize", Attachment{FileName: "gone.wav", Size: 200<<10 - 1, Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.LimitReader(zeros{}, 200<<10)), nil
		}}, icrec.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, serverOpts{})
			s, _ := newSender(ts.config(NoTLS))
			sendErr(t, s, testMessage(bytesAttachment("ok.txt", "", []byte("fine")), tt.att), tt.kind,
				`could not read the attachment "gone.wav", so the message was not sent`)
			rec := ts.only(t)
			if rec.Complete {
				t.Error("the server took a partial message")
			}
			if len(rec.Rcpts) != 3 {
				t.Errorf("the session did not get to DATA: %q", rec.Rcpts)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestSendConnectionFailures(t *testing.T) {
	t.Run("ErrRefused", func(t *testing.T) {
		port := refusedPort(t)
		cfg := Config{Host: "127.0.0.1", Port: port, TLSMode: NoTLS, From: "rec@icrec.test"}
		s, _ := newSender(cfg)
		sendErr(t, s, nil, icrec.Unavailable, "the mail server 127.0.0.1:"+portString(port)+" refused the connection")
	})
	t.Run("ErrNoGreeting", func(t *testing.T) {
		port := silentServer(t)
		cfg := Config{Host: "127.0.0.1", Port: port, From: "rec@icrec.test", Timeout: 200 * time.Millisecond}
		s, _ := newSender(cfg)
		start := time.Now()
		sendErr(t, s, nil, icrec.Unavailable, "127.0.0.1:"+portString(port)+" did not respond in time during greeting (the mail timeout is 200ms)")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v with a 200ms timeout", d)
		}
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		port := silentServer(t)
		cfg := Config{Host: "127.0.0.1", Port: port, From: "rec@icrec.test", Timeout: time.Minute}
		s, _ := newSender(cfg)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := s.Send(ctx, testMessage())
		if !errors.Is(err, context.Canceled) || icrec.ErrorKind(err) != icrec.Unavailable || !strings.Contains(err.Error(), "cancelled during greeting") {
			t.Errorf("got %v (kind %v), want Unavailable wrapping context.Canceled", err, icrec.ErrorKind(err))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v to notice the cancellation", d)
		}
	})
	t.Run("ErrServerDropsConnection", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "220 mail.test ESMTP\r\n")
			bufio.NewReader(c).ReadString('\n')
			c.Close()
		}()
		cfg := Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLSMode: NoTLS, From: "rec@icrec.test"}
		s, _ := newSender(cfg)
		sendErr(t, s, nil, icrec.Unavailable, "closed the connection during EHLO")
	})
}

// noDial fails the test if the sender tries to connect.
func noDial(t *testing.T) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		t.Error("the sender connected")
		return nil, errors.New("no connection in this test")
	}
}

func TestSendInvalidMessage(t *testing.T) {
	att := func(f func(a *Attachment)) func(m *Message) {
		return func(m *Message) {
			a := bytesAttachment("a.wav", "audio/wav", []byte("x"))
			f(&a)
			m.Attachments = append(m.Attachments, a)
		}
	}
	tests := []struct {
		name     string
		change   func(m *Message)
		property string
	}{
		{"ErrNoTo", func(m *Message) { m.To = nil }, "to"},
		{"ErrSubjectInjection", func(m *Message) { m.Subject = "Hi\r\nBcc: evil@example.com" }, "subject"},
		{"ErrSubjectLF", func(m *Message) { m.Subject = "Hi\nBcc: evil@example.com" }, "subject"},
		{"ErrSubjectCR", func(m *Message) { m.Subject = "Hi\rBcc: evil@example.com" }, "subject"},
		{"ErrToNameInjection", func(m *Message) { m.To[0].Name = "Jürgen\r\nBcc: evil@example.com" }, "to[0]"},
		{"ErrToAddressInjection", func(m *Message) { m.To[1].Address = "ops@example.com\r\nRCPT TO:<evil@example.com>" }, "to[1]"},
		{"ErrCcInjection", func(m *Message) { m.Cc[0].Name = "Jane\n" }, "cc[0]"},
		{"ErrReplyToInjection", func(m *Message) { m.ReplyTo = "a@example.com\r\nBcc: evil@example.com" }, "replyTo"},
		{"ErrFileNameInjection", att(func(a *Attachment) { a.FileName = "a.wav\r\nContent-Type: text/html" }), "attachments[0].fileName"},
		{"ErrContentTypeInjection", att(func(a *Attachment) { a.ContentType = "audio/wav\r\nX-Evil: 1" }), "attachments[0].contentType"},
		{"ErrBadAddress", func(m *Message) { m.To[0].Address = "not an address" }, "to[0]"},
		{"ErrAddressList", func(m *Message) { m.To[0].Address = "a@example.com, b@example.com" }, "to[0]"},
		{"ErrDisplayNameInAddress", func(m *Message) { m.To[0].Address = "Eve <eve@example.com>" }, "to[0]"},
		{"ErrNonASCIIAddress", func(m *Message) { m.Cc[0].Address = "jürgen@example.com" }, "cc[0]"},
		{"ErrBadReplyTo", func(m *Message) { m.ReplyTo = "nobody" }, "replyTo"},
		{"ErrSubjectNotUTF8", func(m *Message) { m.Subject = "\xff" }, "subject"},
		{"ErrBodyNotUTF8", func(m *Message) { m.Body = "\xff" }, "body"},
		{"ErrNoFileName", att(func(a *Attachment) { a.FileName = "" }), "attachments[0].fileName"},
		{"ErrLongFileName", att(func(a *Attachment) { a.FileName = strings.Repeat("ü", 128) }), "attachments[0].fileName"},
		{"ErrBadContentType", att(func(a *Attachment) { a.ContentType = "audio" }), "attachments[0].contentType"},
		{"ErrNoOpen", att(func(a *Attachment) { a.Open = nil }), "attachments[0].open"},
		{"ErrNegativeSize", att(func(a *Attachment) { a.Size = -1 }), "attachments[0].size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs := newSender(Config{Host: "mail.test", From: "rec@icrec.test"})
			s.dial = noDial(t)
			m := testMessage()
			tt.change(m)
			e := sendErr(t, s, m, icrec.Invalid)
			if e.Property != tt.property {
				t.Errorf("property: got %q, want %q (%v)", e.Property, tt.property, e)
			}
			if strings.Contains(e.Message, "evil") {
				t.Errorf("message repeats the injected text: %q", e.Message)
			}
			if logs.String() != "" {
				t.Errorf("logged a message that was never sent: %s", logs)
			}
		})
	}
	t.Run("ErrNil", func(t *testing.T) {
		s, _ := newSender(Config{Host: "mail.test", From: "rec@icrec.test"})
		s.dial = noDial(t)
		if err := s.Send(t.Context(), nil); icrec.ErrorKind(err) != icrec.Invalid {
			t.Errorf("got %v, want Invalid", err)
		}
	})
}

func TestSendInvalidConfig(t *testing.T) {
	s, _ := newSender(Config{Host: "mail.test"})
	s.dial = noDial(t)
	e := sendErr(t, s, nil, icrec.Internal, "mail settings are not valid")
	if !strings.Contains(e.Error(), "From address is missing") {
		t.Errorf("error %q does not say what is wrong", e)
	}
}

func TestSendServerErrorReplies(t *testing.T) {
	// A scripted server, for replies go-smtp does not give on its own.
	script := func(t *testing.T, replies map[string]string) int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			io.WriteString(c, reply(replies, "greeting", "220 mail.test ESMTP"))
			inData := false
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if inData {
					if line == ".\r\n" {
						inData = false
						io.WriteString(c, reply(replies, "end", "250 2.0.0 queued"))
					}
					continue
				}
				verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
				verb, _, _ = strings.Cut(verb, ":")
				switch verb = strings.ToUpper(verb); verb {
				case "EHLO":
					io.WriteString(c, reply(replies, verb, "250-mail.test\r\n250 8BITMIME"))
				case "DATA":
					out := reply(replies, verb, "354 go ahead")
					io.WriteString(c, out)
					inData = strings.HasPrefix(out, "354")
				case "QUIT":
					io.WriteString(c, reply(replies, verb, "221 bye"))
					return
				default:
					io.WriteString(c, reply(replies, verb, "250 ok"))
				}
			}
		}()
		return ln.Addr().(*net.TCPAddr).Port
	}
	tests := []struct {
		name    string
		replies map[string]string
		kind    icrec.Kind
		want    string
	}{
		{"ErrGreeting554", map[string]string{"greeting": "554 no service for you"}, icrec.Unavailable, "refused service (554 no service for you)"},
		{"ErrGreeting421", map[string]string{"greeting": "421 busy"}, icrec.Unavailable, "temporary failure (421 busy)"},
		{"ErrEHLO", map[string]string{"EHLO": "550 go away", "HELO": "550 go away"}, icrec.Internal, "answered EHLO with an error (550 go away)"},
		{"ErrSender", map[string]string{"MAIL": "553 sender not allowed"}, icrec.Internal, "rejected the sender rec@icrec.test (553 sender not allowed): check From"},
		{"ErrSenderTemporary", map[string]string{"MAIL": "451 try later"}, icrec.Unavailable, "answered MAIL FROM with a temporary failure"},
		{"ErrData", map[string]string{"DATA": "554 no"}, icrec.Internal, "answered DATA with an error (554 no)"},
		{"ErrMessageRejected", map[string]string{"end": "554 5.7.1 spam"}, icrec.Internal, "rejected the message (554 5.7.1 spam)"},
		{"ErrMessageTooLarge", map[string]string{"end": "552 5.3.4 too big"}, icrec.TooLarge, "too large for the mail server"},
		{"ErrMessageDeferred", map[string]string{"end": "452 4.3.1 disk full"}, icrec.Unavailable, "answered end of DATA with a temporary failure (452 4.3.1 disk full)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Host: "127.0.0.1", Port: script(t, tt.replies), TLSMode: NoTLS, From: "rec@icrec.test", Timeout: 10 * time.Second}
			s, _ := newSender(cfg)
			sendErr(t, s, nil, tt.kind, tt.want)
		})
	}
	t.Run("OKQuitFails", func(t *testing.T) {
		cfg := Config{Host: "127.0.0.1", Port: script(t, map[string]string{"QUIT": "500 what"}), TLSMode: NoTLS, From: "rec@icrec.test"}
		s, _ := newSender(cfg)
		if err := s.Send(t.Context(), testMessage()); err != nil {
			t.Errorf("the message was accepted, but Send says %v", err)
		}
	})
}

func reply(replies map[string]string, key, def string) string {
	if r, ok := replies[key]; ok {
		return r + "\r\n"
	}
	return def + "\r\n"
}
