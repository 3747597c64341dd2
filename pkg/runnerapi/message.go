package runnerapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxMessageBytes bounds StatusError.Message, so an HTML error page from a
// proxy does not flood the log.
const maxMessageBytes = 512

// errorMessage extracts a message from the body of an error response: the
// "message" field of a JSON object, or else the body as text. Control
// characters become spaces, each secret is masked, and the result is cut to
// maxMessageBytes.
func errorMessage(body []byte, secrets []string) string {
	var parsed struct {
		Message *string `json:"message"`
	}
	text := string(body)
	if json.Unmarshal(body, &parsed) == nil && parsed.Message != nil {
		text = *parsed.Message
	}

	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(replaceControl, text)
	text = maskSecrets(text, secrets)
	return truncate(strings.TrimSpace(text), maxMessageBytes)
}

func replaceControl(r rune) rune {
	if unicode.IsControl(r) {
		return ' '
	}
	return r
}

// maskSecrets replaces every occurrence of each secret in text with its
// masked form.
func maskSecrets(text string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, maskToken(secret))
		}
	}
	return text
}

// maskToken returns "****" followed by the last four characters of token,
// enough to tell tokens apart. Tokens shorter than 16 bytes are masked
// completely, because four characters would be a large part of them.
func maskToken(token string) string {
	if len(token) < 16 {
		return "****"
	}
	return "****" + token[len(token)-4:]
}

// truncate cuts text to at most limit bytes at a rune boundary and marks the
// cut with "...".
func truncate(text string, limit int) string {
	if len(text) <= limit {
		return text
	}

	cut := limit - len("...")
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "..."
}

// parseRetryAfter returns the delay that a Retry-After header value
// requests. The value is either a number of seconds or an HTTP date. An invalid
// value or a date in the past returns 0.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}

	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds <= 0 {
			return 0
		}
		// Anything beyond a day is capped by Backoff.Max anyway, and
		// capping here keeps the multiplication from overflowing.
		return time.Duration(min(seconds, 86400)) * time.Second
	}

	date, err := http.ParseTime(value)
	if err != nil || !date.After(now) {
		return 0
	}
	return date.Sub(now)
}
