// Package signedurl turns export links into tokens that can stand in a URL
// path, and back, for icrec.LinkSigner.
//
// A token is the link's fields and the id of the key that signed them,
// followed by an HMAC-SHA256 tag, in unpadded base64url; token.go has the
// layout. It is signed, not encrypted: whoever holds a link can read the
// recording, user and session ids in it, none of which is a secret from the
// holder of a link to that recording. Verify trusts no field before the
// tag checks out, and only then looks at the expiry, so that "expired"
// (Gone) is never an answer to a forged token.
//
// # Keys
//
// Keys live in a Keyring, read from a key file in the data directory (Load,
// LoadOrCreate) or given on the command line (FromSpec). The newest key
// that is not retired signs; Rotate adds a new key to the file and retires
// the one that signed until then, which goes on verifying for RetireAfter,
// so that no link signed before a rotation stops working before it
// expires. The file is replaced whole, by rename, under a lock, so that a
// crash leaves the old or the new file and two rotations at once both
// count.
//
// # Reloading
//
// A Signer over a key file notices when another process (icrec keys rotate
// while icrec serve runs) replaces the file: before it signs, and when a
// token names a key it does not have, it stats the file, at most once a
// second by its clock, and reads it again if it is not the file it read.
// Each rotation writes a new file and renames it into place, so the change
// shows in the inode even where modification times are coarse. Between a
// rotation and the next check the old key goes on signing, which is
// harmless: it verifies for RetireAfter. A Signer that cannot read the
// file keeps the keys it has and logs why; Reload reads the file at once
// and returns the error.
package signedurl
