package icws_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"example.com/icrec"
	"example.com/icrec/icws"
)

func TestParseConnectionRequest(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for name, body := range map[string]string{
			"type first": `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"app","userID":"agent1","password":"pw"}`,
			// The official JavaScript library sends __type last.
			"type last":      `{"applicationName":"app","userID":"agent1","password":"pw","__type":"urn:inin.com:connection:icAuthConnectionRequestSettings"}`,
			"unknown keys":   `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","x-icws":null,"marketPlaceApplicationLicenseName":null,"applicationName":"app","userID":"agent1","password":"pw","extra":{"a":[1]}}`,
			"type case":      `{"__type":"URN:ININ.COM:CONNECTION:ICAUTHCONNECTIONREQUESTSETTINGS","applicationName":"app","userID":"agent1","password":"pw"}`,
			"whitespace":     " \n{\"__type\" : \"urn:inin.com:connection:icAuthConnectionRequestSettings\", \"applicationName\":\"app\",\"userID\":\"agent1\",\"password\":\"pw\"}\n",
			"no application": `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"agent1","password":"pw","applicationName":null}`,
		} {
			t.Run(name, func(t *testing.T) {
				r, err := icws.ParseConnectionRequest([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := r.Type, icws.TypeICAuthSettings; got != want {
					t.Errorf("Type=%q, want %q", got, want)
				}
				if r.UserID != "agent1" || r.Password != "pw" {
					t.Errorf("UserID=%q Password=%q, want agent1, pw", r.UserID, r.Password)
				}
			})
		}
	})
	t.Run("OKAuthToken", func(t *testing.T) {
		r, err := icws.ParseConnectionRequest([]byte(`{"__type":"urn:inin.com:connection:authTokenConnectionRequestSettings","applicationName":"a","authTokenSeed":"0DE0C017-CD4F-D013-8E31-18D8B7470001","authToken":"tok","authTokenSourceSession":"123","disconnectSourceSession":true}`))
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != icws.TypeAuthTokenSettings || r.AuthToken != "tok" || r.AuthTokenSourceSession != "123" || !r.DisconnectSourceSession {
			t.Errorf("got %+v", r)
		}
	})
	for _, tc := range []struct {
		name, body, id, property, message string
	}{
		{"ErrEmpty", ``, icrec.IDMissingParameter, "", "empty"},
		{"ErrSyntax", `{"__type":`, icrec.IDInvalidProperty, "", "not valid JSON"},
		{"ErrTrailing", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"a","password":"b"} x`, icrec.IDInvalidProperty, "", "not valid JSON"},
		{"ErrNotObject", `["a"]`, icrec.IDInvalidProperty, "", "must be a JSON object"},
		{"ErrNoType", `{"userID":"a","password":"b"}`, icrec.IDMissingParameter, "__type", "__type is required"},
		{"ErrNullType", `{"__type":null,"userID":"a","password":"b"}`, icrec.IDMissingParameter, "__type", "__type is required"},
		{"ErrUnknownType", `{"__type":"urn:inin.com:connection:nope","userID":"a","password":"b"}`, icrec.IDInvalidProperty, "__type", "urn:inin.com:connection:nope"},
		{"ErrTypeNotString", `{"__type":7}`, icrec.IDInvalidProperty, "__type", "must be a JSON string"},
		{"ErrNoUserID", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","password":"b"}`, icrec.IDMissingParameter, "userID", "userID is required"},
		{"ErrNoPassword", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":"a"}`, icrec.IDMissingParameter, "password", "password is required"},
		{"ErrUserIDNumber", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","userID":12,"password":"b"}`, icrec.IDInvalidProperty, "userID", "must be a JSON string, not a number"},
		{"ErrDisconnectString", `{"__type":"urn:inin.com:connection:authTokenConnectionRequestSettings","authTokenSeed":"s","authToken":"t","authTokenSourceSession":"1","disconnectSourceSession":"yes"}`, icrec.IDInvalidProperty, "disconnectSourceSession", "must be a JSON boolean"},
		{"ErrNoAuthToken", `{"__type":"urn:inin.com:connection:authTokenConnectionRequestSettings","authTokenSeed":"s","authTokenSourceSession":"1"}`, icrec.IDMissingParameter, "authToken", "authToken is required"},
		{"ErrNoSSOToken", `{"__type":"urn:inin.com:connection:singleSignOnTokenConnectionRequestSettings"}`, icrec.IDMissingParameter, "singleSignOnToken", "singleSignOnToken is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := icws.ParseConnectionRequest([]byte(tc.body))
			e, ok := err.(*icrec.Error)
			if !ok {
				t.Fatalf("err=%v (%T), want *icrec.Error", err, err)
			}
			if e.Kind != icrec.Invalid || e.ID != tc.id || e.Property != tc.property {
				t.Errorf("Kind=%v ID=%q Property=%q, want invalid, %q, %q", e.Kind, e.ID, e.Property, tc.id, tc.property)
			}
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("Message=%q, want it to contain %q", e.Message, tc.message)
			}
		})
	}
}

func TestConnectionRequestRedacts(t *testing.T) {
	r := icws.ConnectionRequest{Type: icws.TypeICAuthSettings, UserID: "agent1", Password: "hunter2-secret", AuthToken: "tok-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("login", "req", r)
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s", r, r, r, r), buf.String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("formatted request shows a secret: %s", s)
		}
		if !strings.Contains(s, "agent1") {
			t.Errorf("formatted request lost the user id: %s", s)
		}
	}
	resp := icws.ConnectionResponse{SessionID: "1", CSRFToken: "csrf-secret", UserID: "agent1"}
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("login", "resp", resp)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", resp, resp, resp), buf.String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("formatted response shows the CSRF token: %s", s)
		}
	}
	// The wire form, of course, carries it.
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), "hunter2-secret") {
		t.Errorf("JSON lost the password: %s", b)
	}
}

func TestParseUniqueAuthTokenRequest(t *testing.T) {
	if r, err := icws.ParseUniqueAuthTokenRequest([]byte(`{"authTokenSeed":"{0de0c017-cd4f-d013-8e31-18d8b7470001}"}`)); err != nil || r.AuthTokenSeed == "" {
		t.Fatalf("got %+v, %v", r, err)
	}
	for body, property := range map[string]string{
		`{}`:                      "authTokenSeed",
		`{"authTokenSeed":"abc"}`: "authTokenSeed",
		`{"authTokenSeed":12}`:    "authTokenSeed",
		`nope`:                    "",
		`{"authTokenSeed":"` + strings.Repeat("a", 5000) + `"}`: "authTokenSeed",
	} {
		_, err := icws.ParseUniqueAuthTokenRequest([]byte(body))
		if e, ok := err.(*icrec.Error); !ok || e.Kind != icrec.Invalid || e.Property != property {
			t.Errorf("%.40s: err=%v, want Invalid with property %q", body, err, property)
		} else if len(e.Message) > 300 {
			t.Errorf("message echoes too much input: %d bytes", len(e.Message))
		}
	}
}

func TestNullable(t *testing.T) {
	var v struct {
		A icws.Nullable[string] `json:"a,omitzero"`
		B icws.Nullable[string] `json:"b,omitzero"`
		C icws.Nullable[string] `json:"c,omitzero"`
	}
	if err := json.Unmarshal([]byte(`{"a":null,"b":"x"}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.Present || v.A.Value != nil || !v.B.Present || *v.B.Value != "x" || v.C.Present {
		t.Errorf("got %+v", v)
	}
	b, _ := json.Marshal(v)
	if got, want := string(b), `{"a":null,"b":"x"}`; got != want {
		t.Errorf("round trip=%s, want %s", got, want)
	}
}

func TestCookie(t *testing.T) {
	v := icws.CookieValue("9a020325-a5fb-4423-a021-4ae29a9ae31b", "en-us")
	if got, want := v, "9a020325-a5fb-4423-a021-4ae29a9ae31b|languageId=en-us"; got != want {
		t.Errorf("CookieValue=%q, want %q", got, want)
	}
	for in, want := range map[string]string{v: "9a020325-a5fb-4423-a021-4ae29a9ae31b", "abc": "abc", "": "", "|x": ""} {
		if got := icws.CookieSecret(in); got != want {
			t.Errorf("CookieSecret(%q)=%q, want %q", in, got, want)
		}
	}
	if got := icws.CookieName("123"); got != "icws_123" {
		t.Errorf("CookieName=%q", got)
	}
}

func FuzzParseConnectionRequest(f *testing.F) {
	for _, s := range []string{
		`{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"a","userID":"u","password":"p"}`,
		`{"applicationName":"a","userID":"u","password":"p","__type":"urn:inin.com:connection:icAuthConnectionRequestSettings"}`,
		`{"__type":"urn:inin.com:connection:authTokenConnectionRequestSettings","authTokenSeed":"s","authToken":"t","authTokenSourceSession":"1","disconnectSourceSession":true}`,
		`{"__type":"urn:inin.com:connection:singleSignOnTokenConnectionRequestSettings","singleSignOnToken":"x"}`,
		`{"__type":1}`, `[]`, `null`, `{"userID":{"a":1}}`, "", "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := icws.ParseConnectionRequest(body)
		if err != nil {
			e, ok := err.(*icrec.Error)
			if !ok || e.Kind != icrec.Invalid || e.Message == "" {
				t.Fatalf("err=%#v, want an Invalid *icrec.Error with a message", err)
			}
			if e.ID != icrec.IDMissingParameter && e.ID != icrec.IDInvalidProperty {
				t.Fatalf("ID=%q", e.ID)
			}
			return
		}
		switch r.Type {
		case icws.TypeICAuthSettings, icws.TypeAuthTokenSettings, icws.TypeSSOSettings:
		default:
			t.Fatalf("accepted unknown type %q", r.Type)
		}
	})
}
