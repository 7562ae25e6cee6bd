package mimeindex_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/mimeindex"
)

// checkInvalid checks that err is an Invalid *icrec.Error whose message
// starts with where (the part) and contains problem.
func checkInvalid(t *testing.T, err error, where, problem string) {
	t.Helper()
	e, ok := errors.AsType[*icrec.Error](err)
	if !ok || e.Kind != icrec.Invalid {
		t.Fatalf("got %T %v; want an Invalid *icrec.Error", err, err)
	}
	if !strings.HasPrefix(e.Message, where+": ") || !strings.Contains(e.Message, problem) {
		t.Errorf("message %q; want %q and %q", e.Message, where+": ", problem)
	}
	if icrec.ErrorMessage(err) != e.Message {
		t.Errorf("ErrorMessage = %q; the message should be shown as it is", icrec.ErrorMessage(err))
	}
}

func TestScanHostile(t *testing.T) {
	for _, tt := range []struct {
		name, msg      string
		lim            mimeindex.Limits
		where, problem string
	}{{
		name: "multipart without a boundary",
		msg: `Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain

hi
--b1
Content-Type: multipart/mixed; boundary=b2

--b2
Content-Type: multipart/mixed; charset=x

--b2--
--b1--
`,
		where: "part 2.1", problem: "multipart/mixed without a boundary parameter",
	}, {
		name:  "top-level multipart without a boundary",
		msg:   "Content-Type: multipart/alternative\n\nx\n",
		where: "message", problem: "multipart/alternative without a boundary parameter",
	}, {
		name:  "empty boundary",
		msg:   "Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\n--\n",
		where: "message", problem: "empty boundary",
	}, {
		name:  "boundary with a control character",
		msg:   "Content-Type: multipart/mixed; boundary=\"a\x01b\"\n\n",
		where: "message", problem: "control characters",
	}, {
		name:  "boundary too long",
		msg:   "Content-Type: multipart/mixed; boundary=" + strings.Repeat("b", 201) + "\n\n",
		where: "message", problem: "longer than 200 bytes",
	}, {
		name:  "boundary never appears",
		msg:   "Content-Type: multipart/mixed; boundary=nope\n\n--other\nContent-Type: text/plain\n\nx\n--other--\n",
		where: "message", problem: `multipart/mixed boundary "nope" never appears`,
	}, {
		name: "nested boundary never appears",
		msg: `Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: multipart/alternative; boundary=b2

--b3
--b1--
`,
		where: "part 1", problem: `boundary "b2" never appears`,
	}, {
		name:  "header ended by a multipart's boundary",
		msg:   "Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: multipart/mixed; boundary=b2\n--b1--\n",
		where: "part 1", problem: `boundary "b2" never appears`,
	}, {
		name:  "truncated in a body",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf\n\n%PDF-1.4\n",
		where: "message", problem: "truncated",
	}, {
		name:  "truncated in a part header",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: appl",
		where: "message", problem: "truncated",
	}, {
		name:  "truncated after a part",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b\n",
		where: "message", problem: "truncated",
	}, {
		name:  "truncated in a nested multipart",
		msg:   "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n\ntext\n--b1\nContent-Type: multipart/related; boundary=b2\n\n--b2\n\nx\n",
		where: "part 2", problem: "the message ends before the closing boundary of this multipart/related",
	}, {
		name:  "nested multipart not closed",
		msg:   "Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\n\nx\n--b1\n\ny\n--b1--\n",
		where: "part 1", problem: "multipart/alternative ends without its closing boundary (line 9)",
	}, {
		name:  "nested boundary equal to the enclosing one",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n--b--\n",
		where: "part 1", problem: "clashes with the boundary of an enclosing multipart",
	}, {
		name:  "nested boundary that a close delimiter could match",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=\"b--\"\n\n--b--\n",
		where: "part 1", problem: "clashes",
	}, {
		name:  "malformed base64",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0x\nLjQK!!!!\n--b--\n",
		where: "part 2", problem: "malformed base64: unexpected byte 0x21 (line 11)",
	}, {
		name:  "base64 with a NUL",
		msg:   "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBO\x00Rw0K\n",
		where: "part 1", problem: "unexpected byte 0x00",
	}, {
		name:  "base64 in the URL alphabet",
		msg:   "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBO_-Rw0K\n",
		where: "part 1", problem: "unexpected byte 0x5f",
	}, {
		name:  "base64 ending in a single character",
		msg:   "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KG\n",
		where: "part 1", problem: "a group of a single character",
	}, {
		name:  "base64 padding after a single character",
		msg:   "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KG===\n",
		where: "part 1", problem: "a group of a single character",
	}, {
		name:  "header line without a colon",
		msg:   "From: a@example.com\nSubject hello\n\nbody\n",
		where: "message", problem: "header line 2 has no colon",
	}, {
		name:  "part header line without a colon",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nHello, no header here\n--b--\n",
		where: "part 1", problem: "header line 4 has no colon",
	}, {
		name:  "malformed field name",
		msg:   "From: a@example.com\nX Bad: x\n\n",
		where: "message", problem: "header line 2 has a malformed field name",
	}, {
		name:  "empty field name",
		msg:   ": x\n\n",
		where: "message", problem: "malformed field name",
	}, {
		name:  "continuation line first",
		msg:   " folded: x\nSubject: y\n\n",
		where: "message", problem: "header line 1 is a continuation",
	}, {
		name:  "NUL in the message header",
		msg:   "Subject: a\x00b\n\nbody\n",
		where: "message", problem: "NUL byte in the header (line 1)",
	}, {
		name:  "NUL in a part header",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: image/png; name=\"a\x00.png\"\n\nx\n--b--\n",
		where: "part 1", problem: "NUL byte in the header (line 4)",
	}, {
		name:  "NUL in a header continuation",
		msg:   "Subject: a\n \x00\n\n",
		where: "message", problem: "NUL byte",
	}, {
		name:  "message header too long",
		msg:   "Subject: " + strings.Repeat("x", 70000) + "\n\nbody",
		where: "message", problem: "header longer than 65536 bytes",
	}, {
		name:  "part header too long",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\n" + strings.Repeat("X-Junk: 0123456789\n", 4000) + "\nx\n--b--\n",
		where: "part 1", problem: "header longer than 65536 bytes",
	}, {
		name:  "header smaller than a custom limit",
		msg:   "Subject: " + strings.Repeat("x", 100) + "\n\nbody",
		lim:   mimeindex.Limits{MaxHeaderBytes: 100},
		where: "message", problem: "header longer than 100 bytes",
	}, {
		name:  "too many header lines",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\nContent-Type: text/plain\nX-A: 1\n\nx\n", 60) + "--b--\n",
		lim:   mimeindex.Limits{MaxHeaderLines: 100},
		where: "part 50", problem: "more than 100 header lines in the message",
	}, {
		name:  "too many parts",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\n\nx\n", 1001) + "--b--\n",
		where: "part 1001", problem: "the message has more than 1000 parts",
	}, {
		name:  "too many parts, nested",
		msg:   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=c\n\n" + strings.Repeat("--c\n\nx\n", 10) + "--c--\n--b--\n",
		lim:   mimeindex.Limits{MaxParts: 10},
		where: "part 1.10", problem: "more than 10 parts",
	}, {
		name:  "nested too deep",
		msg:   nested(17, false),
		where: "part " + strings.TrimSuffix(strings.Repeat("1.", 16), "."), problem: "multiparts nested more than 16 deep",
	}, {
		name:  "nested too deep for a custom limit",
		msg:   nested(3, false),
		lim:   mimeindex.Limits{MaxDepth: 2},
		where: "part 1.1", problem: "nested more than 2 deep",
	}} {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range eols {
				_, err := mimeindex.Scan(strings.NewReader(withEOL(tt.msg, e.eol)), tt.lim)
				checkInvalid(t, err, tt.where, tt.problem)
			}
		})
	}
}

// nested returns a message of n multiparts, each the only part of the one
// before, around one text part; closed says whether to close them all.
func nested(n int, closed bool) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"level%d\"\n\n--level%d\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\n\ntext\n")
	if closed {
		for i := n - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--level%d--\n", i)
		}
	}
	return b.String()
}

func TestScanDeepestAllowed(t *testing.T) {
	msg := nested(16, true)
	msg = strings.Replace(msg, "Content-Type: text/plain\n\ntext", "Content-Type: application/zip\n\nPK", 1)
	got := scan(t, msg)
	checkIndex(t, got, []icrec.Attachment{att(1, strings.TrimSuffix(strings.Repeat("1.", 16), "."), "attachment-1.zip", "application/zip", []byte("PK"))})
}

// endless serves a prefix and then repeats a unit for ever, counting what
// it served.
type endless struct {
	prefix, unit string
	off          int
	n            int64
}

func (r *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off < len(r.prefix) {
			c := copy(p[n:], r.prefix[r.off:])
			r.off += c
			n += c
			continue
		}
		i := (r.off - len(r.prefix)) % len(r.unit)
		c := copy(p[n:], r.unit[i:])
		r.off += c
		n += c
	}
	r.n += int64(n)
	return n, nil
}

func TestScanFailsFast(t *testing.T) {
	// Hostile input that never ends must be refused early, not read on.
	for _, tt := range []struct {
		name           string
		r              *endless
		where, problem string
	}{
		{"endless header", &endless{prefix: "From: a@example.com\r\n", unit: "X-Junk: 0123456789abcdef\r\n"}, "message", "header longer than"},
		{"endless header line", &endless{prefix: "Subject: ", unit: "x"}, "message", "header longer than"},
		{"endless part header", &endless{prefix: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n", unit: "X: y\r\n"}, "part 1", "header longer than"},
		{"endless continuation", &endless{prefix: "Subject: x\r\n", unit: " x\r\n"}, "message", "header longer than"},
		{"endless nesting", &endless{unit: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"}, "part 1", "clashes"},
		{"endless distinct nesting", &endless{unit: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n"}, "part 1.1", "clashes"},
		{"endless parts", &endless{prefix: "Content-Type: multipart/mixed; boundary=b\r\n\r\n", unit: "--b\r\n\r\n"}, "part 1001", "more than 1000 parts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mimeindex.Scan(tt.r, mimeindex.Limits{})
			checkInvalid(t, err, tt.where, tt.problem)
			if tt.r.n > 1<<20 {
				t.Errorf("read %d bytes before refusing", tt.r.n)
			}
		})
	}
	// Deep nesting with fresh boundaries hits the depth limit.
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	r := &endless{prefix: b.String(), unit: "x"}
	_, err := mimeindex.Scan(r, mimeindex.Limits{})
	checkInvalid(t, err, "part 1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1", "nested more than 16 deep")
}

func TestExtractHostile(t *testing.T) {
	// Extract refuses the same faults on its way to the part.
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
	_, err := mimeindex.Extract(strings.NewReader(msg), "2", io.Discard, mimeindex.Limits{})
	checkInvalid(t, err, "part 1", "without a boundary parameter")
	// A part cut short is not delivered as if it were whole.
	msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n\r\n%PDF"
	_, err = mimeindex.Extract(strings.NewReader(msg), "1", io.Discard, mimeindex.Limits{})
	checkInvalid(t, err, "message", "truncated")
	msg = "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n"
	_, err = mimeindex.Extract(strings.NewReader(msg), "1", io.Discard, mimeindex.Limits{})
	checkInvalid(t, err, "part 1", "malformed base64")
}

func TestScanNoPanicOnShortReads(t *testing.T) {
	// A reader that claims more than it was given is a bug in the caller,
	// reported as an error, not a panic.
	_, err := mimeindex.Scan(liar{}, mimeindex.Limits{})
	if err == nil || icrec.IsKind(err, icrec.Invalid) {
		t.Errorf("Scan of a lying reader: %v; want a read error", err)
	}
	_, err = mimeindex.Scan(stuck{}, mimeindex.Limits{})
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Scan of a stuck reader: %v; want io.ErrNoProgress", err)
	}
}

type liar struct{}

func (liar) Read(p []byte) (int, error) { return len(p) + 1, nil }

type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }

func TestScanTruncatedInBase64(t *testing.T) {
	// Cut inside a base64 group: the truncation is the fault to report.
	msg := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KG"
	_, err := mimeindex.Scan(strings.NewReader(msg), mimeindex.Limits{})
	checkInvalid(t, err, "message", "truncated")
}
