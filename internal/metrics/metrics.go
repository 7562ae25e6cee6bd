// Package metrics exposes icrec's Prometheus metrics, on a registry of its
// own so that nothing else in the process can add to or remove from them.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics records what the HTTP layer observes. It implements
// httpapi.Metrics.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	loginFailures  *prometheus.CounterVec
	retention      *prometheus.CounterVec
	retentionFreed prometheus.Counter
	lastSweep      prometheus.Gauge
}

// New registers icrec's metrics. activeSessions is asked for the number of
// live sessions at every scrape, so the gauge is right across restarts and
// across nodes sharing a store.
func New(log *slog.Logger, activeSessions func(context.Context) (int, error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icrec_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "icrec_http_request_duration_seconds",
			Help:    "Time from receiving a request to the end of its response, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		loginFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icrec_login_failures_total",
			Help: "Failed logins by reason: bad_credentials, throttled, invalid_request, unsupported, error.",
		}, []string{"reason"}),
		retention: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "icrec_retention_recordings_total",
			Help: "Expired recordings met by retention sweeps, by outcome: deleted, held (under legal hold) or failed.",
		}, []string{"outcome"}),
		retentionFreed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "icrec_retention_freed_bytes_total",
			Help: "Media bytes that retention sweeps deleted.",
		}),
		lastSweep: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "icrec_retention_last_sweep_timestamp_seconds",
			Help: "When the last retention sweep ended, as a Unix time; 0 before the first. Alert if it falls far behind.",
		}),
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.loginFailures, m.retention, m.retentionFreed, m.lastSweep,
		sessionsCollector{desc: prometheus.NewDesc("icrec_sessions_active", "Sessions that are neither idle nor expired.", nil, nil), count: activeSessions, log: log},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// knownMethods keeps the method label's cardinality bounded whatever
// clients send.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodPatch: true,
}

// ObserveRequest counts a finished request. route is the ServeMux pattern,
// never the raw path, so the label set stays small.
func (m *Metrics) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	if !knownMethods[method] {
		method = "other"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// LoginFailed counts a failed login.
func (m *Metrics) LoginFailed(reason string) {
	m.loginFailures.WithLabelValues(reason).Inc()
}

// SweepDone counts the outcome of a retention sweep that ended at end.
func (m *Metrics) SweepDone(deleted, held, failed int, freed int64, end time.Time) {
	m.retention.WithLabelValues("deleted").Add(float64(deleted))
	m.retention.WithLabelValues("held").Add(float64(held))
	m.retention.WithLabelValues("failed").Add(float64(failed))
	m.retentionFreed.Add(float64(freed))
	m.lastSweep.Set(float64(end.UnixNano()) / 1e9)
}

// Handler serves the metrics in the Prometheus exposition format. A metric
// that cannot be collected (the store is down) is left out and logged; the
// rest is still served, since that is when operators need them most.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

type sessionsCollector struct {
	desc  *prometheus.Desc
	count func(context.Context) (int, error)
	log   *slog.Logger
}

func (c sessionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		c.log.Warn("count active sessions", "err", err)
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
