package main

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestApplyEnv(t *testing.T) {
	type config struct {
		http    string
		origins listFlag
		proxies listFlag // has a default, unlike serve's list flags
		idle    time.Duration
	}
	parse := func(t *testing.T, environ map[string]string, args ...string) (config, error) {
		t.Helper()
		c := config{proxies: listFlag{"10.0.0.1"}}
		fs := newFlagSet("serve", "", io.Discard)
		fs.StringVar(&c.http, "http", ":8018", "")
		fs.Var(&c.origins, "cors-origin", "")
		fs.Var(&c.proxies, "trusted-proxy", "")
		fs.DurationVar(&c.idle, "idle-timeout", 30*time.Minute, "")
		if _, err := parseFlags(fs, "serve", args); err != nil {
			t.Fatal(err)
		}
		lookup := func(k string) (string, bool) {
			v, ok := environ[k]
			return v, ok
		}
		return c, applyEnv(fs, "serve", lookup, "http", "cors-origin", "trusted-proxy", "idle-timeout")
	}
	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
		want    config
	}{
		{"OKUnsetKeepsDefaults", nil, nil, config{http: ":8018", proxies: listFlag{"10.0.0.1"}, idle: 30 * time.Minute}},
		{"OKEmptyStringDisables", map[string]string{"ICREC_HTTP": ""}, nil, config{http: "", proxies: listFlag{"10.0.0.1"}, idle: 30 * time.Minute}},
		{"OKEmptyListHasNoValues", map[string]string{"ICREC_CORS_ORIGIN": "", "ICREC_TRUSTED_PROXY": ""}, nil, config{http: ":8018", idle: 30 * time.Minute}},
		{"OKValues", map[string]string{"ICREC_HTTP": "127.0.0.1:80", "ICREC_CORS_ORIGIN": "https://a, https://b", "ICREC_IDLE_TIMEOUT": "10m"}, nil,
			config{http: "127.0.0.1:80", origins: listFlag{"https://a", "https://b"}, proxies: listFlag{"10.0.0.1"}, idle: 10 * time.Minute}},
		{"OKCommandLineWins", map[string]string{"ICREC_HTTP": "", "ICREC_CORS_ORIGIN": ""}, []string{"--http", ":80", "--cors-origin", "https://c"},
			config{http: ":80", origins: listFlag{"https://c"}, proxies: listFlag{"10.0.0.1"}, idle: 30 * time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(t, tc.environ, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got.http != tc.want.http || !slices.Equal(got.origins, tc.want.origins) || !slices.Equal(got.proxies, tc.want.proxies) || got.idle != tc.want.idle {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("OKEmptyDurationKeepsDefault", func(t *testing.T) {
		// An environment file may list a variable with no value: for a
		// flag that is not a string, that is no setting at all.
		got, err := parse(t, map[string]string{"ICREC_IDLE_TIMEOUT": ""})
		if err != nil || got.idle != 30*time.Minute {
			t.Errorf("ICREC_IDLE_TIMEOUT empty: %+v, %v; want the default", got, err)
		}
	})
	t.Run("ErrBadDuration", func(t *testing.T) {
		_, err := parse(t, map[string]string{"ICREC_IDLE_TIMEOUT": "soon"})
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "ICREC_IDLE_TIMEOUT") {
			t.Errorf("err=%v, want a usage error naming ICREC_IDLE_TIMEOUT", err)
		}
	})
}

// TestServeListenersFromEnv checks that the environment can turn a listener
// off, as the command line can.
func TestServeListenersFromEnv(t *testing.T) {
	data := t.TempDir()
	s := startServeEnv(t, data,
		map[string]string{"ICREC_HTTP": "", "ICREC_HTTPS": "127.0.0.1:0", "ICREC_METRICS": "127.0.0.1:0", "ICREC_LOG_FORMAT": "json"},
		"serve", "--data", data, "--drain-delay", "0s")
	if s.http != "" {
		t.Errorf("HTTP listener at %s, want none with ICREC_HTTP empty", s.http)
	}
	if s.https == "" {
		t.Fatalf("no HTTPS listener:\n%s", s.stderr)
	}
	resp, body := call(t, s.httpsClient(t), "GET", s.https+"/icws/connection/version", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET version over HTTPS: %s %s", resp.Status, body)
	}
	if err := s.stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}
