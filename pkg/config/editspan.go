package config

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML parser reports where a node starts but not where it ends, so the
// functions below find the end by scanning the text. Edit checks the result
// by parsing it again, so a wrong guess is an error, never a corrupted file.

var errSpan = errors.New("cannot find where the value ends; edit the file by hand")

// nodeStart returns the offset of a node's first character after its tag and
// anchor.
func (d *editDoc) nodeStart(n *yaml.Node) (int, error) {
	start, ok := d.text.offset(n.Line, n.Column)
	if !ok {
		return 0, errSpan
	}
	return d.skipProperties(start), nil
}

// skipProperties skips a tag (!!str) and an anchor (&name) before a value.
func (d *editDoc) skipProperties(i int) int {
	data := d.text.data
	for i < len(data) && (data[i] == '!' || data[i] == '&') {
		for i < len(data) && !isBlank(data[i]) && !isLineBreak(data[i]) {
			i++
		}
		for i < len(data) && isBlank(data[i]) {
			i++
		}
	}
	return i
}

func isBlank(c byte) bool     { return c == ' ' || c == '\t' }
func isLineBreak(c byte) bool { return c == '\n' || c == '\r' }

// isImplicitNull reports whether a node is an empty value, as in "key:".
func isImplicitNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" && n.Style == 0
}

// nodeEnd returns the offset just after a node's last character. inFlow is
// true inside [...] or {...}, where a plain scalar also ends at , ] and }.
func (d *editDoc) nodeEnd(n *yaml.Node, inFlow bool, depth int) (int, error) {
	if depth > maxEditDepth {
		return 0, errSpan
	}
	start, err := d.nodeStart(n)
	if err != nil {
		return 0, err
	}
	switch {
	case n.Kind == yaml.AliasNode:
		return d.aliasEnd(start), nil
	case n.Kind == yaml.ScalarNode:
		return d.scalarEnd(n, start, inFlow)
	case n.Style&yaml.FlowStyle != 0:
		return d.flowEnd(n, start, depth)
	case len(n.Content) == 0:
		return 0, errSpan
	default:
		return d.nodeEnd(n.Content[len(n.Content)-1], false, depth+1)
	}
}

func (d *editDoc) aliasEnd(start int) int {
	data := d.text.data
	i := start + 1
	for i < len(data) && !isBlank(data[i]) && !isLineBreak(data[i]) && !strings.ContainsRune(",[]{}", rune(data[i])) {
		i++
	}
	return i
}

func (d *editDoc) scalarEnd(n *yaml.Node, start int, inFlow bool) (int, error) {
	switch {
	case isImplicitNull(n):
		return start, nil
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return d.doubleQuotedEnd(start)
	case n.Style&yaml.SingleQuotedStyle != 0:
		return d.singleQuotedEnd(start)
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return d.blockScalarEnd(start), nil
	case inFlow:
		return d.flowPlainEnd(n, start)
	default:
		return d.plainEnd(n, start)
	}
}

func (d *editDoc) doubleQuotedEnd(start int) (int, error) {
	data := d.text.data
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errSpan
}

func (d *editDoc) singleQuotedEnd(start int) (int, error) {
	data := d.text.data
	for i := start + 1; i < len(data); i++ {
		if data[i] != '\'' {
			continue
		}
		if i+1 < len(data) && data[i+1] == '\'' {
			i++
			continue
		}
		return i + 1, nil
	}
	return 0, errSpan
}

// blockScalarEnd returns the end of the last non-blank line of a literal (|)
// or folded (>) scalar: the lines after the indicator that are indented
// more than the indicator's line.
func (d *editDoc) blockScalarEnd(start int) int {
	line, _ := d.text.position(start)
	indent := d.lineIndent(line)
	end := d.text.lineEnd(line)
	for next := line + 1; next <= d.text.lineCount(); next++ {
		content := d.lineContent(next)
		if strings.TrimSpace(content) == "" {
			continue
		}
		if d.lineIndent(next) <= indent {
			break
		}
		end = d.text.lineEnd(next)
	}
	return end
}

// plainEnd returns the end of a plain scalar in block context. A plain
// scalar may continue on more indented lines, so lines are taken until their
// folded text equals the parsed value.
func (d *editDoc) plainEnd(n *yaml.Node, start int) (int, error) {
	line, _ := d.text.position(start)
	first := cutComment(string(d.text.data[start:d.text.lineEnd(line)]))
	end := start + len(first)
	if first == n.Value {
		return end, nil
	}

	indent := d.lineIndent(line)
	parts := []string{first}
	for next := line + 1; next <= d.text.lineCount(); next++ {
		content := d.lineContent(next)
		trimmed := strings.TrimSpace(content)
		if trimmed != "" && (d.lineIndent(next) <= indent || strings.HasPrefix(trimmed, "#")) {
			break
		}
		parts = append(parts, strings.TrimSpace(cutComment(content)))
		if trimmed != "" {
			end = d.text.lineStart(next) + len(strings.TrimRight(cutComment(content), " \t"))
		}
		if foldLines(parts) == n.Value {
			return end, nil
		}
	}
	return 0, errSpan
}

// foldLines joins the lines of a multi-line plain scalar as YAML does: one
// line break becomes a space, and each empty line becomes a line break.
func foldLines(parts []string) string {
	var b strings.Builder
	for i, part := range parts {
		switch {
		case i == 0:
		case part == "":
			b.WriteByte('\n')
			continue
		case !strings.HasSuffix(b.String(), "\n"):
			b.WriteByte(' ')
		}
		b.WriteString(part)
	}
	return b.String()
}

// flowPlainEnd returns the end of a plain scalar inside [...] or {...}, which
// this editor supports on one line only.
func (d *editDoc) flowPlainEnd(n *yaml.Node, start int) (int, error) {
	line, _ := d.text.position(start)
	rest := cutComment(string(d.text.data[start:d.text.lineEnd(line)]))
	end := len(rest)
	if i := strings.IndexAny(rest, ",[]{}"); i >= 0 {
		end = i
	}
	if i := strings.Index(rest, ": "); i >= 0 && i < end {
		end = i
	}
	value := strings.TrimRight(rest[:end], " \t")
	if value != n.Value {
		return 0, errSpan
	}
	return start + len(value), nil
}

// flowEnd returns the offset after the closing bracket of a flow list or
// mapping, found after its last item.
func (d *editDoc) flowEnd(n *yaml.Node, start, depth int) (int, error) {
	i := start + 1
	if len(n.Content) > 0 {
		end, err := d.nodeEnd(n.Content[len(n.Content)-1], true, depth+1)
		if err != nil {
			return 0, err
		}
		i = end
	}
	closing := byte(']')
	if n.Kind == yaml.MappingNode {
		closing = '}'
	}

	data := d.text.data
	for i < len(data) {
		switch c := data[i]; {
		case c == closing:
			return i + 1, nil
		case c == '#' && (i == 0 || isBlank(data[i-1]) || isLineBreak(data[i-1])):
			for i < len(data) && !isLineBreak(data[i]) {
				i++
			}
		case isBlank(c) || isLineBreak(c) || c == ',':
			i++
		default:
			return 0, fmt.Errorf("%w: unexpected %q", errSpan, c)
		}
	}
	return 0, errSpan
}

// cutComment returns s up to a comment that starts with " #" or "\t#", with
// trailing blanks removed.
func cutComment(s string) string {
	for i := 1; i < len(s); i++ {
		if s[i] == '#' && isBlank(s[i-1]) {
			s = s[:i]
			break
		}
	}
	return strings.TrimRight(s, " \t")
}

// lineContent returns a 1-based line without its line break.
func (d *editDoc) lineContent(line int) string {
	return string(d.text.data[d.text.lineStart(line):d.text.lineEnd(line)])
}

// lineIndent returns the number of leading spaces of a 1-based line.
func (d *editDoc) lineIndent(line int) int {
	content := d.lineContent(line)
	return len(content) - len(strings.TrimLeft(content, " "))
}
