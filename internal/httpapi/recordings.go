package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
)

// handleExportURI answers GET .../recordings/{recordingId}/export-uri with a
// self-authorising link. The checks run in the order ICWS clients expect:
// session (done before this handler), recording, rights, attachmentId.
func handleExportURI(log *slog.Logger, base string, recordings *archive.Service) http.Handler {
	base = strings.TrimRight(base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := icrec.SessionFromContext(r.Context())
		ex, err := recordings.IssueExport(r.Context(), sess, r.PathValue("recordingId"), r.URL.Query()["attachmentId"], info(r).clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		// The last segment names the file for clients that save a URL
		// under its last segment; the server ignores it.
		uri := base + "/export/" + string(ex.Token) + "/" + extValue(ex.FileName)
		encode(w, r, log, http.StatusOK, icws.ExportURIResponse{URI: uri})
	})
}

// handleAttributes answers GET .../recordings/{recordingId}/attributes.
func handleAttributes(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs, err := recordings.Attributes(r.Context(), icrec.SessionFromContext(r.Context()), r.PathValue("recordingId"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, r, log, http.StatusOK, icws.FromAttributes(attrs))
	})
}
