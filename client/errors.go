package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// Error is a failed call: an error answer from the server, or no usable
// answer at all (Status 0, Err says why).
type Error struct {
	// Op names the call without any secret, e.g. "GET media-details of
	// recording 0DE0C017-…" or "download of attachment 2".
	Op string
	// Status is the HTTP status, or 0 when the server gave no answer.
	Status int
	// ICWS is the error the server sent. When its body was not an ICWS
	// error (a proxy's HTML page, say), ErrorID is empty and Message
	// describes the answer.
	ICWS icws.Error
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter int
	// Err is the cause: a network, TLS or decoding error. Nil for a
	// well-formed error answer.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch {
	case e.Status == 0:
		b.WriteString(describeNetError(e.Err))
		return b.String()
	case e.ICWS.ErrorID != "":
		fmt.Fprintf(&b, "%d %s", e.Status, e.ICWS.ErrorID)
		if e.ICWS.Message != "" {
			fmt.Fprintf(&b, ": %s", e.ICWS.Message)
		}
	default:
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.ICWS.Message != "" {
			fmt.Fprintf(&b, ": %s", e.ICWS.Message)
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	return b.String()
}

// Unwrap gives the *icrec.Error the server would have used, so that
// icrec.IsKind(err, icrec.Forbidden) and friends work, and the cause.
func (e *Error) Unwrap() []error {
	out := []error{e.asIcrec()}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

func (e *Error) asIcrec() *icrec.Error {
	return &icrec.Error{
		Kind:     e.Kind(),
		ID:       e.ICWS.ErrorID,
		Code:     e.ICWS.ErrorCode,
		Property: e.ICWS.PropertyName,
		Message:  e.ICWS.Message,
	}
}

// Kind classifies the error as icrec does. An error without an answer is
// Unavailable: the server could not be reached.
func (e *Error) Kind() icrec.Kind {
	switch e.Status {
	case 0:
		return icrec.Unavailable
	case http.StatusBadRequest:
		return icrec.Invalid
	case http.StatusUnauthorized:
		return icrec.Unauthenticated
	case http.StatusForbidden:
		return icrec.Forbidden
	case http.StatusNotFound:
		return icrec.NotFound
	case http.StatusMethodNotAllowed:
		return icrec.MethodNotAllowed
	case http.StatusConflict:
		return icrec.Conflict
	case http.StatusGone:
		return icrec.Gone
	case http.StatusRequestEntityTooLarge:
		return icrec.TooLarge
	case http.StatusRequestedRangeNotSatisfiable:
		return icrec.RangeNotSatisfiable
	case http.StatusRequestHeaderFieldsTooLarge:
		return icrec.HeaderTooLarge
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return icrec.Unavailable
	}
	if e.Status >= 500 {
		return icrec.Internal
	}
	return icrec.Invalid
}

// Temporary reports whether trying again later can succeed: the server was
// unreachable, failed (5xx) or asked the client to slow down (429), or a
// good answer's body was cut short. TLS verification failures and
// cancellations are never temporary.
func (e *Error) Temporary() bool {
	switch {
	case e.Status == 0:
		return !isPermanentNetError(e.Err)
	case errors.As(e.Err, new(*cutError)):
		return !isCanceled(e.Err)
	case e.Status == http.StatusTooManyRequests:
		return true
	case e.Status >= 500 && e.Status != http.StatusNotImplemented && e.Status != http.StatusHTTPVersionNotSupported:
		return true
	}
	return false
}

// IsTLSVerification reports whether err is a certificate the client did
// not trust, which --ca-file or --insecure address.
func IsTLSVerification(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		inv x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &inv)
}

func isPermanentNetError(err error) bool {
	if IsTLSVerification(err) {
		return true
	}
	if speaksNoTLS(err) {
		return true
	}
	return isCanceled(err)
}

// speaksNoTLS reports an HTTPS request answered in plain HTTP. net/http
// turns the TLS record error into ErrSchemeMismatch.
func speaksNoTLS(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) || errors.Is(err, http.ErrSchemeMismatch)
}

// describeNetError words a failure to get an answer for a person.
func describeNetError(err error) string {
	switch {
	case err == nil:
		return "no answer"
	case IsTLSVerification(err):
		return fmt.Sprintf("the server's TLS certificate is not trusted: %v (give its CA with --ca-file, or use --insecure)", err)
	}
	if speaksNoTLS(err) {
		return "the server does not speak TLS on this port (use http:// for it, or the HTTPS port)"
	}
	return err.Error()
}

// retryAfter reads a Retry-After given in seconds; HTTP dates are rare
// enough from ICWS servers to be read as "no advice".
func retryAfter(h http.Header) int {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
