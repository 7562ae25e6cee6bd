package signedurl_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec/internal/signedurl"
)

func keyPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "data", "keys", "link-keys.json")
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// fileKeys reads the ids in the key file, and which are active.
func fileKeys(t *testing.T, path string) (ids []string, active int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Keys []struct {
			ID      string    `json:"id"`
			Retired time.Time `json:"retired"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	for _, k := range f.Keys {
		ids = append(ids, k.ID)
		if k.Retired.IsZero() {
			active++
		}
	}
	return ids, active
}

func TestLoadOrCreate(t *testing.T) {
	path := keyPath(t)
	clk := newClock()
	r, err := signedurl.LoadOrCreate(path, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("key file mode %04o, want 0600", got)
	}
	if got := mode(t, filepath.Dir(path)); got != 0o700 {
		t.Errorf("key directory mode %04o, want 0700", got)
	}
	keys := r.Keys()
	if len(keys) != 1 || len(keys[0].ID) != 8 || len(keys[0].Secret) != 32 || !keys[0].Created.Equal(t0) || !keys[0].Active() {
		t.Fatalf("created %v, want one active 32-byte key with an 8-digit id created at %v", keys, t0)
	}
	if r.SigningKeyID() != keys[0].ID || r.Path() != path {
		t.Errorf("SigningKeyID %q, Path %q", r.SigningKeyID(), r.Path())
	}

	again, err := signedurl.LoadOrCreate(path, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if k := again.Keys(); len(k) != 1 || k[0].ID != keys[0].ID || string(k[0].Secret) != string(keys[0].Secret) {
		t.Errorf("second LoadOrCreate gave %v, want the key created first, %v", k, keys[0])
	}
	loaded, err := signedurl.Load(path, t0)
	if err != nil || loaded.SigningKeyID() != keys[0].ID {
		t.Errorf("Load: %v, %v", loaded, err)
	}
}

func TestLoadMissing(t *testing.T) {
	path := keyPath(t)
	if _, err := signedurl.Load(path, t0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want ErrNotExist", err)
	}
}

func TestLooseModeRefused(t *testing.T) {
	for _, perm := range []fs.FileMode{0o640, 0o604, 0o620, 0o644} {
		path := keyPath(t)
		if _, err := signedurl.LoadOrCreate(path, newClock().Now); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func() error{
			"Load":         func() error { _, err := signedurl.Load(path, t0); return err },
			"LoadOrCreate": func() error { _, err := signedurl.LoadOrCreate(path, newClock().Now); return err },
			"Rotate":       func() error { _, err := signedurl.Rotate(path, t0); return err },
		} {
			err := f()
			if err == nil {
				t.Fatalf("%s of a %04o file succeeded", name, perm)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, "chmod 600") || !strings.Contains(msg, "0"+octal(perm)) {
				t.Errorf("%s of a %04o file: %q; want the path, the mode and chmod 600", name, perm, msg)
			}
		}
	}
}

func octal(m fs.FileMode) string {
	return string([]byte{'0' + byte(m>>6&7), '0' + byte(m>>3&7), '0' + byte(m&7)})
}

func TestCorruptFile(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(secret(7))
	short := base64.StdEncoding.EncodeToString(secret(7)[:16])
	key := func(id, sec string) string {
		return `{"id":"` + id + `","secret":"` + sec + `","created":"2026-03-01T12:00:00Z"}`
	}
	tests := map[string]string{
		"NotJSON":        "hello",
		"Empty":          "",
		"Truncated":      `{"version":1,"keys":[` + key("a1", good),
		"Trailing":       `{"version":1,"keys":[` + key("a1", good) + `]} {}`,
		"NoVersion":      `{"keys":[` + key("a1", good) + `]}`,
		"FutureVersion":  `{"version":2,"keys":[` + key("a1", good) + `]}`,
		"UnknownField":   `{"version":1,"keys":[` + key("a1", good) + `],"extra":1}`,
		"NoKeys":         `{"version":1,"keys":[]}`,
		"ShortSecret":    `{"version":1,"keys":[` + key("a1", short) + `]}`,
		"BadBase64":      `{"version":1,"keys":[` + key("a1", "!!"+good) + `]}`,
		"DuplicateIDs":   `{"version":1,"keys":[` + key("a1", good) + `,` + key("a1", good) + `]}`,
		"BadID":          `{"version":1,"keys":[` + key("a b", good) + `]}`,
		"NoCreated":      `{"version":1,"keys":[{"id":"a1","secret":"` + good + `"}]}`,
		"NoActiveKey":    `{"version":1,"keys":[{"id":"a1","secret":"` + good + `","created":"2026-03-01T12:00:00Z","retired":"2026-03-01T12:00:00Z"}]}`,
		"SecretIsNumber": `{"version":1,"keys":[{"id":"a1","secret":5,"created":"2026-03-01T12:00:00Z"}]}`,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			path := keyPath(t)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := signedurl.Load(path, t0)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), good) || strings.Contains(err.Error(), short) {
				t.Errorf("error %q quotes a secret", err)
			}
			if _, err2 := signedurl.LoadOrCreate(path, newClock().Now); err2 == nil {
				t.Error("LoadOrCreate succeeded")
			}
			if name != "NoActiveKey" {
				if _, err := signedurl.Rotate(path, t0); err == nil {
					t.Error("Rotate over a corrupt file succeeded")
				}
			}
			if data, _ := os.ReadFile(path); string(data) != content {
				t.Error("the corrupt file was changed")
			}
		})
	}
}

func TestRotate(t *testing.T) {
	path := keyPath(t)
	clk := newClock()
	ring, err := signedurl.LoadOrCreate(path, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	k1 := ring.SigningKeyID()
	before := sampleLink()
	before.Expires = t0.Add(7 * 24 * time.Hour) // archive.MaxExportTTL
	old := sign(t, signedurl.New(ring, clk.Now), before)
	short := sign(t, signedurl.New(ring, clk.Now), sampleLink())

	// One rotation: the old key verifies, the new one signs.
	clk.Add(time.Hour)
	rot, err := signedurl.Rotate(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	k2 := rot.New.ID
	if k2 == k1 || !slices.Equal(rot.Retired, []string{k1}) || len(rot.Dropped) != 0 || !rot.New.Created.Equal(clk.Now()) {
		t.Fatalf("rotation %+v, want a new key and %s retired", rot, k1)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("key file mode %04o after rotation, want 0600", got)
	}
	ring, err = signedurl.Load(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := signedurl.New(ring, clk.Now)
	if id := tokenKeyID(t, sign(t, s, sampleLink())); id != k2 {
		t.Errorf("after rotation signed with %s, want %s", id, k2)
	}
	if _, err := s.Verify(old, before.Expires.Add(-time.Second)); err != nil {
		t.Errorf("a link signed before the rotation, at its last second: %v", err)
	}
	if ids, active := fileKeys(t, path); !slices.Equal(ids, []string{k2, k1}) || active != 1 {
		t.Errorf("file holds %v with %d active, want [%s %s] with 1", ids, active, k2, k1)
	}

	// RetireAfter later the old key no longer verifies, even for a Signer
	// that read it before, and the next rotation drops it.
	clk.Add(signedurl.RetireAfter)
	wantForbidden(t, s, short, clk.Now())
	rot, err = signedurl.Rotate(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rot.Retired, []string{k2}) || !slices.Equal(rot.Dropped, []string{k1}) {
		t.Fatalf("rotation %+v, want %s retired and %s dropped", rot, k2, k1)
	}
	if ids, _ := fileKeys(t, path); !slices.Equal(ids, []string{rot.New.ID, k2}) {
		t.Errorf("file holds %v, want [%s %s]", ids, rot.New.ID, k2)
	}
	ring, err = signedurl.Load(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantForbidden(t, signedurl.New(ring, clk.Now), short, clk.Now())

	entries, _ := os.ReadDir(filepath.Dir(path))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"link-keys.json", "link-keys.json.lock"}) {
		t.Errorf("key directory holds %v; want no temporary files", names)
	}
}

func TestLoadDropsOldKeys(t *testing.T) {
	path := keyPath(t)
	clk := newClock()
	if _, err := signedurl.LoadOrCreate(path, clk.Now); err != nil {
		t.Fatal(err)
	}
	rot, err := signedurl.Rotate(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(signedurl.RetireAfter)
	// Load leaves the file alone, LoadOrCreate rewrites it.
	r, err := signedurl.Load(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if k := r.Keys(); len(k) != 1 || k[0].ID != rot.New.ID {
		t.Errorf("Load kept %v, want only %s", k, rot.New.ID)
	}
	if ids, _ := fileKeys(t, path); len(ids) != 2 {
		t.Errorf("Load changed the file to %v", ids)
	}
	if _, err := signedurl.LoadOrCreate(path, clk.Now); err != nil {
		t.Fatal(err)
	}
	if ids, _ := fileKeys(t, path); !slices.Equal(ids, []string{rot.New.ID}) {
		t.Errorf("after LoadOrCreate the file holds %v, want [%s]", ids, rot.New.ID)
	}
}

func TestRotateCreates(t *testing.T) {
	path := keyPath(t)
	rot, err := signedurl.Rotate(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rot.Retired) != 0 || len(rot.Dropped) != 0 {
		t.Errorf("rotation of no file %+v", rot)
	}
	r, err := signedurl.Load(path, t0)
	if err != nil || r.SigningKeyID() != rot.New.ID {
		t.Fatalf("Load: %v, %v", r, err)
	}
	if got := mode(t, filepath.Dir(path)); got != 0o700 {
		t.Errorf("key directory mode %04o, want 0700", got)
	}
}

func TestRotateConcurrent(t *testing.T) {
	path := keyPath(t)
	if _, err := signedurl.LoadOrCreate(path, newClock().Now); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 5
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		news []string
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				rot, err := signedurl.Rotate(path, t0.Add(time.Duration(w*each+i)*time.Second))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				news = append(news, rot.New.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	ids, active := fileKeys(t, path)
	if len(ids) != 1+workers*each || active != 1 {
		t.Fatalf("file holds %d keys, %d active; want %d, 1 active", len(ids), active, 1+workers*each)
	}
	for _, id := range news {
		if !slices.Contains(ids, id) {
			t.Errorf("key %s was lost", id)
		}
	}
}
