package mimeindex_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// nameOf indexes a one-attachment message whose attachment has the given
// header lines and returns the attachment's file name.
func nameOf(t *testing.T, header string) string {
	t.Helper()
	msg := withEOL("Content-Type: multipart/mixed; boundary=b\n\n--b\n"+header+"\n\ncontent\n--b--\n", "\r\n")
	atts := scan(t, msg)
	if len(atts) != 1 {
		t.Fatalf("%q: got %d attachments, want 1", header, len(atts))
	}
	return atts[0].FileName
}

func TestFileNameRFC2047(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"Content-Type: application/pdf; name=\"=?UTF-8?B?UmVjaG51bmcucGRm?=\"", "Rechnung.pdf"},
		{"Content-Type: application/pdf; name=\"=?ISO-8859-1?Q?Gr=FC=DFe.pdf?=\"", "Grüße.pdf"},
		// Several words, folded, in different charsets and encodings: the
		// blanks between encoded-words go.
		{"Content-Type: application/pdf\nContent-Disposition: attachment;\n filename=\"=?UTF-8?B?UmVjaG51bmc=?=\n =?ISO-8859-1?Q?_M=E4rz?= =?utf-8?q?_2025=2Epdf?=\"", "Rechnung März 2025.pdf"},
		// Charsets the standard library does not know itself.
		{"Content-Type: text/plain; name=\"=?windows-1252?Q?=80_rates.txt?=\"", "€ rates.txt"},
		{"Content-Type: text/plain; name=\"=?KOI8-R?B?8NLJ18XU?=.txt\"", "Привет.txt"},
		{"Content-Type: text/plain; name=\"=?Shift_JIS?B?k/qWe4zq?=.txt\"", "日本語.txt"},
		// Mixed plain text and words; an unquoted value with blanks.
		{"Content-Type: image/png; name=scan =?utf-8?q?n=C2=B03?= final.png", "scan n°3 final.png"},
		// An unknown charset leaves the name as it came.
		{"Content-Type: text/plain; name=\"=?x-unknown?Q?abc?=\"", "=?x-unknown?Q?abc?="},
		// Raw UTF-8 (RFC 6532) passes; invalid bytes do not.
		{"Content-Type: text/plain; name=\"r\xc3\xa9sum\xc3\xa9.txt\"", "résumé.txt"},
		{"Content-Type: text/plain; name=\"r\xe9sum\xe9.txt\"", "r_sum_.txt"},
	} {
		if got := nameOf(t, tt.header); got != tt.want {
			t.Errorf("%q: name %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestFileNameRFC2231(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", "€ rates.txt"},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename*=iso-8859-1'de'Gr%FC%DFe.txt", "Grüße.txt"},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename*=''plain%2Etxt", "plain.txt"},
		// Continuations, encoded and not, out of order, folded.
		{"Content-Type: application/pdf\nContent-Disposition: attachment;\n filename*1*=%20long;\n filename*0*=UTF-8''%C3%A9t%C3%A9;\n filename*2=\" name.pdf\"", "été long name.pdf"},
		{"Content-Type: application/pdf\nContent-Disposition: attachment; filename*0=\"a\"; filename*1=\"b.pdf\"", "ab.pdf"},
		// A gap ends the sections.
		{"Content-Type: application/pdf\nContent-Disposition: attachment; filename*0=\"a\"; filename*2=\"c.pdf\"", "a"},
		// The extended form wins over the plain one; Content-Disposition
		// over Content-Type.
		{"Content-Type: application/pdf; name=ct.pdf\nContent-Disposition: attachment; filename=plain.pdf; filename*=utf-8''ext%C3%A9.pdf", "exté.pdf"},
		{"Content-Type: application/pdf; name=ct.pdf\nContent-Disposition: attachment; filename=\"\"", "ct.pdf"},
		{"Content-Type: application/pdf; name*=utf-8''ct%C3%A9.pdf", "cté.pdf"},
		// An unknown charset falls back to the plain form.
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename*=x-bogus''%41; filename=fallback.txt", "fallback.txt"},
		// Quoted strings with escapes and semicolons; repeated parameters.
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"a\\\"b;c.txt\"; filename=second.txt", "a\"b;c.txt"},
		{"Content-Type: text/plain\nContent-DISPOSITION: ATTACHMENT; FILENAME=Upper.TXT", "Upper.TXT"},
	} {
		if got := nameOf(t, tt.header); got != tt.want {
			t.Errorf("%q: name %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestFileNameSanitised(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for _, tt := range []struct{ header, want string }{
		{"Content-Type: text/plain; name=\"../../etc/passwd\"", "passwd"},
		{"Content-Type: text/plain; name=\"C:\\\\Users\\\\me\\\\evil.exe\"", "evil.exe"},
		{"Content-Type: text/plain; name=\"/abs/dir/\\\\x.txt\"", "x.txt"},
		{"Content-Type: text/plain\nContent-Disposition: attachment; filename*=utf-8''a%00b%0Ac%1B%7F%C2%85d.txt", "ab c d.txt"},
		{"Content-Type: text/plain; name=\"  spaced\tout .txt  \"", "spaced out .txt"},
		{"Content-Type: text/plain; name=\"invoice\u202efdp.exe\"", "invoicefdp.exe"},
		{"Content-Type: text/plain; name=\"\ufeffbom\u200e.txt\"", "bom.txt"},
		{"Content-Type: application/pdf; name=\"..\"", "attachment-1.pdf"},
		{"Content-Type: application/pdf; name=\"dir/\"", "attachment-1.pdf"},
		{"Content-Type: application/pdf; name=\"a/.\"", "attachment-1.pdf"},
		{"Content-Type: application/pdf; name=\"\x01\x02\"", "attachment-1.pdf"},
		{"Content-Type: application/pdf; name=\"" + long + ".pdf\"", strings.Repeat("é", 125) + ".pdf"},
		{"Content-Type: application/pdf; name=\"x" + long + ".pdf\"", "x" + strings.Repeat("é", 125) + ".pdf"},
		{"Content-Type: application/pdf; name=\"" + long + "." + strings.Repeat("e", 40) + "\"", strings.Repeat("é", 127)},
	} {
		got := nameOf(t, tt.header)
		if got != tt.want {
			t.Errorf("%q: name %q, want %q", tt.header, got, tt.want)
		}
		if len(got) > 255 || !utf8.ValidString(got) || strings.ContainsAny(got, "/\\") || strings.ContainsFunc(got, unicode.IsControl) {
			t.Errorf("%q: name %q is not safe", tt.header, got)
		}
	}
}

func TestFileNameGenerated(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"Content-Type: application/pdf", "attachment-1.pdf"},
		{"Content-Type: IMAGE/JPEG; charset=x", "attachment-1.jpg"},
		{"Content-Type: message/rfc822", "attachment-1.eml"},
		{"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "attachment-1.xlsx"},
		{"Content-Type: text/plain\nContent-Disposition: attachment", "attachment-1.txt"},
		{"Content-Type: application/x-icrec-no-such-type", "attachment-1"},
		{"Content-Type: text/plain\nContent-Transfer-Encoding: x-gzip64", "attachment-1.bin"},
	} {
		if got := nameOf(t, tt.header); got != tt.want {
			t.Errorf("%q: name %q, want %q", tt.header, got, tt.want)
		}
	}
}
