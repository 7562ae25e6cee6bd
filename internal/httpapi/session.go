package httpapi

import (
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/auth"
)

// csrfHeader carries the CSRF token; header names are matched ignoring
// case, as clients send Inin-Icws-Csrf-Token and lower case too.
const csrfHeader = "ININ-ICWS-CSRF-Token"

// requireSession admits a request only with the session id of its path, the
// matching session cookie and the matching CSRF token, and puts the session
// in the request context. With streams set, an event-stream request may
// leave out the CSRF token: browsers' EventSource cannot send it.
func requireSession(log *slog.Logger, sessions *auth.Service, streams bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sid := r.PathValue("sessionId")
			if !validSessionID(sid) {
				writeError(w, r, log, &icrec.Error{Kind: icrec.Unauthenticated, ID: icrec.IDAuthenticationFailure,
					Code: icrec.CodeUnknownSession, Message: "This request requires a numeric session id in its path."})
				return
			}
			var secrets []string
			for _, c := range r.CookiesNamed(icws.CookieName(sid)) {
				secrets = append(secrets, icws.CookieSecret(c.Value))
			}
			sess, err := sessions.Authenticate(r.Context(), auth.Credentials{
				SessionID:    sid,
				Cookies:      secrets,
				CSRFToken:    strings.TrimSpace(r.Header.Get(csrfHeader)),
				CSRFOptional: streams && wantsEventStream(r),
			})
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			ri := info(r)
			ri.userID, ri.sessionID = sess.UserID, sess.ID
			next.ServeHTTP(w, r.WithContext(icrec.NewContextWithSession(r.Context(), sess)))
		})
	}
}

// validSessionID accepts what could be a session id: 1 to 20 digits.
// Anything else is rejected without a store lookup.
func validSessionID(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// wantsEventStream reports whether the request asks for server-sent events.
// Accept headers are read leniently: go-icws sends "*" and others send
// lists, and nothing but an explicit text/event-stream selects a stream.
func wantsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
				return true
			}
		}
	}
	return false
}
