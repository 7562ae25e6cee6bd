// Package faultproxy is a reverse proxy that makes a healthy server look
// flaky: it answers some requests with an ICWS 500 of its own and cuts some
// downloads off part-way through the body. Tests put it in front of a real
// `icrec serve` to prove that the ICWS client and `icrec export` retry and
// resume their way through such a server. Nothing outside tests imports it.
//
// Everything the proxy does not break it forwards untouched: method, path,
// raw query, Host, request headers and body, status codes (1xx, 206, 304,
// 416 included), response headers and body, streamed rather than buffered.
// It follows no redirects and neither adds nor removes compression.
//
// Faults are drawn from a seeded PCG source, so a given Seed makes the same
// decisions for the same sequence of requests. Concurrent requests draw in
// arrival order, which the scheduler decides; only a sequential client gets
// a reproducible run.
package faultproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// DefaultMaxFaultsPerKey is the streak of faults after which a key's next
// request passes, when Config.MaxFaultsPerKey is 0.
const DefaultMaxFaultsPerKey = 2

// Config says which faults a Proxy injects, and how often.
type Config struct {
	// Seed seeds the PCG source that every fault decision is drawn from.
	Seed uint64

	// ErrorRate is the fraction of requests that the proxy answers with an
	// ICWS 500 itself, without forwarding them.
	ErrorRate float64

	// DropRate is the fraction of the remaining requests whose response is
	// cut short: status and headers (Content-Length included) go through,
	// then a random part of the body, at least one byte short of the whole,
	// then the connection is aborted. Only 200 and 206 responses to methods
	// other than HEAD with a declared Content-Length of at least 2 bytes can
	// be cut; a request drawn for a drop whose response is anything else
	// passes untouched.
	DropRate float64

	// CorruptRate is the fraction of the requests left after errors and
	// drops whose 2xx response (not to HEAD, with a Content-Length of at
	// least 2) arrives whole but wrong: a JSON body (a Content-Type naming
	// json) is cut to its first half, with Content-Length to match, so that
	// it is malformed; any other body has one byte inverted. A request
	// drawn for corruption whose response is anything else passes.
	CorruptRate float64

	// MaxFaultsPerKey bounds the faults in a row for one key (see Key):
	// after this many, the key's next request passes untouched and the
	// streak starts over. A sequential client that makes MaxFaultsPerKey+1
	// attempts at a resource therefore always gets through, resuming with
	// Range or not. 0 means DefaultMaxFaultsPerKey.
	MaxFaultsPerKey int

	// Key says which requests are attempts at the same thing, for
	// MaxFaultsPerKey. nil means DefaultKey. Like Match, it must not read
	// the request body, and is called from many goroutines at once.
	Key func(*http.Request) string

	// Match, if set, limits faults to the requests it accepts; the others
	// always pass and draw nothing from the random source. It must not read
	// the request body, and is called from many goroutines at once.
	Match func(*http.Request) bool

	// Transport carries the forwarded requests. nil means a transport of the
	// proxy's own that ignores the proxy environment variables and never
	// asks for compression. Set it to reach a TLS target with a test
	// certificate, for example; it should not ask for compression either.
	Transport http.RoundTripper
}

// Stats counts what a Proxy has done so far.
type Stats struct {
	Requests int64 // every request received, whatever happened to it
	Errors   int64 // requests answered with an injected 500
	Drops    int64 // responses cut short
	Corrupts int64 // responses corrupted
}

// DefaultKey identifies a request by its method and path. The query is left
// out because clients may vary it between attempts (cache busters), and so
// is Range, because a client that resumes a cut download asks for a new
// range after each cut that delivered something: were each range a key of
// its own, a download could be cut any number of times, each cut moving it
// on a little, and no number of attempts would be sure to finish it. To
// count each range apart all the same:
//
//	Key: func(r *http.Request) string { return faultproxy.DefaultKey(r) + " " + r.Header.Get("Range") }
func DefaultKey(r *http.Request) string {
	return r.Method + " " + r.URL.Path
}

// Proxy is a fault-injecting reverse proxy. It is an http.Handler, safe for
// concurrent use. Its drops abort the connection by panicking with
// http.ErrAbortHandler, so it must be served by a net/http server (as
// httptest.NewServer does), not called directly.
type Proxy struct {
	errorRate, dropRate float64
	corruptRate         float64
	maxFaults           int
	match               func(*http.Request) bool
	key                 func(*http.Request) string
	target              atomic.Pointer[url.URL]
	rp                  *httputil.ReverseProxy

	mu     sync.Mutex // guards the fields below
	rnd    *rand.Rand
	faults map[string]int // current streak of faults per key; absent means 0
	stats  Stats
}

// New returns a proxy with no target: until SetTarget is called it answers
// every request with 502 Bad Gateway. It panics if a rate is outside [0, 1]
// or MaxFaultsPerKey is negative, as those are mistakes in the test.
func New(cfg Config) *Proxy {
	for _, r := range []struct {
		name string
		v    float64
	}{{"ErrorRate", cfg.ErrorRate}, {"DropRate", cfg.DropRate}, {"CorruptRate", cfg.CorruptRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			panic(fmt.Sprintf("faultproxy: %s = %v, want a fraction in [0, 1]", r.name, r.v))
		}
	}
	if cfg.MaxFaultsPerKey < 0 {
		panic(fmt.Sprintf("faultproxy: MaxFaultsPerKey = %d, want 0 or more", cfg.MaxFaultsPerKey))
	}
	p := &Proxy{
		errorRate:   cfg.ErrorRate,
		dropRate:    cfg.DropRate,
		corruptRate: cfg.CorruptRate,
		maxFaults:   cfg.MaxFaultsPerKey,
		match:       cfg.Match,
		key:         cfg.Key,
		// The second PCG word is fixed: the seed alone picks the sequence.
		rnd:    rand.New(rand.NewPCG(cfg.Seed, 0x6661756c7470726f)),
		faults: make(map[string]int),
	}
	if p.maxFaults == 0 {
		p.maxFaults = DefaultMaxFaultsPerKey
	}
	if p.key == nil {
		p.key = DefaultKey
	}
	transport := cfg.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil               // the target is where the test says, never an HTTP_PROXY
		t.DisableCompression = true // pass Accept-Encoding and Content-Encoding through as they are
		t.MaxIdleConnsPerHost = 32  // concurrent downloads should not churn connections
		transport = t
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
	}
	return p
}

// SetTarget sets the server that requests are forwarded to; a path in u is
// prefixed to every request's path, and a query in u is prepended to every
// request's query. It may be called at any time, also while requests are
// being served: tests start the proxy first so that its URL can be given to
// the server as its public URL. nil removes the target again.
func (p *Proxy) SetTarget(u *url.URL) {
	if u == nil {
		p.target.Store(nil)
		return
	}
	c := *u // the caller may go on to change u
	p.target.Store(&c)
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// faultBody is the body of an injected 500: what icrec sends for an internal
// error, with a message that says where it came from.
var faultBody = func() []byte {
	b, err := json.Marshal(icws.Error{ErrorID: icrec.IDInternal, Message: "injected fault", Type: icws.TypeError})
	if err != nil {
		panic(err)
	}
	return b
}()

// errDrop is returned by modifyResponse to hand a response that is to be cut
// short to errorHandler, which alone gets both it and the ResponseWriter.
var errDrop = errors.New("faultproxy: injected drop")

// action is what the proxy decided to do with a request when it arrived.
type action int

const (
	pass       action = iota
	fail              // answer 500 without forwarding
	tryDrop           // forward, and cut the response short if it has a body
	tryCorrupt        // forward, and damage the response's body if it has one
)

// exchange carries one forwarded request's state from ServeHTTP to the
// ReverseProxy hooks, through the request context.
type exchange struct {
	target *url.URL
	key    string
	act    action  // pass or tryDrop
	frac   float64 // for tryDrop: which fraction of the body to send

	// Set by modifyResponse for errorHandler when the response is cut.
	res  *http.Response
	body io.ReadCloser // res.Body, kept from ReverseProxy's Close
	keep int64         // bytes of body to send before aborting
}

type exchangeKey struct{}

// ServeHTTP answers r with an injected 500, or forwards it to the target and
// passes the response back, whole or cut short.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := p.target.Load()
	eligible := target != nil && (p.match == nil || p.match(r))
	var key string
	if eligible {
		key = p.key(r)
	}
	act, frac := p.decide(key, target != nil, eligible)
	switch {
	case target == nil:
		http.Error(w, "faultproxy: no target set", http.StatusBadGateway)
		return
	case act == fail:
		h := w.Header()
		h.Set("Content-Type", icws.ContentType)
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Content-Length", strconv.Itoa(len(faultBody)))
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(faultBody)
		return
	}
	ex := &exchange{target: target, key: key, act: act, frac: frac}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
}

// decide counts the request and draws what to do with it. An eligible
// request under its key's limit always takes four draws, whatever they
// decide, so that for a given seed the nth such request meets the same
// numbers whatever the rates are.
func (p *Proxy) decide(key string, hasTarget, eligible bool) (action, float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	if !hasTarget || !eligible {
		return pass, 0
	}
	if p.faults[key] >= p.maxFaults {
		delete(p.faults, key)
		return pass, 0
	}
	e, d, frac, c := p.rnd.Float64(), p.rnd.Float64(), p.rnd.Float64(), p.rnd.Float64()
	switch {
	case e < p.errorRate:
		p.faults[key]++
		p.stats.Errors++
		return fail, 0
	case d < p.dropRate:
		// Whether this is a fault depends on the response: see settle.
		return tryDrop, frac
	case c < p.corruptRate:
		return tryCorrupt, frac
	}
	delete(p.faults, key)
	return pass, 0
}

// settle records whether a request drawn for a drop or a corruption got it.
func (p *Proxy) settle(key string, act action, faulted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !faulted {
		delete(p.faults, key)
		return
	}
	p.faults[key]++
	if act == tryDrop {
		p.stats.Drops++
	} else {
		p.stats.Corrupts++
	}
}

// rewrite points the outbound request at the target and undoes what
// ReverseProxy does to a request before Rewrite runs, beyond removing
// hop-by-hop headers: the server must see what the client sent.
func rewrite(pr *httputil.ProxyRequest) {
	ex := pr.In.Context().Value(exchangeKey{}).(*exchange)
	pr.SetURL(ex.target)
	// SetURL clears Host so that the target's would be sent; keep the
	// client's, as the server would see it without the proxy.
	pr.Out.Host = pr.In.Host
	// ReverseProxy drops query parameters it cannot parse; a test of how
	// the server handles them needs them to arrive.
	q := pr.In.URL.RawQuery
	if tq := ex.target.RawQuery; tq != "" && q != "" {
		q = tq + "&" + q
	} else if tq != "" {
		q = tq
	}
	pr.Out.URL.RawQuery = q
	// ReverseProxy strips the client's forwarding headers; this proxy is
	// meant to be invisible, so it neither strips nor adds them, unless the
	// client named them in Connection, which makes them hop-by-hop.
	hop := connectionTokens(pr.In.Header)
	for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		if vv, ok := pr.In.Header[k]; ok && !hop[k] {
			pr.Out.Header[k] = slices.Clone(vv)
		}
	}
}

// connectionTokens returns the canonical header names that h's Connection
// header lists.
func connectionTokens(h http.Header) map[string]bool {
	var m map[string]bool
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); f != "" {
				if m == nil {
					m = make(map[string]bool)
				}
				m[http.CanonicalHeaderKey(f)] = true
			}
		}
	}
	return m
}

// modifyResponse decides whether a response drawn for a drop can be cut,
// and if so hands it to errorHandler, which writes the part that is sent.
func (p *Proxy) modifyResponse(res *http.Response) error {
	ex := res.Request.Context().Value(exchangeKey{}).(*exchange)
	switch ex.act {
	case tryDrop:
	case tryCorrupt:
		ok := res.StatusCode/100 == 2 && res.Request.Method != http.MethodHead && res.ContentLength >= 2
		p.settle(ex.key, ex.act, ok)
		if ok {
			return corrupt(res, ex.frac)
		}
		return nil
	default:
		return nil
	}
	cut := (res.StatusCode == http.StatusOK || res.StatusCode == http.StatusPartialContent) &&
		res.Request.Method != http.MethodHead && res.ContentLength >= 2
	p.settle(ex.key, ex.act, cut)
	if !cut {
		return nil
	}
	ex.res, ex.body = res, res.Body
	// ReverseProxy closes the body before calling errorHandler.
	res.Body = http.NoBody
	// frac < 1, but rounding in the product could still reach the length.
	ex.keep = min(int64(ex.frac*float64(res.ContentLength)), res.ContentLength-1)
	return errDrop
}

// corrupt damages a response's body: a JSON one is cut to its first half,
// with its length to match; any other has the byte at frac of its length
// inverted.
func corrupt(res *http.Response, frac float64) error {
	if strings.Contains(strings.ToLower(res.Header.Get("Content-Type")), "json") {
		body, err := io.ReadAll(io.LimitReader(res.Body, res.ContentLength))
		res.Body.Close()
		if err != nil {
			return err
		}
		body = body[:len(body)/2]
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	at := min(int64(frac*float64(res.ContentLength)), res.ContentLength-1)
	res.Body = &flipper{ReadCloser: res.Body, at: at}
	return nil
}

// flipper inverts the byte at offset at of the body it reads.
type flipper struct {
	io.ReadCloser
	at, off int64
}

func (f *flipper) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if i := f.at - f.off; i >= 0 && i < int64(n) {
		p[i] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

// errorHandler cuts a response short, for errDrop, and otherwise answers
// 502 for a target that could not be reached.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, errDrop) {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	ex := r.Context().Value(exchangeKey{}).(*exchange)
	h := w.Header()
	for k, vv := range ex.res.Header {
		h[k] = slices.Clone(vv)
	}
	w.WriteHeader(ex.res.StatusCode)
	// A failed copy or flush means the client has gone; abort all the same.
	io.CopyN(w, ex.body, ex.keep)
	http.NewResponseController(w).Flush()
	ex.body.Close()
	// The server closes the connection without completing the response,
	// so the client sees the body end early (io.ErrUnexpectedEOF), never
	// a short body that looks whole.
	panic(http.ErrAbortHandler)
}
