package signedurl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// The key file is JSON, newest key first:
//
//	{
//	  "version": 1,
//	  "keys": [
//	    {"id": "9c1e04d2", "secret": "<base64>", "created": "2026-03-08T12:00:00Z"},
//	    {"id": "3fa85f64", "secret": "<base64>", "created": "2026-03-01T12:00:00Z", "retired": "2026-03-08T12:00:00Z"}
//	  ]
//	}
type keyFile struct {
	Version int       `json:"version"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID      string    `json:"id"`
	Secret  []byte    `json:"secret"`
	Created time.Time `json:"created"`
	Retired time.Time `json:"retired,omitzero"`
}

const (
	keyFileVersion = 1
	// maxKeyFileSize is far above what rotation ever writes (a key a
	// week, kept for RetireAfter), and keeps a wrong path from being
	// read whole.
	maxKeyFileSize = 1 << 20
	filePerm       = 0o600
	dirPerm        = 0o700
)

// Rotation is what Rotate did.
type Rotation struct {
	New     Key      // the key that signs from now on
	Retired []string // ids of the keys that stopped signing
	Dropped []string // ids of the keys removed, RetireAfter past retirement
}

// Load reads the key file at path, leaving out the keys that no longer
// verify at now; it does not change the file. It refuses a file that other
// users can read or write, and one without an active key.
func Load(path string, now time.Time) (*Keyring, error) {
	keys, fi, err := readKeys(path)
	if err != nil {
		return nil, err
	}
	keys, _ = prune(keys, now)
	return checkedKeyring(path, keys, fi)
}

// LoadOrCreate reads the key file at path as Load does, and first creates
// it, with one new key, if it does not exist, and its directory too. If
// some keys in the file no longer verify, it writes the file without them.
func LoadOrCreate(path string, now func() time.Time) (*Keyring, error) {
	unlock, err := lock(path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	keys, fi, err := readKeys(path)
	t := now()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		keys = []Key{newKey(t, func(string) bool { return false })}
	case err != nil:
		return nil, err
	default:
		var dropped []string
		if keys, dropped = prune(keys, t); len(dropped) == 0 {
			return checkedKeyring(path, keys, fi)
		}
	}
	if fi, err = writeKeys(path, keys); err != nil {
		return nil, err
	}
	return checkedKeyring(path, keys, fi)
}

// Rotate adds a new key to the key file at path, creating the file if
// there is none, retires every key that was active, and drops the keys
// retired more than RetireAfter before now. It holds a lock on the file
// meanwhile, so that rotations in two processes at once do not lose a key;
// a running Signer over the file picks the new key up by itself.
func Rotate(path string, now time.Time) (*Rotation, error) {
	unlock, err := lock(path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	keys, _, err := readKeys(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rot := &Rotation{}
	keys, rot.Dropped = prune(keys, now)
	for i := range keys {
		if keys[i].Active() {
			keys[i].Retired = now.UTC().Truncate(time.Second)
			rot.Retired = append(rot.Retired, keys[i].ID)
		}
	}
	rot.New = newKey(now, func(id string) bool {
		return slices.ContainsFunc(keys, func(k Key) bool { return k.ID == id })
	})
	if _, err := writeKeys(path, append([]Key{rot.New}, keys...)); err != nil {
		return nil, err
	}
	return rot, nil
}

// prune splits off the keys that no longer verify at now.
func prune(keys []Key, now time.Time) (kept []Key, dropped []string) {
	for _, k := range keys {
		if k.verifies(now) {
			kept = append(kept, k)
		} else {
			dropped = append(dropped, k.ID)
		}
	}
	return kept, dropped
}

func checkedKeyring(path string, keys []Key, fi os.FileInfo) (*Keyring, error) {
	r := newKeyring(keys, path, fi)
	if r.signing < 0 {
		return nil, fmt.Errorf("key file %s has no active key; run 'icrec keys rotate' to add one", path)
	}
	return r, nil
}

// readKeys reads and checks the key file, and returns what it was, from
// the descriptor read, so that a Signer compares against the file it
// actually read.
func readKeys(path string) ([]Key, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		// Not wrapped, so that the caller can tell a missing file.
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, nil, err
	case !fi.Mode().IsRegular():
		return nil, nil, fmt.Errorf("key file %s is not a regular file", path)
	case fi.Mode().Perm()&0o077 != 0:
		// Whoever can read the keys can forge links; whoever can write
		// them can add a key of their own.
		return nil, nil, fmt.Errorf("key file %s has mode %04o, which lets other users read or change the link signing keys; run chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, nil, fmt.Errorf("key file %s is over %d bytes; it is not a key file", path, maxKeyFileSize)
	}
	keys, err := parseKeys(data)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s is corrupt: %w", path, err)
	}
	return keys, fi, nil
}

// parseKeys decodes a key file. Its errors never quote a secret.
func parseKeys(data []byte) ([]Key, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var kf keyFile
	if err := dec.Decode(&kf); err != nil {
		return nil, err
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return nil, errors.New("more data after the JSON object")
	}
	switch {
	case kf.Version != keyFileVersion:
		return nil, fmt.Errorf("version %d, not %d", kf.Version, keyFileVersion)
	case len(kf.Keys) == 0:
		return nil, errors.New("no keys")
	}
	keys := make([]Key, len(kf.Keys))
	for i, fk := range kf.Keys {
		switch {
		case !validKeyID(fk.ID):
			return nil, fmt.Errorf("key %d: the id %q is not 1 to %d letters, digits, '-' or '_'", i+1, fk.ID, maxKeyIDLen)
		case len(fk.Secret) < minSecretLen:
			return nil, fmt.Errorf("key %d (%s): the secret is %d bytes, not at least %d", i+1, fk.ID, len(fk.Secret), minSecretLen)
		case fk.Created.IsZero():
			return nil, fmt.Errorf("key %d (%s): no creation time", i+1, fk.ID)
		}
		if j := slices.IndexFunc(keys[:i], func(k Key) bool { return k.ID == fk.ID }); j >= 0 {
			return nil, fmt.Errorf("keys %d and %d have the same id %s", j+1, i+1, fk.ID)
		}
		keys[i] = Key(fk)
	}
	return keys, nil
}

// writeKeys replaces the key file with keys: it writes a temporary file in
// the same directory, syncs it, renames it over the file and syncs the
// directory, so that a crash leaves either the old file or the new one,
// and a rotation that returned is durable. It returns what the new file is.
func writeKeys(path string, keys []Key) (os.FileInfo, error) {
	kf := keyFile{Version: keyFileVersion, Keys: make([]fileKey, len(keys))}
	for i, k := range keys {
		kf.Keys[i] = fileKey{ID: k.ID, Secret: k.Secret, Created: k.Created.UTC(), Retired: k.Retired.UTC()}
	}
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	// CreateTemp makes the file 0600, and with O_EXCL, so no other user
	// can have it open.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if tmp != "" {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	// The rename keeps the inode and modification time, so this is what
	// a Signer will find at path.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	tmp = ""
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("write key file %s: sync %s: %w", path, dir, err)
	}
	return fi, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lock takes an exclusive flock on path+".lock", creating the directory
// of path if need be, and waits for it. The lock is on a file of its own
// because writeKeys replaces the key file, and a lock on the replaced
// inode would not exclude anyone. Each call opens the file anew, so the
// lock excludes goroutines of one process from each other too.
func lock(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return nil, fmt.Errorf("create the key directory: %w", err)
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("lock key file %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock key file %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing releases the flock
}
