package httpapi

import (
	"bytes"
	"errors"
	"mime"
	"net/url"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		header string
		want   []byteRange
		err    error
	}{
		{"bytes=0-499", []byteRange{{0, 500}}, nil},
		{"bytes=500-", []byteRange{{500, 500}}, nil},
		{"bytes=-100", []byteRange{{900, 100}}, nil},
		{"bytes=-5000", []byteRange{{0, 1000}}, nil},
		{"bytes=990-2000", []byteRange{{990, 10}}, nil},
		{"BYTES = 0-0, 999-999", []byteRange{{0, 1}, {999, 1}}, nil},
		{"bytes=0-1,,5-6", []byteRange{{0, 2}, {5, 2}}, nil},
		{"bytes=1000-, 5-6", []byteRange{{5, 2}}, nil},
		{"bytes=1000-", nil, errUnsatisfiable},
		{"bytes=1000-1200", nil, errUnsatisfiable},
		{"bytes=-0", nil, errUnsatisfiable},
		{"bytes=", nil, errUnsatisfiable},
		{"items=0-1", nil, errMalformedRange},
		{"bytes 0-1", nil, errMalformedRange},
		{"bytes=5-1", nil, errMalformedRange},
		{"bytes=a-b", nil, errMalformedRange},
		{"bytes=+1-2", nil, errMalformedRange},
		{"bytes=1", nil, errMalformedRange},
		{"bytes=99999999999999999999-", nil, errMalformedRange},
		{"bytes=" + strings.Repeat("0-1,", 17), nil, errMalformedRange},
	} {
		got, err := parseRange(tc.header, size)
		if !errors.Is(err, tc.err) || len(got) != len(tc.want) {
			t.Errorf("parseRange(%q)=%v, %v; want %v, %v", tc.header, got, err, tc.want, tc.err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("parseRange(%q)[%d]=%v, want %v", tc.header, i, got[i], tc.want[i])
			}
		}
	}
	if _, err := parseRange("bytes=0-", 0); !errors.Is(err, errUnsatisfiable) {
		t.Errorf("a range of an empty file: %v", err)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-499", "bytes=-1", "bytes=5-,-3,0-0", "bytes=", "x", "bytes=18446744073709551615-"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		rs, err := parseRange(header, size)
		if err != nil {
			if !errors.Is(err, errMalformedRange) && !errors.Is(err, errUnsatisfiable) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(rs) == 0 || len(rs) > maxRanges {
			t.Fatalf("%d ranges", len(rs))
		}
		for _, r := range rs {
			if r.Start < 0 || r.Length <= 0 || r.Start+r.Length > size {
				t.Fatalf("range %+v outside a %d-byte file (header %q)", r, size, header)
			}
		}
	})
}

func TestWindow(t *testing.T) {
	var b bytes.Buffer
	w := &window{w: &b, skip: 3, left: 4}
	var err error
	for _, chunk := range []string{"ab", "cdef", "ghij"} {
		if _, err = w.Write([]byte(chunk)); err != nil {
			break
		}
	}
	if b.String() != "defg" || !errors.Is(err, errWindowDone) {
		t.Errorf("window wrote %q, %v; want defg, errWindowDone", b.String(), err)
	}
}

func TestContentDisposition(t *testing.T) {
	for _, name := range []string{"call.wav", "Facture n°1 été.pdf", `a"b\c;d%e.txt`, "Рахунок.xlsx", "日本語 ファイル.png", "x'y,z:@=.txt"} {
		cd := contentDisposition("attachment", name)
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" {
			t.Errorf("%q: %q does not parse: %v", name, cd, err)
			continue
		}
		// Go's parser prefers filename* and decodes it.
		if params["filename"] != name {
			t.Errorf("%q: decoded name %q from %q", name, params["filename"], cd)
		}
		fallback := strings.SplitN(strings.SplitN(cd, "filename=", 2)[1], ";", 2)[0]
		for _, c := range fallback {
			if c > 0x7e {
				t.Errorf("%q: ASCII fallback %q has %q", name, fallback, c)
			}
		}
		if _, err := url.PathUnescape(extValue(name)); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}
