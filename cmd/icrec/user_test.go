package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"strings"
	"testing"

	"example.com/icrec/icws"
)

// runCLI runs the command line in-process, as main would, and returns its
// output and exit code.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	err := run(context.Background(), args, lookup, strings.NewReader(stdin), &out, &errOut)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		errOut.WriteString("icrec: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), exitCode(err)
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"ICREC_DATA": data} // --data from the environment
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, env, stdin, args...)
		if code != exitOK {
			t.Fatalf("icrec %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	ok("pass-word-1\n", "user", "add", "alice", "--name", "Alice Smith", "--role", "admin", "--workgroup", "Support", "--workgroup", "sales", "--workgroup", "SUPPORT")
	ok("pass-word-2\r\n", "user", "add", "bob")
	out := ok("", "user", "list")
	for _, want := range []string{"ID", "NAME", "ROLES", "WORKGROUPS", "ENABLED", "alice", "Alice Smith", "admin", "sales,Support", "bob", "yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("user list lacks %q:\n%s", want, out)
		}
	}
	out = ok("", "user", "list", "--json")
	var users []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var u map[string]any
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("user list --json line %q: %v", line, err)
		}
		users = append(users, u)
	}
	if len(users) != 2 || users[0]["id"] != "alice" || users[0]["enabled"] != true || len(users[1]["roles"].([]any)) != 0 {
		t.Errorf("user list --json: %v", users)
	}

	// The server sees what the commands do, at once.
	s := startServe(t, data, "--http", "127.0.0.1:0")
	login := func(user, pw string) int {
		resp, _ := call(t, &http.Client{}, "POST", s.http+"/icws/connection", loginJSON(user, pw), nil)
		return resp.StatusCode
	}
	if got := login("ALICE", "pass-word-1"); got != 201 {
		t.Errorf("alice login: %d", got)
	}
	resp, body := call(t, &http.Client{}, "POST", s.http+"/icws/connection", loginJSON("bob", "pass-word-2"), nil)
	var bob icws.ConnectionResponse
	json.Unmarshal(body, &bob)
	bobCookie := strings.Split(resp.Header.Get("Set-Cookie"), ";")[0]
	bobCall := func() int {
		resp, _ := call(t, &http.Client{}, "GET", s.http+"/icws/"+bob.SessionID+"/connection", "", http.Header{"Cookie": {bobCookie}, "ININ-ICWS-CSRF-Token": {bob.CSRFToken}})
		return resp.StatusCode
	}
	if bobCall() != 200 {
		t.Fatal("bob's session does not work")
	}
	ok("new-password-3\n", "user", "passwd", "bob")
	if got := bobCall(); got != 401 {
		t.Errorf("bob's session after passwd: %d, want 401", got)
	}
	if login("bob", "pass-word-2") != 400 || login("bob", "new-password-3") != 201 {
		t.Error("passwd did not replace the password")
	}
	ok("", "user", "disable", "Bob")
	if login("bob", "new-password-3") != 400 {
		t.Error("a disabled user logged in")
	}
	if out := ok("", "user", "list"); !strings.Contains(out, "no") {
		t.Errorf("disabled user shown as enabled:\n%s", out)
	}
	ok("", "user", "enable", "bob")
	if login("bob", "new-password-3") != 201 {
		t.Error("an enabled user could not log in")
	}
	ok("", "user", "delete", "bob")
	if login("bob", "new-password-3") != 400 {
		t.Error("a deleted user logged in")
	}
	if out := ok("", "user", "list"); strings.Contains(out, "bob") {
		t.Errorf("deleted user listed:\n%s", out)
	}
}

func TestUserCommandErrors(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{}
	if _, errOut, code := runCLI(t, env, "pass-word-1\n", "user", "add", "carol", "--data", data); code != exitOK {
		t.Fatal(errOut)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no subcommand", "", []string{"user"}, exitUsage, "no user command"},
		{"unknown subcommand", "", []string{"user", "frob"}, exitUsage, `unknown user command "frob"`},
		{"missing USERID", "", []string{"user", "add", "--data", data}, exitUsage, "missing USERID"},
		{"two USERIDs", "", []string{"user", "disable", "a", "b", "--data", data}, exitUsage, `unexpected argument "b"`},
		{"unknown flag", "", []string{"user", "add", "x", "--colour", "red", "--data", data}, exitUsage, "flag provided but not defined: --colour"},
		{"bad user id", "pw-pw-pw-pw\n", []string{"user", "add", " padded", "--data", data}, exitUsage, "leading or trailing space"},
		{"bad role", "pw-pw-pw-pw\n", []string{"user", "add", "dave", "--role", "a,b", "--data", data}, exitUsage, "--role"},
		{"short password", "short\n", []string{"user", "add", "dave", "--data", data}, exitFailure, "at least 8"},
		{"no password", "", []string{"user", "add", "dave", "--data", data}, exitFailure, "no password on standard input"},
		{"duplicate", "pass-word-1\n", []string{"user", "add", "CAROL", "--data", data}, exitFailure, "already exists"},
		{"unknown user", "", []string{"user", "disable", "nobody", "--data", data}, exitFailure, `"nobody" not found`},
		{"unknown user passwd", "pass-word-9\n", []string{"user", "passwd", "nobody", "--data", data}, exitFailure, `"nobody" not found`},
		{"unknown command", "", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"no command", "", nil, exitUsage, "no command given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, env, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, tc.code, errOut, tc.want)
			}
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing to serve", nil, []string{"--http", "", "--https", ""}, "nothing to serve"},
		{"cert without key", nil, []string{"--tls-cert", "x.pem"}, "--tls-cert and --tls-key"},
		{"bad origin", nil, []string{"--cors-origin", "https://x.example.com/path"}, `--cors-origin "https://x.example.com/path"`},
		{"origin without scheme", nil, []string{"--cors-origin", "x.example.com"}, "--cors-origin"},
		{"bad proxy", nil, []string{"--trusted-proxy", "10.0.0.0/33"}, "--trusted-proxy"},
		{"bad duration", nil, []string{"--idle-timeout", "soon"}, "-idle-timeout"},
		{"negative idle", nil, []string{"--idle-timeout", "-1m"}, "--idle-timeout must be positive"},
		{"bad env", map[string]string{"ICREC_IDLE_TIMEOUT": "soon"}, nil, "ICREC_IDLE_TIMEOUT (--idle-timeout)"},
		{"bad env list", map[string]string{"ICREC_CORS_ORIGIN": "https://a.example.com,ftp://b"}, nil, `--cors-origin "ftp://b"`},
		{"demo password alone", nil, []string{"--demo-password", "pass-word-1"}, "--demo-password needs --demo"},
		{"short demo password", nil, []string{"--demo", "--demo-password", "short"}, "--demo-password"},
		{"bad log format", nil, []string{"--log-format", "xml"}, "log format"},
		{"stray argument", nil, []string{"now"}, `unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--data", data}, tc.args...)
			_, errOut, code := runCLI(t, tc.env, "", args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to contain %q", code, exitUsage, errOut, tc.want)
			}
		})
	}
	t.Run("port in use", func(t *testing.T) {
		s := startServe(t, t.TempDir())
		addr := strings.TrimPrefix(s.http, "http://")
		_, errOut, code := runCLI(t, nil, "", "serve", "--data", t.TempDir(), "--http", addr, "--https", "", "--metrics", "")
		if code != exitFailure || !strings.Contains(errOut, "(--http)") || !strings.Contains(errOut, "address already in use") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"help", "serve"}, {"serve", "--help"}, {"serve", "-h"},
		{"user", "--help"}, {"user", "add", "--help"}, {"user", "list", "--help"}, {"user", "passwd", "--help"},
		{"user", "disable", "--help"}, {"user", "enable", "--help"}, {"user", "delete", "--help"},
	} {
		out, errOut, code := runCLI(t, nil, "", args...)
		if code != exitOK || !strings.Contains(out, "Example") || !strings.Contains(out, "Usage") {
			t.Errorf("icrec %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	if out, _, code := runCLI(t, nil, "", "version"); code != 0 || !strings.HasPrefix(out, "icrec "+version) {
		t.Errorf("version: %q", out)
	}
}
