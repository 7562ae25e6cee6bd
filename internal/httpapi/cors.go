package httpapi

import (
	"net/http"
	"strings"
)

// exposedHeaders are the response headers browser clients must be able to
// read: the session id and token of a login, and where the session lives.
const exposedHeaders = "ININ-ICWS-CSRF-Token, ININ-ICWS-Session-ID, Location, Set-Cookie"

// cors lets browser pages from the allowed origins call the API with
// credentials. The origin is echoed, never "*", since browsers refuse "*"
// with credentials; and only listed origins are, since the event stream is
// authorised by the cookie alone. Preflights are answered here, before
// routing, for every path and method.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[strings.ToLower(o)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin == "" || !allowed[strings.ToLower(origin)] {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		method := r.Header.Get("Access-Control-Request-Method")
		if r.Method != http.MethodOptions || method == "" {
			h.Set("Access-Control-Expose-Headers", exposedHeaders)
			next.ServeHTTP(w, r)
			return
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		methods := "GET, HEAD, POST, PUT, DELETE, OPTIONS"
		if !strings.Contains(methods, method) && tokenList(method) && !strings.Contains(method, ",") {
			methods += ", " + method
		}
		h.Set("Access-Control-Allow-Methods", methods)
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" && tokenList(req) {
			h.Set("Access-Control-Allow-Headers", req)
		}
		if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
			h.Set("Access-Control-Allow-Private-Network", "true")
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// tokenList reports whether s is a comma-separated list of header names,
// so that echoing it cannot inject anything into the response.
func tokenList(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~, ", c) >= 0) {
			return false
		}
	}
	return true
}
