package httpapi

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"example.com/icrec"
)

// requestInfo is what the outermost middleware learns about a request and
// what the access log reports. Handlers fill in the session once known.
type requestInfo struct {
	id         string
	clientAddr string
	https      bool
	userID     string
	sessionID  string
}

type requestInfoKey struct{}

func withRequestInfo(r *http.Request, info *requestInfo) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
}

// info returns the request's info; requests that did not pass through
// logRequests (handler tests) get an empty one.
func info(r *http.Request) *requestInfo {
	if i, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{clientAddr: peerAddr(r).String(), https: r.TLS != nil}
}

func requestID(r *http.Request) string { return info(r).id }

// newRequestID keeps a caller's X-Request-Id when it is short and plain, so
// that a request can be followed across a proxy, and makes one otherwise.
// Request ids are not secrets: math/rand is enough.
func newRequestID(incoming string) string {
	if n := len(incoming); n > 0 && n <= 64 && strings.IndexFunc(incoming, func(c rune) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.')
	}) < 0 {
		return incoming
	}
	var b [8]byte
	u := rand.Uint64()
	for i := range b {
		b[i] = byte(u >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// peerAddr is the address of the TCP peer.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// clientOf returns the client's address and whether it used HTTPS. Behind
// trusted proxies these come from X-Forwarded-For, read from the right, and
// X-Forwarded-Proto; from anyone else those headers are ignored, since a
// client could forge them to dodge login throttling.
func clientOf(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer := peerAddr(r)
	https := r.TLS != nil
	if !isTrusted(peer, trusted) {
		return peer, https
	}
	if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
		first, _, _ := strings.Cut(proto, ",")
		https = strings.EqualFold(strings.TrimSpace(first), "https")
	}
	return forwardedFor(r.Header.Values("X-Forwarded-For"), peer, trusted), https
}

// forwardedFor walks X-Forwarded-For from the right, skipping trusted
// proxies, and returns the first address that is not one; if every hop is
// trusted, the leftmost. Junk entries end the walk: what lies left of them
// cannot be trusted.
func forwardedFor(values []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := parseHop(strings.TrimSpace(hops[j]))
			if err != nil {
				return client
			}
			client = a
			if !isTrusted(a, trusted) {
				return a
			}
		}
	}
	return client
}

// parseHop accepts an address with or without a port, IPv6 in brackets
// or not.
func parseHop(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	return a.Unmap(), err
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// queryParam returns every value of the query parameter name. URL.Query
// silently drops a pair it cannot decode, so that a mangled
// ?attachmentId=%zz would read as no attachmentId at all and export the
// whole message; here a pair of that name that does not decode is an
// error naming the parameter.
func queryParam(r *http.Request, name string) ([]string, error) {
	var vals []string
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(k)
		if kerr != nil {
			key = k
		}
		if key != name {
			continue
		}
		val, verr := url.QueryUnescape(v)
		if kerr != nil || verr != nil {
			return nil, icrec.InvalidProperty(name, "The %s query parameter is not validly URL-encoded.", name)
		}
		vals = append(vals, val)
	}
	return vals, nil
}
