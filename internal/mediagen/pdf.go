package mediagen

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// PDFDoc is a short text document: a title and lines of body text, such
// as an invoice or a case summary attached to an email.
type PDFDoc struct {
	Title   string
	Lines   []string
	Created time.Time // the Info dictionary's CreationDate; omitted if zero
}

// Page layout of WritePDF, in points: US Letter with one-inch margins.
const (
	pdfPageWidth   = 612
	pdfPageHeight  = 792
	pdfMargin      = 72
	pdfFontSize    = 11
	pdfLeading     = 14
	pdfTitleSize   = 16
	pdfWrapColumns = 88 // Helvetica at 11 pt averages about 5.3 pt a character
	pdfLinesOnPage = (pdfPageHeight - 2*pdfMargin - 2*pdfLeading) / pdfLeading
)

// WritePDF writes doc as a PDF 1.4 file that any reader opens: a catalog,
// a page tree, one page per 44 lines with a content stream of text in
// the standard Helvetica fonts (which readers must supply, so nothing is
// embedded), an Info dictionary and a cross-reference table with exact
// byte offsets. Lines longer than the page is wide are wrapped at
// spaces. Text is encoded in WinAnsiEncoding; characters it lacks are
// written as '?'.
func WritePDF(w io.Writer, doc PDFDoc) error {
	var lines []string
	for _, l := range doc.Lines {
		lines = append(lines, wrap(l, pdfWrapColumns)...)
	}
	var pages [][]string
	for len(lines) > pdfLinesOnPage {
		pages = append(pages, lines[:pdfLinesOnPage])
		lines = lines[pdfLinesOnPage:]
	}
	pages = append(pages, lines)

	// Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold,
	// 5 Info, then a page and its content stream for each page.
	pw := &pdfWriter{w: bufio.NewWriter(w)}
	pw.printf("%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n") // the binary comment tells transfer tools the file is not text
	nobj := 5 + 2*len(pages)
	pw.offsets = make([]int64, nobj+1)

	pw.object(1, "<< /Type /Catalog /Pages 2 0 R >>")
	var kids []string
	for k := range pages {
		kids = append(kids, fmt.Sprintf("%d 0 R", 6+2*k))
	}
	pw.object(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	pw.object(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	pw.object(4, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
	info := "<< /Producer (icrec mediagen)"
	if doc.Title != "" {
		info += " /Title " + pdfString(doc.Title)
	}
	if !doc.Created.IsZero() {
		info += " /CreationDate " + pdfString(pdfDate(doc.Created))
	}
	pw.object(5, info+" >>")

	for k, page := range pages {
		var c bytes.Buffer
		c.WriteString("BT\n")
		fmt.Fprintf(&c, "%d %d Td\n", pdfMargin, pdfPageHeight-pdfMargin)
		if k == 0 && doc.Title != "" {
			fmt.Fprintf(&c, "/F2 %d Tf\n%s Tj\n0 -%d Td\n", pdfTitleSize, pdfString(doc.Title), 2*pdfLeading)
		}
		fmt.Fprintf(&c, "/F1 %d Tf\n%d TL\n", pdfFontSize, pdfLeading)
		for _, l := range page {
			fmt.Fprintf(&c, "%s Tj T*\n", pdfString(l))
		}
		c.WriteString("ET\n")
		pw.object(6+2*k, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			pdfPageWidth, pdfPageHeight, 7+2*k))
		pw.stream(7+2*k, c.Bytes())
	}

	// Each cross-reference entry is exactly 20 bytes, its end of line
	// being a space and a newline, so that readers can seek to entry N.
	xref := pw.n
	pw.printf("xref\n0 %d\n0000000000 65535 f \n", nobj+1)
	for _, off := range pw.offsets[1:] {
		pw.printf("%010d 00000 n \n", off)
	}
	pw.printf("trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n", nobj+1, xref)
	if pw.err != nil {
		return pw.err
	}
	return pw.w.Flush()
}

// pdfWriter tracks the byte offset of every object for the
// cross-reference table, and keeps the first write error.
type pdfWriter struct {
	w       *bufio.Writer
	n       int64
	offsets []int64
	err     error
}

func (p *pdfWriter) printf(format string, args ...any) {
	if p.err != nil {
		return
	}
	n, err := fmt.Fprintf(p.w, format, args...)
	p.n += int64(n)
	p.err = err
}

func (p *pdfWriter) object(num int, body string) {
	p.offsets[num] = p.n
	p.printf("%d 0 obj\n%s\nendobj\n", num, body)
}

func (p *pdfWriter) stream(num int, data []byte) {
	p.offsets[num] = p.n
	p.printf("%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", num, len(data), data)
}

// pdfString writes s as a PDF literal string in WinAnsiEncoding,
// escaping the delimiters and writing bytes outside ASCII in octal so
// that the file stays 7-bit clean apart from its header comment.
func pdfString(s string) string {
	var b strings.Builder
	b.WriteByte('(')
	for _, r := range s {
		c := winAnsi(r)
		switch {
		case c == '(' || c == ')' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// winAnsi maps r to its WinAnsiEncoding (Windows-1252) byte: Latin-1
// directly, a few typographic characters from the 0x80-0x9F block, and
// '?' for the rest.
func winAnsi(r rune) byte {
	switch {
	case r == '\t':
		return ' '
	case r >= 0x20 && r < 0x7f, r >= 0xa0 && r <= 0xff:
		return byte(r)
	}
	switch r {
	case '€':
		return 0x80
	case '‚':
		return 0x82
	case '„':
		return 0x84
	case '…':
		return 0x85
	case '‘':
		return 0x91
	case '’':
		return 0x92
	case '“':
		return 0x93
	case '”':
		return 0x94
	case '•':
		return 0x95
	case '–':
		return 0x96
	case '—':
		return 0x97
	case '™':
		return 0x99
	}
	return '?'
}

// pdfDate formats t as a PDF date, D:YYYYMMDDHHmmSSOHH'mm'.
func pdfDate(t time.Time) string {
	s := t.Format("20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return "D:" + s + "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", s, sign, off/3600, off/60%60)
}

// wrap breaks s into lines of at most width characters, at spaces where
// it can.
func wrap(s string, width int) []string {
	var out []string
	for utf8.RuneCountInString(s) > width {
		cut := -1
		n := 0
		for i, r := range s {
			if n > width {
				break
			}
			if r == ' ' {
				cut = i
			}
			n++
		}
		if cut <= 0 {
			// One word longer than the line: break it.
			cut = len(string([]rune(s)[:width]))
			out = append(out, s[:cut])
			s = s[cut:]
			continue
		}
		out = append(out, s[:cut])
		s = s[cut+1:]
	}
	return append(out, s)
}
