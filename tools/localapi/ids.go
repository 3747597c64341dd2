package localapi

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// newUUID returns a random version 4 UUID, the form of CircleCI's task and
// workflow ids.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newToken returns a random task token of 256 bits.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// MaskToken returns the token's last four characters behind asterisks, so
// logs can tell tokens apart without revealing them. Tokens shorter than 12
// characters are masked completely, because four characters of them would
// reveal too much.
func MaskToken(token string) string {
	if token == "" {
		return ""
	}
	if len(token) < 12 {
		return "****"
	}
	return "****" + token[len(token)-4:]
}
