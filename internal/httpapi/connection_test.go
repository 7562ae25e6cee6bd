package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/httpapi"
)

func TestConnect(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("AGENT1", testPassword), http.Header{"Accept-Language": {"en-US"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status=%s, want 201 (%s)", resp.Status, body)
		}
		var r icws.ConnectionResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.SessionID) != 10 || strings.Trim(r.SessionID, "0123456789") != "" {
			t.Errorf("sessionId=%q, want 10 digits", r.SessionID)
		}
		if len(r.CSRFToken) < 22 {
			t.Errorf("csrfToken=%q is shorter than 128 bits", r.CSRFToken)
		}
		if r.UserID != "agent1" || r.UserDisplayName != "Agent One" || r.ICServer != "icrec-test" {
			t.Errorf("userID=%q userDisplayName=%q icServer=%q", r.UserID, r.UserDisplayName, r.ICServer)
		}
		if r.AlternateHostList == nil || !bytes.Contains(body, []byte(`"alternateHostList":[]`)) {
			t.Errorf("alternateHostList missing or not []: %s", body)
		}
		for _, absent := range []string{"version", "features", "serverTimeInfo", "defaultWorkstationId", "effectiveStation"} {
			if bytes.Contains(body, []byte(`"`+absent+`"`)) {
				t.Errorf("body has %s without include: %s", absent, body)
			}
		}
		if got := resp.Header.Get("ININ-ICWS-Session-ID"); got != r.SessionID {
			t.Errorf("ININ-ICWS-Session-ID=%q, want %q", got, r.SessionID)
		}
		if got := resp.Header.Get("ININ-ICWS-CSRF-Token"); got != r.CSRFToken {
			t.Errorf("ININ-ICWS-CSRF-Token=%q, want %q", got, r.CSRFToken)
		}
		if got, want := resp.Header.Get("Location"), "/icws/"+r.SessionID+"/connection"; got != want {
			t.Errorf("Location=%q, want %q", got, want)
		}
		if got := resp.Header.Get("Content-Type"); got != icws.ContentType {
			t.Errorf("Content-Type=%q", got)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache, no-store, must-revalidate" {
			t.Errorf("Cache-Control=%q", got)
		}
		setCookies := resp.Header.Values("Set-Cookie")
		if len(setCookies) != 1 {
			t.Fatalf("Set-Cookie=%q, want exactly one", setCookies)
		}
		sc := setCookies[0]
		prefix := "icws_" + r.SessionID + "="
		if !strings.HasPrefix(sc, prefix) || !strings.Contains(sc, "|languageId=en-us; ") {
			t.Errorf("Set-Cookie=%q, want %s<secret>|languageId=en-us", sc, prefix)
		}
		secret, _, _ := strings.Cut(strings.TrimPrefix(sc, prefix), "|")
		if len(secret) != 36 {
			t.Errorf("cookie secret %q is not GUID-shaped", secret)
		}
		attrs := strings.Split(sc, "; ")[1:]
		slices.Sort(attrs)
		if want := []string{"HttpOnly", "Path=/icws/" + r.SessionID}; !slices.Equal(attrs, want) {
			t.Errorf("cookie attributes %q, want %q (no Secure or SameSite over HTTP)", attrs, want)
		}
	})

	t.Run("OKHeaderCase", func(t *testing.T) {
		// Go's client canonicalises header names, so read the raw reply:
		// some scripted clients look the names up case-sensitively.
		e := newEnv(t)
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := loginBody("agent1", testPassword)
		fmt.Fprintf(conn, "POST /icws/connection HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		raw, err := io.ReadAll(conn)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"\r\nININ-ICWS-Session-ID: ", "\r\nININ-ICWS-CSRF-Token: ", "HTTP/1.1 201 Created\r\n"} {
			if !bytes.Contains(raw, []byte(h)) {
				t.Errorf("raw reply lacks %q:\n%s", h, raw)
			}
		}
	})

	t.Run("OKInclude", func(t *testing.T) {
		e := newEnv(t)
		for _, q := range []string{
			"include=version,features,server-time,default-workstation,effective-station,purecloud-integration",
			"include=version&include=features&include=server-time,default-workstation&include=EFFECTIVE-STATION,purecloud-integration,unknown-block",
		} {
			resp, body := e.do(e.client(false), "POST", "/icws/connection?"+q, loginBody("agent1", testPassword), nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%s: %s %s", q, resp.Status, body)
			}
			var m map[string]json.RawMessage
			json.Unmarshal(body, &m)
			for k, want := range map[string]string{
				"defaultWorkstationId": "null",
				"effectiveStation":     "null",
				"serverTimeInfo":       `{"serverUtcTime":"20260102T030405Z"}`,
				"features":             `[{"featureId":"connection","version":11},{"featureId":"messaging","version":2},{"featureId":"recordings","version":6}]`,
				"purecloudIntegration": `{"integrationEnabled":false}`,
			} {
				if got := string(m[k]); got != want {
					t.Errorf("%s: %s=%s, want %s", q, k, got, want)
				}
			}
			var v icws.VersionInfo
			if err := json.Unmarshal(m["version"], &v); err != nil || v.MajorVersion != "0" || v.Build != "test" {
				t.Errorf("%s: version=%s (%v)", q, m["version"], err)
			}
		}
	})

	t.Run("OKLenientRequests", func(t *testing.T) {
		e := newEnv(t)
		typeLast := `{"applicationName":"js","userID":"agent1","password":"` + testPassword + `","__type":"urn:inin.com:connection:icAuthConnectionRequestSettings"}`
		for name, h := range map[string]http.Header{
			"no content type":   {},
			"text/plain":        {"Content-Type": {"text/plain"}},
			"json charset":      {"Content-Type": {"application/json; charset=utf-8"}},
			"vendor upper case": {"Content-Type": {"application/vnd.inin.icws+JSON;charset=UTF-8"}, "Accept": {"application/vnd.inin.icws+JSON"}},
			"form":              {"Content-Type": {"application/x-www-form-urlencoded"}},
			"accept star":       {"Accept": {"*"}, "Accept-Language": {"en-au"}},
			"empty csrf header": {"Inin-Icws-Csrf-Token": {""}, "Accept-Language": {"fr-FR, en;q=0.5"}},
			"junk language":     {"Accept-Language": {";;;,q=9,*;q=x, -"}},
			"extra headers":     {"X-Icws-Devtools-Correlationid": {"x"}, "X-Request-Id": {"abc-123"}, "X-Attempt": {"1"}, "Use-Credentials": {"true"}, "Accept-Encoding": {"gzip", "deflate"}},
		} {
			resp, body := e.do(e.client(false), "POST", "/icws/connection", typeLast, h)
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("%s: %s %s", name, resp.Status, body)
				continue
			}
			if c := resp.Cookies(); len(c) != 1 || !strings.HasSuffix(c[0].Value, "|languageId=en-us") {
				t.Errorf("%s: cookies %v", name, c)
			}
			if resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("%s: response is encoded", name)
			}
		}
	})

	t.Run("OKHTTPS", func(t *testing.T) {
		e := newEnv(t, withTLS())
		resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", testPassword), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s", resp.Status, body)
		}
		sc := resp.Header.Values("Set-Cookie")
		if len(sc) != 1 {
			t.Fatalf("Set-Cookie=%q, want exactly one", sc)
		}
		attrs := strings.Split(sc[0], "; ")[1:]
		slices.Sort(attrs)
		r := decodeLogin(t, body)
		if want := []string{"HttpOnly", "Partitioned", "Path=/icws/" + r.SessionID, "SameSite=None", "Secure"}; !slices.Equal(attrs, want) {
			t.Errorf("cookie attributes over HTTPS %q, want %q", attrs, want)
		}
	})

	t.Run("ErrBadLoginLooksTheSame", func(t *testing.T) {
		e := newEnv(t)
		ctx := t.Context()
		if _, err := e.sessions.AddUser(ctx, auth.NewUser{ID: "gone", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sessions.SetDisabled(ctx, "gone", true); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, tc := range []struct{ user, pw string }{
			{"agent1", "wrong password"}, {"nobody", testPassword}, {"gone", testPassword}, {"", ""},
		} {
			resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody(tc.user, tc.pw), nil)
			checkError(t, resp, body, http.StatusBadRequest, icrec.IDAuthenticationFailure, 0)
			if len(resp.Cookies()) != 0 || resp.Header.Get("ININ-ICWS-Session-ID") != "" {
				t.Errorf("%s: failed login set session headers", tc.user)
			}
			bodies = append(bodies, string(body))
		}
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("failed logins differ:\n%s\n%s", b, bodies[0])
			}
		}
		if got := e.metrics.Failures(); len(got) != 4 || got[0] != "bad_credentials" {
			t.Errorf("login failure metrics=%q", got)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		e := newEnv(t)
		for _, tc := range []struct {
			name, body, id, property string
		}{
			{"empty", "", icrec.IDMissingParameter, ""},
			{"syntax", "{", icrec.IDInvalidProperty, ""},
			{"no type", `{"userID":"a","password":"b"}`, icrec.IDMissingParameter, "__type"},
			{"unknown type", `{"__type":"x","userID":"a","password":"b"}`, icrec.IDInvalidProperty, "__type"},
			{"no password", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"a"}`, icrec.IDMissingParameter, "password"},
			{"bad type", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":["a"],"password":"b"}`, icrec.IDInvalidProperty, "userID"},
		} {
			resp, body := e.do(e.client(false), "POST", "/icws/connection", tc.body, nil)
			got := checkError(t, resp, body, http.StatusBadRequest, tc.id, 0)
			if got.PropertyName != tc.property {
				t.Errorf("%s: propertyName=%q, want %q", tc.name, got.PropertyName, tc.property)
			}
		}
		resp, body := e.do(e.client(false), "POST", "/icws/connection", `{"__type":"urn:inin.com:connection:singleSignOnTokenConnectionRequestSettings","singleSignOnToken":"x"}`, nil)
		checkError(t, resp, body, http.StatusBadRequest, icrec.IDSingleSignOnFailure, 0)
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *httpapi.Config) { c.MaxBodyBytes = 1024 }))
		big := `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"agent1","password":"` + strings.Repeat("x", 2000) + `"}`
		resp, body := e.do(e.client(false), "POST", "/icws/connection", big, nil)
		checkError(t, resp, body, http.StatusRequestEntityTooLarge, icrec.IDTooLarge, 0)
		// Without a Content-Length the limit holds too.
		req, _ := http.NewRequest("POST", e.srv.URL+"/icws/connection", struct{ *strings.Reader }{strings.NewReader(big)})
		req.ContentLength = -1
		r2, err := e.client(false).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Body.Close()
		if r2.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked oversized body: status %d", r2.StatusCode)
		}
	})

	t.Run("ErrThrottled", func(t *testing.T) {
		e := newEnv(t, withAuth(func(c *auth.Config) { c.Throttle.UserFailures = 3 }))
		for range 3 {
			resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", "wrong"), nil)
			checkError(t, resp, body, http.StatusBadRequest, icrec.IDAuthenticationFailure, 0)
		}
		// Locked out now, even with the right password.
		resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", testPassword), nil)
		got := checkError(t, resp, body, http.StatusBadRequest, icrec.IDAuthenticationFailure, 0)
		if !strings.Contains(got.Message, "Too many failed logins") || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("message %q, Retry-After %q", got.Message, resp.Header.Get("Retry-After"))
		}
		// An unknown user id is throttled exactly like a real one.
		for range 4 {
			_, body = e.do(e.client(false), "POST", "/icws/connection", loginBody("nobody", "wrong"), nil)
		}
		if got := decodeError(t, body); !strings.Contains(got.Message, "Too many failed logins") {
			t.Errorf("unknown user not throttled: %q", got.Message)
		}
		// Another user from the same address is not affected.
		e.login("agent2")
		// And once the lockout is over, the right password works.
		e.clock.Advance(2e9)
		e.login("agent1")
		if f := e.metrics.Failures(); !slices.Contains(f, "throttled") {
			t.Errorf("metrics %q lack throttled", f)
		}
	})

	t.Run("ThrottledAnswerHeldBack", func(t *testing.T) {
		const delay = 300 * time.Millisecond
		e := newEnv(t, withAuth(func(c *auth.Config) { c.Throttle.UserFailures = 1 }),
			withConfig(func(c *httpapi.Config) { c.RefusalDelay = delay }))
		start := time.Now()
		resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", "wrong"), nil)
		checkError(t, resp, body, http.StatusBadRequest, icrec.IDAuthenticationFailure, 0)
		if d := time.Since(start); d >= delay {
			t.Errorf("a checked wrong password was held back %v: only refusals are", d)
		}
		start = time.Now()
		resp, body = e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", "wrong"), nil)
		got := checkError(t, resp, body, http.StatusBadRequest, icrec.IDAuthenticationFailure, 0)
		if d := time.Since(start); d < delay || !strings.Contains(got.Message, "Too many failed logins") {
			t.Errorf("a refusal was answered after %v (want at least %v): %q", d, delay, got.Message)
		}
		// A client that gives up is let go at once, and the server goes on.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/icws/connection", strings.NewReader(loginBody("agent1", "wrong")))
		req.Header.Set("Accept-Language", "en-us")
		if resp, err := e.client(false).Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("the cancelled refusal was answered: %s", resp.Status)
		}
		e.login("agent2")
	})

	t.Run("ErrDraining", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *httpapi.Config) { c.AlternateHosts = []string{"icrec2.example.com", "icrec3"} }))
		s := e.login("agent1")
		e.state.StartDraining()
		resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", testPassword), nil)
		got := checkError(t, resp, body, http.StatusServiceUnavailable, icrec.IDNotAcceptingConnections, 0)
		if !slices.Equal(got.AlternateHostList, []string{"icrec2.example.com", "icrec3"}) {
			t.Errorf("alternateHostList=%q", got.AlternateHostList)
		}
		// Existing sessions go on while the server drains.
		if resp, body := e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers()); resp.StatusCode != http.StatusOK {
			t.Errorf("session call while draining: %s %s", resp.Status, body)
		}
		resp, _ = e.do(e.client(false), "GET", "/readyz", "", nil)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("readyz while draining: %s", resp.Status)
		}
	})

	t.Run("ErrDrainingNoAlternates", func(t *testing.T) {
		e := newEnv(t)
		e.state.StartDraining()
		resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", testPassword), nil)
		checkError(t, resp, body, http.StatusServiceUnavailable, icrec.IDNotAcceptingConnections, 0)
		// icws_golib panics on a 503 without the list.
		if !bytes.Contains(body, []byte(`"alternateHostList":[]`)) {
			t.Errorf("503 body lacks alternateHostList: %s", body)
		}
	})
}

func TestConnectionResources(t *testing.T) {
	e := newEnv(t)
	c := e.client(false)
	for _, tc := range []struct {
		path, want string
	}{
		{"/icws/connection/features", `{"featureInfoList":[{"featureId":"connection","version":11},{"featureId":"messaging","version":2},{"featureId":"recordings","version":6}]}`},
		{"/icws/connection/features/messaging", `{"featureId":"messaging","version":2}`},
		{"/icws/connection/features/recordings", `{"featureId":"recordings","version":6}`},
		{"/icws/connection/features/CONNECTION", `{"featureId":"connection","version":11}`},
		{"/icws/connection/version", `{"majorVersion":"0","minorVersion":"1","su":"0","build":"test","productId":"icrec","codebaseId":"icrec"}`},
		{"/icws/connection/server-time", `{"serverUtcTime":"20260102T030405Z"}`},
		{"/icws/connection/server-info", `{"languages":[{"languageID":"en-us","languageDisplayName":"English (United States)"}],"acceptLanguage":"en-us","authentication":{"allowIcAuth":true,"identityProviders":[]}}`},
		{"/ICWS/connection/version", `{"majorVersion":"0","minorVersion":"1","su":"0","build":"test","productId":"icrec","codebaseId":"icrec"}`},
	} {
		// Sessionless resources need no cookie, and the official
		// library's Accept header works as well as none.
		resp, body := e.do(c, "GET", tc.path, "", http.Header{"Accept": {"application/vnd.inin.icws+JSON"}})
		if resp.StatusCode != http.StatusOK || string(body) != tc.want {
			t.Errorf("GET %s: %s %s, want 200 %s", tc.path, resp.Status, body, tc.want)
		}
		if got := resp.Header.Get("Content-Type"); got != icws.ContentType {
			t.Errorf("GET %s: Content-Type=%q", tc.path, got)
		}
	}
	resp, body := e.do(c, "GET", "/icws/connection/features/interactions", "", nil)
	if got := checkError(t, resp, body, http.StatusBadRequest, icrec.IDInvalidProperty, 0); got.PropertyName != "featureId" {
		t.Errorf("propertyName=%q", got.PropertyName)
	}

	s := e.login("agent1")
	for path, want := range map[string]string{
		"/icws/" + s.id + "/connection":                   `{"connectionState":1}`,
		"/icws/" + s.id + "/connection/switchover-status": `{"isSwitchoverActive":false,"primaryHost":"icrec-test","subsystemsDown":[]}`,
	} {
		resp, body := e.do(c, "GET", path, "", s.headers())
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("GET %s: %s %s, want %s", path, resp.Status, body, want)
		}
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	s := e.login("agent1")
	other := e.login("agent1")
	c := e.client(false)
	resp, body := e.do(c, "DELETE", "/icws/"+s.id+"/connection", "", s.headers())
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("logout: %s %q", resp.Status, body)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) != 1 || !strings.HasPrefix(sc[0], "icws_"+s.id+"=;") || !strings.Contains(sc[0], "Max-Age=0") {
		t.Errorf("logout Set-Cookie=%q, want the session cookie cleared", sc)
	}
	for _, path := range []string{"/icws/" + s.id + "/connection", "/icws/" + s.id + "/messaging/messages"} {
		resp, body = e.do(c, "GET", path, "", s.headers())
		checkError(t, resp, body, http.StatusUnauthorized, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession)
	}
	resp, body = e.do(c, "DELETE", "/icws/"+s.id+"/connection", "", s.headers())
	checkError(t, resp, body, http.StatusUnauthorized, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession)
	// The user's other session is untouched.
	if resp, body := e.do(c, "GET", "/icws/"+other.id+"/connection", "", other.headers()); resp.StatusCode != http.StatusOK {
		t.Errorf("other session after logout: %s %s", resp.Status, body)
	}
}
