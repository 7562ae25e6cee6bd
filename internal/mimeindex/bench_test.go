package mimeindex_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"runtime"
	"strings"
	"testing"

	"example.com/icrec/internal/mimeindex"
)

// bigMessage generates, as it is read, a message with one base64
// attachment of size decoded bytes: a random block, repeated. Every
// sampleEvery bytes it calls sample.
type bigMessage struct {
	segs        [][]byte // header, the encoded block, the encoded remainder, trailer
	counts      []int    // how many times each segment is served
	seg, off    int
	served      int64
	sampleEvery int64
	sample      func()
	want        string // SHA-256 of the decoded attachment
}

func newBigMessage(size int64) *bigMessage {
	const lines = 1024
	block := make([]byte, 57*lines) // 57 bytes make one 76-column line
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(block)
	encode := func(b []byte) []byte {
		var out bytes.Buffer
		for len(b) > 0 {
			n := min(57, len(b))
			out.WriteString(base64.StdEncoding.EncodeToString(b[:n]))
			out.WriteString("\r\n")
			b = b[n:]
		}
		return out.Bytes()
	}
	full, rest := size/int64(len(block)), size%int64(len(block))
	h := sha256.New()
	for range full {
		h.Write(block)
	}
	h.Write(block[:rest])
	return &bigMessage{
		segs: [][]byte{
			[]byte("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\n\r\nsee attached\r\n--big\r\n" +
				"Content-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"),
			encode(block), encode(block[:rest]),
			[]byte("--big--\r\n"),
		},
		counts: []int{1, int(full), 1, 1},
		want:   hex.EncodeToString(h.Sum(nil)),
	}
}

func (m *bigMessage) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && m.seg < len(m.segs) {
		if m.counts[m.seg] == 0 {
			m.seg, m.off = m.seg+1, 0
			continue
		}
		c := copy(p[n:], m.segs[m.seg][m.off:])
		n += c
		if m.off += c; m.off == len(m.segs[m.seg]) {
			m.off = 0
			m.counts[m.seg]--
		}
	}
	if m.sample != nil && (m.served+int64(n))/m.sampleEvery != m.served/m.sampleEvery {
		m.sample()
	}
	m.served += int64(n)
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func TestScanMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a 270 MB message")
	}
	const size = 200 << 20
	m := newBigMessage(size)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	allocBase := ms.TotalAlloc
	m.sampleEvery = 8 << 20
	m.sample = func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	atts, err := mimeindex.Scan(m, mimeindex.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapAlloc)
	if len(atts) != 1 || atts[0].Size != size || atts[0].SHA256 != m.want || atts[0].FileName != "big.bin" {
		t.Fatalf("got %+v; want one attachment big.bin of %d bytes with SHA-256 %s", atts, size, m.want)
	}
	growth := int64(peak) - int64(base)
	t.Logf("read %d bytes; heap grew by at most %d KiB; %d KiB allocated in all", m.served, growth>>10, (ms.TotalAlloc-allocBase)>>10)
	if growth > 4<<20 {
		t.Errorf("heap grew by %d KiB while scanning; want under 4 MiB", growth>>10)
	}
}

// benchMessage is a ~10 MB message shaped like real mail: text and HTML
// bodies, a large PDF and an image in base64, a quoted-printable text and
// an 8bit CSV.
func benchMessage() []byte {
	rng := rand.NewChaCha8([32]byte{2})
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rng.Read(b)
		return b
	}
	b64 := func(b []byte) string {
		var out strings.Builder
		s := base64.StdEncoding.EncodeToString(b)
		for len(s) > 76 {
			out.WriteString(s[:76] + "\r\n")
			s = s[76:]
		}
		return out.String() + s
	}
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	_, _ = w.Write(bytes.Repeat([]byte("Grüße aus Köln – eine Zeile mit Umlauten, die länger ist als sechsundsiebzig Zeichen.\r\n"), 12000))
	_ = w.Close()
	csv := strings.Repeat("2025-03-04;Köln;12345;67,89;\"Bemerkung\"\r\n", 12000)
	html := strings.Repeat("<p>Sehr geehrte Damen und Herren,</p>\r\n", 2000)
	msg := "From: a@example.com\r\nTo: b@example.net\r\nSubject: Bench\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=_mixed\"\r\n\r\n" +
		"--=_mixed\r\nContent-Type: multipart/alternative; boundary=\"=_alt\"\r\n\r\n" +
		"--=_alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n" +
		"--=_alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--=_alt--\r\n" +
		"--=_mixed\r\nContent-Type: application/pdf; name=report.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(random(5<<20)) + "\r\n" +
		"--=_mixed\r\nContent-Type: image/jpeg; name=photo.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(random(1<<20)) + "\r\n" +
		"--=_mixed\r\nContent-Type: text/plain; charset=utf-8; name=notes.txt\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp.String() + "\r\n" +
		"--=_mixed\r\nContent-Type: text/csv; name=data.csv\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + csv + "\r\n" +
		"--=_mixed--\r\n"
	return []byte(msg)
}

func BenchmarkScan(b *testing.B) {
	msg := benchMessage()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		atts, err := mimeindex.Scan(bytes.NewReader(msg), mimeindex.Limits{})
		if err != nil || len(atts) != 4 {
			b.Fatalf("Scan = %d attachments, %v", len(atts), err)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	msg := benchMessage()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		// The last part: the whole message is read, one part decoded.
		if _, err := mimeindex.Extract(bytes.NewReader(msg), "5", io.Discard, mimeindex.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
