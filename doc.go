// Package icrec is the vocabulary of icrec, an ICWS-compatible Interaction
// Recorder: an archive of call, chat, email and screen recordings that speaks
// the Interaction Center Web Services (ICWS) API of Genesys PureConnect, so
// that tools written against a PureConnect server keep working against it.
//
// This package holds only domain types, the interfaces of the stores that
// persist them, and the error vocabulary shared by every layer. It imports
// nothing but the standard library. Implementations live under internal/:
// one package per dependency (sqlite, argon2id, ...), and the business rules
// that combine them (who may log in, when a session ends) live once in
// internal/auth, above the stores, so that every backend obeys the same rules.
//
// # Users and sessions
//
// A User is a person or service account that signs in with a user id and a
// password. User ids are compared case-insensitively, as PureConnect does;
// the id is shown as it was created. Users carry roles and workgroups, which
// later decide what recordings they may see.
//
// A Session is what a successful ICWS login (POST /icws/connection) creates.
// It is named by a numeric session id, which is not a secret: it appears in
// every URL of the session. Two secrets prove that a request belongs to the
// session: the cookie secret (sent in the icws_{sessionId} cookie) and the
// CSRF token (sent in the ININ-ICWS-CSRF-Token header). Both are random,
// handed to the client once, and stored only as SHA-256 hashes. A session
// ends when the client logs out, when it has been idle too long, when its
// absolute lifetime is over, or when its user is disabled, deleted or given a
// new password. Sessions are stored, so they survive a restart of the server.
package icrec
