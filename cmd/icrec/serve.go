package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/httpapi"
	"example.com/icrec/internal/messaging"
	"example.com/icrec/internal/metrics"
	"example.com/icrec/internal/passwd"
	"example.com/icrec/internal/selfcert"
)

const serveUsage = `Usage: icrec serve [flags]

Runs the ICWS server: the API on HTTP and HTTPS, and metrics and health
checks on a separate, local listener. Without --tls-cert and --tls-key, HTTPS
uses a self-signed certificate created once in the data directory; its
fingerprint is logged at start.

On SIGINT or SIGTERM the server drains: readiness fails, new logins get 503
with the alternate hosts, event streams are told to reconnect, and requests
in flight finish (up to --shutdown-timeout). A second signal stops it at once.

Examples:
  icrec serve --demo
  icrec serve --data /var/lib/icrec --https :443 --http "" \
      --tls-cert /etc/icrec/tls.crt --tls-key /etc/icrec/tls.key
  ICREC_IDLE_TIMEOUT=10m icrec serve --cors-origin https://agent.example.com
  icrec serve --public-https-url https://recorder.example.com --export-ttl 15m
  ICREC_SMTP_URL='smtp://icrec:PASSWORD@mail.example.com?from=recorder@example.com' icrec serve
`

type serveConfig struct {
	data                    string
	httpAddr, httpsAddr     string
	metricsAddr             string
	tlsCert, tlsKey         string
	serverName              string
	alternateHosts          listFlag
	corsOrigins             listFlag
	trustedProxies          listFlag
	idleTimeout, lifetime   time.Duration
	throttle                auth.ThrottleConfig
	throttleDelay           time.Duration
	drainDelay, shutdownMax time.Duration
	logFormat, logLevel     string
	demo                    bool
	demoPassword            string
	recorder                recorderConfig
	retentionEvery          time.Duration
}

// recorderConfig is the Interaction Recorder's export configuration.
type recorderConfig struct {
	https       bool // export links use the public HTTPS base
	export      bool // export-uri and its links are on at all
	publicHTTPS string
	publicHTTP  string
	exportTTL   time.Duration
	bindClient  bool
	linkKeys    string // keys given by flag or environment instead of the key file
	smtpURL     string // the mail server for send-as-email; empty: none
	maxAttach   int64
}

func runServe(ctx context.Context, args []string, e env) error {
	var c serveConfig
	fs := newFlagSet("serve", serveUsage, e.stdout)
	def := auth.DefaultConfig()
	fs.StringVar(&c.data, "data", "./icrec-data", "data `directory`: database, TLS certificate, keys")
	fs.StringVar(&c.httpAddr, "http", ":8018", "HTTP listen `address`; empty disables")
	fs.StringVar(&c.httpsAddr, "https", ":8019", "HTTPS listen `address`; empty disables")
	fs.StringVar(&c.metricsAddr, "metrics", "127.0.0.1:9018", "`address` for /metrics, /healthz and /readyz; empty disables")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM); default: a self-signed one in the data directory")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&c.serverName, "server-name", httpapi.DefaultServerName(), "server `name` reported to clients as icServer")
	fs.Var(&c.alternateHosts, "alternate-host", "`host` offered to clients as an alternate (repeatable)")
	fs.Var(&c.corsOrigins, "cors-origin", "browser `origin` allowed to call the API, e.g. https://app.example.com (repeatable)")
	fs.Var(&c.trustedProxies, "trusted-proxy", "`CIDR` or address of a reverse proxy whose X-Forwarded-For/-Proto to trust (repeatable)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", def.IdleTimeout, "end sessions unused for this `duration`")
	fs.DurationVar(&c.lifetime, "session-lifetime", def.Lifetime, "end sessions this `duration` after login")
	fs.IntVar(&c.throttle.UserFailures, "login-max-failures", def.Throttle.UserFailures, "failed logins per user id before a lockout; 0 disables")
	fs.IntVar(&c.throttle.AddrFailures, "login-max-failures-per-address", def.Throttle.AddrFailures, "failed logins per client address before a lockout; 0 disables")
	fs.DurationVar(&c.throttle.Lockout, "login-lockout", def.Throttle.Lockout, "first lockout `duration`; doubles with each further failure")
	fs.DurationVar(&c.throttle.MaxLockout, "login-lockout-max", def.Throttle.MaxLockout, "longest lockout `duration`; failures are forgotten after it")
	fs.DurationVar(&c.throttleDelay, "login-refusal-delay", 750*time.Millisecond, "answer a login refused during a lockout only after this `duration` (at most 1.5s, for clients that give up after 2s), so that a client retrying in a loop costs the server little; 0 answers at once")
	fs.DurationVar(&c.drainDelay, "drain-delay", 5*time.Second, "on shutdown, keep serving (refusing logins) this long, or until no client is connected")
	fs.DurationVar(&c.shutdownMax, "shutdown-timeout", 30*time.Second, "on shutdown, wait this long for requests in flight")
	fs.StringVar(&c.logFormat, "log-format", "auto", "log `format`: auto (text on a terminal, else JSON), text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.BoolVar(&c.demo, "demo", false, "on an empty data directory, create demo users (passwords printed once) and a demo archive of about 35 recordings")
	fs.StringVar(&c.demoPassword, "demo-password", "", "give every demo user this `password` instead of random ones")
	fs.BoolVar(&c.recorder.https, "recorder-https", true, "HTTPS playback, archiving and exporting: export links use the public HTTPS URL (false: the HTTP one)")
	fs.BoolVar(&c.recorder.export, "recorder-export", true, "serve export-uri and export links; false answers them 410 (a compliance lock-down)")
	fs.StringVar(&c.recorder.publicHTTPS, "public-https-url", "", "public `URL` of the HTTPS listener in export links, e.g. https://recorder.example.com (default: the listener's address and host name)")
	fs.StringVar(&c.recorder.publicHTTP, "public-http-url", "", "public `URL` of the HTTP listener in export links (default: the listener's address and host name)")
	fs.DurationVar(&c.recorder.exportTTL, "export-ttl", archive.DefaultExportTTL, "how long an export link works (at most 168h)")
	fs.BoolVar(&c.recorder.bindClient, "export-bind-client", false, "an export link works only from the client address that asked for it")
	fs.StringVar(&c.recorder.linkKeys, "link-keys", "", "export link signing `keys` as ID:BASE64,... (the first signs); default: the key file in the data directory, see 'icrec keys'")
	fs.StringVar(&c.recorder.smtpURL, "smtp-url", "", "mail server for send-as-email: smtp://[user[:password]@]host[:port]?from=ADDRESS (STARTTLS required) or smtps://...; empty: send-as-email answers 410")
	fs.Int64Var(&c.recorder.maxAttach, "email-max-attach", archive.DefaultMaxAttach, "most media `bytes` one email carries as attachments; larger recordings are sent as export links")
	fs.DurationVar(&c.retentionEvery, "retention-interval", time.Hour, "delete expired recordings not under legal hold at start and then this often; 0 disables (see 'icrec retention')")
	pos, err := parseFlags(fs, "serve", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve", "unexpected argument %q", pos[0])
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if err := applyEnv(fs, "serve", e.lookupEnv, names...); err != nil {
		return err
	}
	proxies, err := c.validate()
	if err != nil {
		return err
	}
	log, err := newLogger(e.stderr, c.logFormat, c.logLevel)
	if err != nil {
		return usagef("serve", "%v", err)
	}
	return serve(ctx, c, proxies, log, e)
}

// validate checks what the flag package cannot, and names the flag.
func (c *serveConfig) validate() ([]netip.Prefix, error) {
	switch {
	case c.httpAddr == "" && c.httpsAddr == "":
		return nil, usagef("serve", "--http and --https are both empty; nothing to serve")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return nil, usagef("serve", "--tls-cert and --tls-key must be given together")
	case c.idleTimeout <= 0:
		return nil, usagef("serve", "--idle-timeout must be positive, not %v", c.idleTimeout)
	case c.lifetime <= 0:
		return nil, usagef("serve", "--session-lifetime must be positive, not %v", c.lifetime)
	case c.throttle.UserFailures < 0 || c.throttle.AddrFailures < 0:
		return nil, usagef("serve", "--login-max-failures and --login-max-failures-per-address must not be negative")
	case c.throttle.Lockout <= 0 || c.throttle.MaxLockout < c.throttle.Lockout:
		return nil, usagef("serve", "--login-lockout must be positive and at most --login-lockout-max")
	case c.drainDelay < 0 || c.shutdownMax <= 0:
		return nil, usagef("serve", "--drain-delay must not be negative and --shutdown-timeout must be positive")
	case c.demoPassword != "" && !c.demo:
		return nil, usagef("serve", "--demo-password needs --demo")
	case c.throttleDelay < 0 || c.throttleDelay > 1500*time.Millisecond:
		return nil, usagef("serve", "--login-refusal-delay must be between 0 and 1.5s, not %v", c.throttleDelay)
	case c.retentionEvery < 0:
		return nil, usagef("serve", "--retention-interval must not be negative, not %v", c.retentionEvery)
	case c.retentionEvery > 0 && c.retentionEvery < time.Minute:
		return nil, usagef("serve", "--retention-interval must be at least 1m (or 0 to disable), not %v", c.retentionEvery)
	case c.recorder.maxAttach <= 0:
		return nil, usagef("serve", "--email-max-attach must be positive, not %d", c.recorder.maxAttach)
	case c.recorder.exportTTL <= 0 || c.recorder.exportTTL > archive.MaxExportTTL:
		return nil, usagef("serve", "--export-ttl must be positive and at most %v, not %v", archive.MaxExportTTL, c.recorder.exportTTL)
	}
	for _, u := range []struct{ flag, url, scheme string }{
		{"--public-https-url", c.recorder.publicHTTPS, "https"}, {"--public-http-url", c.recorder.publicHTTP, "http"},
	} {
		if u.url == "" {
			continue
		}
		if err := validBaseURL(u.url, u.scheme); err != nil {
			return nil, usagef("serve", "%s %q: %v", u.flag, u.url, err)
		}
	}
	if c.demoPassword != "" {
		if err := auth.ValidatePassword(icrec.Secret(c.demoPassword)); err != nil {
			return nil, usagef("serve", "--demo-password: %v", err)
		}
	}
	for _, o := range c.corsOrigins {
		if err := validOrigin(o); err != nil {
			return nil, usagef("serve", "--cors-origin %q: %v", o, err)
		}
	}
	for _, h := range c.alternateHosts {
		if strings.ContainsAny(h, "/ \t") {
			return nil, usagef("serve", "--alternate-host %q: give a host name or address, not a URL", h)
		}
	}
	var proxies []netip.Prefix
	for _, p := range c.trustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, usagef("serve", "--trusted-proxy %q is neither a CIDR nor an address", p)
			}
			prefix = netip.PrefixFrom(a, a.BitLen())
		}
		proxies = append(proxies, prefix.Masked())
	}
	return proxies, nil
}

// validOrigin accepts a browser origin: scheme and host, an optional port,
// and nothing else.
func validOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("the scheme must be http or https")
	case u.Host == "" || u.User != nil:
		return errors.New("give scheme://host[:port]")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "":
		return errors.New("an origin has no path, query or fragment")
	}
	return nil
}

// serve runs the server until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, c serveConfig, proxies []netip.Prefix, log *slog.Logger, e env) error {
	a, err := openApp(ctx, c.data, log)
	if err != nil {
		return err
	}
	defer a.Close()
	db := a.db
	if err := recoverLeftovers(ctx, a, log); err != nil {
		return err
	}

	hub := messaging.New(log)
	acfg := auth.Config{IdleTimeout: c.idleTimeout, Lifetime: c.lifetime, Throttle: c.throttle, SessionEnded: hub.End, Audit: a.audit}
	hasher := passwd.New(passwd.DefaultParams)
	sessions, err := auth.New(db, db, hasher, acfg, log, time.Now)
	if err != nil {
		return err
	}
	// Refused logins counted but not yet recorded go to the trail before
	// it closes (a.Close, deferred above, runs after this).
	defer sessions.Close()
	hasher.DummyHash() // compute it now, so the first unknown-user login is not slower than the rest
	signer, err := openSigner(c.data, c.recorder.linkKeys, log)
	if err != nil {
		return err
	}
	mailer, err := c.recorder.mailer(log)
	if err != nil {
		return err
	}
	if c.demo {
		if err := seedDemo(ctx, a, sessions, c.demoPassword, apiBase(c.httpAddr, c.httpsAddr), e.stdout, log); err != nil {
			return err
		}
	} else if n, err := sessions.CountUsers(ctx); err == nil && n == 0 {
		log.Warn("there are no users, so nobody can log in: add one with 'icrec user add USERID', or start with --demo")
	}

	listeners, err := bindListeners(c)
	if err != nil {
		return err
	}
	defer func() {
		for _, l := range listeners {
			l.ln.Close()
		}
	}()
	exportBase, err := c.recorder.exportBase(listeners, c.serverName)
	if err != nil {
		return err
	}
	log.Info("export links", "base", exportBase, "enabled", c.recorder.export, "ttl", c.recorder.exportTTL.String(), "bind_client", c.recorder.bindClient)
	recordings := a.newArchive(archive.Exports{
		Signer: signer, TTL: c.recorder.exportTTL, BindClient: c.recorder.bindClient, Disabled: !c.recorder.export, BaseURL: exportBase,
	})
	recordings.UseMail(archive.Email{Mailer: mailer, MaxAttach: c.recorder.maxAttach})

	var tlsConfig *tls.Config
	if c.httpsAddr != "" {
		if tlsConfig, err = loadTLS(c, log); err != nil {
			return err
		}
	}

	state := httpapi.NewState(db.Ping)
	m := metrics.New(log, sessions.ActiveSessions)
	api := httpapi.NewServer(log, httpapi.Config{
		ServerName:     c.serverName,
		AlternateHosts: c.alternateHosts,
		CORSOrigins:    c.corsOrigins,
		TrustedProxies: proxies,
		Version:        icwsVersion(),
		ExportBase:     exportBase,
		RefusalDelay:   c.throttleDelay,
	}, sessions, recordings, hub, m, state, time.Now)
	opsMux := http.NewServeMux()
	opsMux.Handle("GET /metrics", m.Handler())
	opsMux.Handle("/", httpapi.HealthHandler(log, state))

	var conns connCounter
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelInfo)
	var servers []*http.Server
	for _, l := range listeners {
		var srv *http.Server
		switch l.name {
		case "metrics":
			srv = newHTTPServer(opsMux, errLog, nil)
		case "https":
			srv = newHTTPServer(api, errLog, &conns)
			srv.TLSConfig = tlsConfig
		default:
			srv = newHTTPServer(api, errLog, &conns)
		}
		servers = append(servers, srv)
		log.Info("listening", "listener", l.name, "addr", l.ln.Addr().String(), "url", listenURL(l))
	}

	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sweepSessions(bg, sessions, log) })
	wg.Go(func() { hub.Watch(bg, 2*time.Second, sessions.KeepAlive, sessions.Alive) })
	if c.retentionEvery > 0 {
		observe := func(s archive.SweepSummary) { m.SweepDone(s.Deleted, s.Held, s.Failed, s.Bytes, time.Now()) }
		wg.Go(func() { retentionLoop(bg, a, c.retentionEvery, observe, log) })
	} else {
		log.Info("retention sweeps are off (--retention-interval 0): expired recordings stay until 'icrec retention run'")
	}

	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		l := listeners[i]
		go func() {
			var err error
			if srv.TLSConfig != nil {
				err = srv.ServeTLS(l.ln, "", "") // sets up HTTP/2 on the config
			} else {
				err = srv.Serve(l.ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("%s listener: %w", l.name, err)
			}
		}()
	}
	log.Info("icrec is ready", "version", version, "data", c.data)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	drain(log, c, state, hub, &conns, servers)
	stopBG()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

// drain shuts the servers down gracefully: first refusing logins while
// clients and load balancers move away, then waiting for requests in flight.
func drain(log *slog.Logger, c serveConfig, state *httpapi.State, hub *messaging.Hub, conns *connCounter, servers []*http.Server) {
	log.Info("shutting down: refusing new logins while clients move away; a second signal stops at once",
		"drain_delay", c.drainDelay.String(), "shutdown_timeout", c.shutdownMax.String())
	state.StartDraining()
	hub.Shutdown()
	conns.waitIdle(c.drainDelay)

	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownMax)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				log.Warn("requests still running at shutdown timeout; closing their connections", "err", err)
				srv.Close()
			}
		})
	}
	wg.Wait()
}

// bindListeners binds every listener before any serves, so that a port in
// use fails the start rather than leaving a half-running server.
func bindListeners(c serveConfig) ([]*listener, error) {
	var listeners []*listener
	for _, spec := range []struct{ name, addr, flag string }{
		{"http", c.httpAddr, "--http"}, {"https", c.httpsAddr, "--https"}, {"metrics", c.metricsAddr, "--metrics"},
	} {
		if spec.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", spec.addr)
		if err != nil {
			for _, l := range listeners {
				l.ln.Close()
			}
			return nil, fmt.Errorf("listen on %s (%s): %w", spec.addr, spec.flag, err)
		}
		listeners = append(listeners, &listener{name: spec.name, ln: ln})
	}
	return listeners, nil
}

type listener struct {
	name string
	ln   net.Listener
}

func listenURL(l *listener) string {
	scheme := "http"
	if l.name == "https" {
		scheme = "https"
	}
	return scheme + "://" + l.ln.Addr().String()
}

// newHTTPServer sets the limits that keep slow or greedy clients from
// tying the server up. Event streams lift the read and write deadlines for
// themselves.
func newHTTPServer(h http.Handler, errLog *stdlog.Logger, conns *connCounter) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// httpapi refuses headers over 64 KiB itself, with the JSON error
		// ICWS clients read; net/http's own limit, which answers in plain
		// text, is only the hard stop behind it.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       errLog,
	}
	if conns != nil {
		srv.ConnState = conns.track
	}
	return srv
}

// loadTLS returns the TLS configuration of the HTTPS listener: the
// operator's certificate, or the self-signed one kept in the data directory.
func loadTLS(c serveConfig, log *slog.Logger) (*tls.Config, error) {
	var (
		cert tls.Certificate
		info selfcert.Info
		err  error
	)
	if c.tlsCert != "" {
		cert, info, err = selfcert.Load(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		if time.Now().After(info.NotAfter) {
			log.Warn("the TLS certificate has expired; clients will refuse it", "file", c.tlsCert, "not_after", info.NotAfter)
		}
	} else {
		cert, info, err = selfcert.LoadOrCreate(filepath.Join(c.data, "tls"), certHosts(c.serverName), time.Now())
		if err != nil {
			return nil, fmt.Errorf("self-signed TLS certificate: %w", err)
		}
		if info.Created {
			log.Info("created a self-signed TLS certificate", "dir", filepath.Join(c.data, "tls"), "not_after", info.NotAfter)
		}
		if len(info.MissingHosts) > 0 {
			log.Warn("the self-signed TLS certificate does not name these hosts; delete its files to make a new one", "hosts", info.MissingHosts)
		}
	}
	log.Info("TLS certificate", "sha256_fingerprint", info.Fingerprint, "not_after", info.NotAfter)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// certHosts are the names a self-signed certificate covers.
func certHosts(serverName string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range []string{httpapi.DefaultServerName(), serverName} {
		if h != "" && !slices.Contains(hosts, h) && validHostName(h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// validHostName filters out names a certificate cannot carry (a server name
// can be any label).
func validHostName(h string) bool {
	return !strings.ContainsAny(h, " /:_") && len(h) <= 253
}

// connCounter counts open client connections, so the drain can end early
// once every client has gone.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) track(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.n.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.n.Add(-1)
	}
}

// waitIdle waits up to d for every connection to close.
func (c *connCounter) waitIdle(d time.Duration) {
	deadline := time.Now().Add(d)
	for c.n.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// sweepSessions deletes expired sessions every minute, ending their event
// streams; requests never rely on it, since every check tests expiry.
func sweepSessions(ctx context.Context, sessions *auth.Service, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := sessions.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sweep expired sessions", "err", err)
		case n > 0:
			log.Info("expired sessions removed", "count", n)
		}
	}
}
