package signedurl

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"example.com/icrec"
)

var _ icrec.LinkSigner = (*Signer)(nil)

// reloadEvery is how often, at most, a Signer looks at its key file: often
// enough that a rotation takes effect at once for a person, rarely enough
// that tokens with made-up key ids cannot keep it busy.
const reloadEvery = time.Second

// Signer signs and verifies export links with a Keyring, and follows
// rotations of the keyring's file (see the package comment).
type Signer struct {
	// Log receives the failures to reread the key file, after which the
	// Signer goes on with the keys it has; nil discards them. Set it
	// before the Signer is used.
	Log *slog.Logger

	now  func() time.Time
	ring atomic.Pointer[Keyring]

	mu      sync.Mutex // serialises rereads of the file
	checked time.Time  // when the file was last looked at
	lastErr string     // the last reread failure logged, to log each once
}

// New returns a Signer over ring. now is its clock for the expiry of new
// links and for the pace of rereading the key file; nil means time.Now.
func New(ring *Keyring, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	s := &Signer{now: now, checked: now()}
	s.ring.Store(ring)
	return s
}

// Keyring returns the keys the Signer uses now.
func (s *Signer) Keyring() *Keyring { return s.ring.Load() }

// Sign returns the token of l, signed with the newest active key, and
// fills in l.ID with a random link id if it is empty. l must name a
// canonical GUID and expire on a whole second, no later than RetireAfter
// from now, or the key could be dropped before the link expires.
func (s *Signer) Sign(l *icrec.ExportLink) (icrec.Secret, error) {
	if l == nil {
		return "", errors.New("signedurl: no link to sign")
	}
	s.refresh(false)
	k, ok := s.ring.Load().signingKey()
	if !ok {
		return "", errors.New("signedurl: the keyring has no active key")
	}
	if limit := s.now().Add(RetireAfter); l.Expires.After(limit) {
		return "", fmt.Errorf("signedurl: the link expires at %s, after %s, when its key may be gone",
			l.Expires.UTC().Format(time.RFC3339), limit.UTC().Format(time.RFC3339))
	}
	token, id, err := seal(k, l)
	if err != nil {
		return "", err
	}
	l.ID = id
	return icrec.Secret(token), nil
}

// Verify returns the link of token if one of the keys that verify at now
// signed it. A token that is malformed, names a key the Signer does not
// have, or fails its tag is Forbidden; only then is the expiry looked at,
// and a link expired at now is Gone.
func (s *Signer) Verify(token string, now time.Time) (*icrec.ExportLink, error) {
	o, err := open(token)
	if err != nil {
		return nil, err
	}
	k, ok := s.ring.Load().verifyingKey(o.keyID, now)
	if !ok {
		// Perhaps the file was rotated since it was read.
		s.refresh(false)
		if k, ok = s.ring.Load().verifyingKey(o.keyID, now); !ok {
			return nil, unknownKey(o.keyID)
		}
	}
	if !o.verify(k) {
		return nil, badTag(o.keyID)
	}
	if !now.Before(o.link.Expires) {
		return nil, expired(o.link.Expires)
	}
	return &o.link, nil
}

// Reload rereads the key file now, whether or not it changed. On failure
// the Signer keeps its keys. It does nothing for a keyring from FromSpec.
func (s *Signer) Reload() error {
	return s.refresh(true)
}

// refresh rereads the key file if it was replaced since it was read; but
// unless force is set, it looks at the file at most once per reloadEvery.
func (s *Signer) refresh(force bool) error {
	if r := s.ring.Load(); r == nil || r.path == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	// A clock that went back counts as due.
	if d := now.Sub(s.checked); !force && d >= 0 && d < reloadEvery {
		return nil
	}
	s.checked = now
	r := s.ring.Load()
	if !force {
		fi, err := os.Stat(r.path)
		if err == nil && r.file != nil && os.SameFile(fi, r.file) && fi.Size() == r.file.Size() && fi.ModTime().Equal(r.file.ModTime()) {
			return nil
		}
	}
	next, err := Load(r.path, now)
	if err != nil {
		if msg := err.Error(); msg != s.lastErr && s.Log != nil {
			s.Log.Error("cannot reread the export link keys; going on with the keys read before", "err", err, "keys", r)
		}
		s.lastErr = err.Error()
		return err
	}
	s.lastErr = ""
	s.ring.Store(next)
	return nil
}
