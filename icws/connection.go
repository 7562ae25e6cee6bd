package icws

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"example.com/icrec"
)

// The __type values of the connection request settings.
const (
	TypeICAuthSettings    = "urn:inin.com:connection:icAuthConnectionRequestSettings"
	TypeAuthTokenSettings = "urn:inin.com:connection:authTokenConnectionRequestSettings"
	TypeSSOSettings       = "urn:inin.com:connection:singleSignOnTokenConnectionRequestSettings"
)

// ConnectionRequest is the body of POST /icws/connection: one of the derived
// types of baseAuthConnectionRequestSettings, told apart by Type. Its String,
// GoString and LogValue never show the password or token.
type ConnectionRequest struct {
	Type                              string `json:"__type"`
	ApplicationName                   string `json:"applicationName,omitempty"`
	MarketPlaceApplicationLicenseName string `json:"marketPlaceApplicationLicenseName,omitempty"`
	MarketPlaceApplicationCode        string `json:"marketPlaceApplicationCode,omitempty"`

	// icAuthConnectionRequestSettings
	UserID   string `json:"userID,omitempty"`
	Password string `json:"password,omitempty"`

	// authTokenConnectionRequestSettings
	AuthTokenSeed           string `json:"authTokenSeed,omitempty"`
	AuthToken               string `json:"authToken,omitempty"`
	AuthTokenSourceSession  string `json:"authTokenSourceSession,omitempty"`
	DisconnectSourceSession bool   `json:"disconnectSourceSession,omitempty"`

	// singleSignOnTokenConnectionRequestSettings
	SingleSignOnToken string `json:"singleSignOnToken,omitempty"`
}

func (r ConnectionRequest) String() string {
	return fmt.Sprintf("ConnectionRequest{Type:%s ApplicationName:%q UserID:%q}", r.Type, r.ApplicationName, r.UserID)
}

// GoString keeps %#v from printing secrets.
func (r ConnectionRequest) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without the secrets.
func (r ConnectionRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", r.Type),
		slog.String("application", r.ApplicationName),
		slog.String("user_id", r.UserID),
	)
}

// connectionRequestWire tells absent (and null) properties from empty ones.
type connectionRequestWire struct {
	Type                              *string `json:"__type"`
	ApplicationName                   *string `json:"applicationName"`
	MarketPlaceApplicationLicenseName *string `json:"marketPlaceApplicationLicenseName"`
	MarketPlaceApplicationCode        *string `json:"marketPlaceApplicationCode"`
	UserID                            *string `json:"userID"`
	Password                          *string `json:"password"`
	AuthTokenSeed                     *string `json:"authTokenSeed"`
	AuthToken                         *string `json:"authToken"`
	AuthTokenSourceSession            *string `json:"authTokenSourceSession"`
	DisconnectSourceSession           *bool   `json:"disconnectSourceSession"`
	SingleSignOnToken                 *string `json:"singleSignOnToken"`
}

// ParseConnectionRequest decodes and validates the body of POST
// /icws/connection. It requires __type and the properties that type
// requires; applicationName, which the ICWS documentation marks required, is
// accepted when absent because some scripted clients leave it out and it is
// only ever displayed.
func ParseConnectionRequest(data []byte) (ConnectionRequest, error) {
	var w connectionRequestWire
	if err := unmarshalObject(data, &w); err != nil {
		return ConnectionRequest{}, err
	}
	if w.Type == nil {
		return ConnectionRequest{}, icrec.MissingProperty("__type", "Property __type is required; use %s.", fmtTypes(TypeICAuthSettings, TypeAuthTokenSettings))
	}
	r := ConnectionRequest{
		ApplicationName:                   deref(w.ApplicationName),
		MarketPlaceApplicationLicenseName: deref(w.MarketPlaceApplicationLicenseName),
		MarketPlaceApplicationCode:        deref(w.MarketPlaceApplicationCode),
	}
	var err error
	switch t := *w.Type; {
	case strings.EqualFold(t, TypeICAuthSettings):
		r.Type = TypeICAuthSettings
		if r.UserID, err = required("userID", w.UserID); err != nil {
			return ConnectionRequest{}, err
		}
		if r.Password, err = required("password", w.Password); err != nil {
			return ConnectionRequest{}, err
		}
	case strings.EqualFold(t, TypeAuthTokenSettings):
		r.Type = TypeAuthTokenSettings
		if r.AuthTokenSeed, err = required("authTokenSeed", w.AuthTokenSeed); err != nil {
			return ConnectionRequest{}, err
		}
		if r.AuthToken, err = required("authToken", w.AuthToken); err != nil {
			return ConnectionRequest{}, err
		}
		if r.AuthTokenSourceSession, err = required("authTokenSourceSession", w.AuthTokenSourceSession); err != nil {
			return ConnectionRequest{}, err
		}
		r.DisconnectSourceSession = w.DisconnectSourceSession != nil && *w.DisconnectSourceSession
	case strings.EqualFold(t, TypeSSOSettings):
		r.Type = TypeSSOSettings
		if r.SingleSignOnToken, err = required("singleSignOnToken", w.SingleSignOnToken); err != nil {
			return ConnectionRequest{}, err
		}
	default:
		return ConnectionRequest{}, icrec.InvalidProperty("__type", "Property __type %q is not a connection request type; use %s.", truncate(t, 100), fmtTypes(TypeICAuthSettings, TypeAuthTokenSettings))
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// truncate shortens client-supplied text before it is echoed in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Nullable is an optional property that, when present, may be null: absent
// when Present is false, null when Value is nil. It needs the omitzero tag.
type Nullable[T any] struct {
	Present bool
	Value   *T
}

// Null returns a present, null value.
func Null[T any]() Nullable[T] { return Nullable[T]{Present: true} }

// IsZero reports absence, for omitzero.
func (n Nullable[T]) IsZero() bool { return !n.Present }

// MarshalJSON writes the value or null.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// UnmarshalJSON records presence, and the value unless it is null.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Present = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	n.Value = new(T)
	return json.Unmarshal(b, n.Value)
}

// ConnectionResponse is the 201 body of POST /icws/connection. The optional
// blocks are present only when the include query parameter asks for them.
type ConnectionResponse struct {
	SessionID            string                     `json:"sessionId"`
	CSRFToken            string                     `json:"csrfToken"`
	AlternateHostList    []string                   `json:"alternateHostList"`
	UserID               string                     `json:"userID"`
	UserDisplayName      string                     `json:"userDisplayName"`
	ICServer             string                     `json:"icServer"`
	Version              *VersionInfo               `json:"version,omitempty"`
	Features             []FeatureInfo              `json:"features,omitempty"`
	ServerTimeInfo       *ServerTimeInfo            `json:"serverTimeInfo,omitempty"`
	DefaultWorkstationID Nullable[string]           `json:"defaultWorkstationId,omitzero"`
	PurecloudIntegration *PurecloudIntegration      `json:"purecloudIntegration,omitempty"`
	EffectiveStation     Nullable[EffectiveStation] `json:"effectiveStation,omitzero"`
}

func (r ConnectionResponse) String() string {
	return fmt.Sprintf("ConnectionResponse{SessionID:%s UserID:%q ICServer:%q}", r.SessionID, r.UserID, r.ICServer)
}

// GoString keeps %#v from printing the CSRF token.
func (r ConnectionResponse) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without the CSRF token.
func (r ConnectionResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.String("session_id", r.SessionID), slog.String("user_id", r.UserID))
}

// PurecloudIntegration tells clients whether the server is integrated with
// Genesys Cloud; icrec never is.
type PurecloudIntegration struct {
	IntegrationEnabled bool `json:"integrationEnabled"`
}

// EffectiveStation names the station a session uses.
type EffectiveStation struct {
	StationID ConfigurationID `json:"stationId"`
}

// ConfigurationID names an ICWS configuration object.
type ConfigurationID struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
}

// The connectionState enumeration.
const (
	ConnectionStateNone = 0
	ConnectionStateUp   = 1
	ConnectionStateDown = 2
)

// ConnectionSettings is the body of GET /icws/{sessionId}/connection.
type ConnectionSettings struct {
	ConnectionState int    `json:"connectionState"`
	Reason          string `json:"reason,omitempty"`
	ShouldReconnect *bool  `json:"shouldReconnect,omitempty"`
}

// FeatureInfo names a feature and the version the server implements.
type FeatureInfo struct {
	FeatureID string `json:"featureId"`
	Version   int    `json:"version"`
}

// FeatureInfos is the body of GET /icws/connection/features.
type FeatureInfos struct {
	FeatureInfoList []FeatureInfo `json:"featureInfoList"`
}

// VersionInfo is the body of GET /icws/connection/version. Every field is a
// string: icws_golib fails to decode numbers here.
type VersionInfo struct {
	MajorVersion                string `json:"majorVersion"`
	MinorVersion                string `json:"minorVersion"`
	SU                          string `json:"su"`
	Build                       string `json:"build"`
	ProductID                   string `json:"productId"`
	CodebaseID                  string `json:"codebaseId"`
	ProductReleaseDisplayString string `json:"productReleaseDisplayString,omitempty"`
	ProductPatchDisplayString   string `json:"productPatchDisplayString,omitempty"`
}

// ServerInfo is the body of GET /icws/connection/server-info.
type ServerInfo struct {
	Languages      []Language          `json:"languages"`
	AcceptLanguage string              `json:"acceptLanguage"`
	Authentication *AuthenticationInfo `json:"authentication,omitempty"`
}

// Language is one language the server can answer in.
type Language struct {
	LanguageID          string `json:"languageID"`
	LanguageDisplayName string `json:"languageDisplayName"`
}

// AuthenticationInfo tells clients which ways of logging in exist.
type AuthenticationInfo struct {
	AllowICAuth       bool               `json:"allowIcAuth"`
	IdentityProviders []IdentityProvider `json:"identityProviders"`
}

// IdentityProvider is a single sign-on identity provider.
type IdentityProvider struct {
	DisplayName             string `json:"displayName"`
	IdentityProviderID      string `json:"identityProviderId"`
	BuiltInIdentityProvider bool   `json:"builtInIdentityProvider"`
}

// ServerTimeInfo is the body of GET /icws/connection/server-time and the
// serverTimeInfo block of the connection response.
type ServerTimeInfo struct {
	ServerUTCTime DateTime `json:"serverUtcTime"`
}

// SwitchoverStatus is the body of GET
// /icws/{sessionId}/connection/switchover-status. icrec has no switchover
// pair: any node can serve any session.
type SwitchoverStatus struct {
	IsSwitchoverActive bool     `json:"isSwitchoverActive"`
	PrimaryHost        string   `json:"primaryHost"`
	SubsystemsDown     []string `json:"subsystemsDown"`
}

// UniqueAuthTokenRequest is the body of POST
// /icws/{sessionId}/connection/unique-auth-token.
type UniqueAuthTokenRequest struct {
	AuthTokenSeed string `json:"authTokenSeed"`
}

// ParseUniqueAuthTokenRequest decodes and validates a unique-auth-token
// request; the seed must be a GUID.
func ParseUniqueAuthTokenRequest(data []byte) (UniqueAuthTokenRequest, error) {
	var w struct {
		AuthTokenSeed *string `json:"authTokenSeed"`
	}
	if err := unmarshalObject(data, &w); err != nil {
		return UniqueAuthTokenRequest{}, err
	}
	seed, err := required("authTokenSeed", w.AuthTokenSeed)
	if err != nil {
		return UniqueAuthTokenRequest{}, err
	}
	if _, ok := icrec.CanonicalGUID(seed); !ok {
		return UniqueAuthTokenRequest{}, icrec.InvalidProperty("authTokenSeed", "Property authTokenSeed %q is not a GUID.", truncate(seed, 100))
	}
	return UniqueAuthTokenRequest{AuthTokenSeed: seed}, nil
}

// UniqueAuthTokenResponse is the 200 body of unique-auth-token. The token is
// single-use and short-lived.
type UniqueAuthTokenResponse struct {
	AuthToken string `json:"authToken"`
}

// LogValue implements slog.LogValuer without the token.
func (UniqueAuthTokenResponse) LogValue() slog.Value { return slog.StringValue("REDACTED") }
