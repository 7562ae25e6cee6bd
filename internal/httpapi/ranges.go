package httpapi

import (
	"errors"
	"strconv"
	"strings"
)

// byteRange is one satisfiable range of a download: Length bytes from
// Start.
type byteRange struct {
	Start, Length int64
}

var (
	// errMalformedRange: the Range header is not a byte-range request
	// icrec understands; RFC 9110 says to ignore it and send the whole file.
	errMalformedRange = errors.New("malformed Range header")
	// errUnsatisfiable: a well-formed request none of whose ranges lies in
	// the file: 416.
	errUnsatisfiable = errors.New("no range lies in the file")
)

// maxRanges bounds a multi-range request, which a client could otherwise
// use to make the server send one file many times.
const maxRanges = 16

// parseRange parses a Range header ("bytes=0-499", "bytes=500-",
// "bytes=-500", or a list of those) against a file of size bytes, returning
// the satisfiable ranges clipped to the file, in request order.
func parseRange(header string, size int64) ([]byteRange, error) {
	unit, spec, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, errMalformedRange
	}
	var out []byteRange
	parts := strings.Split(spec, ",")
	if len(parts) > maxRanges {
		return nil, errMalformedRange
	}
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // RFC 9110 allows empty list elements
		}
		first, last, ok := strings.Cut(part, "-")
		if !ok {
			return nil, errMalformedRange
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var r byteRange
		switch {
		case first == "":
			// A suffix: the last n bytes.
			n, err := digits(last)
			if err != nil {
				return nil, errMalformedRange
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable on its own
			}
			n = min(n, size)
			r = byteRange{Start: size - n, Length: n}
		default:
			start, err := digits(first)
			if err != nil {
				return nil, errMalformedRange
			}
			end := size - 1
			if last != "" {
				if end, err = digits(last); err != nil || end < start {
					return nil, errMalformedRange
				}
			}
			if start >= size {
				continue
			}
			end = min(end, size-1)
			r = byteRange{Start: start, Length: end - start + 1}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errUnsatisfiable
	}
	return out, nil
}

// digits parses a non-negative decimal integer, refusing signs, spaces
// inside, and values that overflow int64.
func digits(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, errMalformedRange
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errMalformedRange
		}
	}
	return strconv.ParseInt(s, 10, 64)
}
