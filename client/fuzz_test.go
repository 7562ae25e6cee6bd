package client

import (
	"strings"
	"testing"
)

// FuzzParseContentRange: a server's Content-Range is untrusted input that
// decides where downloaded bytes go.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-9/10", "bytes 5-5/6", "bytes */10", "bytes 9-0/10", "bytes -1-3/4", "bytes 0-99999999999999999999/1", "items 0-1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, size, err := parseContentRange(s)
		if err != nil {
			return
		}
		if first < 0 || last < first || size <= last {
			t.Fatalf("%q gave %d-%d/%d", s, first, last, size)
		}
	})
}

// FuzzSHA256ETag: only a quoted 64-digit hex ETag is a checksum.
func FuzzSHA256ETag(f *testing.F) {
	f.Add(`"` + strings.Repeat("ab", 32) + `"`)
	f.Add(`W/"` + strings.Repeat("ab", 32) + `"`)
	f.Add(`"xyz"`)
	f.Fuzz(func(t *testing.T, etag string) {
		sum, ok := sha256ETag(etag)
		if !ok {
			return
		}
		if len(sum) != 64 || strings.ToLower(sum) != sum || !strings.EqualFold(`"`+sum+`"`, etag) {
			t.Fatalf("%q gave %q", etag, sum)
		}
	})
}

func TestParseServer(t *testing.T) {
	cases := map[string]string{
		"cic1":                               "https://cic1:8019",
		"cic1:8018":                          "https://cic1:8018",
		"[::1]":                              "https://[::1]:8019",
		"http://cic1:8018/":                  "http://cic1:8018",
		"https://proxy.example.com/api/cic1": "https://proxy.example.com/api/cic1",
		"https://cic1:8019/icws":             "https://cic1:8019",
		"https://cic1:8019/icws/":            "https://cic1:8019",
	}
	for in, want := range cases {
		u, err := ParseServer(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseServer(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://cic1", "https://user:pw@cic1", "https://cic1?x=1", "http://"} {
		if u, err := ParseServer(bad); err == nil {
			t.Errorf("ParseServer(%q) = %v, want an error", bad, u)
		}
	}
}
