package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// statusByKind is the one table from error kind to HTTP status.
var statusByKind = [...]int{
	icrec.Internal:            http.StatusInternalServerError,
	icrec.Invalid:             http.StatusBadRequest,
	icrec.Unauthenticated:     http.StatusUnauthorized,
	icrec.Forbidden:           http.StatusForbidden,
	icrec.NotFound:            http.StatusNotFound,
	icrec.MethodNotAllowed:    http.StatusMethodNotAllowed,
	icrec.Conflict:            http.StatusConflict,
	icrec.Gone:                http.StatusGone,
	icrec.TooLarge:            http.StatusRequestEntityTooLarge,
	icrec.Unavailable:         http.StatusServiceUnavailable,
	icrec.RangeNotSatisfiable: http.StatusRequestedRangeNotSatisfiable,
	icrec.Upstream:            http.StatusInternalServerError,
	icrec.HeaderTooLarge:      http.StatusRequestHeaderFieldsTooLarge,
}

// Status returns the HTTP status for an error.
func Status(err error) int {
	if k := icrec.ErrorKind(err); int(k) < len(statusByKind) {
		return statusByKind[k]
	}
	return http.StatusInternalServerError
}

// wwwAuthenticate is sent with every 401, exactly as ICWS servers send it.
const wwwAuthenticate = `ICWS realm="ICWS" location="/ICWS/connection"`

// writeError writes err as an ICWS error response. Internal errors are
// logged here, once, with the request id that the response shows; their
// details never reach the client.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	writeErrorBody(w, r, log, err, icws.FromError(err))
}

func writeErrorBody(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, body icws.Error) {
	status := Status(err)
	if icrec.IsKind(err, icrec.Upstream) {
		// The message names the failing service; the log keeps the cause.
		log.WarnContext(r.Context(), "upstream failure", "request_id", requestID(r), "err", err)
		body.Message = icrec.ErrorMessage(err) + " (request id " + requestID(r) + ")"
	} else if status == http.StatusInternalServerError {
		id := requestID(r)
		switch {
		case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
			log.InfoContext(r.Context(), "request canceled by client", "request_id", id)
		default:
			log.ErrorContext(r.Context(), "internal error", "request_id", id, "err", err)
		}
		body.Message = fmt.Sprintf("An internal error occurred; request id %s.", id)
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", wwwAuthenticate)
	}
	if e, ok := errors.AsType[*icrec.Error](err); ok && e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
	encode(w, r, log, status, body)
}
