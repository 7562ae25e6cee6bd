package mimeindex_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"example.com/icrec"
	"example.com/icrec/internal/mimeindex"
)

// Messages are written here with LF line breaks; eols turns them into
// each storage form a test runs against.
var eols = []struct{ name, eol string }{{"CRLF", "\r\n"}, {"LF", "\n"}}

func withEOL(s, eol string) string { return strings.ReplaceAll(s, "\n", eol) }

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// att is the attachment the index should hold for content.
func att(index int, part, name, contentType string, content []byte) icrec.Attachment {
	return icrec.Attachment{Index: index, Part: part, FileName: name, ContentType: contentType, Size: int64(len(content)), SHA256: sum(content)}
}

// scan indexes msg, fails the test on an error, and checks that Extract
// agrees with the index on every attachment.
func scan(t testing.TB, msg string) []icrec.Attachment {
	t.Helper()
	atts, err := mimeindex.Scan(strings.NewReader(msg), mimeindex.DefaultLimits)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	checkExtract(t, msg, atts, mimeindex.DefaultLimits)
	return atts
}

func checkExtract(t testing.TB, msg string, atts []icrec.Attachment, lim mimeindex.Limits) {
	t.Helper()
	for i, a := range atts {
		if a.Index != i+1 {
			t.Errorf("attachment %d has Index %d", i+1, a.Index)
		}
		var buf bytes.Buffer
		n, err := mimeindex.Extract(strings.NewReader(msg), a.Part, &buf, lim)
		if err != nil {
			t.Errorf("Extract(%s): %v", a.Part, err)
			continue
		}
		if n != int64(buf.Len()) || n != a.Size || sum(buf.Bytes()) != a.SHA256 {
			t.Errorf("Extract(%s) = %d bytes (%d written) with SHA-256 %s; the index says %d bytes, %s", a.Part, n, buf.Len(), sum(buf.Bytes()), a.Size, a.SHA256)
		}
	}
}

func extract(t testing.TB, msg, part string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := mimeindex.Extract(strings.NewReader(msg), part, &buf, mimeindex.DefaultLimits); err != nil {
		t.Fatalf("Extract(%s): %v", part, err)
	}
	return buf.Bytes()
}

func checkIndex(t testing.TB, got, want []icrec.Attachment) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d attachments, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("attachment %d:\n got %+v\nwant %+v", i+1, got[i], want[i])
		}
	}
}

const plainMail = `Return-Path: <alice@example.com>
Received: from mx.example.com (mx.example.com [192.0.2.1])
	by mail.example.net with ESMTPS id 123
	for <bob@example.net>; Tue, 4 Mar 2025 09:12:00 +0100
From: Alice <alice@example.com>
To: Bob <bob@example.net>
Subject: Lunch
Date: Tue, 4 Mar 2025 09:11:58 +0100
Message-ID: <lunch@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hi Bob,

lunch at noon? -- Alice
`

func TestScanPlainText(t *testing.T) {
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			msg := withEOL(plainMail, e.eol)
			atts := scan(t, msg)
			if atts == nil || len(atts) != 0 {
				t.Errorf("got %#v, want an empty index", atts)
			}
			// The body is part 1, and extracting it is allowed.
			body := strings.SplitN(msg, e.eol+e.eol, 2)[1]
			if got := extract(t, msg, "1"); string(got) != body {
				t.Errorf("Extract(1) = %q, want %q", got, body)
			}
		})
	}
}

func TestScanNoHeaderNoBody(t *testing.T) {
	for _, msg := range []string{"", "\r\n", "Subject: only a header\r\n", "Subject: x\r\n\r\n"} {
		atts, err := mimeindex.Scan(strings.NewReader(msg), mimeindex.Limits{})
		if err != nil || len(atts) != 0 {
			t.Errorf("Scan(%q) = %v, %v; want no attachments", msg, atts, err)
		}
	}
}

var (
	pdfBytes = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\nstream\n\x00\x01\x02\x03\xff\xfe\xfd\r\n\x1b\x7f\x80endstream\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc`\x00\x00\x00\x02\x00\x01\xe5'\xde\xfc\x00\x00\x00\x00IEND\xaeB`\x82")
)

// pdfBase64 is pdfBytes in base64, by hand: 60-column lines, a line with
// trailing blanks, one with a tab inside.
const pdfBase64 = "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFn  \n" +
	"ZXMgMiAwIFIgPj4KZW5kb2JqCnN0cmVh\tbQoAAQID//79DQobf4BlbmRzdHJl\n" +
	"YW0KdHJhaWxlcgo8PCAvUm9vdCAxIDAgUiA+PgolJUVPRgo=\n"

// mixedMail has a text body and three attachments: a PDF in base64, a
// text in quoted-printable, and a PNG sent as binary. The binary bytes are
// spliced in where {{PNG}} is, after the line breaks are set.
const mixedMail = `From: Alice <alice@example.com>
To: Bob <bob@example.net>
Subject: Documents
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="----=_Part_0_1234.5678"

This is a multi-part message in MIME format.

------=_Part_0_1234.5678
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Please find the documents attached.

------=_Part_0_1234.5678
Content-Type: application/pdf; name="old-name.pdf"
Content-Disposition: attachment; filename="Invoice 2025-03.pdf"
Content-Transfer-Encoding: base64

` + pdfBase64 + `------=_Part_0_1234.5678
Content-Type: TEXT/Plain; charset=utf-8
Content-Disposition: attachment; filename=notes.txt
content-transfer-encoding: Quoted-Printable

Gr=C3=BC=C3=9Fe aus K=C3=B6ln =E2=80=93 10 =E2=82=AC   
This line is long enough to need a soft line break, so it has one righ=
t here, and a =3D sign.
Last line=20
------=_Part_0_1234.5678
Content-Type: image/png
Content-Disposition: inline; filename="pixel.png"
Content-Transfer-Encoding: binary

{{PNG}}
------=_Part_0_1234.5678--
epilogue, ignored
`

const notesText = "Grüße aus Köln – 10 €\nThis line is long enough to need a soft line break, so it has one right here, and a = sign.\nLast line "

func TestScanMixed(t *testing.T) {
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			msg := strings.Replace(withEOL(mixedMail, e.eol), "{{PNG}}", string(pngBytes), 1)
			got := scan(t, msg)
			checkIndex(t, got, []icrec.Attachment{
				att(1, "2", "Invoice 2025-03.pdf", "application/pdf", pdfBytes),
				att(2, "3", "notes.txt", "text/plain", []byte(withEOL(notesText, e.eol))),
				att(3, "4", "pixel.png", "image/png", pngBytes),
			})
			if got := extract(t, msg, "4"); !bytes.Equal(got, pngBytes) {
				t.Errorf("Extract(4) = %q, want %q", got, pngBytes)
			}
			if got, want := string(extract(t, msg, "1")), withEOL("Please find the documents attached.\n", e.eol); got != want {
				t.Errorf("Extract(1) = %q, want %q", got, want)
			}
		})
	}
}

func TestScanMixedLineEndings(t *testing.T) {
	// A message mangled in transit: some lines CRLF, some LF.
	msg := withEOL(mixedMail, "\n")
	msg = strings.Replace(msg, "{{PNG}}", string(pngBytes), 1)
	msg = strings.Replace(msg, "Subject: Documents\n", "Subject: Documents\r\n", 1)
	msg = strings.Replace(msg, "\n------=_Part_0_1234.5678\nContent-Type: image/png\n", "\r\n------=_Part_0_1234.5678\r\nContent-Type: image/png\r\n", 1)
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{
		att(1, "2", "Invoice 2025-03.pdf", "application/pdf", pdfBytes),
		att(2, "3", "notes.txt", "text/plain", []byte(notesText)),
		att(3, "4", "pixel.png", "image/png", pngBytes),
	})
}

const alternativeMail = `From: a@example.com
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Meeting on Friday.
--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+TWVldGluZyBvbiBGcmlkYXkuPC9wPg==
--alt
Content-Type: text/calendar; method=REQUEST; charset=utf-8

BEGIN:VCALENDAR
END:VCALENDAR
--alt--

--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename=agenda.pdf
Content-Transfer-Encoding: base64

` + pdfBase64 + `
--outer--
`

func TestScanAlternativeInMixed(t *testing.T) {
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			msg := withEOL(alternativeMail, e.eol)
			got := scan(t, msg)
			checkIndex(t, got, []icrec.Attachment{
				att(1, "1.3", "attachment-1.ics", "text/calendar", []byte(withEOL("BEGIN:VCALENDAR\nEND:VCALENDAR", e.eol))),
				att(2, "2", "agenda.pdf", "application/pdf", pdfBytes),
			})
			if got := string(extract(t, msg, "1.2")); got != "<p>Meeting on Friday.</p>" {
				t.Errorf("Extract(1.2) = %q", got)
			}
		})
	}
}

const relatedMail = `From: a@example.com
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain

See the logo.
--b1
Content-Type: multipart/related; boundary="b2"; type="text/html"

--b2
Content-Type: text/html

<img src="cid:logo@x"><img src="cid:dot@x">
--b2
Content-Type: image/png
Content-ID: <logo@x>
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAAAAgAB5Sfe/AAA
AABJRU5ErkJggg==
--b2
Content-Type: image/gif
Content-ID: <dot@x>
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
--b2--
--b1--
`

func TestScanRelatedInlineImages(t *testing.T) {
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			got := scan(t, withEOL(relatedMail, e.eol))
			gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00,")
			checkIndex(t, got, []icrec.Attachment{
				att(1, "2.2", "logo.png", "image/png", pngBytes),
				att(2, "2.3", "attachment-2.gif", "image/gif", gif),
			})
		})
	}
}

const nestedMail = `Content-Type: multipart/mixed; boundary=L1

--L1

Body with no header at all: text/plain by default.
--L1
Content-Type: multipart/mixed; boundary=L2

--L2
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAw==
--L2
Content-Type: multipart/mixed; boundary=L3

--L3
Content-Type: application/zip; name=deep.zip

PK
--L3--
--L2--
--L1
Content-Type: text/csv; name="data.csv"

a,b
1,2
--L1--
`

func TestScanNestedMixed(t *testing.T) {
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			got := scan(t, withEOL(nestedMail, e.eol))
			checkIndex(t, got, []icrec.Attachment{
				att(1, "2.1", "attachment-1.bin", "application/octet-stream", []byte{0, 1, 2, 3}),
				att(2, "2.2.1", "deep.zip", "application/zip", []byte("PK")),
				att(3, "3", "data.csv", "text/csv", []byte(withEOL("a,b\n1,2", e.eol))),
			})
		})
	}
}

const forwardedInner = `From: Carol <carol@example.org>
Subject: Original
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

Original text.
--inner
Content-Type: application/pdf; name=inner.pdf

not descended into
--inner--
`

const forwardedMail = `From: Bob <bob@example.net>
Subject: Fwd: Original
Content-Type: multipart/mixed; boundary=fwd

--fwd
Content-Type: text/plain

See below.
--fwd
Content-Type: message/rfc822
Content-Disposition: inline

` + forwardedInner + `
--fwd
Content-Type: message/rfc822; name="Original.eml"

Subject: second

text
--fwd--
`

func TestScanForwardedMessage(t *testing.T) {
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			msg := withEOL(forwardedMail, e.eol)
			got := scan(t, msg)
			checkIndex(t, got, []icrec.Attachment{
				att(1, "2", "attachment-1.eml", "message/rfc822", []byte(withEOL(forwardedInner, e.eol))),
				att(2, "3", "Original.eml", "message/rfc822", []byte(withEOL("Subject: second\n\ntext", e.eol))),
			})
		})
	}
}

func TestScanDigest(t *testing.T) {
	msg := withEOL(`Content-Type: multipart/digest; boundary=d

--d

Subject: one

first
--d
Content-Type: text/plain

not a message
--d--
`, "\r\n")
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{
		att(1, "1", "attachment-1.eml", "message/rfc822", []byte("Subject: one\r\n\r\nfirst")),
	})
}

func TestScanSinglePartAttachment(t *testing.T) {
	msg := withEOL(`From: scanner@example.com
Content-Type: application/pdf; name="scan.pdf"
Content-Transfer-Encoding: base64

`+pdfBase64, "\r\n")
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{att(1, "1", "scan.pdf", "application/pdf", pdfBytes)})
}

func TestScanAttachmentRule(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   bool // an attachment
	}{
		{"Content-Type: text/plain", false},
		{"Content-Type: text/html; charset=utf-8", false},
		{"Content-Type: text/plain\nContent-Disposition: inline", false},
		{"Content-Type: text/plain; name=\"\"", false},
		{"", false},
		{"Content-Type: not a type", false}, // malformed: text/plain
		{"Content-Type: text/plain\nContent-Disposition: attachment", true},
		{"Content-Type: text/plain\nContent-Disposition: inline; filename=a.txt", true},
		{"Content-Type: text/html; name=page.html", true},
		{"Content-Type: text/plain\nContent-Disposition: form-data", true},
		{"Content-Type: text/enriched", true},
		{"Content-Type: image/png\nContent-Disposition: inline", true},
		{"Content-Type: application/pgp-signature", true},
		{"Content-Type: message/delivery-status", true},
		{"Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode", true},
	} {
		msg := withEOL("Content-Type: multipart/mixed; boundary=b\n\n--b\n"+tt.header+"\n\nx\n--b--\n", "\r\n")
		got := scan(t, msg)
		if (len(got) == 1) != tt.want {
			t.Errorf("%q: got %+v, want attachment %v", tt.header, got, tt.want)
		}
	}
}

func TestScanTransferEncodings(t *testing.T) {
	for _, tt := range []struct {
		name, cte, body string
		contentType     string
		want            string
	}{
		{"base64 without padding", "base64", "SGVsbG8", "text/plain", "Hello"},
		{"base64 with blanks", "base64", " SGVs\tbG8g\r\n d29y bGQ= \r\n", "text/plain", "Hello world"},
		{"base64 concatenated", "base64", "SGk=\r\nIQ==", "text/plain", "Hi!"},
		{"base64 stray padding", "base64", "SGVs==\r\n=", "text/plain", "Hel"},
		{"base64 empty", "base64", "", "text/plain", ""},
		{"quoted-printable soft breaks", "quoted-printable", "a=\r\nb= \t\r\nc", "text/plain", "abc"},
		{"quoted-printable trailing blanks", "quoted-printable", "a \t\r\nb  ", "text/plain", "a\r\nb"},
		{"quoted-printable lower-case hex", "quoted-printable", "=c3=a9", "text/plain", "é"},
		{"quoted-printable bad escapes kept", "quoted-printable", "1=2 =G0 =4\r\n=", "text/plain", "1=2 =G0 =4\r\n"},
		{"quoted-printable inner blanks", "quoted-printable", "a  b=20\r\n", "text/plain", "a  b \r\n"},
		{"quoted-printable blanks after escape start", "quoted-printable", "a= b", "text/plain", "a= b"},
		{"8bit", "8bit", "caf\xc3\xa9\r\n", "text/plain", "caf\xc3\xa9\r\n"},
		{"binary with NUL", "binary", "\x00\x01\r\n\x02", "text/plain", "\x00\x01\r\n\x02"},
		{"unknown encoding is opaque", "x-uuencode", "begin 644 a\r\n`\r\nend", "application/octet-stream", "begin 644 a\r\n`\r\nend"},
		{"encoding with a comment", "base64 (it is)", "SGk=", "text/plain", "Hi"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
				"Content-Type: text/plain\r\nContent-Disposition: attachment\r\n" +
				"Content-Transfer-Encoding: " + tt.cte + "\r\n\r\n" + tt.body + "\r\n--b--\r\n"
			got := scan(t, msg)
			checkIndex(t, got, []icrec.Attachment{att(1, "1", "attachment-1"+map[string]string{"text/plain": ".txt", "application/octet-stream": ".bin"}[tt.contentType], tt.contentType, []byte(tt.want))})
		})
	}
}

func TestScanQuotedPrintableLongLine(t *testing.T) {
	// A line longer than any buffer, with its blanks and escapes cut
	// wherever the buffer ends, must decode as if it were short.
	var enc, want strings.Builder
	for i := range 40000 {
		switch i % 4 {
		case 0:
			enc.WriteString("=C3=A9")
			want.WriteString("é")
		case 1:
			enc.WriteString("  ")
			want.WriteString("  ")
		case 2:
			enc.WriteString("x\r")
			want.WriteString("x\r")
		default:
			enc.WriteString("=")
			enc.WriteString("\r\n")
		}
	}
	enc.WriteString("end   ")
	want.WriteString("end")
	msg := "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + enc.String()
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{att(1, "1", "attachment-1.bin", "application/octet-stream", []byte(want.String()))})
}

func TestScanLongLines(t *testing.T) {
	// Binary lines far longer than the line buffer, with a CR where a
	// buffer may end, keep every byte; the line break before the boundary
	// is still the boundary's.
	content := bytes.Repeat([]byte("0123456789abcdef\r"), 10000)
	content = append(content, "\r\n\r\r\n"...)
	content = append(content, bytes.Repeat([]byte{'z'}, 100000)...)
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			msg := withEOL("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\n\n", e.eol) +
				string(content) + withEOL("\n--b--\n", e.eol)
			got := scan(t, msg)
			checkIndex(t, got, []icrec.Attachment{att(1, "1", "attachment-1.bin", "application/octet-stream", content)})
		})
	}
}

func TestScanBase64OneLongLine(t *testing.T) {
	// Some encoders do not wrap: the line is cut wherever the buffer ends,
	// mid-group, and decodes all the same.
	content := bytes.Repeat(pdfBytes, 1000)
	for _, e := range eols {
		t.Run(e.name, func(t *testing.T) {
			msg := withEOL("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n", e.eol) +
				base64.StdEncoding.EncodeToString(content) + withEOL("\n--b--\n", e.eol)
			got := scan(t, msg)
			checkIndex(t, got, []icrec.Attachment{att(1, "1", "attachment-1.pdf", "application/pdf", content)})
		})
	}
}

func TestScanBoundaryLines(t *testing.T) {
	// Transport padding after a boundary; lines that only look like one.
	msg := withEOL(`Content-Type: multipart/mixed; boundary="b"

--b 	
Content-Type: application/octet-stream

--bb
--b-
 --b
--b--x
--b  
Content-Type: application/octet-stream

two
--b-- 	
`, "\r\n")
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{
		att(1, "1", "attachment-1.bin", "application/octet-stream", []byte("--bb\r\n--b-\r\n --b\r\n--b--x")),
		att(2, "2", "attachment-2.bin", "application/octet-stream", []byte("two")),
	})
}

func TestScanEmptyBodies(t *testing.T) {
	msg := withEOL(`Content-Type: multipart/mixed; boundary=b

--b
Content-Type: application/octet-stream
--b
Content-Type: application/octet-stream

--b
Content-Type: application/octet-stream


--b--`, "\r\n") // and no line break at the very end
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{
		att(1, "1", "attachment-1.bin", "application/octet-stream", nil),
		att(2, "2", "attachment-2.bin", "application/octet-stream", nil),
		att(3, "3", "attachment-3.bin", "application/octet-stream", nil),
	})
}

func TestScanMboxFromLine(t *testing.T) {
	msg := "From alice@example.com Tue Mar  4 09:11:58 2025\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n"
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{att(1, "1", "attachment-1.gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00,"))})
}

func TestScanTestdata(t *testing.T) {
	// Each testdata message is indexed as its .want file says, one
	// attachment a line: Part, FileName, ContentType, Size.
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			msg, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, a := range scan(t, string(msg)) {
				fmt.Fprintf(&got, "%s\t%s\t%s\t%d\n", a.Part, a.FileName, a.ContentType, a.Size)
			}
			if got.String() != string(want) {
				t.Errorf("index:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

func TestExtractNotFound(t *testing.T) {
	msg := withEOL(alternativeMail, "\r\n")
	for _, part := range []string{"3", "2.1", "1.4", "0", "01", "1.", "", "x", "-1", "+1", "1.1.1", "99999999999", strings.Repeat("1.", 16) + "1"} {
		n, err := mimeindex.Extract(strings.NewReader(msg), part, io.Discard, mimeindex.DefaultLimits)
		if !icrec.IsKind(err, icrec.NotFound) || n != 0 {
			t.Errorf("Extract(%q) = %d, %v; want NotFound", part, n, err)
			continue
		}
		if want := fmt.Sprintf("%q", part); !strings.Contains(icrec.ErrorMessage(err), want) {
			t.Errorf("Extract(%q): message %q does not name the part", part, icrec.ErrorMessage(err))
		}
	}
	// A multipart is a part, but it has no content to give.
	_, err := mimeindex.Extract(strings.NewReader(msg), "1", io.Discard, mimeindex.DefaultLimits)
	if !icrec.IsKind(err, icrec.NotFound) || !strings.Contains(err.Error(), "multipart/alternative") {
		t.Errorf("Extract(1) of a multipart: %v; want NotFound", err)
	}
}

func TestExtractStopsAtItsPart(t *testing.T) {
	// Nothing after the boundary that ends part 2 is read.
	msg := withEOL(alternativeMail, "\r\n")
	end := strings.Index(msg, "\r\n--outer\r\nContent-Type: application/pdf") + len("\r\n--outer\r\n")
	boom := errors.New("read too far")
	r := io.MultiReader(strings.NewReader(msg[:end]), iotest.ErrReader(boom))
	var buf bytes.Buffer
	if _, err := mimeindex.Extract(r, "1.3", &buf, mimeindex.Limits{}); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	// Scan, which reads everything, reports the read error as it is.
	r = io.MultiReader(strings.NewReader(msg[:end]), iotest.ErrReader(boom))
	_, err := mimeindex.Scan(r, mimeindex.Limits{})
	if !errors.Is(err, boom) || icrec.IsKind(err, icrec.Invalid) {
		t.Errorf("Scan with a failing reader: %v; want the read error, not Invalid", err)
	}
}

func TestExtractWriteError(t *testing.T) {
	msg := strings.Replace(withEOL(mixedMail, "\r\n"), "{{PNG}}", string(pngBytes), 1)
	boom := errors.New("client went away")
	_, err := mimeindex.Extract(strings.NewReader(msg), "2", failingWriter{boom}, mimeindex.Limits{})
	if !errors.Is(err, boom) || icrec.IsKind(err, icrec.Invalid) {
		t.Errorf("Extract to a failing writer: %v; want the write error, not Invalid", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestScanOneByteReads(t *testing.T) {
	msg := strings.Replace(withEOL(mixedMail, "\r\n"), "{{PNG}}", string(pngBytes), 1)
	want := scan(t, msg)
	got, err := mimeindex.Scan(iotest.OneByteReader(strings.NewReader(msg)), mimeindex.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, got, want)
	got, err = mimeindex.Scan(iotest.DataErrReader(strings.NewReader(msg)), mimeindex.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, got, want)
}
