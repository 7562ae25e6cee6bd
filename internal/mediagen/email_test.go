package mediagen_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/mediagen"
)

// parsedEmail is what an indexer finds in a message.
type parsedEmail struct {
	subject     string
	from        *mail.Address
	to, cc      []*mail.Address
	date        time.Time
	messageID   string
	text, html  string
	attachments []mediagen.Attachment
	structure   []string // media types in the order met, nesting flattened
}

// parseEmail reads raw with net/mail and mime/multipart only, as an
// indexer in another package would.
func parseEmail(t *testing.T, raw []byte) parsedEmail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var p parsedEmail
	dec := new(mime.WordDecoder)
	if p.subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	if p.from, err = mail.ParseAddress(msg.Header.Get("From")); err != nil {
		t.Fatal(err)
	}
	if p.to, err = msg.Header.AddressList("To"); err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Cc") != "" {
		if p.cc, err = msg.Header.AddressList("Cc"); err != nil {
			t.Fatal(err)
		}
	}
	if p.date, err = msg.Header.Date(); err != nil {
		t.Fatal(err)
	}
	p.messageID = msg.Header.Get("Message-ID")
	if got := msg.Header.Get("MIME-Version"); got != "1.0" {
		t.Errorf("MIME-Version %q", got)
	}
	p.walk(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), "", msg.Body)
	return p
}

func (p *parsedEmail) walk(t *testing.T, contentType, encoding, disposition string, body io.Reader) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	p.structure = append(p.structure, mt)
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// multipart decodes quoted-printable itself and then drops
			// the Content-Transfer-Encoding header.
			p.walk(t, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part.Header.Get("Content-Disposition"), part)
		}
	}
	if disposition != "" {
		d, dparams, err := mime.ParseMediaType(disposition)
		if err != nil || d != "attachment" {
			t.Fatalf("Content-Disposition %q: %v", disposition, err)
		}
		if encoding != "base64" {
			t.Fatalf("attachment encoding %q, want base64", encoding)
		}
		data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
		if err != nil {
			t.Fatal(err)
		}
		if params["name"] != dparams["filename"] {
			t.Errorf("Content-Type name %q, Content-Disposition filename %q", params["name"], dparams["filename"])
		}
		p.attachments = append(p.attachments, mediagen.Attachment{Filename: dparams["filename"], ContentType: mt, Data: data})
		return
	}
	if encoding == "quoted-printable" {
		// Only a top-level body gets here still encoded.
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if params["charset"] != "UTF-8" {
		t.Errorf("%s charset %q, want UTF-8", mt, params["charset"])
	}
	switch mt {
	case "text/plain":
		p.text = string(b)
	case "text/html":
		p.html = string(b)
	}
}

// checkEmail checks that raw, parsed, yields e.
func checkEmail(t *testing.T, raw []byte, e mediagen.Email) parsedEmail {
	t.Helper()
	checkLines(t, raw)
	p := parseEmail(t, raw)
	// Line ends become CRLF, and a message that is a single text part
	// gains a final line break.
	crlf := func(s string) string {
		return strings.TrimRight(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"), "\r\n")
	}
	if p.subject != e.Subject {
		t.Errorf("Subject %q, want %q", p.subject, e.Subject)
	}
	if p.from.String() != e.From.String() {
		t.Errorf("From %v, want %v", p.from, e.From)
	}
	if len(p.to) != len(e.To) || len(p.cc) != len(e.Cc) {
		t.Errorf("%d To and %d Cc, want %d and %d", len(p.to), len(p.cc), len(e.To), len(e.Cc))
	}
	for k := range min(len(p.to), len(e.To)) {
		if *p.to[k] != e.To[k] {
			t.Errorf("To[%d] %v, want %v", k, p.to[k], e.To[k])
		}
	}
	if !p.date.Equal(e.Date) {
		t.Errorf("Date %v, want %v", p.date, e.Date)
	}
	if p.messageID != "<"+e.MessageID+">" {
		t.Errorf("Message-ID %q, want <%s>", p.messageID, e.MessageID)
	}
	if crlf(p.text) != crlf(e.Text) {
		t.Errorf("text body %q, want %q", p.text, crlf(e.Text))
	}
	if crlf(p.html) != crlf(e.HTML) {
		t.Errorf("HTML body %q, want %q", p.html, crlf(e.HTML))
	}
	if len(p.attachments) != len(e.Attachments) {
		t.Fatalf("%d attachments, want %d", len(p.attachments), len(e.Attachments))
	}
	for k, a := range p.attachments {
		w := e.Attachments[k]
		if a.Filename != w.Filename || a.ContentType != w.ContentType || !bytes.Equal(a.Data, w.Data) {
			t.Errorf("attachment %d is %q (%s, %d bytes), want %q (%s, %d bytes)", k, a.Filename, a.ContentType, len(a.Data), w.Filename, w.ContentType, len(w.Data))
		}
	}
	return p
}

// checkLines checks the line discipline of RFC 5322 and RFC 2045: CRLF
// only, no line over 998 characters, 7-bit, and base64 bodies in lines
// of at most 76.
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Error("message does not end in CRLF")
	}
	lines := strings.Split(string(raw), "\r\n")
	inBase64 := false
	for n, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", n+1, l)
		}
		if len(l) > 998 {
			t.Fatalf("line %d is %d characters long", n+1, len(l))
		}
		for _, c := range []byte(l) {
			if c >= 0x80 {
				t.Fatalf("line %d is not 7-bit: %q", n+1, l)
			}
		}
		switch {
		case strings.EqualFold(l, "Content-Transfer-Encoding: base64"):
			inBase64 = true
		case strings.HasPrefix(l, "--"):
			inBase64 = false
		case inBase64 && len(l) > 76:
			t.Fatalf("base64 line %d is %d characters long", n+1, len(l))
		}
	}
}

func TestWriteEmail(t *testing.T) {
	date := time.Date(2024, 3, 5, 9, 41, 7, 0, time.FixedZone("", -5*3600))
	base := mediagen.Email{
		From:      mail.Address{Name: "Zoë Müller", Address: "zoe.muller@example.com"},
		To:        []mail.Address{{Name: "Example Support", Address: "help@support.example.com"}},
		Cc:        []mail.Address{{Name: "O'Brien, Sam", Address: "sam@example.net"}, {Address: "team@support.example.com"}},
		Date:      date,
		Subject:   "Rückerstattung für Bestellung #123456 — bitte prüfen, die Abbuchung erfolgte zweimal",
		MessageID: "20240305094107.1a2b3c4d@support.example.com",
		Text:      "Hello,\n\nI was charged twice. A line with = signs and trailing space \nand a very long line " + strings.Repeat("that goes on ", 12) + "\n\nKind regards,\nZoë",
		HTML:      "<p>Hello,</p>\n<p>I was charged <b>twice</b> &amp; want a refund.</p>\n",
	}
	attachments := []mediagen.Attachment{
		{Filename: "invoice 123456.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte{0, 1, 2, 0xff}, 300)},
		{Filename: "Rechnung_März.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 not really")},
		{Filename: "明細書.csv", ContentType: "text/csv", Data: []byte("date,amount\r\n2024-03-01,12.50\r\n")},
	}

	t.Run("OKWithAttachments", func(t *testing.T) {
		e := base
		e.Attachments = attachments
		var b bytes.Buffer
		if err := mediagen.WriteEmail(&b, e); err != nil {
			t.Fatal(err)
		}
		p := checkEmail(t, b.Bytes(), e)
		if got, want := strings.Join(p.structure, " "), "multipart/mixed multipart/alternative text/plain text/html application/pdf application/pdf text/csv"; got != want {
			t.Errorf("structure %q, want %q", got, want)
		}
		for _, want := range []string{
			`filename="invoice 123456.pdf"`,
			`filename*=UTF-8''Rechnung_M%C3%A4rz.pdf`,
			`filename*=UTF-8''%E6%98%8E%E7%B4%B0%E6%9B%B8.csv`,
			"Subject: =?UTF-8?q?R=C3=BCckerstattung",
		} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("message lacks %q", want)
			}
		}
	})
	t.Run("OKMostlyNonASCIISubjectIsBase64", func(t *testing.T) {
		e := base
		e.Subject = "注文 #123456 の配送状況について"
		var b bytes.Buffer
		if err := mediagen.WriteEmail(&b, e); err != nil {
			t.Fatal(err)
		}
		checkEmail(t, b.Bytes(), e)
		if !strings.Contains(b.String(), "Subject: =?UTF-8?b?") {
			t.Error("want a B-encoded subject")
		}
	})
	t.Run("OKWithoutAttachments", func(t *testing.T) {
		var b bytes.Buffer
		if err := mediagen.WriteEmail(&b, base); err != nil {
			t.Fatal(err)
		}
		p := checkEmail(t, b.Bytes(), base)
		if got, want := strings.Join(p.structure, " "), "multipart/alternative text/plain text/html"; got != want {
			t.Errorf("structure %q, want %q", got, want)
		}
	})
	t.Run("OKTextOnly", func(t *testing.T) {
		e := base
		e.HTML = ""
		e.Cc = nil
		var b bytes.Buffer
		if err := mediagen.WriteEmail(&b, e); err != nil {
			t.Fatal(err)
		}
		p := checkEmail(t, b.Bytes(), e)
		if got, want := strings.Join(p.structure, " "), "text/plain"; got != want {
			t.Errorf("structure %q, want %q", got, want)
		}
	})
	for _, c := range []struct {
		name string
		edit func(e *mediagen.Email)
	}{
		{"ErrNoFrom", func(e *mediagen.Email) { e.From = mail.Address{} }},
		{"ErrNoTo", func(e *mediagen.Email) { e.To = nil }},
		{"ErrNoMessageID", func(e *mediagen.Email) { e.MessageID = "" }},
		{"ErrBracketedMessageID", func(e *mediagen.Email) { e.MessageID = "<a@b>" }},
		{"ErrNoDate", func(e *mediagen.Email) { e.Date = time.Time{} }},
		{"ErrContentTypeWithParameters", func(e *mediagen.Email) {
			e.Attachments = []mediagen.Attachment{{Filename: "a.txt", ContentType: "text/plain; charset=utf-8"}}
		}},
		{"ErrUpperCaseContentType", func(e *mediagen.Email) {
			e.Attachments = []mediagen.Attachment{{Filename: "a.pdf", ContentType: "Application/PDF"}}
		}},
		{"ErrLineBreakInAddress", func(e *mediagen.Email) {
			e.To = []mail.Address{{Address: "a@example.com\r\nBcc: b@example.com"}}
		}},
		{"ErrNoFilename", func(e *mediagen.Email) {
			e.Attachments = []mediagen.Attachment{{ContentType: "text/plain"}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := base
			c.edit(&e)
			if err := mediagen.WriteEmail(&bytes.Buffer{}, e); err == nil {
				t.Fatal("WriteEmail succeeded, want error")
			}
		})
	}
}

func TestNewEmail(t *testing.T) {
	date := time.Date(2024, 11, 18, 16, 5, 0, 0, time.UTC)
	write := func(seed uint64) (mediagen.Email, []byte) {
		t.Helper()
		e, err := mediagen.NewEmail(newRand(seed), date)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := mediagen.WriteEmail(&b, e); err != nil {
			t.Fatal(err)
		}
		return e, b.Bytes()
	}
	t.Run("OKParsesBack", func(t *testing.T) {
		counts := map[int]int{}
		nonASCIIName, replies := 0, 0
		for seed := range uint64(40) {
			e, raw := write(seed)
			checkEmail(t, raw, e)
			counts[len(e.Attachments)]++
			for _, a := range e.Attachments {
				if strings.ContainsFunc(a.Filename, func(r rune) bool { return r > 0x7f }) {
					nonASCIIName++
				}
			}
			if e.InReplyTo != "" {
				replies++
			}
		}
		// The demo should show every case somewhere.
		for n := range 4 {
			if counts[n] == 0 {
				t.Errorf("no email with %d attachments in 40 seeds (%v)", n, counts)
			}
		}
		if nonASCIIName == 0 || replies == 0 || replies == 40 {
			t.Errorf("%d non-ASCII file names and %d replies in 40 emails", nonASCIIName, replies)
		}
	})
	t.Run("OKDeterministic", func(t *testing.T) {
		_, a := write(7)
		_, b := write(7)
		_, c := write(8)
		if !bytes.Equal(a, b) {
			t.Error("the same seed gave different messages")
		}
		if bytes.Equal(a, c) {
			t.Error("different seeds gave the same message")
		}
	})
}
