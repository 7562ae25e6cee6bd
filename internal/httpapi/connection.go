package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/auth"
)

func handleConnect(log *slog.Logger, cfg Config, sessions *auth.Service, metrics Metrics, state *State, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if state.Draining() {
			err := icrec.Errorf(icrec.Unavailable, icrec.IDNotAcceptingConnections, "This server is not currently accepting connections.")
			body := icws.FromError(err)
			body.AlternateHostList = cfg.AlternateHosts
			writeErrorBody(w, r, log, err, body)
			return
		}
		b, err := readBody(w, r, cfg.MaxBodyBytes)
		if err != nil {
			metrics.LoginFailed("invalid_request")
			writeError(w, r, log, err)
			return
		}
		req, err := icws.ParseConnectionRequest(b)
		if err != nil {
			metrics.LoginFailed("invalid_request")
			writeError(w, r, log, err)
			return
		}
		ri := info(r)
		lang := negotiateLanguage(r.Header.Get("Accept-Language"))
		var ns *auth.NewSession
		switch req.Type {
		case icws.TypeICAuthSettings:
			ns, err = sessions.Login(r.Context(), auth.Login{
				UserID: req.UserID, Password: icrec.Secret(req.Password),
				Application: req.ApplicationName, Language: lang, ClientAddr: ri.clientAddr,
			})
		case icws.TypeAuthTokenSettings:
			ns, err = sessions.LoginWithToken(r.Context(), auth.TokenLogin{
				Seed: req.AuthTokenSeed, Token: icrec.Secret(req.AuthToken), SourceSession: req.AuthTokenSourceSession,
				DisconnectSource: req.DisconnectSourceSession,
				Application:      req.ApplicationName, Language: lang, ClientAddr: ri.clientAddr,
			})
		default:
			err = icrec.Errorf(icrec.Invalid, icrec.IDSingleSignOnFailure, "Single sign-on is not configured on this server; log in with a user id and password.")
		}
		if err != nil {
			metrics.LoginFailed(loginFailureReason(err))
			log.InfoContext(r.Context(), "login failed", "request_id", ri.id, "user_id", req.UserID, "client", ri.clientAddr, "reason", icrec.ErrorMessage(err))
			if auth.IsThrottled(err) {
				holdBack(r.Context(), cfg.RefusalDelay, err)
			}
			writeError(w, r, log, err)
			return
		}
		sid := ns.Session.ID
		ri.userID, ri.sessionID = ns.User.ID, sid

		h := w.Header()
		// Set directly, not with Set, to keep the case real servers use:
		// some scripted clients look the names up case-sensitively.
		h["ININ-ICWS-Session-ID"] = []string{sid}
		h["ININ-ICWS-CSRF-Token"] = []string{string(ns.CSRFToken)}
		h.Set("Location", "/icws/"+sid+"/connection")
		http.SetCookie(w, sessionCookie(sid, icws.CookieValue(string(ns.Cookie), lang), ri.https, 0))
		encode(w, r, log, http.StatusCreated, connectionResponse(r, cfg, ns, now))
	})
}

// sessionCookie is the one cookie icrec ever sets. Secure only over HTTPS:
// jar-based clients would otherwise stop sending it back over plain HTTP.
// Over HTTPS it is also SameSite=None, so that a page on another site can
// use it, and Partitioned (CHIPS), since browsers that block third-party
// cookies, as Chromium does by default, accept it only then; the browser
// keeps it for the page's site alone. Clients that do not know these
// attributes ignore them.
func sessionCookie(sid, value string, https bool, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: icws.CookieName(sid), Value: value, Path: "/icws/" + sid, HttpOnly: true, MaxAge: maxAge}
	if https {
		c.Secure = true
		c.SameSite = http.SameSiteNoneMode
		c.Partitioned = true
	}
	return c
}

// holdBack waits before a throttled login is answered: d, but no longer
// than the refusal's Retry-After, nor than the client waits.
func holdBack(ctx context.Context, d time.Duration, err error) {
	if e, ok := errors.AsType[*icrec.Error](err); ok && e.RetryAfter > 0 {
		d = min(d, e.RetryAfter)
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func loginFailureReason(err error) string {
	switch e, _ := errors.AsType[*icrec.Error](err); {
	case auth.IsThrottled(err):
		return "throttled"
	case e != nil && e.ID == icrec.IDAuthenticationFailure:
		return "bad_credentials"
	case e != nil && e.ID == icrec.IDSingleSignOnFailure:
		return "unsupported"
	default:
		return "error"
	}
}

// connectionResponse builds the 201 body, with the blocks the include query
// parameter asks for (comma-separated, possibly repeated; unknown ones are
// ignored, as the values a future client adds would be).
func connectionResponse(r *http.Request, cfg Config, ns *auth.NewSession, now func() time.Time) icws.ConnectionResponse {
	resp := icws.ConnectionResponse{
		SessionID:         ns.Session.ID,
		CSRFToken:         string(ns.CSRFToken),
		AlternateHostList: cfg.AlternateHosts,
		UserID:            ns.User.ID,
		UserDisplayName:   ns.User.DisplayName(),
		ICServer:          cfg.ServerName,
	}
	for _, v := range r.URL.Query()["include"] {
		for inc := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(inc)) {
			case "version":
				resp.Version = &cfg.Version
			case "features":
				resp.Features = features
			case "server-time":
				resp.ServerTimeInfo = &icws.ServerTimeInfo{ServerUTCTime: icws.DateTime{Time: now()}}
			case "default-workstation":
				resp.DefaultWorkstationID = icws.Null[string]()
			case "purecloud-integration":
				resp.PurecloudIntegration = &icws.PurecloudIntegration{}
			case "effective-station":
				resp.EffectiveStation = icws.Null[icws.EffectiveStation]()
			}
		}
	}
	return resp
}

func handleFeatures(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, icws.FeatureInfos{FeatureInfoList: features})
	})
}

func handleFeature(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("featureId")
		for _, f := range features {
			if strings.EqualFold(f.FeatureID, id) {
				encode(w, r, log, http.StatusOK, f)
				return
			}
		}
		// 400, not 404: ruby-ic reads 400 as "feature not supported".
		writeError(w, r, log, icrec.InvalidProperty("featureId", "Feature %q is not supported by this server.", id))
	})
}

func handleVersion(log *slog.Logger, v icws.VersionInfo) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, v)
	})
}

func handleServerInfo(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, icws.ServerInfo{
			Languages:      languages,
			AcceptLanguage: negotiateLanguage(r.Header.Get("Accept-Language")),
			Authentication: &icws.AuthenticationInfo{AllowICAuth: true, IdentityProviders: []icws.IdentityProvider{}},
		})
	})
}

func handleServerTime(log *slog.Logger, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, icws.ServerTimeInfo{ServerUTCTime: icws.DateTime{Time: now()}})
	})
}

func handleConnectionState(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, icws.ConnectionSettings{ConnectionState: icws.ConnectionStateUp})
	})
}

func handleLogout(log *slog.Logger, sessions *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := icrec.SessionFromContext(r.Context())
		if err := sessions.Logout(r.Context(), sess, info(r).clientAddr); err != nil && !icrec.IsKind(err, icrec.NotFound) {
			writeError(w, r, log, err)
			return
		}
		// Tell browsers to forget the cookie; it names no session any more.
		http.SetCookie(w, sessionCookie(sess.ID, "", info(r).https, -1))
		w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleUniqueAuthToken(log *slog.Logger, cfg Config, sessions *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r, cfg.MaxBodyBytes)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		req, err := icws.ParseUniqueAuthTokenRequest(b)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		tok, err := sessions.CreateAuthToken(r.Context(), icrec.SessionFromContext(r.Context()), req.AuthTokenSeed)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, r, log, http.StatusOK, icws.UniqueAuthTokenResponse{AuthToken: string(tok)})
	})
}

func handleSwitchoverStatus(log *slog.Logger, serverName string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, log, http.StatusOK, icws.SwitchoverStatus{PrimaryHost: serverName, SubsystemsDown: []string{}})
	})
}

// DefaultServerName is the host name, which is what CIC reports as icServer.
func DefaultServerName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "icrec"
}
