// Package client speaks ICWS to an Interaction Center server, a real
// PureConnect (CIC) server or icrec itself, as the server expects it:
// icAuth login with Accept-Language, the session cookie and CSRF token on
// every session call, the 503 alternateHostList switchover, and export
// downloads by their self-authorising URIs.
//
// It is the client that icrec's own export and migrate commands use, and it
// is built for bulk work against servers that misbehave now and then:
//
//   - A session call answered 401 logs in again, once, and is repeated.
//   - 5xx answers (and 429) and network failures are retried a bounded
//     number of times with exponential backoff and full jitter, honouring
//     Retry-After.
//   - Downloads resume with Range and If-Range after a cut connection, and
//     from a partial file left by an earlier run; the bytes are checked
//     against the SHA-256 the server gives as the ETag, when it gives one.
//   - Every call takes a context and stops when it is cancelled.
//   - Connections are kept alive and reused; TLS certificates are verified
//     unless the caller turns that off.
//
// Errors from the server are *Error values that carry the HTTP status and
// the ICWS error (errorId, message, errorCode); they unwrap to the
// *icrec.Error the server would have used, so icrec.IsKind works on them.
// No error, and no log line, contains the session's cookie, its CSRF token,
// the password or an export URI (which authorises its bearer).
package client
