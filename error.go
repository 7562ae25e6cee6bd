package icrec

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error by what the caller can do about it. The HTTP layer
// maps each Kind to exactly one status code; the CLI maps them to messages.
// Kinds cross the wire as statuses, so never reorder or reuse them.
type Kind uint8

const (
	// Internal is an unexpected failure. Its details are logged with a
	// request id and never shown to the caller.
	Internal Kind = iota
	// Invalid is a malformed request: bad JSON, a missing or invalid
	// property, a bad query parameter, or failed login credentials (HTTP 400).
	Invalid
	// Unauthenticated means the session credentials (session id, cookie or
	// CSRF token) are missing, wrong or expired (HTTP 401).
	Unauthenticated
	// Forbidden means the caller is signed in but lacks the right (HTTP 403).
	Forbidden
	// NotFound means the resource does not exist (HTTP 404).
	NotFound
	// MethodNotAllowed means the path exists but not for this method (HTTP 405).
	MethodNotAllowed
	// Conflict means the resource already exists or changed meanwhile.
	Conflict
	// Gone means the resource was removed from the API or has expired (HTTP 410).
	Gone
	// TooLarge means the request body is over the size limit (HTTP 413).
	TooLarge
	// Unavailable means the server is not accepting the request now, for
	// example while it drains for shutdown (HTTP 503).
	Unavailable
	// RangeNotSatisfiable means a download's Range lies outside the file
	// (HTTP 416).
	RangeNotSatisfiable
	// Upstream means a service icrec relies on, such as the mail server,
	// failed (HTTP 500). Unlike Internal, its message is shown: it names
	// the service and what went wrong, which the caller can act on.
	Upstream
	// HeaderTooLarge means the request's header is over the size limit
	// (HTTP 431).
	HeaderTooLarge
)

var kindNames = [...]string{
	Internal:            "internal",
	Invalid:             "invalid",
	Unauthenticated:     "unauthenticated",
	Forbidden:           "forbidden",
	NotFound:            "not found",
	MethodNotAllowed:    "method not allowed",
	Conflict:            "conflict",
	Gone:                "gone",
	TooLarge:            "too large",
	Unavailable:         "unavailable",
	RangeNotSatisfiable: "range not satisfiable",
	Upstream:            "upstream",
	HeaderTooLarge:      "header too large",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ICWS errorId values. They are part of the wire contract that clients match
// on: add new ones, never rename them.
const (
	IDAuthenticationFailure   = "error.request.connection.authenticationFailure"
	IDSingleSignOnFailure     = "error.request.connection.singleSignOn.failure"
	IDMissingParameter        = "error.request.invalidRepresentation.missingRequiredParameter"
	IDInvalidProperty         = "error.request.invalidRepresentation.invalidProperty"
	IDAccessDenied            = "error.request.accessDenied"
	IDNotFound                = "error.request.notFound"
	IDMethodNotAllowed        = "error.request.accessDenied.httpMethodNotAllowed"
	IDGone                    = "error.request.gone"
	IDTooLarge                = "error.request.tooLarge"
	IDNoStation               = "error.request.noStation"
	IDInternal                = "error.server.internal"
	IDNotAcceptingConnections = "error.server.notAcceptingConnections"
)

// ICWS errorCode values for session-credential failures, as real servers
// send them. Clients use them to tell a dead session from a lost token.
const (
	CodeUnknownSession = 1 // no such session, or it has ended
	CodeBadCSRFToken   = 2 // ININ-ICWS-CSRF-Token missing or wrong
	CodeBadCookie      = 4 // session cookie missing or wrong
)

// Error is the one error type that crosses layer boundaries. Message is safe
// to show to the caller; Err is the cause, which is logged but never shown.
type Error struct {
	Kind     Kind
	ID       string // ICWS errorId; empty means the default for Kind
	Code     int    // ICWS errorCode; zero means none
	Property string // the offending property of an invalid or missing property error
	Message  string // safe to show to the caller
	// RetryAfter, when positive, tells the caller when trying again can
	// succeed (login throttling).
	RetryAfter time.Duration
	Err        error // cause; never shown to the caller
}

func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return e.Message
	case e.Message == "":
		return e.Err.Error()
	default:
		return e.Message + ": " + e.Err.Error()
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error of the given kind and ICWS errorId with a formatted,
// caller-safe message.
func Errorf(kind Kind, id, format string, args ...any) *Error {
	return &Error{Kind: kind, ID: id, Message: fmt.Sprintf(format, args...)}
}

// MissingProperty reports a required property that the request left out.
func MissingProperty(property, format string, args ...any) *Error {
	return &Error{Kind: Invalid, ID: IDMissingParameter, Property: property, Message: fmt.Sprintf(format, args...)}
}

// InvalidProperty reports a property (or query parameter) whose value is wrong.
func InvalidProperty(property, format string, args ...any) *Error {
	return &Error{Kind: Invalid, ID: IDInvalidProperty, Property: property, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the Kind of err; errors that are not an *Error are Internal.
func ErrorKind(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e.Kind
	}
	return Internal
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	return err != nil && ErrorKind(err) == k
}

// ErrorMessage returns the caller-safe message of err. Errors that are not an
// *Error, and Internal errors, yield a generic message so that internals never
// leak; an *Error without a message yields its kind's.
func ErrorMessage(err error) string {
	e, ok := errors.AsType[*Error](err)
	switch {
	case !ok || e == nil || e.Kind == Internal:
		return defaultMessages[Internal]
	case e.Message != "":
		return e.Message
	case int(e.Kind) < len(defaultMessages) && defaultMessages[e.Kind] != "":
		return defaultMessages[e.Kind]
	}
	return defaultMessages[Internal]
}

var defaultMessages = [...]string{
	Internal:            "An internal error occurred.",
	Invalid:             "The request is not valid.",
	Unauthenticated:     "The session credentials are missing, wrong or expired.",
	Forbidden:           "You are not authorized to do this.",
	NotFound:            "The resource does not exist.",
	MethodNotAllowed:    "The method is not allowed on this resource.",
	Conflict:            "The resource already exists or has changed.",
	Gone:                "The resource is no longer available.",
	TooLarge:            "The request is too large.",
	Unavailable:         "The server is not accepting requests now.",
	RangeNotSatisfiable: "The requested range is outside the file.",
	Upstream:            "A service this server relies on failed.",
	HeaderTooLarge:      "The request's header is too large.",
}
