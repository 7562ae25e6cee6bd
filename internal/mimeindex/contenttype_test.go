package mimeindex_test

import (
	"errors"
	"mime"
	"strings"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/mimeindex"
)

// twoParts is a message of the given Content-Type whose two body parts
// are a text body and a PDF of the given Content-Type: indexed as
// multipart, it has one attachment, the PDF.
func twoParts(contentType, pdfType string) string {
	return withEOL("Content-Type: "+contentType+"\n\n--b\nContent-Type: text/plain\n\nHello\n--b\nContent-Type: "+pdfType+
		"\nContent-Disposition: attachment; filename=a.pdf\n\n%PDF-1.4\n--b--\n", "\r\n")
}

func TestScanContentTypeComments(t *testing.T) {
	pdf := att(1, "2", "a.pdf", "application/pdf", []byte("%PDF-1.4"))
	for _, ct := range []string{
		"multipart/mixed (with a comment); boundary=b",
		"multipart / mixed; boundary=b",
		"multipart\t/ mixed ; boundary=b",
		"(leading) multipart(between)/(again)mixed (a (nested) comment, with \\) and ; inside); boundary=b",
		"multipart/mixed; (before a name) boundary=b",
		"Multipart/Mixed (x); (y) BOUNDARY=\"b\" (after a value)",
	} {
		t.Run(ct, func(t *testing.T) {
			checkIndex(t, scan(t, twoParts(ct, "application/pdf")), []icrec.Attachment{pdf})
		})
	}
	// A leaf's type is read the same way.
	t.Run("Leaf", func(t *testing.T) {
		checkIndex(t, scan(t, twoParts("multipart/mixed; boundary=b", "application / pdf (scanned)")), []icrec.Attachment{pdf})
	})
	// A comment separates tokens, so one inside a token leaves a
	// malformed type: text/plain, as RFC 2045 §5.2 says, and no
	// attachment.
	t.Run("CommentInsideToken", func(t *testing.T) {
		checkIndex(t, scan(t, twoParts("multi(x)part/mixed; boundary=b", "application/pdf")), []icrec.Attachment{})
	})
}

func TestScanBoundaryRFC2231(t *testing.T) {
	pdf := att(1, "2", "a.pdf", "application/pdf", []byte("%PDF-1.4"))
	for _, ct := range []string{
		"multipart/mixed; boundary*=''b",
		"multipart/mixed; boundary*=us-ascii'en'%62",
		"multipart/mixed; boundary*0=\"\"; boundary*1*=%62",
		// The extended form wins; an unusable one falls back to the plain.
		"multipart/mixed; boundary=other; boundary*=utf-8''b",
		"multipart/mixed; boundary*=x-bogus''other; boundary=b",
	} {
		t.Run(ct, func(t *testing.T) {
			checkIndex(t, scan(t, twoParts(ct, "application/pdf")), []icrec.Attachment{pdf})
		})
	}
	for _, tt := range []struct{ ct, want string }{
		{"multipart/mixed; boundary*=x-bogus''b", "message: multipart/mixed boundary is in an unknown charset"},
		{"multipart/mixed; boundary*=''", "message: multipart/mixed with an empty boundary"},
		{"multipart/mixed; boundary*=''%01", "contains control characters"},
	} {
		t.Run(tt.ct, func(t *testing.T) {
			_, err := mimeindex.Scan(strings.NewReader(twoParts(tt.ct, "application/pdf")), mimeindex.DefaultLimits)
			e, ok := errors.AsType[*icrec.Error](err)
			if !ok || e.Kind != icrec.Invalid || !strings.Contains(e.Message, tt.want) {
				t.Errorf("Scan: %v, want Invalid %q", err, tt.want)
			}
		})
	}
}

func TestFileNameIgnoresHostTypes(t *testing.T) {
	// As a host's mime.types might: the name must not follow it.
	if err := mime.AddExtensionType(".icrechost", "application/x-icrec-host-only"); err != nil {
		t.Fatal(err)
	}
	if got := nameOf(t, "Content-Type: application/x-icrec-host-only"); got != "attachment-1" {
		t.Errorf("name %q, want attachment-1 whatever the host's types", got)
	}
	// A type Go's own table knows is not the fixed table's either.
	if got := nameOf(t, "Content-Type: image/avif"); got != "attachment-1" {
		t.Errorf("name %q, want attachment-1", got)
	}
}
