package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestLogsHoldNoSecrets drives every kind of request that handles a secret
// and then searches the whole log for each secret.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	s := e.login("agent1")
	secret := strings.SplitN(strings.TrimPrefix(s.cookie, "icws_"+s.id+"="), "|", 2)[0]
	tok := e.authToken(s, seed)
	e.do(e.client(false), "POST", "/icws/connection", tokenLoginBody(seed, tok, s.id, false), nil)
	e.do(e.client(false), "POST", "/icws/connection", loginBody("agent1", "wrong-password-value"), nil)
	e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers())
	e.do(e.client(false), "GET", "/icws/"+s.id+"/connection?csrf="+s.csrf, "", s.headers())
	e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {"wrong-csrf-value"}})
	e.do(e.client(false), "DELETE", "/icws/"+s.id+"/connection", "", s.headers())

	logs := e.logs.String()
	for name, v := range map[string]string{
		"password": testPassword, "wrong password": "wrong-password-value", "cookie secret": secret,
		"CSRF token": s.csrf, "wrong CSRF token": "wrong-csrf-value", "auth token": tok,
	} {
		if strings.Contains(logs, v) {
			t.Errorf("the log contains the %s", name)
		}
	}
	// Each request left one access line with its request id.
	var lines int
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["msg"] == "request" {
			lines++
			if m["request_id"] == "" || m["status"] == nil || m["route"] == "" {
				t.Errorf("access line lacks fields: %s", line)
			}
		}
	}
	if lines != 8 {
		t.Errorf("%d access lines, want 8 (one per request)", lines)
	}
	if !strings.Contains(logs, `"msg":"login failed"`) || !strings.Contains(logs, `"user_id":"agent1"`) {
		t.Error("the failed login was not logged with its user id")
	}
}
