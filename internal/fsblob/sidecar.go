package fsblob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"example.com/icrec"
)

// maxNameLen is the longest file name that Linux file systems take.
const maxNameLen = 255

// sidecarName returns the name of the sidecar of the blob file name.
// Segments may be 255 bytes long, too long for the dot and the suffix, so
// for a long name the sidecar takes the name's start and a hash of the
// whole instead. The '~' between them cannot appear in a key, so a
// shortened name never equals the sidecar name of another blob; the
// sidecar's content names its blob in full, for CleanTemp.
func sidecarName(name string) string {
	if s := "." + name + ".sha256"; len(s) <= maxNameLen {
		return s
	}
	h := sha256.Sum256([]byte(name))
	return "." + name[:200] + "~" + hex.EncodeToString(h[:16]) + ".sha256"
}

// sidecarBlob returns the name of the blob whose sidecar is the file name
// in dir, if name is a sidecar's.
func sidecarBlob(dir *os.Root, name string) (string, bool) {
	inner, ok := strings.CutPrefix(name, ".")
	if !ok {
		return "", false
	}
	if inner, ok = strings.CutSuffix(inner, ".sha256"); !ok {
		return "", false
	}
	if icrec.ValidateBlobKey(inner) == nil {
		return inner, sidecarName(inner) == name
	}
	if !strings.Contains(inner, "~") {
		return "", false
	}
	content, err := readSidecar(dir, name)
	if err != nil {
		return "", false
	}
	_, blob, ok := parseSidecar(content)
	if !ok || blob == "" || icrec.ValidateBlobKey(blob) != nil || strings.Contains(blob, "/") || sidecarName(blob) != name {
		return "", false
	}
	return blob, true
}

// readSidecar reads the sidecar at rel in dir, no more than a well-formed
// one holds, whatever is there.
func readSidecar(dir *os.Root, rel string) ([]byte, error) {
	f, fi, err := openFile(dir, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sidecar %s is not a plain file but %v", rel, fi.Mode().Type())
	}
	return io.ReadAll(io.LimitReader(f, int64(2*sha256.Size+len("  \n")+maxNameLen)))
}

// parseSidecar parses "<sum>  <name>\n" as placeSidecar writes it, and
// returns the sum and the blob's name. A bare "<sum>", with or without a
// newline, as an operator repairing a blob by hand might write, gives an
// empty name.
func parseSidecar(b []byte) (sum, name string, ok bool) {
	if len(b) < 2*sha256.Size || !isSum(b[:2*sha256.Size]) {
		return "", "", false
	}
	sum, rest := string(b[:2*sha256.Size]), b[2*sha256.Size:]
	rest = bytes.TrimSuffix(rest, []byte("\n"))
	if len(rest) == 0 {
		return sum, "", true
	}
	n, found := bytes.CutPrefix(rest, []byte("  "))
	if !found || len(n) == 0 || bytes.ContainsAny(n, "/\n") {
		return "", "", false
	}
	return sum, string(n), true
}
