// Package httpapi is icrec's HTTP surface: the ICWS API, health checks and,
// later, export downloads. routes.go lists every route; the handlers are
// factories that take exactly the dependencies they use.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/messaging"
)

// Config holds what the HTTP layer needs to know about its deployment.
type Config struct {
	// ServerName is sent as icServer in the connection response.
	ServerName string
	// AlternateHosts are offered to clients as alternateHostList: in every
	// connection response, and with the 503 that refuses logins while this
	// server drains.
	AlternateHosts []string
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to
	// call the API with credentials.
	CORSOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	// Version is what GET /icws/connection/version reports.
	Version icws.VersionInfo
	// PingInterval spaces the :ping comments that keep event streams alive
	// through proxies; zero means 15 seconds.
	PingInterval time.Duration
	// MaxHeaderBytes limits a request's header (its request line and
	// fields); zero means 64 KiB. The http.Server's own MaxHeaderBytes must
	// be larger: net/http answers what exceeds that in plain text, and
	// ICWS clients expect a JSON error.
	MaxHeaderBytes int
	// MaxBodyBytes limits request bodies; zero means 64 KiB.
	MaxBodyBytes int64
	// ExportBase is the public base URL of export links
	// (https://recorder.example.com:8019): the Recorder's HTTPS or HTTP
	// base, as --recorder-https decides.
	ExportBase string
	// RefusalDelay holds back the answer to a login that the throttle
	// refuses, up to the Retry-After it carries: a client retrying in a
	// loop then makes a request or two a second instead of thousands, and
	// costs the server little while it is locked out. Zero answers at once.
	RefusalDelay time.Duration
}

// Metrics receives what the HTTP layer observes. internal/metrics
// implements it with Prometheus.
type Metrics interface {
	ObserveRequest(method, route string, status int, elapsed time.Duration)
	LoginFailed(reason string)
}

// State is the server's lifecycle as the HTTP layer sees it.
type State struct {
	draining atomic.Bool
	ping     func(context.Context) error
}

// NewState returns the state of a running server whose readiness depends on
// ping (typically the store's).
func NewState(ping func(context.Context) error) *State {
	return &State{ping: ping}
}

// StartDraining makes readyz fail and new logins get 503 with the
// alternate hosts, while requests on existing sessions go on.
func (s *State) StartDraining() { s.draining.Store(true) }

// Draining reports whether StartDraining was called.
func (s *State) Draining() bool { return s.draining.Load() }

// NewServer returns the handler that serves the whole HTTP surface.
func NewServer(log *slog.Logger, cfg Config, sessions *auth.Service, recordings *archive.Service, hub *messaging.Hub, metrics Metrics, state *State, now func() time.Time) http.Handler {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 15 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	if cfg.AlternateHosts == nil {
		cfg.AlternateHosts = []string{}
	}
	if metrics == nil {
		metrics = nopMetrics{}
	}
	mux := http.NewServeMux()
	addRoutes(mux, log, cfg, sessions, recordings, hub, metrics, state, now)
	var h http.Handler = routeErrors(log, mux)
	h = icwsPathCase(h)
	h = recoverPanic(log, h)
	h = cors(cfg.CORSOrigins, h)
	h = limitHeader(log, cfg.MaxHeaderBytes, h)
	h = logRequests(log, metrics, cfg.TrustedProxies, h)
	return h
}

type nopMetrics struct{}

func (nopMetrics) ObserveRequest(string, string, int, time.Duration) {}
func (nopMetrics) LoginFailed(string)                                {}
