package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"

	"example.com/icrec"
)

// randomSecret returns n random bytes from crypto/rand, base64url-encoded.
func randomSecret(n int) (icrec.Secret, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return icrec.Secret(base64.RawURLEncoding.EncodeToString(b)), nil
}

// randomGUIDSecret returns 128 random bits shaped as a lower-case GUID, the
// shape of the cookie secret real ICWS servers send. All 128 bits are random:
// this is not a version-4 UUID, which would carry only 122.
func randomGUIDSecret() (icrec.Secret, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	h := hex.EncodeToString(b[:])
	return icrec.Secret(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]), nil
}

// sessionIDSpace makes session ids ten-digit numbers, like those of real
// ICWS servers; some clients store them as numbers.
var sessionIDSpace = big.NewInt(9_000_000_000)

func randomSessionID() (string, error) {
	n, err := rand.Int(rand.Reader, sessionIDSpace)
	if err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return n.Add(n, big.NewInt(1_000_000_000)).String(), nil
}

// hashSecret returns the SHA-256 of a high-entropy secret. A slow hash would
// add nothing: 128 random bits cannot be guessed either way.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
