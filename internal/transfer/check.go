package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// check returns what is wrong with the files of an exported recording, or
// "" when each is there with its size (and, with Verify, its checksum).
func (x *Exporter) check(dir string, files []File) string {
	if len(files) == 0 {
		return "no files"
	}
	for _, f := range files {
		if f.Path == "" || strings.Contains(f.Path, "..") || filepath.IsAbs(f.Path) {
			return fmt.Sprintf("file %q: not a path inside the recording's directory", f.Path)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		st, err := os.Stat(p)
		if err != nil {
			return err.Error()
		}
		if !st.Mode().IsRegular() || st.Size() != f.Size {
			return fmt.Sprintf("%s: %d bytes, the export wrote %d", f.Path, st.Size(), f.Size)
		}
		if x.Verify {
			sum, err := hashFile(p)
			if err != nil {
				return err.Error()
			}
			if sum != f.SHA256 {
				return fmt.Sprintf("%s: SHA-256 %s, the export wrote %s", f.Path, sum, f.SHA256)
			}
		}
	}
	return ""
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isEmail(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "message/rfc822"
}

// lockDir takes an exclusive lock on an export directory, so that two
// exports cannot interleave their files. The kernel drops it when the
// process dies.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the export directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another icrec export or migrate is writing to %s", dir)
		}
		return nil, fmt.Errorf("lock the export directory: %w", err)
	}
	return func() { f.Close() }, nil
}
