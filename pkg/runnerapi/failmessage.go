package runnerapi

import (
	"encoding/base64"
	"strings"
)

// EncodeFailMessage returns the message field of a fail event for text. The
// characters < > & ' " are removed first, invalid UTF-8 becomes U+FFFD, and
// the UTF-8 bytes are encoded in standard, padded base64, because the runner
// API reads the field as bytes in the way CircleCI's own task agent sends it.
func EncodeFailMessage(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(dropMarkup, text)
	return base64.StdEncoding.EncodeToString([]byte(text))
}

func dropMarkup(r rune) rune {
	if strings.ContainsRune(`<>&'"`, r) {
		return -1
	}
	return r
}
