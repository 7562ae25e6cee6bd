package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/messaging"
)

// addRoutes is the table of contents of icrec's HTTP surface. Wrapping a
// handler in session() or stream() is what protects it.
func addRoutes(mux *http.ServeMux, log *slog.Logger, cfg Config, sessions *auth.Service, recordings *archive.Service, hub *messaging.Hub, metrics Metrics, state *State, now func() time.Time) {
	session := requireSession(log, sessions, false)
	stream := requireSession(log, sessions, true) // SSE: the cookie alone suffices

	// ICWS connection feature, without a session.
	mux.Handle("POST /icws/connection", handleConnect(log, cfg, sessions, metrics, state, now))
	mux.Handle("GET /icws/connection/features", handleFeatures(log))
	mux.Handle("GET /icws/connection/features/{featureId}", handleFeature(log))
	mux.Handle("GET /icws/connection/version", handleVersion(log, cfg.Version))
	mux.Handle("GET /icws/connection/server-info", handleServerInfo(log))
	mux.Handle("GET /icws/connection/server-time", handleServerTime(log, now))

	// ICWS connection feature, on a session.
	mux.Handle("GET /icws/{sessionId}/connection", session(handleConnectionState(log)))
	mux.Handle("DELETE /icws/{sessionId}/connection", session(handleLogout(log, sessions)))
	mux.Handle("POST /icws/{sessionId}/connection/unique-auth-token", session(handleUniqueAuthToken(log, cfg, sessions)))
	mux.Handle("GET /icws/{sessionId}/connection/switchover-status", session(handleSwitchoverStatus(log, cfg.ServerName)))

	// ICWS recordings feature.
	mux.Handle("GET /icws/{sessionId}/recordings/{recordingId}/export-uri", session(handleExportURI(log, cfg.ExportBase, recordings)))
	mux.Handle("GET /icws/{sessionId}/recordings/{recordingId}/playback-uri", session(handlePlaybackURI(log, cfg.ExportBase, recordings)))
	mux.Handle("GET /icws/{sessionId}/recordings/{recordingId}/media-details", session(handleMediaDetails(log, recordings)))
	mux.Handle("GET /icws/{sessionId}/recordings/{recordingId}/attributes", session(handleAttributes(log, recordings)))
	mux.Handle("PUT /icws/{sessionId}/recordings/{recordingId}/attributes", session(handleSetAttributes(log, cfg.MaxBodyBytes, recordings)))
	mux.Handle("DELETE /icws/{sessionId}/recordings/{recordingId}/attributes", session(handleDeleteAttribute(log, recordings)))
	mux.Handle("GET /icws/{sessionId}/recordings/{recordingId}/tags", session(handleTags(log, recordings)))
	mux.Handle("PUT /icws/{sessionId}/recordings/{recordingId}/tags", session(handleAddTags(log, cfg.MaxBodyBytes, recordings)))
	mux.Handle("DELETE /icws/{sessionId}/recordings/{recordingId}/tags", session(handleDeleteTag(log, recordings)))
	mux.Handle("POST /icws/{sessionId}/recordings/{recordingId}/retention-expiration", session(handleRetentionExpiration(log, cfg.MaxBodyBytes, recordings)))
	mux.Handle("PUT /icws/{sessionId}/recordings/{recordingId}/send-as-email", session(handleSendAsEmail(log, cfg.MaxBodyBytes, recordings)))
	mux.Handle("PUT /icws/{sessionId}/recordings/send-as-email", session(handleSendManyAsEmail(log, cfg.MaxBodyBytes, recordings)))
	mux.Handle("POST /icws/{sessionId}/recordings/play/station-audio/start/{recordingId}", session(handleNoStation(log)))
	mux.Handle("POST /icws/{sessionId}/recordings/play/station-audio/stop/{playbackInteractionId}", session(handleNoStation(log)))

	// Export links: the token authorises; the last segment only names the
	// file for the client.
	mux.Handle("GET /export/{token}/{name}", handleDownload(log, recordings))
	mux.Handle("GET /export/{token}", handleDownload(log, recordings))

	// ICWS messaging feature.
	mux.Handle("GET /icws/{sessionId}/messaging/messages", stream(handleMessages(log, hub, cfg.PingInterval)))

	// Operations.
	mux.Handle("GET /healthz", handleHealthz(log))
	mux.Handle("GET /readyz", handleReadyz(log, state))
}
