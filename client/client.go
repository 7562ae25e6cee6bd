package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"example.com/icrec/icws"
)

// DefaultApplicationName is what the server shows for sessions of this
// client when Config.ApplicationName is empty.
const DefaultApplicationName = "icrec client"

// maxJSONBytes bounds an API answer. The largest real ones (attributes of a
// recording) are far smaller; a server streaming more is broken.
const maxJSONBytes = 16 << 20

// Config says where and how to connect.
type Config struct {
	// Server is the ICWS server's base URL: https://cic.example.com:8019,
	// http://cic.example.com:8018, or a proxy's base such as
	// https://proxy.example.com/api/cic1. A bare host name means HTTPS on
	// the ICWS port 8019, as ICWS clients assume.
	Server string
	// UserID and Password are the icAuth credentials.
	UserID, Password string
	// ApplicationName is shown by the server for the session.
	ApplicationName string
	// Language is sent as Accept-Language; default en-us. ICWS fixes it
	// for the session's lifetime.
	Language string
	// HTTPClient makes the requests; default: one from NewHTTPClient with
	// its defaults. It must not follow redirects on its own, since a
	// redirect from an ICWS server means a switchover, not a new URL.
	HTTPClient *http.Client
	// Retry bounds retries of failed requests.
	Retry Retry
	// Logger receives a line per retry and re-login; default: none.
	Logger *slog.Logger
}

// Client is a signed-in ICWS session. It is safe for concurrent use; calls
// share the session and the HTTP connections.
type Client struct {
	base    *url.URL // the server's base, which alternate hosts replace
	cfg     Config
	hc      *http.Client
	ownHC   bool
	log     *slog.Logger
	retry   Retry
	sleep   func(context.Context, time.Duration) error
	reLogin sync.Mutex // one re-login at a time

	mu       sync.RWMutex
	sess     session
	features []icws.FeatureInfo
	version  *icws.VersionInfo
}

// session is what a login gives: the id in every session URL, the CSRF
// token and the cookie. gen counts logins so that calls that failed with
// 401 together log in again only once.
type session struct {
	id, csrf, cookie string
	userID, icServer string
	gen              int
}

// Connect logs in. It follows the server's 503 alternateHostList to the
// next host, and retries server failures as Config.Retry allows. A wrong
// user id or password is an *Error with Status 400 and errorId
// error.request.connection.authenticationFailure, and is not retried.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	base, err := ParseServer(cfg.Server)
	if err != nil {
		return nil, err
	}
	if cfg.UserID == "" {
		return nil, errors.New("client: a user id is required")
	}
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = DefaultApplicationName
	}
	if cfg.Language == "" {
		cfg.Language = "en-us"
	}
	c := &Client{base: base, cfg: cfg, hc: cfg.HTTPClient, log: cfg.Logger, retry: cfg.Retry.withDefaults(), sleep: sleepCtx}
	if c.hc == nil {
		c.hc, err = NewHTTPClient(TLSOptions{})
		if err != nil {
			return nil, err
		}
		c.ownHC = true
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := c.login(ctx, 0); err != nil {
		if c.ownHC {
			c.hc.CloseIdleConnections()
		}
		return nil, err
	}
	return c, nil
}

// ParseServer reads a server address as Config.Server documents it.
func ParseServer(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("client: a server URL is required, e.g. https://cic.example.com:8019")
	}
	if !strings.Contains(s, "://") {
		host := s
		if _, _, err := net.SplitHostPort(s); err != nil {
			host = net.JoinHostPort(strings.Trim(s, "[]"), "8019")
		}
		s = "https://" + host
	}
	u, err := url.Parse(s)
	if err != nil {
		// url's own error quotes the URL, password and all.
		return nil, errors.New("client: the server URL is not a URL")
	}
	s = u.Redacted()
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: server URL %q: the scheme must be http or https", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: server URL %q has no host", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: server URL %q: give only scheme, host, port and path", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	// A base ending in /icws is a common slip; the client adds it.
	u.Path = strings.TrimSuffix(u.Path, "/icws")
	return u, nil
}

// Server is the base URL the client is connected to, which a switchover
// may have changed from the one configured.
func (c *Client) Server() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base.String()
}

// SessionID is the current session's id. It is not a secret on its own,
// but it changes when the client logs in again.
func (c *Client) SessionID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sess.id
}

// UserID is the user id as the server spells it.
func (c *Client) UserID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sess.userID
}

// login opens a session, replacing the one of generation gen (0 for the
// first). If another call already replaced it, login does nothing.
func (c *Client) login(ctx context.Context, gen int) error {
	c.reLogin.Lock()
	defer c.reLogin.Unlock()
	c.mu.RLock()
	cur := c.sess.gen
	c.mu.RUnlock()
	if cur != gen {
		return nil
	}
	body, err := json.Marshal(icws.ConnectionRequest{
		Type:            icws.TypeICAuthSettings,
		ApplicationName: c.cfg.ApplicationName,
		UserID:          c.cfg.UserID,
		Password:        c.cfg.Password,
	})
	if err != nil {
		return err
	}
	tried := map[string]bool{}
	var last error
	for attempt := 0; ; attempt++ {
		c.mu.RLock()
		base := c.base
		c.mu.RUnlock()
		tried[base.Host] = true
		resp, err := c.send(ctx, "POST", base.JoinPath("icws", "connection").String()+"?include=features,version", body, nil, false)
		var r icws.ConnectionResponse
		if err == nil {
			err = c.decode(resp, http.StatusCreated, &r, "log in")
		} else {
			err = &Error{Op: "log in to " + base.Host, Err: err}
		}
		if err == nil {
			return c.setSession(resp, r, cur+1)
		}
		last = err
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		if e.Status == http.StatusServiceUnavailable {
			if alt := c.alternate(base, e.ICWS.AlternateHostList, tried); alt != nil {
				c.log.Info("server is not accepting connections; trying an alternate host", "host", base.Host, "alternate", alt.Host)
				c.mu.Lock()
				c.base = alt
				c.mu.Unlock()
				continue
			}
		}
		if !e.Temporary() || attempt+1 >= c.retry.Attempts {
			return last
		}
		if err := c.backoff(ctx, attempt, e, "log in"); err != nil {
			return err
		}
	}
}

// alternate returns the first alternate host not tried yet, on the same
// scheme, port and path as base, as go-icws reconnects.
func (c *Client) alternate(base *url.URL, hosts []string, tried map[string]bool) *url.URL {
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" || strings.ContainsAny(h, "/?#@ ") {
			continue
		}
		host := h
		if _, _, err := net.SplitHostPort(h); err != nil {
			host = net.JoinHostPort(strings.Trim(h, "[]"), base.Port())
			if base.Port() == "" {
				host = h
			}
		}
		if tried[host] {
			continue
		}
		u := *base
		u.Host = host
		return &u
	}
	return nil
}

func (c *Client) setSession(resp *http.Response, r icws.ConnectionResponse, gen int) error {
	sid := r.SessionID
	if sid == "" {
		sid = resp.Header.Get("ININ-ICWS-Session-ID")
	}
	csrf := r.CSRFToken
	if csrf == "" {
		csrf = resp.Header.Get("ININ-ICWS-CSRF-Token")
	}
	if sid == "" || csrf == "" || strings.ContainsAny(sid, "/?#") {
		return &Error{Op: "log in", Status: resp.StatusCode, ICWS: icws.Error{Message: "the server's answer has no usable session id and CSRF token"}}
	}
	cookie := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "icws_"+sid {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	if cookie == "" {
		// Some servers put one cookie for another name; ICWS needs the
		// icws_ one, and the client sends whatever it was given.
		for _, ck := range resp.Cookies() {
			if strings.HasPrefix(ck.Name, "icws_") {
				cookie = ck.Name + "=" + ck.Value
			}
		}
	}
	if cookie == "" {
		return &Error{Op: "log in", Status: resp.StatusCode, ICWS: icws.Error{Message: "the server's answer sets no icws_ session cookie"}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = session{id: sid, csrf: csrf, cookie: cookie, userID: r.UserID, icServer: r.ICServer, gen: gen}
	if r.Features != nil {
		c.features = r.Features
	}
	if r.Version != nil {
		c.version = r.Version
	}
	return nil
}

// Close logs out and lets the client's idle connections go. A session the
// server already ended is not an error.
func (c *Client) Close(ctx context.Context) error {
	c.mu.RLock()
	s := c.sess
	base := c.base
	c.mu.RUnlock()
	defer func() {
		if c.ownHC {
			c.hc.CloseIdleConnections()
		}
	}()
	if s.id == "" {
		return nil
	}
	resp, err := c.send(ctx, "DELETE", base.JoinPath("icws", s.id, "connection").String(), nil, &s, true)
	if err != nil {
		return &Error{Op: "log out", Err: err}
	}
	defer drain(resp)
	c.mu.Lock()
	if c.sess.gen == s.gen { // not a session a concurrent re-login opened
		c.sess = session{gen: s.gen}
	}
	c.mu.Unlock()
	switch {
	case resp.StatusCode/100 == 2, resp.StatusCode == http.StatusUnauthorized:
		return nil
	}
	return c.errorFrom(resp, "log out")
}

// call makes a session call: GET (or another method) of path below
// /icws/{sessionId}/, decoding a 2xx JSON answer into out (unless nil). It
// logs in again once on 401 and retries temporary failures.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, out any, op string) error {
	relogged := false
	for attempt := 0; ; attempt++ {
		c.mu.RLock()
		s := c.sess
		base := c.base
		c.mu.RUnlock()
		if s.id == "" {
			return &Error{Op: op, ICWS: icws.Error{Message: "the client is closed"}, Status: http.StatusUnauthorized}
		}
		u := base.JoinPath("icws", s.id).String() + "/" + path
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		resp, err := c.send(ctx, method, u, nil, &s, true)
		if err != nil {
			err = &Error{Op: op, Err: err}
		} else {
			err = c.decode(resp, 0, out, op)
		}
		if err == nil {
			return nil
		}
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		if e.Status == http.StatusUnauthorized && !relogged {
			relogged = true
			c.log.Info("session ended; logging in again", "op", op, "error_id", e.ICWS.ErrorID)
			if lerr := c.login(ctx, s.gen); lerr != nil {
				return fmt.Errorf("%w; logging in again failed: %w", err, lerr)
			}
			continue
		}
		if !e.Temporary() || attempt+1 >= c.retry.Attempts {
			return err
		}
		if err := c.backoff(ctx, attempt, e, op); err != nil {
			return err
		}
	}
}

// send makes one request. s, when given, adds the session's credentials.
func (c *Client) send(ctx context.Context, method, u string, body []byte, s *session, csrf bool) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.inin.icws+JSON, application/json")
	req.Header.Set("Accept-Language", c.cfg.Language)
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.inin.icws+JSON; charset=utf-8")
	}
	if s != nil {
		req.Header.Set("Cookie", s.cookie)
		if csrf {
			req.Header.Set("ININ-ICWS-CSRF-Token", s.csrf)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, stripURL(ctx, err)
	}
	return resp, nil
}

// stripURL drops the request URL from a transport error: an export URI
// authorises its bearer, and a session URL is nobody's business.
func stripURL(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decode reads a JSON answer. want is the only acceptable status, or 0
// for any 2xx. A 2xx with a body that is not the JSON expected is an error
// naming the call.
func (c *Client) decode(resp *http.Response, want int, out any, op string) error {
	defer drain(resp)
	ok := resp.StatusCode/100 == 2
	if want != 0 {
		ok = resp.StatusCode == want
	}
	if !ok {
		return c.errorFrom(resp, op)
	}
	if out == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBytes+1))
	if err != nil {
		return &Error{Op: op, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if len(data) > maxJSONBytes {
		return &Error{Op: op, Status: resp.StatusCode, ICWS: icws.Error{Message: fmt.Sprintf("the answer is larger than %d MiB", maxJSONBytes>>20)}}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, ICWS: icws.Error{Message: "the server's answer is not the JSON expected"}, Err: err}
	}
	return nil
}

// errorFrom turns a non-2xx answer into an *Error, reading the ICWS error
// body when there is one.
func (c *Client) errorFrom(resp *http.Response, op string) error {
	e := &Error{Op: op, Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header)}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		e.Err = fmt.Errorf("reading the error answer: %w", err)
	}
	var body icws.Error
	if json.Unmarshal(data, &body) == nil && (body.ErrorID != "" || body.Message != "") {
		e.ICWS = body
		return e
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	if len(bytes.TrimSpace(data)) > 0 {
		e.ICWS.Message = fmt.Sprintf("the answer is not an ICWS error (%s, %d bytes)", ct, len(data))
	}
	return e
}

// drain reads what is left of a small body so the connection can be
// reused, and closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
