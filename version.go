package icrec

import "context"

// Versions are change counters that a store keeps itself. Each moves
// whenever anything it covers changes, in the same transaction as the
// change, whoever makes it: this process, an icrec command run beside it,
// another server on the same database. So while a counter keeps a value,
// what it covers is as it was when the counter took that value, and a
// server may keep what it read in memory, and use it without reading it
// again, for exactly as long as the counter keeps the value it had before
// the read.
//
// Neither counter moves when only sessions, auth tokens, pending blobs,
// legal holds or the audit trail change: requests write those all the
// time, and a cache under the counters would hold nothing for long.
//
// The values mean nothing but "the same as before, or not": compare them
// for equality only.
type Versions struct {
	// Rights covers the inputs of a rights decision other than the
	// recording: every policy, with all it holds and its place in the
	// order, and every user's id, roles and workgroups and whether the
	// user is disabled. It need not cover the rest of a user (its name,
	// its Updated time), and must not move when only the password hash
	// changes, as a sign-in may rehash it: a User kept under it may be
	// stale in those fields, and is only for deciding rights.
	Rights int64
	// Recordings covers the catalogue: every recording, with everything
	// RecordingStore.FindRecordingByID returns with it.
	Recordings int64
}

// VersionStore is implemented by stores that keep Versions over the users,
// policies and recordings they hold. It is optional; without it, every
// rights check reads the store.
type VersionStore interface {
	// Versions returns both counters as of one instant.
	Versions(ctx context.Context) (Versions, error)
}
