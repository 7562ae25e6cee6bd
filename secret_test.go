package icrec_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"example.com/icrec"
)

const secretValue = "hunter2-Zq9x"

// login is a struct a caller might print or log whole.
type login struct {
	UserID   string
	Password icrec.Secret `json:"password"`
}

// checkRedacted fails t if out shows the secret, in clear or as hex, or
// does not say REDACTED in its place.
func checkRedacted(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, secretValue) || strings.Contains(strings.ToLower(out), hex.EncodeToString([]byte(secretValue))) {
		t.Errorf("%s shows the secret: %s", what, out)
	}
	if !strings.Contains(out, "REDACTED") {
		t.Errorf("%s=%s, want it to say REDACTED", what, out)
	}
}

func TestSecretFormat(t *testing.T) {
	s := icrec.Secret(secretValue)
	t.Run("OKVerbs", func(t *testing.T) {
		for _, tc := range []struct {
			format, want string
		}{
			{"%v", "REDACTED"},
			{"%s", "REDACTED"},
			{"%+v", "REDACTED"},
			{"%#v", "REDACTED"},
			{"%q", `"REDACTED"`},
			{"%10s", "  REDACTED"},
			{"%.3s", "RED"},
		} {
			if got := fmt.Sprintf(tc.format, s); got != tc.want {
				t.Errorf("Sprintf(%q)=%q, want %q", tc.format, got, tc.want)
			}
		}
	})
	t.Run("OKHexVerbs", func(t *testing.T) {
		// These verbs go through String too, so they encode "REDACTED".
		for _, format := range []string{"%x", "%X", "% x"} {
			got := fmt.Sprintf(format, s)
			if want := fmt.Sprintf(format, "REDACTED"); got != want {
				t.Errorf("Sprintf(%q)=%q, want %q", format, got, want)
			}
		}
	})
	t.Run("OKExtraArgument", func(t *testing.T) {
		format := "login failed" // a variable, so that vet lets the mistake through
		//lint:ignore SA5009 the stray argument is what this test is about
		checkRedacted(t, "Sprintf with an extra argument", fmt.Sprintf(format, s))
	})
	t.Run("OKPrint", func(t *testing.T) {
		checkRedacted(t, "Sprint", fmt.Sprint(s))
		checkRedacted(t, "Sprint(with text)", fmt.Sprint("password=", s))
		checkRedacted(t, "Sprintln", fmt.Sprintln("password", s))
		checkRedacted(t, "fmt.Errorf", fmt.Errorf("login %s with %v: %w", "agent1", s, errors.New("denied")).Error())
		checkRedacted(t, "icrec.Errorf", icrec.Errorf(icrec.Invalid, "", "password %s rejected", s).Error())
	})
	t.Run("OKInStruct", func(t *testing.T) {
		l := login{UserID: "agent1", Password: s}
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			checkRedacted(t, "Sprintf("+format+", struct)", fmt.Sprintf(format, l))
			checkRedacted(t, "Sprintf("+format+", &struct)", fmt.Sprintf(format, &l))
		}
		if got, want := fmt.Sprintf("%+v", l), "{UserID:agent1 Password:REDACTED}"; got != want {
			t.Errorf("Sprintf(%%+v)=%q, want %q", got, want)
		}
	})
	t.Run("OKInCollections", func(t *testing.T) {
		checkRedacted(t, "slice", fmt.Sprintf("%v", []icrec.Secret{s}))
		checkRedacted(t, "map", fmt.Sprintf("%v", map[string]icrec.Secret{"pw": s}))
		checkRedacted(t, "any", fmt.Sprintf("%+v", []any{s}))
	})
	t.Run("OKConversion", func(t *testing.T) {
		// Deliberate conversion is the one way to get the value.
		if got, want := string(s), secretValue; got != want {
			t.Errorf("string(s)=%q, want %q", got, want)
		}
		if got, want := fmt.Sprint(string(s)), secretValue; got != want {
			t.Errorf("Sprint(string(s))=%q, want %q", got, want)
		}
	})
}

// TestSecretBadVerbIsRedacted: for a verb that does not suit a string (%d,
// %t, ...), fmt would report "%!d(icrec.Secret=...)" with the value, and go
// vet catches only constant formats. Secret's Format method covers every
// verb but %p, which fmt handles before looking for methods.
func TestSecretBadVerbIsRedacted(t *testing.T) {
	s := icrec.Secret(secretValue)
	for _, format := range []string{"%d", "%t", "%c", "%e", "%b", "%o", "%U"} {
		t.Run(format, func(t *testing.T) {
			checkRedacted(t, "Sprintf("+format+")", fmt.Sprintf(format, s))
		})
	}
}

func TestSecretSlog(t *testing.T) {
	s := icrec.Secret(secretValue)
	for _, tc := range []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"Value", func(l *slog.Logger) { l.Info("login", "password", s) }},
		{"Any", func(l *slog.Logger) { l.Info("login", slog.Any("password", s)) }},
		{"Attrs", func(l *slog.Logger) {
			l.LogAttrs(t.Context(), slog.LevelInfo, "login", slog.Any("password", s))
		}},
		{"Group", func(l *slog.Logger) {
			l.Info("login", slog.Group("creds", slog.String("user", "agent1"), slog.Any("password", s)))
		}},
		{"NestedGroup", func(l *slog.Logger) {
			l.Info("login", slog.Group("req", slog.Group("creds", slog.Any("password", s))))
		}},
		{"With", func(l *slog.Logger) { l.With("password", s).Info("login") }},
		{"WithGroup", func(l *slog.Logger) { l.WithGroup("creds").Info("login", "password", s) }},
		{"Struct", func(l *slog.Logger) { l.Info("login", "req", login{UserID: "agent1", Password: s}) }},
		{"StructPointer", func(l *slog.Logger) { l.Info("login", "req", &login{UserID: "agent1", Password: s}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for handler, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
				"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
				"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			} {
				var buf bytes.Buffer
				tc.log(slog.New(newHandler(&buf)))
				checkRedacted(t, handler+" log", buf.String())
			}
		})
	}
}

func TestSecretJSON(t *testing.T) {
	s := icrec.Secret(secretValue)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"Value", s, `"REDACTED"`},
		{"Field", login{UserID: "agent1", Password: s}, `{"UserID":"agent1","password":"REDACTED"}`},
		{"FieldPointer", &login{UserID: "agent1", Password: s}, `{"UserID":"agent1","password":"REDACTED"}`},
		{"MapValue", map[string]icrec.Secret{"password": s}, `{"password":"REDACTED"}`},
		{"Slice", []icrec.Secret{s}, `["REDACTED"]`},
		{"Any", map[string]any{"password": s}, `{"password":"REDACTED"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(b), tc.want; got != want {
				t.Errorf("json.Marshal=%s, want %s", got, want)
			}
		})
	}
}
