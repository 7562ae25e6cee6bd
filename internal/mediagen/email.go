package mediagen

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Email is a message for WriteEmail. It is also what a correct indexer
// must find when it parses the written message: the decoded subject,
// the addresses, the text and HTML bodies and, for each attachment, the
// file name, the media type and the exact bytes.
type Email struct {
	From        mail.Address
	To          []mail.Address
	Cc          []mail.Address
	Date        time.Time
	Subject     string // any UTF-8; encoded as RFC 2047 words when not ASCII
	MessageID   string // without angle brackets, e.g. "abc123@example.com"
	InReplyTo   string // the Message-ID answered, without angle brackets; optional
	Text        string // the text/plain body; lines may end in \n or \r\n
	HTML        string // the text/html body; optional
	Attachments []Attachment
}

// Attachment is a file attached to an Email.
type Attachment struct {
	Filename    string // any UTF-8; encoded per RFC 2231 when not ASCII
	ContentType string // a lower-case media type without parameters, e.g. "application/pdf"
	Data        []byte
}

// WriteEmail writes e as an RFC 5322 message with CRLF line endings and
// MIME structure: the text and HTML bodies as multipart/alternative (or
// text/plain alone when there is no HTML), wrapped with the attachments
// in multipart/mixed when there are any. Bodies are quoted-printable
// UTF-8; attachments are base64 in 76-character lines, with a
// Content-Disposition naming the file. This is the shape mail clients
// send, and the tests read it back with net/mail and mime/multipart.
func WriteEmail(w io.Writer, e Email) error {
	if e.From.Address == "" || len(e.To) == 0 {
		return errors.New("mediagen: an email needs a From and a To address")
	}
	if e.MessageID == "" || strings.ContainsAny(e.MessageID, "<> \r\n") {
		return fmt.Errorf("mediagen: Message-ID %q: want a non-empty id without angle brackets", e.MessageID)
	}
	if strings.ContainsAny(e.InReplyTo, "<> \r\n") {
		return fmt.Errorf("mediagen: In-Reply-To %q: want an id without angle brackets", e.InReplyTo)
	}
	// Names are encoded whatever they hold, but a line break in an
	// address would end the header and start another.
	for _, a := range append(append([]mail.Address{e.From}, e.To...), e.Cc...) {
		if strings.ContainsAny(a.Address, "\r\n") {
			return fmt.Errorf("mediagen: address %q contains a line break", a.Address)
		}
	}
	if e.Date.IsZero() {
		return errors.New("mediagen: an email needs a Date")
	}
	for _, a := range e.Attachments {
		if a.Filename == "" {
			return errors.New("mediagen: an attachment needs a file name")
		}
		if mt, _, err := mime.ParseMediaType(a.ContentType); err != nil || mt != a.ContentType || !strings.Contains(mt, "/") {
			return fmt.Errorf("mediagen: attachment %q: content type %q: want a lower-case media type without parameters", a.Filename, a.ContentType)
		}
	}

	bw := bufio.NewWriter(w)
	var h bytes.Buffer
	header(&h, "From", e.From.String())
	header(&h, "To", addressList(e.To))
	if len(e.Cc) > 0 {
		header(&h, "Cc", addressList(e.Cc))
	}
	header(&h, "Date", e.Date.Format(time.RFC1123Z))
	header(&h, "Subject", encodeWords(e.Subject))
	header(&h, "Message-ID", "<"+e.MessageID+">")
	if e.InReplyTo != "" {
		header(&h, "In-Reply-To", "<"+e.InReplyTo+">")
		header(&h, "References", "<"+e.InReplyTo+">")
	}
	header(&h, "MIME-Version", "1.0")

	// Boundaries contain "=_", which can occur neither in quoted-printable
	// (it writes '=' as =3D) nor in base64, so no body can contain them.
	// They are derived from the Message-ID so that output is repeatable.
	sum := fnv.New64a()
	sum.Write([]byte(e.MessageID))
	tag := fmt.Sprintf("%016x", sum.Sum64())
	alt := "=_alt_" + tag
	mixed := "=_mixed_" + tag

	body := func(b *bytes.Buffer) error {
		if e.HTML == "" {
			return textPart(b, "text/plain", e.Text)
		}
		header(b, "Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": alt}))
		b.WriteString("\r\n")
		fmt.Fprintf(b, "--%s\r\n", alt)
		if err := textPart(b, "text/plain", e.Text); err != nil {
			return err
		}
		fmt.Fprintf(b, "\r\n--%s\r\n", alt)
		if err := textPart(b, "text/html", e.HTML); err != nil {
			return err
		}
		fmt.Fprintf(b, "\r\n--%s--\r\n", alt)
		return nil
	}

	if len(e.Attachments) == 0 {
		if err := body(&h); err != nil {
			return err
		}
		if e.HTML == "" {
			h.WriteString("\r\n")
		}
		if _, err := bw.Write(h.Bytes()); err != nil {
			return err
		}
		return bw.Flush()
	}

	header(&h, "Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mixed}))
	h.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
	fmt.Fprintf(&h, "--%s\r\n", mixed)
	if err := body(&h); err != nil {
		return err
	}
	if _, err := bw.Write(h.Bytes()); err != nil {
		return err
	}
	for _, a := range e.Attachments {
		var p bytes.Buffer
		fmt.Fprintf(&p, "\r\n--%s\r\n", mixed)
		header(&p, "Content-Type", a.ContentType+"; "+param("name", a.Filename))
		header(&p, "Content-Transfer-Encoding", "base64")
		header(&p, "Content-Disposition", "attachment; "+param("filename", a.Filename))
		p.WriteString("\r\n")
		if _, err := bw.Write(p.Bytes()); err != nil {
			return err
		}
		if err := writeBase64(bw, a.Data); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(bw, "\r\n--%s--\r\n", mixed); err != nil {
		return err
	}
	return bw.Flush()
}

// textPart writes a complete text body part: headers, blank line and the
// text in quoted-printable UTF-8, which keeps lines short and the message
// 7-bit whatever the text contains.
func textPart(b *bytes.Buffer, mediaType, text string) error {
	header(b, "Content-Type", mediaType+"; charset=UTF-8")
	header(b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return err
	}
	return qp.Close()
}

// writeBase64 writes data in base64 lines of 76 characters, the limit of
// RFC 2045, each ending in CRLF.
func writeBase64(w io.Writer, data []byte) error {
	const perLine = 57 // bytes that encode to 76 characters
	line := make([]byte, 0, 78)
	for len(data) > 0 {
		n := min(perLine, len(data))
		line = base64.StdEncoding.AppendEncode(line[:0], data[:n])
		line = append(line, '\r', '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// param formats a MIME parameter. An ASCII value is a quoted string; any
// other is RFC 2231 extended notation, name*=UTF-8”percent-encoded,
// which mail clients and mime.ParseMediaType decode. (RFC 2047 words
// inside quotes are common too, but the RFC forbids them there.)
func param(name, value string) string {
	ascii := true
	for i := 0; i < len(value); i++ {
		if value[i] < 0x20 || value[i] >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return name + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
	}
	var b strings.Builder
	b.WriteString(name + "*=UTF-8''")
	for i := 0; i < len(value); i++ {
		c := value[i]
		// attr-char of RFC 5987, the safe subset of RFC 2231's.
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// encodeWords returns s unchanged if it is printable ASCII, or else as
// RFC 2047 encoded words: Q encoding when it is mostly ASCII, which
// stays readable, and B encoding when it is mostly not, which is
// shorter.
func encodeWords(s string) string {
	other := 0
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			other++
		}
	}
	switch {
	case other == 0:
		return s
	case other*3 > len(s):
		return mime.BEncoding.Encode("UTF-8", s)
	}
	return mime.QEncoding.Encode("UTF-8", s)
}

func addressList(list []mail.Address) string {
	s := make([]string, len(list))
	for k, a := range list {
		s[k] = a.String()
	}
	return strings.Join(s, ", ")
}

// header writes a message header field, folded before whitespace so that
// lines stay within the 78 characters RFC 5322 asks for where the value
// allows.
func header(b *bytes.Buffer, name, value string) {
	line := name + ":"
	for _, word := range strings.Split(value, " ") {
		if word != "" && len(line)+1+len(word) > 78 && !strings.HasSuffix(line, ":") {
			b.WriteString(line + "\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line + "\r\n")
}

// The demo contact centre's senders.
var supportAddress = mail.Address{Name: "Example Support", Address: "help@" + supportDomain}

// NewEmail makes a plausible contact-centre email dated date: either a
// customer writing in about a billing, password, delivery or plan
// question, or an agent's reply quoting it. It has a text and an HTML
// body and zero to three attachments (an invoice PDF, a chart PNG, a
// CSV statement, a text log), some with non-ASCII names, as do some
// subjects and display names.
func NewEmail(rng *rand.Rand, date time.Time) (Email, error) {
	c := newCase(rng, date)
	customer := mail.Address{Name: c.customer.Name(), Address: c.customer.email(c.domain)}
	subject := c.fill(pick(rng, c.theme.subjects))
	lines := c.lines(rng)
	id := func() string {
		return fmt.Sprintf("%s.%08x@%s", date.UTC().Format("20060102150405"), rng.Uint32(), supportDomain)
	}

	question := lines[0].say[0] + "\n\nKind regards,\n" + c.customer.Name()

	e := Email{Date: date, MessageID: id()}
	if rng.IntN(2) == 0 {
		e.From = customer
		e.To = []mail.Address{supportAddress}
		e.Subject = subject
		e.Text = question
	} else {
		e.From = mail.Address{Name: c.agent + " (Example Support)", Address: asciiLower(c.agent) + "@" + supportDomain}
		e.To = []mail.Address{customer}
		e.Cc = []mail.Address{supportAddress}
		e.Subject = "Re: " + subject
		e.InReplyTo = fmt.Sprintf("%08x@%s", rng.Uint32(), c.domain)
		e.Text = "Dear " + c.customer.First + ",\n\n" + c.fill(pick(rng, c.theme.reply)) +
			"\n\nBest regards,\n" + c.agent + "\nExample Support\n\nOn " +
			date.Add(-time.Duration(1+rng.IntN(48))*time.Hour).Format("Mon, 2 Jan 2006 at 15:04") +
			", " + customer.Name + " wrote:\n> " + strings.ReplaceAll(question, "\n", "\n> ")
	}
	e.HTML = textToHTML(e.Subject, e.Text)

	for _, k := range rng.Perm(4)[:rng.IntN(4)] {
		a, err := newAttachment(rng, k, c, date)
		if err != nil {
			return Email{}, err
		}
		e.Attachments = append(e.Attachments, a)
	}
	return e, nil
}

// newAttachment makes attachment kind k (0 to 3) for case c.
func newAttachment(rng *rand.Rand, k int, c caseFile, date time.Time) (Attachment, error) {
	foreign := rng.IntN(3) == 0
	var b bytes.Buffer
	switch k {
	case 0:
		order := c.fill("{order}")
		doc := PDFDoc{
			Title:   "Invoice " + order,
			Created: date,
			Lines: []string{
				"Example Services Ltd. • 1 Sample Street • Springfield",
				"",
				"Billed to: " + c.customer.Name(),
				"Date: " + date.Format("2 January 2006"),
				"Order: " + order,
				"",
			},
		}
		var total int
		for n := range 2 + rng.IntN(4) {
			cents := 500 + rng.IntN(9500)
			total += cents
			// Helvetica is proportional, so padding cannot align a column
			// of amounts; each line states its own.
			doc.Lines = append(doc.Lines, fmt.Sprintf("%d. %s: $%.2f", n+1, pick(rng, invoiceItems), float64(cents)/100))
		}
		doc.Lines = append(doc.Lines, "", fmt.Sprintf("Total due: $%.2f", float64(total)/100), "Payment terms: 30 days.")
		if err := WritePDF(&b, doc); err != nil {
			return Attachment{}, err
		}
		name := "Invoice " + strings.TrimPrefix(order, "#") + ".pdf"
		if foreign {
			name = "Rechnung_März_" + strings.TrimPrefix(order, "#") + ".pdf"
		}
		return Attachment{Filename: name, ContentType: "application/pdf", Data: b.Bytes()}, nil
	case 1:
		img, err := Chart(rng, 320, 200)
		if err != nil {
			return Attachment{}, err
		}
		if err := WritePNG(&b, img); err != nil {
			return Attachment{}, err
		}
		name := "usage-chart.png"
		if foreign {
			name = "Übersicht.png"
		}
		return Attachment{Filename: name, ContentType: "image/png", Data: b.Bytes()}, nil
	case 2:
		b.WriteString("date,description,amount\r\n")
		for range 3 + rng.IntN(8) {
			day := date.AddDate(0, 0, -rng.IntN(30))
			fmt.Fprintf(&b, "%s,%s,%.2f\r\n", day.Format("2006-01-02"), pick(rng, invoiceItems), float64(100+rng.IntN(20000))/100)
		}
		name := "statement.csv"
		if foreign {
			name = "明細書.csv"
		}
		return Attachment{Filename: name, ContentType: "text/csv", Data: b.Bytes()}, nil
	default:
		t := date.Add(-time.Hour)
		for range 4 + rng.IntN(8) {
			t = t.Add(time.Duration(rng.IntN(300)) * time.Second)
			fmt.Fprintf(&b, "%s %s %s\n", t.UTC().Format(time.RFC3339), pick(rng, []string{"INFO", "WARN", "ERROR"}), pick(rng, logMessages))
		}
		name := "error log.txt"
		if foreign {
			name = "journal d'erreurs.txt"
		}
		return Attachment{Filename: name, ContentType: "text/plain", Data: b.Bytes()}, nil
	}
}

var invoiceItems = []string{"Monthly plan", "Premium add-on", "Late fee", "Device rental", "International calls", "Data bundle 5 GB", "Service credit"}

var logMessages = []string{
	"login failed: password expired",
	"reset token rejected: expired after 30m",
	"payment capture retried (gateway timeout)",
	"session refreshed",
	"tracking lookup returned status=IN_TRANSIT",
}

// textToHTML renders plain text as a small HTML document, escaping it:
// blank lines separate paragraphs, and lines starting with ">" become a
// blockquote, as mail clients show a quoted reply.
func textToHTML(title, text string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title></head>\n<body style=\"font-family: Arial, sans-serif\">\n")
	var para, quote []string
	flush := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, "<br>\n") + "</p>\n")
			para = nil
		}
		if len(quote) > 0 {
			b.WriteString("<blockquote style=\"border-left: 2px solid #ccc; padding-left: 8px\">" + strings.Join(quote, "<br>\n") + "</blockquote>\n")
			quote = nil
		}
	}
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, ">"):
			if len(para) > 0 {
				flush()
			}
			quote = append(quote, html.EscapeString(strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")))
		case strings.TrimSpace(l) == "":
			if len(quote) == 0 {
				flush()
			}
		default:
			if len(quote) > 0 {
				flush()
			}
			para = append(para, html.EscapeString(l))
		}
	}
	flush()
	b.WriteString("</body></html>\n")
	return b.String()
}
