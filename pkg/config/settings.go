package config

import (
	"strconv"
	"strings"
	"time"
)

// maskVisible is how many trailing characters Mask shows. Tokens shorter
// than maskMinLength are masked completely, so that at least two thirds of
// the token stay hidden.
const (
	maskVisible   = 4
	maskMinLength = 12
)

// Mask returns a token with all but its last four characters replaced by a
// fixed "****", enough to tell tokens apart in a log. Tokens shorter than 12
// characters become "****", and the empty token stays "", so that an unset
// token is visible as such.
func Mask(token string) string {
	runes := []rune(token)
	switch {
	case len(runes) == 0:
		return ""
	case len(runes) < maskMinLength:
		return "****"
	default:
		return "****" + string(runes[len(runes)-maskVisible:])
	}
}

// Setting is one key of the effective configuration, for the startup log.
type Setting struct {
	Key    string // dotted key
	Value  string // display form; secrets are masked
	Source string // "default", "FILE:LINE:COL" or "environment NAME"
}

// Settings returns every key in a fixed order with its display value and
// source. Lists are shown as YAML flow lists, durations in Go's format and
// the token masked.
func (c *Config) Settings() []Setting {
	settings := make([]Setting, 0, len(keySpecs))
	for _, spec := range keySpecs {
		value := displayValue(c.field(spec.key))
		if spec.secret {
			value = Mask(value)
		}
		settings = append(settings, Setting{Key: spec.key, Value: value, Source: c.Sources[spec.key].String()})
	}
	return settings
}

func displayValue(field any) string {
	switch p := field.(type) {
	case *string:
		return *p
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return p.String()
	case *[]string:
		return flowList(*p)
	}
	return ""
}

// flowList renders a list as a YAML flow list of double-quoted strings:
// ["/opt/circleci/launch-task", "--flag"].
func flowList(items []string) string {
	quoted := make([]string, len(items))
	for i, item := range items {
		quoted[i] = doubleQuote(item)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
