package mediagen_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/mediagen"
)

// checkPDFStructure checks what a PDF reader relies on to open the file
// without repairing it, and returns the number of objects: the header,
// startxref pointing at the xref table, every in-use entry pointing at
// "N 0 obj", the trailer's /Size, and each stream's /Length.
func checkPDFStructure(t *testing.T, b []byte) int {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) {
		t.Fatalf("header %q, want %%PDF-1.4", b[:min(len(b), 9)])
	}
	if !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Fatal("no end-of-file marker")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	rest := b[xref:]
	if !bytes.HasPrefix(rest, []byte("xref\n")) {
		t.Fatalf("startxref %d points at %q, want xref", xref, rest[:min(len(rest), 10)])
	}
	var first, count int
	if _, err := fmt.Sscanf(string(rest[5:]), "%d %d\n", &first, &count); err != nil || first != 0 {
		t.Fatalf("xref subsection header: %v (first %d)", err, first)
	}
	entries := rest[bytes.IndexByte(rest[5:], '\n')+6:]
	for n := range count {
		e := string(entries[20*n : 20*n+20])
		if n == 0 {
			if e != "0000000000 65535 f \n" {
				t.Fatalf("entry 0 is %q, want the free-list head", e)
			}
			continue
		}
		if !strings.HasSuffix(e, " 00000 n \n") {
			t.Fatalf("entry %d is %q, want an in-use 20-byte entry", n, e)
		}
		off, _ := strconv.Atoi(e[:10])
		if want := fmt.Sprintf("%d 0 obj\n", n); !bytes.HasPrefix(b[off:], []byte(want)) {
			t.Fatalf("entry %d points at %q, want %q", n, b[off:min(len(b), off+12)], want)
		}
	}
	if trailer := entries[20*count:]; !bytes.Contains(trailer, fmt.Appendf(nil, "/Size %d /Root 1 0 R", count)) {
		t.Fatalf("trailer %q lacks /Size %d", trailer, count)
	}
	streams := regexp.MustCompile(`(?s)<< /Length (\d+) >>\nstream\n`).FindAllSubmatchIndex(b, -1)
	if len(streams) == 0 {
		t.Fatal("no content stream")
	}
	for _, s := range streams {
		n, _ := strconv.Atoi(string(b[s[2]:s[3]]))
		if end := b[s[1]+n:]; !bytes.HasPrefix(end, []byte("\nendstream")) {
			t.Fatalf("stream /Length %d is followed by %q, want endstream", n, end[:min(len(end), 12)])
		}
	}
	return count
}

func TestWritePDF(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var b bytes.Buffer
		doc := mediagen.PDFDoc{
			Title:   "Invoice #123456",
			Created: time.Date(2024, 3, 5, 14, 30, 0, 0, time.FixedZone("CET", 3600)),
			Lines:   []string{"Total (incl. tax): €12.50", `Back\slash`, "Grüße aus Köln", "日本語"},
		}
		if err := mediagen.WritePDF(&b, doc); err != nil {
			t.Fatal(err)
		}
		if got, want := checkPDFStructure(t, b.Bytes()), 8; got != want {
			t.Errorf("%d objects, want %d (5 shared, a page and its content)", got, want)
		}
		// Delimiters are escaped; WinAnsi characters are octal escapes;
		// characters outside WinAnsi become '?'.
		for _, want := range []string{
			`(Total \(incl. tax\): \20012.50) Tj`,
			`(Back\\slash) Tj`,
			`(Gr\374\337e aus K\366ln) Tj`,
			`(???) Tj`,
			`/CreationDate (D:20240305143000+01'00')`,
			`/F2 16 Tf`,
		} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
	t.Run("OKPdftotext", func(t *testing.T) {
		pdftotext, err := exec.LookPath("pdftotext")
		if err != nil {
			t.Skip("pdftotext is not on PATH; install poppler-utils to check the file with a real reader")
		}
		var b bytes.Buffer
		doc := mediagen.PDFDoc{Title: "Case summary", Lines: []string{"Customer: Zoë Müller", "Refund (€12.50) issued."}}
		if err := mediagen.WritePDF(&b, doc); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "doc.pdf")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// Without -layout, pdftotext prints the text lines in order.
		out, err := exec.Command(pdftotext, "-enc", "UTF-8", path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, out)
		}
		want := "Case summary\nCustomer: Zoë Müller\nRefund (€12.50) issued."
		if got := strings.TrimSpace(string(out)); got != want {
			t.Fatalf("pdftotext printed %q, want %q", got, want)
		}
	})
	t.Run("OKLongTextMakesPages", func(t *testing.T) {
		var lines []string
		for n := range 100 {
			lines = append(lines, fmt.Sprintf("Line %d of a long call summary.", n))
		}
		lines = append(lines, strings.Repeat("word ", 40)) // wraps to three lines
		var b bytes.Buffer
		if err := mediagen.WritePDF(&b, mediagen.PDFDoc{Lines: lines}); err != nil {
			t.Fatal(err)
		}
		if got, want := checkPDFStructure(t, b.Bytes()), 5+2*3+1; got != want {
			t.Errorf("%d objects, want %d", got, want)
		}
		if !strings.Contains(b.String(), "/Count 3 >>") {
			t.Error("want a page tree of 3 pages")
		}
		if strings.Contains(b.String(), strings.Repeat("word ", 20)) {
			t.Error("the long line was not wrapped")
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		var b bytes.Buffer
		if err := mediagen.WritePDF(&b, mediagen.PDFDoc{}); err != nil {
			t.Fatal(err)
		}
		checkPDFStructure(t, b.Bytes())
	})
}
