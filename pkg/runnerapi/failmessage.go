package runnerapi

import (
	"encoding/base64"
	"strings"
)

// EncodeFailMessage returns the message field of a fail event for text. The
// characters < > & ' " are removed and invalid UTF-8 becomes U+FFFD. The
// runner API reads the field as a byte field, which JSON carries as base64,
// so the UTF-8 bytes are encoded in standard, padded base64.
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
