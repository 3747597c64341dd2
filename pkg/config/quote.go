package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// doubleQuote returns s as a YAML double-quoted scalar. It escapes the
// backslash, the double quote and characters that YAML does not allow
// unescaped, and keeps other Unicode characters as they are.
func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff || !yamlPrintable(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func escapeRune(r rune) string {
	switch {
	case r <= 0xff:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	default:
		return fmt.Sprintf(`\U%08x`, r)
	}
}

// singleQuote returns s as a YAML single-quoted scalar, or false when s has
// characters that only a double-quoted scalar can carry.
func singleQuote(s string) (string, bool) {
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' || r == 0x85 || r == 0x2028 || r == 0x2029 || !yamlPrintable(r) {
			return "", false
		}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", true
}

// yaml11Words are plain scalars that YAML 1.1 readers, such as PyYAML and
// older tools, take as booleans or null although YAML 1.2 reads them as text.
var yaml11Words = []string{"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}

// plainSafe reports whether s can be written as a plain scalar in block
// context and read back as the same string by YAML 1.1 and 1.2 readers, so
// that 007, true, 1e100, "a: b", "#x" and "" get quotes.
func plainSafe(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || !utf8.ValidString(s) {
		return false
	}
	if slices.Contains(yaml11Words, strings.ToLower(s)) {
		return false
	}
	if strings.ContainsRune("-?:,[]{}#&*!|>'\"%@`", rune(s[0])) {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff || unicode.IsControl(r) || !yamlPrintable(r)
	}) {
		return false
	}
	return readsAsString(s)
}

// readsAsString reports whether the YAML parser reads s, alone as a plain
// scalar, as the string s. This rejects numbers, timestamps and the like.
func readsAsString(s string) bool {
	doc, err := unmarshalNode([]byte(s))
	if err != nil || len(doc.Content) != 1 {
		return false
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Style == 0 && n.ShortTag() == "!!str" && n.Value == s
}

// renderInline writes a Change value on one line: a bool as true or false, a
// list as a flow list, and a string as a scalar. A string keeps the quoting
// style of the value it replaces (0 for a new one) unless that style cannot
// carry it. inFlow is true inside [...] or {...}, where a plain scalar must
// not contain , [ ] { }.
func renderInline(value any, style yaml.Style, inFlow bool) string {
	switch v := value.(type) {
	case bool:
		return strconv.FormatBool(v)
	case []string:
		return flowList(v)
	case string:
		return renderString(v, style, inFlow)
	}
	return ""
}

func renderString(s string, style yaml.Style, inFlow bool) string {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return doubleQuote(s)
	case style&yaml.SingleQuotedStyle != 0:
		if quoted, ok := singleQuote(s); ok {
			return quoted
		}
		return doubleQuote(s)
	case plainSafe(s) && !(inFlow && strings.ContainsAny(s, ",[]{}")):
		return s
	default:
		return doubleQuote(s)
	}
}

// renderBlockItems writes a block list that starts where the old one
// started: the first "- " needs no indentation, the others get indent.
func renderBlockItems(items []string, indent, lineBreak string) string {
	lines := make([]string, len(items))
	for i, item := range items {
		lines[i] = "- " + renderString(item, 0, false)
	}
	return strings.Join(lines, lineBreak+indent)
}
