package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
)

const seed = "0DE0C017-CD4F-D013-8E31-18D8B7470001"

func (e *env) authToken(s session, seedValue string) string {
	e.t.Helper()
	resp, body := e.do(e.client(false), "POST", "/icws/"+s.id+"/connection/unique-auth-token", `{"authTokenSeed":"`+seedValue+`"}`, s.headers())
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("unique-auth-token: %s %s", resp.Status, body)
	}
	var r icws.UniqueAuthTokenResponse
	if err := json.Unmarshal(body, &r); err != nil || len(r.AuthToken) < 22 {
		e.t.Fatalf("unique-auth-token body %s (%v)", body, err)
	}
	return r.AuthToken
}

func tokenLoginBody(seedValue, token, source string, disconnect bool) string {
	b, _ := json.Marshal(map[string]any{
		"__type": icws.TypeAuthTokenSettings, "applicationName": "second app",
		"authTokenSeed": seedValue, "authToken": token, "authTokenSourceSession": source, "disconnectSourceSession": disconnect,
	})
	return string(b)
}

func TestUniqueAuthToken(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		src := e.login("agent1")
		tok := e.authToken(src, seed)
		// The seed may come back in another case or with braces.
		resp, body := e.do(e.client(false), "POST", "/icws/connection", tokenLoginBody("{0de0c017-cd4f-d013-8e31-18d8b7470001}", tok, src.id, false), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("token login: %s %s", resp.Status, body)
		}
		var r icws.ConnectionResponse
		json.Unmarshal(body, &r)
		if r.UserID != "agent1" || r.SessionID == src.id || len(resp.Cookies()) != 1 {
			t.Errorf("token login gave %+v", r)
		}
		// Both sessions live.
		for _, sid := range []string{src.id, r.SessionID} {
			h := http.Header{"Cookie": {resp.Cookies()[0].Name + "=" + resp.Cookies()[0].Value}, "Inin-Icws-Csrf-Token": {r.CSRFToken}}
			if sid == src.id {
				h = src.headers()
			}
			if resp, _ := e.do(e.client(false), "GET", "/icws/"+sid+"/connection", "", h); resp.StatusCode != 200 {
				t.Errorf("session %s after token login: %s", sid, resp.Status)
			}
		}
		// Single use.
		resp, body = e.do(e.client(false), "POST", "/icws/connection", tokenLoginBody(seed, tok, src.id, false), nil)
		checkError(t, resp, body, 400, icrec.IDAuthenticationFailure, 0)
	})
	t.Run("OKDisconnectSource", func(t *testing.T) {
		e := newEnv(t)
		src := e.login("agent1")
		tok := e.authToken(src, seed)
		if resp, body := e.do(e.client(false), "POST", "/icws/connection", tokenLoginBody(seed, tok, src.id, true), nil); resp.StatusCode != 201 {
			t.Fatalf("%s %s", resp.Status, body)
		}
		resp, body := e.do(e.client(false), "GET", "/icws/"+src.id+"/connection", "", src.headers())
		checkError(t, resp, body, 401, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession)
	})
	for name, tc := range map[string]struct {
		prepare func(e *env, src session) (body string)
	}{
		"ErrExpired": {func(e *env, src session) string {
			tok := e.authToken(src, seed)
			e.clock.Advance(7 * time.Second)
			return tokenLoginBody(seed, tok, src.id, false)
		}},
		"ErrWrongSeed": {func(e *env, src session) string {
			return tokenLoginBody("11111111-2222-3333-4444-555555555555", e.authToken(src, seed), src.id, false)
		}},
		"ErrWrongSource": {func(e *env, src session) string {
			return tokenLoginBody(seed, e.authToken(src, seed), "1234567890", false)
		}},
		"ErrUnknownToken": {func(e *env, src session) string {
			return tokenLoginBody(seed, "not-a-token", src.id, false)
		}},
		"ErrSourceLoggedOut": {func(e *env, src session) string {
			tok := e.authToken(src, seed)
			e.do(e.client(false), "DELETE", "/icws/"+src.id+"/connection", "", src.headers())
			return tokenLoginBody(seed, tok, src.id, false)
		}},
		"ErrUserDisabled": {func(e *env, src session) string {
			tok := e.authToken(src, seed)
			// Disabling ends the source session and its tokens.
			e.sessions.SetDisabled(e.t.Context(), "agent1", true)
			return tokenLoginBody(seed, tok, src.id, false)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			src := e.login("agent1")
			resp, body := e.do(e.client(false), "POST", "/icws/connection", tc.prepare(e, src), nil)
			checkError(t, resp, body, 400, icrec.IDAuthenticationFailure, 0)
		})
	}
	t.Run("ErrBadRequest", func(t *testing.T) {
		e := newEnv(t)
		src := e.login("agent1")
		for body, prop := range map[string]string{"": "", "{}": "authTokenSeed", `{"authTokenSeed":"nope"}`: "authTokenSeed"} {
			resp, b := e.do(e.client(false), "POST", "/icws/"+src.id+"/connection/unique-auth-token", body, src.headers())
			if got := decodeError(t, b); resp.StatusCode != 400 || got.PropertyName != prop {
				t.Errorf("%q: %s %s", body, resp.Status, b)
			}
		}
	})
}
