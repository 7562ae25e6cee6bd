package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// encode writes v as an ICWS JSON response. Responses are never cached:
// they belong to one session and change with it.
func encode(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, log, err)
		return
	}
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", icws.ContentType)
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// readBody reads a request body of at most limit bytes. The request's
// Content-Type is ignored on purpose: real clients send JSON as text/plain,
// as form data, or with no type at all.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge(limit)
	} else if err != nil {
		return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "The request body could not be read: %v.", err)
	}
	return b, nil
}

func tooLarge(limit int64) error {
	return icrec.Errorf(icrec.TooLarge, icrec.IDTooLarge, "The request body is larger than the limit of %d bytes.", limit)
}
