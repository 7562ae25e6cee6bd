package icws

import "strings"

// CookieName is the name of a session's cookie: icws_ and the session id.
// Clients find it by that prefix.
func CookieName(sessionID string) string { return "icws_" + sessionID }

// CookieValue is the session cookie's value in the shape real servers use,
// the secret followed by the session's language: 9a020325-…|languageId=en-us.
func CookieValue(secret, language string) string {
	return secret + "|languageId=" + language
}

// CookieSecret extracts the secret from a cookie value, with or without the
// language suffix.
func CookieSecret(value string) string {
	secret, _, _ := strings.Cut(value, "|")
	return secret
}
