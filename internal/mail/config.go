// Package mail sends icrec's outgoing mail, for ICWS send-as-email: a
// recording goes out as an attachment, or as an export link in the body
// when it is too large to attach.
//
// It speaks SMTP through net/smtp, one connection per message, and streams
// attachments straight into the DATA command, so that a recording is never
// held in memory whole. Failures come back as *icrec.Error values whose
// messages tell an operator what to fix; none of them, and no log line,
// carries the password.
package mail

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"example.com/icrec"
)

// TLSMode says how a connection to the mail server is protected.
type TLSMode uint8

const (
	// StartTLSRequired upgrades the connection with STARTTLS and sends
	// nothing if the server does not offer it. It is the zero value, so
	// that a Config written by hand is safe by default.
	StartTLSRequired TLSMode = iota
	// StartTLSOpportunistic upgrades when the server offers STARTTLS and
	// goes on in plain text otherwise. An attacker on the path can strip
	// the offer, so a password is still never sent in plain text (except to
	// localhost).
	StartTLSOpportunistic
	// NoTLS never encrypts: only for a relay on the same host.
	NoTLS
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS
)

var tlsModeNames = [...]string{
	StartTLSRequired:      "required",
	StartTLSOpportunistic: "opportunistic",
	NoTLS:                 "none",
	ImplicitTLS:           "implicit",
}

func (m TLSMode) String() string {
	if int(m) < len(tlsModeNames) {
		return tlsModeNames[m]
	}
	return fmt.Sprintf("TLSMode(%d)", m)
}

// Default ports and timeout, used where a Config leaves them zero.
const (
	DefaultPort    = 587 // submission, with STARTTLS
	DefaultTLSPort = 465 // submissions, with implicit TLS
	DefaultTimeout = 30 * time.Second
)

// Config is how to reach the mail server and whom the mail is from. Its
// String, GoString and LogValue never show the password.
type Config struct {
	Host    string // without brackets for an IPv6 address
	Port    int    // zero means DefaultPort, or DefaultTLSPort with ImplicitTLS
	TLSMode TLSMode

	// Username, when set, makes the sender authenticate with AUTH PLAIN,
	// which it does only over TLS or to localhost. Password may come from
	// the URL or, better, from the environment or a file.
	Username string
	Password icrec.Secret

	// From is the sender of every message, in the envelope and the From
	// header, as an RFC 5322 address such as "Recordings <rec@example.com>".
	// It is required.
	From string

	// HELO is the name the sender gives in EHLO; empty means this host's
	// name. Some servers reject names that are not fully qualified.
	HELO string

	// Timeout bounds the dial and the whole session after it, attachments
	// included; zero means DefaultTimeout. Raise it for large attachments
	// over slow links.
	Timeout time.Duration

	// TLS configures the TLS client. nil means the system roots, with
	// ServerName defaulting to Host; tests pass a config that trusts their
	// own certificate.
	TLS *tls.Config
}

// ParseURL reads mail settings from a URL of the form
//
//	smtp://[user[:password]@]host[:port][?starttls=required|opportunistic|none]
//	smtps://[user[:password]@]host[:port]
//
// The default port is 587 for smtp (with starttls=required) and 465 for
// smtps, which is TLS from the start. Both also take from=ADDRESS,
// helo=NAME and timeout=DURATION (such as 45s). The user name and password
// are percent-decoded; '@', ':', '/', '?' and '#' in them must be
// percent-encoded. Errors are Invalid and name the part that is wrong; they
// never repeat the password.
func ParseURL(s string) (Config, error) {
	var cfg Config
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return cfg, urlError("it must start with smtp:// or smtps://")
	}
	switch strings.ToLower(scheme) {
	case "smtp":
		cfg.TLSMode = StartTLSRequired
	case "smtps":
		cfg.TLSMode = ImplicitTLS
	default:
		if isToken(scheme) {
			return cfg, urlError("the scheme %q is not smtp or smtps", scheme)
		}
		return cfg, urlError("it must start with smtp:// or smtps://")
	}

	// The authority ends at the first '/', '?' or '#'. When one of those
	// sits unencoded in a password, the '@' after it lands in the rest of
	// the URL; refuse that rather than mistake part of the password for a
	// host and print it in an error.
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if atOutsideFrom(tail) {
		return cfg, urlError("there is an '@' after the host: percent-encode '/', '?', '#' and '@' in the user name and password (as %%2F, %%3F, %%23 and %%40)")
	}

	hostport := authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		var err error
		if cfg.Username, cfg.Password, err = parseUserinfo(authority[:at]); err != nil {
			return Config{}, err
		}
		hostport = authority[at+1:]
	}
	var err error
	if cfg.Host, cfg.Port, err = parseHostPort(hostport); err != nil {
		return Config{}, err
	}
	if cfg.Port == 0 {
		cfg.Port = cfg.defaultPort()
	}

	path, query, _ := strings.Cut(tail, "?")
	if strings.Contains(tail, "#") {
		return Config{}, urlError("it must not have a #fragment")
	}
	if path != "" && path != "/" {
		return Config{}, urlError("it must not have a path after the host")
	}
	if err := cfg.parseQuery(query); err != nil {
		return Config{}, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Username != "" && cfg.TLSMode == NoTLS && !isLocalhost(cfg.Host) {
		return Config{}, urlError("starttls=none would send the password of %q to %s unencrypted: use starttls=required or smtps://", cfg.Username, cfg.Host)
	}
	return cfg, nil
}

func urlError(format string, args ...any) *icrec.Error {
	return icrec.Errorf(icrec.Invalid, "", "mail URL: "+format, args...)
}

// atOutsideFrom reports whether the path, query or fragment of a mail URL
// holds an '@' anywhere but in the value of from=, where it belongs.
func atOutsideFrom(tail string) bool {
	path, query, _ := strings.Cut(tail, "?")
	if strings.Contains(path, "@") {
		return true
	}
	for pair := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if strings.Contains(k, "@") || (k != "from" && strings.Contains(v, "@")) {
			return true
		}
	}
	return false
}

func parseUserinfo(s string) (user string, pass icrec.Secret, err error) {
	rawUser, rawPass, _ := strings.Cut(s, ":")
	user, err = url.PathUnescape(rawUser)
	if err != nil {
		return "", "", urlError("the user name has a bad %%-escape")
	}
	p, err := url.PathUnescape(rawPass)
	if err != nil {
		return "", "", urlError("the password has a bad %%-escape")
	}
	if user == "" {
		return "", "", urlError("the user name before '@' is empty")
	}
	if hasControl(user) {
		return "", "", urlError("the user name contains a control character")
	}
	if hasControl(p) {
		return "", "", urlError("the password contains a control character")
	}
	return user, icrec.Secret(p), nil
}

func parseHostPort(s string) (host string, port int, err error) {
	host, portStr := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, urlError("the IPv6 address in %q lacks its closing ']'", s)
		}
		host, portStr = s[1:end], s[end+1:]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "", 0, urlError("%q in brackets is not an IPv6 address", host)
		}
		if portStr != "" {
			if portStr[0] != ':' {
				return "", 0, urlError("unexpected %q after the IPv6 address", portStr)
			}
			portStr = portStr[1:]
		}
	case strings.Count(s, ":") > 1:
		return "", 0, urlError("an IPv6 address must be in brackets, as in smtp://[::1]:25")
	default:
		host, portStr, _ = strings.Cut(s, ":")
		if host == "" {
			return "", 0, urlError("the host is missing")
		}
		if !isHostname(host) {
			return "", 0, urlError("the host %q is not a valid host name or IP address", host)
		}
	}
	if strings.HasSuffix(s, ":") {
		return "", 0, urlError("the port after ':' is empty")
	}
	if portStr != "" {
		port, err = strconv.Atoi(portStr)
		if err != nil || port < 1 || port > 65535 {
			return "", 0, urlError("the port %q is not a number from 1 to 65535", portStr)
		}
	}
	return host, port, nil
}

var queryParams = "starttls, from, helo and timeout"

func (c *Config) parseQuery(raw string) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return urlError("the query after '?' is not valid: %v", err)
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return urlError("the parameter %q is given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "starttls":
			if c.TLSMode == ImplicitTLS {
				return urlError("starttls does not apply to smtps://, which is TLS from the start")
			}
			switch strings.ToLower(v) {
			case "required":
				c.TLSMode = StartTLSRequired
			case "opportunistic":
				c.TLSMode = StartTLSOpportunistic
			case "none":
				c.TLSMode = NoTLS
			default:
				return urlError("starttls=%q is not required, opportunistic or none", v)
			}
		case "from":
			if _, problem := parseAddress(v); problem != "" {
				return urlError("from: %s", problem)
			}
			c.From = v
		case "helo":
			if !isHostname(v) {
				return urlError("helo=%q is not a host name", v)
			}
			c.HELO = v
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return urlError("timeout=%q is not a positive duration such as 30s or 2m", v)
			}
			c.Timeout = d
		default:
			return urlError("unknown parameter %q (known: %s)", k, queryParams)
		}
	}
	return nil
}

// Validate checks the settings as Send will use them, so that a program can
// refuse to start with settings that could never send. Errors are Invalid.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return configError("the host is empty")
	case !isHostname(c.Host) && net.ParseIP(c.Host) == nil:
		return configError("the host %q is not a valid host name or IP address", c.Host)
	case c.Port < 0 || c.Port > 65535:
		return configError("the port %d is not from 1 to 65535", c.Port)
	case int(c.TLSMode) >= len(tlsModeNames):
		return configError("the TLS mode %d is unknown", c.TLSMode)
	case c.HELO != "" && !isHostname(c.HELO):
		return configError("the HELO name %q is not a host name", c.HELO)
	case c.Timeout < 0:
		return configError("the timeout %v is negative", c.Timeout)
	case c.Password != "" && c.Username == "":
		return configError("a password is set but no user name")
	case hasControl(c.Username):
		return configError("the user name contains a control character")
	case hasControl(string(c.Password)):
		return configError("the password contains a control character")
	case c.Username != "" && c.TLSMode == NoTLS && !isLocalhost(c.Host):
		return configError("TLS mode none would send the password of %q to %s unencrypted", c.Username, c.Host)
	}
	if c.From == "" {
		return configError("the From address is missing")
	}
	if _, problem := parseAddress(c.From); problem != "" {
		return configError("From: %s", problem)
	}
	return nil
}

func configError(format string, args ...any) *icrec.Error {
	return icrec.Errorf(icrec.Invalid, "", "mail settings: "+format, args...)
}

// parseAddress parses one RFC 5322 address, display name allowed, and
// otherwise says what is wrong with it.
func parseAddress(s string) (*netmail.Address, string) {
	if hasControl(s) {
		return nil, "the address must not contain line breaks or control characters"
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Sprintf("%q is not an email address (%v)", s, err)
	}
	if !isASCII(a.Address) {
		// Sending to one would need SMTPUTF8, which few submission
		// servers offer.
		return nil, fmt.Sprintf("%q is not an ASCII address; internationalized addresses are not supported", a.Address)
	}
	return a, ""
}

func (c Config) defaultPort() int {
	if c.TLSMode == ImplicitTLS {
		return DefaultTLSPort
	}
	return DefaultPort
}

func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = c.defaultPort()
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c Config) tlsConfig() *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLS != nil {
		t = c.TLS.Clone()
	}
	if t.ServerName == "" {
		t.ServerName = c.Host
	}
	return t
}

// String formats c as a mail URL with the password shown as REDACTED.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: c.addr()}
	q := url.Values{}
	switch c.TLSMode {
	case ImplicitTLS:
		u.Scheme = "smtps"
	default:
		q.Set("starttls", c.TLSMode.String())
	}
	switch {
	case c.Username != "" && c.Password != "":
		u.User = url.UserPassword(c.Username, "REDACTED")
	case c.Username != "":
		u.User = url.User(c.Username)
	}
	if c.From != "" {
		q.Set("from", c.From)
	}
	if c.HELO != "" {
		q.Set("helo", c.HELO)
	}
	if c.Timeout != 0 {
		q.Set("timeout", c.Timeout.String())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// GoString keeps %#v from printing the fields one by one.
func (c Config) GoString() string { return "mail.Config(" + c.String() + ")" }

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("server", c.addr()),
		slog.String("tls", c.TLSMode.String()),
		slog.String("from", c.From),
	}
	if c.Username != "" {
		attrs = append(attrs, slog.String("user", c.Username))
	}
	if c.Password != "" {
		attrs = append(attrs, slog.Any("password", c.Password))
	}
	return slog.GroupValue(attrs...)
}

// isLocalhost matches net/smtp's rule for where PLAIN may go unencrypted.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// isHostname accepts DNS names and IPv4 literals: letters, digits, '-',
// '_' and dots, in labels of at most 63 bytes.
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func isToken(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// hasControl reports a C0 control or DEL, tab excepted: a CR or LF in a
// header value or an SMTP command line would start a new one.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
