package mimeindex_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode"
	"unicode/utf8"

	"example.com/icrec"
	"example.com/icrec/internal/mimeindex"
)

// fuzzLimits are low so that the fuzzer reaches them.
var fuzzLimits = mimeindex.Limits{MaxDepth: 6, MaxParts: 50, MaxHeaderBytes: 2048, MaxHeaderLines: 500}

// FuzzScan feeds Scan arbitrary messages. Whatever arrives, Scan does not
// panic; it either refuses the message with an Invalid error naming where,
// or returns a well-formed index on which Extract agrees, part by part, and
// which does not depend on how the message is cut into reads.
func FuzzScan(f *testing.F) {
	seeds := []string{
		plainMail, alternativeMail, relatedMail, nestedMail, forwardedMail,
		strings.Replace(mixedMail, "{{PNG}}", string(pngBytes), 1),
		nested(4, true), nested(7, false),
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; name*0*=utf-8''%C3%A9; name*1=x\nContent-Transfer-Encoding: quoted-printable\n\na=\n=C3=A9 =4 \n--b--\n",
		"Content-Type: multipart/digest; boundary=\"b\"\n\n--b\n\nSubject: x\n\ny\n--b \t\n\n--b--",
		"Content-Type: image/png; name=\"=?ISO-8859-1?Q?a=E9?= =?UTF-8?B?w6k=?=\"\nContent-Transfer-Encoding: base64\n\niVBO Rw0K\nGgo=AAA\n",
		"Content-Type: multipart / mixed (a; (nested) \\) comment); (x) boundary*0*=us-ascii'en'%62; boundary*1=c\n\n--bc\nContent-Type: application / pdf (scan)\n\n%PDF\n--bc--\n",
	}
	if files, err := filepath.Glob("testdata/*.eml"); err == nil {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				seeds = append(seeds, string(b))
			}
		}
	}
	for _, s := range seeds {
		f.Add([]byte(withEOL(s, "\n")))
		f.Add([]byte(withEOL(s, "\r\n")))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		atts, err := mimeindex.Scan(bytes.NewReader(msg), fuzzLimits)
		if err != nil {
			e, ok := errors.AsType[*icrec.Error](err)
			if !ok || e.Kind != icrec.Invalid || !(strings.HasPrefix(e.Message, "message: ") || strings.HasPrefix(e.Message, "part ")) {
				t.Fatalf("Scan: %T %v; want an Invalid *icrec.Error naming where", err, err)
			}
			return
		}
		for i, a := range atts {
			if a.Index != i+1 {
				t.Errorf("attachment %d has Index %d", i+1, a.Index)
			}
			if a.Part == "" || strings.Count(a.Part, ".") >= fuzzLimits.MaxDepth {
				t.Errorf("attachment %d has part %q", a.Index, a.Part)
			}
			n := a.FileName
			if n == "" || len(n) > 255 || !utf8.ValidString(n) || strings.ContainsAny(n, `/\`) ||
				strings.ContainsFunc(n, unicode.IsControl) || n != strings.TrimSpace(n) || n == "." || n == ".." {
				t.Errorf("attachment %d has an unsafe file name %q", a.Index, n)
			}
			if ct := a.ContentType; ct != strings.ToLower(ct) || strings.Count(ct, "/") != 1 || strings.ContainsAny(ct, " ;") {
				t.Errorf("attachment %d has content type %q", a.Index, ct)
			}
			if a.Size < 0 || len(a.SHA256) != 64 {
				t.Errorf("attachment %d has size %d and SHA-256 %q", a.Index, a.Size, a.SHA256)
			}
		}
		checkExtract(t, string(msg), atts, fuzzLimits)
		again, err := mimeindex.Scan(iotest.OneByteReader(bytes.NewReader(msg)), fuzzLimits)
		if err != nil {
			t.Fatalf("Scan reading a byte at a time: %v", err)
		}
		checkIndex(t, again, atts)
	})
}

// FuzzDecodeRoundTrip checks the decoders against the standard library's
// encoders: whatever the content, base64 wrapped at any width or binary
// quoted-printable, with CRLF or LF line breaks, decodes to the content.
func FuzzDecodeRoundTrip(f *testing.F) {
	f.Add([]byte("hello, world"), uint8(76), false, false)
	f.Add([]byte("Grüße =\r\n\t trailing \n"), uint8(0), true, false)
	f.Add(pdfBytes, uint8(5), false, true)
	f.Add(pngBytes, uint8(0), true, true)
	f.Add(bytes.Repeat([]byte{0xff, '=', ' ', '\r'}, 100), uint8(253), true, false)
	f.Fuzz(func(t *testing.T, content []byte, width uint8, qp, lf bool) {
		var enc bytes.Buffer
		cte := "base64"
		if qp {
			cte = "quoted-printable"
			w := quotedprintable.NewWriter(&enc)
			w.Binary = true
			_, _ = w.Write(content)
			_ = w.Close()
		} else {
			s := base64.StdEncoding.EncodeToString(content)
			n := int(width)
			if n == 0 {
				n = len(s) + 1 // one line
			}
			for len(s) > n {
				enc.WriteString(s[:n] + "\r\n")
				s = s[n:]
			}
			enc.WriteString(s)
		}
		msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n" +
			"Content-Transfer-Encoding: " + cte + "\r\n\r\n" + enc.String() + "\r\n--b--\r\n"
		if lf {
			msg = strings.ReplaceAll(msg, "\r\n", "\n")
		}
		atts, err := mimeindex.Scan(strings.NewReader(msg), mimeindex.Limits{})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if len(atts) != 1 || atts[0].Size != int64(len(content)) || atts[0].SHA256 != sum(content) {
			t.Fatalf("got %+v; want %d bytes with SHA-256 %s", atts, len(content), sum(content))
		}
	})
}
