package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"example.com/icrec"
)

type healthStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// handleHealthz answers as long as the process can serve HTTP at all.
func handleHealthz(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, healthStatus{Status: "ok"})
	})
}

// handleReadyz answers 200 while the server takes new work: not draining,
// and its store answering. Load balancers stop sending logins on 503.
func handleReadyz(log *slog.Logger, state *State) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if state.Draining() {
			encode(w, r, log, http.StatusServiceUnavailable, healthStatus{Status: "draining"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := state.ping(ctx); err != nil {
			log.WarnContext(r.Context(), "readiness check failed", "err", err)
			encode(w, r, log, http.StatusServiceUnavailable, healthStatus{Status: "unavailable", Reason: icrec.ErrorMessage(err)})
			return
		}
		encode(w, r, log, http.StatusOK, healthStatus{Status: "ready"})
	})
}

// HealthHandler serves /healthz and /readyz alone, for the metrics listener.
func HealthHandler(log *slog.Logger, state *State) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz(log))
	mux.Handle("GET /readyz", handleReadyz(log, state))
	return mux
}
