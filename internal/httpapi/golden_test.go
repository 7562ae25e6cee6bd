package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"example.com/icrec/internal/httpapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenHeaders are the response headers a golden file pins; the rest
// (Date, Content-Length) vary or follow from the body.
var goldenHeaders = []string{
	"Allow", "Cache-Control", "Content-Type", "Inin-Icws-Csrf-Token", "Inin-Icws-Session-Id", "Location",
	"Retry-After", "Set-Cookie", "Www-Authenticate", "X-Content-Type-Options",
}

// goldenResponse compares a whole response, status, pinned headers and
// indented body, with testdata/name.golden, after replacing the values that
// differ from run to run with placeholders.
func goldenResponse(t *testing.T, name string, resp *http.Response, body []byte, scrub map[string]string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	for _, k := range goldenHeaders {
		vs := slices.Clone(resp.Header.Values(k))
		slices.Sort(vs)
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		b.Write(pretty.Bytes())
	} else {
		b.Write(body)
	}
	b.WriteString("\n")
	got := b.String()
	keys := make([]string, 0, len(scrub))
	for k := range scrub {
		keys = append(keys, k)
	}
	// Longest first, so a value inside another is not replaced early.
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	for _, k := range keys {
		if k != "" {
			got = strings.ReplaceAll(got, k, scrub[k])
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/httpapi -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

func TestGoldenResponses(t *testing.T) {
	e := newEnv(t, withConfig(func(c *httpapi.Config) { c.AlternateHosts = []string{"icrec2"} }))
	c := e.client(false)
	resp, body := e.do(c, "POST", "/icws/connection?include=version,features,server-time,default-workstation,effective-station", loginBody("agent1", testPassword), nil)
	s := session{}
	var r struct{ SessionID, CSRFToken string }
	json.Unmarshal(body, &r)
	s.id, s.csrf = r.SessionID, r.CSRFToken
	s.cookie = resp.Cookies()[0].Name + "=" + resp.Cookies()[0].Value
	secret := strings.SplitN(resp.Cookies()[0].Value, "|", 2)[0]
	scrub := map[string]string{s.id: "SESSIONID", s.csrf: "CSRFTOKEN", secret: "COOKIESECRET"}
	goldenResponse(t, "connect_201", resp, body, scrub)

	tok := e.authToken(s, seed)
	scrub[tok] = "AUTHTOKEN"
	for _, tc := range []struct {
		name, method, path, body string
		header                   http.Header
	}{
		{"connect_400_bad_login", "POST", "/icws/connection", loginBody("agent1", "wrong"), nil},
		{"connect_400_missing_property", "POST", "/icws/connection", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"x"}`, nil},
		{"features_200", "GET", "/icws/connection/features", "", nil},
		{"feature_200", "GET", "/icws/connection/features/messaging", "", nil},
		{"feature_400_unknown", "GET", "/icws/connection/features/unknown", "", nil},
		{"version_200", "GET", "/icws/connection/version", "", nil},
		{"server_info_200", "GET", "/icws/connection/server-info", "", nil},
		{"server_time_200", "GET", "/icws/connection/server-time", "", nil},
		{"connection_200", "GET", "/icws/" + s.id + "/connection", "", s.headers()},
		{"switchover_status_200", "GET", "/icws/" + s.id + "/connection/switchover-status", "", s.headers()},
		{"messages_200", "GET", "/icws/" + s.id + "/messaging/messages", "", s.headers()},
		{"unique_auth_token_200", "POST", "/icws/" + s.id + "/connection/unique-auth-token", `{"authTokenSeed":"` + seed + `"}`, s.headers()},
		{"session_401_csrf", "GET", "/icws/" + s.id + "/connection", "", http.Header{"Cookie": {s.cookie}}},
		{"session_401_cookie", "GET", "/icws/" + s.id + "/connection", "", http.Header{"Inin-Icws-Csrf-Token": {s.csrf}}},
		{"session_401_unknown", "GET", "/icws/1000000000/connection", "", s.headers()},
		{"route_404", "GET", "/icws/" + s.id + "/nothing", "", s.headers()},
		{"route_405", "PATCH", "/icws/connection", "", nil},
		{"connect_413", "POST", "/icws/connection", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","x":"` + strings.Repeat("x", 1<<20) + `"}`, nil},
		{"logout_204", "DELETE", "/icws/" + s.id + "/connection", "", s.headers()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(c, tc.method, tc.path, tc.body, tc.header)
			if tc.name == "unique_auth_token_200" {
				var v struct{ AuthToken string }
				json.Unmarshal(body, &v)
				scrub[v.AuthToken] = "AUTHTOKEN"
			}
			goldenResponse(t, tc.name, resp, body, scrub)
		})
	}
	e.state.StartDraining()
	resp, body = e.do(c, "POST", "/icws/connection", loginBody("agent1", testPassword), nil)
	goldenResponse(t, "connect_503_draining", resp, body, scrub)
}
