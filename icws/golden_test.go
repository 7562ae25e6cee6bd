package icws_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares the JSON encoding of v with testdata/name.golden.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./icws -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

var (
	when    = time.Date(2020, 10, 29, 8, 20, 18, 0, time.UTC)
	version = icws.VersionInfo{
		MajorVersion: "0", MinorVersion: "1", SU: "0", Build: "0123456789ab",
		ProductID: "icrec", CodebaseID: "icrec", ProductReleaseDisplayString: "icrec 0.1.0",
	}
	features = []icws.FeatureInfo{{FeatureID: "connection", Version: 11}, {FeatureID: "messaging", Version: 2}}
)

func TestGolden(t *testing.T) {
	wsID := "WS1"
	cases := map[string]any{
		"connection_response": icws.ConnectionResponse{
			SessionID: "1247633034", CSRFToken: "csrf-token", AlternateHostList: []string{},
			UserID: "agent1", UserDisplayName: "Agent One", ICServer: "cic1",
		},
		"connection_response_include_all": icws.ConnectionResponse{
			SessionID: "1247633034", CSRFToken: "csrf-token", AlternateHostList: []string{"backup1"},
			UserID: "agent1", UserDisplayName: "Agent One", ICServer: "cic1",
			Version:              &version,
			Features:             features,
			ServerTimeInfo:       &icws.ServerTimeInfo{ServerUTCTime: icws.DateTime{Time: when}},
			DefaultWorkstationID: icws.Null[string](),
			PurecloudIntegration: &icws.PurecloudIntegration{},
			EffectiveStation:     icws.Null[icws.EffectiveStation](),
		},
		"connection_response_workstation": icws.ConnectionResponse{
			SessionID: "1", CSRFToken: "t", AlternateHostList: []string{}, UserID: "u", UserDisplayName: "u", ICServer: "s",
			DefaultWorkstationID: icws.Nullable[string]{Present: true, Value: &wsID},
		},
		"connection_settings": icws.ConnectionSettings{ConnectionState: icws.ConnectionStateUp},
		"feature_infos":       icws.FeatureInfos{FeatureInfoList: features},
		"feature_info":        features[1],
		"version_info":        version,
		"server_info": icws.ServerInfo{
			Languages:      []icws.Language{{LanguageID: "en-us", LanguageDisplayName: "English (United States)"}},
			AcceptLanguage: "en-us",
			Authentication: &icws.AuthenticationInfo{AllowICAuth: true, IdentityProviders: []icws.IdentityProvider{}},
		},
		"server_time":                icws.ServerTimeInfo{ServerUTCTime: icws.DateTime{Time: when}},
		"switchover_status":          icws.SwitchoverStatus{PrimaryHost: "icrec1", SubsystemsDown: []string{}},
		"unique_auth_token_response": icws.UniqueAuthTokenResponse{AuthToken: "token"},
		"connection_state_change":    icws.SessionEndedMessage(icrec.SessionExpired),
		"connection_state_shutdown":  icws.SessionEndedMessage(icrec.SessionServerShutdown),
		"error_login": icws.FromError(&icrec.Error{Kind: icrec.Invalid, ID: icrec.IDAuthenticationFailure,
			Message: "The authentication process failed."}),
		"error_session": icws.FromError(&icrec.Error{Kind: icrec.Unauthenticated, ID: icrec.IDAuthenticationFailure,
			Code: icrec.CodeBadCSRFToken, Message: "The ININ-ICWS-CSRF-Token header is missing."}),
		"error_missing_property": icws.FromError(icrec.MissingProperty("userID", "Property userID is required.")),
		"error_invalid_property": icws.FromError(icrec.InvalidProperty("attachmentId", "attachmentId must be an integer.")),
		"error_not_accepting": func() icws.Error {
			e := icws.FromError(icrec.Errorf(icrec.Unavailable, "", "This server is not currently accepting connections."))
			e.AlternateHostList = []string{}
			return e
		}(),
		"error_internal": icws.FromError(errors.New("disk on fire")),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { golden(t, name, v) })
	}
}
