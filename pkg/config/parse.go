package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// parseYAML parses one YAML document from t. It returns the root node, or nil
// for a document with no content, and the syntax problems, each located in
// path. A file with several documents is a problem, because the agent would
// silently ignore all but the first.
func parseYAML(path string, t *text) (*yaml.Node, []Problem) {
	if p, ok := checkCharacters(path, t); !ok {
		return nil, []Problem{p}
	}

	decoder := yaml.NewDecoder(bytes.NewReader(t.data))
	var doc yaml.Node
	switch err := decodeSafely(decoder, &doc); {
	case errors.Is(err, io.EOF):
		return nil, nil // no document at all: an empty file or only comments
	case err != nil:
		return nil, syntaxProblems(path, t, err)
	}

	var next yaml.Node
	switch err := decodeSafely(decoder, &next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxProblems(path, t, err)
	default:
		return nil, []Problem{{File: path, Line: next.Line, Column: next.Column,
			Message: "a second YAML document starts here; keep the whole configuration in one document"}}
	}

	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// decodeSafely turns a panic inside the YAML parser into an error, so that a
// malformed file is reported instead of stopping the agent.
func decodeSafely(decoder *yaml.Decoder, node *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed on this file (%v)", r)
		}
	}()
	return decoder.Decode(node)
}

// checkCharacters returns a problem for the first byte that is not valid
// UTF-8 or is a control character that YAML does not allow. The YAML parser
// rejects both without naming a line.
func checkCharacters(path string, t *text) (Problem, bool) {
	for i := 0; i < len(t.data); {
		r, size := utf8.DecodeRune(t.data[i:])
		message := ""
		switch {
		case r == utf8.RuneError && size == 1:
			message = fmt.Sprintf("invalid UTF-8 byte 0x%02x; save the file as UTF-8", t.data[i])
		case !yamlPrintable(r):
			message = fmt.Sprintf("control character %U is not allowed in YAML; remove it", r)
		}
		if message != "" {
			line, column := t.position(i)
			return Problem{File: path, Line: line, Column: column, Message: message}, false
		}
		i += size
	}
	return Problem{}, true
}

// yamlPrintable reports whether YAML 1.2 allows r in a file: tab, the line
// breaks, and printable characters.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r < 0x20 || r == 0x7f:
		return false
	case r >= 0x80 && r < 0xa0:
		return false
	case r >= 0xd800 && r < 0xe000, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}

var (
	yamlErrorLine     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlUnknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlParserProblems are the errors of libyaml's parser, as opposed to its
// scanner. yaml.v3 reports their line 0-based, and often at the start of the
// list or mapping being parsed rather than at the mistake.
// NOTE: observed with yaml.v3 v3.0.1. A version that numbers these lines
// from 1 would make the reported line one too high.
var yamlParserProblems = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
	"found undefined tag handle",
}

// syntaxProblems explains a YAML parser error. Tabs in the indentation get
// their own message with line and column, because the parser only reports
// "found character that cannot start any token".
func syntaxProblems(path string, t *text, err error) []Problem {
	if tabs := tabProblems(path, t); len(tabs) > 0 {
		return tabs
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(err.Error()); m != nil {
		return []Problem{unknownAnchorProblem(path, t, m[1])}
	}

	message := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0 // yaml.v3 leaves out a line number of 0
	if m := yamlErrorLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		message = m[2]
	}

	fix := "check the indentation and quoting on this line"
	if slices.Contains(yamlParserProblems, message) {
		line++
		fix = "check the indentation, brackets and quoting from this line on"
	}
	line = min(max(line, 1), t.lineCount())
	return []Problem{{File: path, Line: line, Message: "invalid YAML: " + message + "; " + fix}}
}

// unknownAnchorProblem locates the first alias *name, which the parser
// reports without a line.
func unknownAnchorProblem(path string, t *text, name string) Problem {
	p := Problem{File: path, Line: 1, Message: fmt.Sprintf(
		"invalid YAML: alias *%s refers to no anchor &%s above it; define the anchor first or remove the alias", name, name)}
	if i := bytes.Index(t.data, []byte("*"+name)); i >= 0 {
		p.Line, p.Column = t.position(i)
	}
	return p
}

// tabProblems returns a problem for every line whose indentation contains a
// tab. Lines with only whitespace are skipped, since YAML ignores them.
func tabProblems(path string, t *text) []Problem {
	var problems []Problem
	for line := 1; line <= t.lineCount(); line++ {
		content := t.data[t.lineStart(line):t.lineEnd(line)]
		indent := len(content) - len(bytes.TrimLeft(content, " \t"))
		if indent == len(content) {
			continue
		}
		if tab := bytes.IndexByte(content[:indent], '\t'); tab >= 0 {
			problems = append(problems, Problem{File: path, Line: line, Column: tab + 1,
				Message: "a tab indents this line, but YAML allows only spaces; replace the tab with spaces"})
		}
	}
	return problems
}

// unmarshalNode parses a short YAML text, such as an environment value, into
// its document node.
func unmarshalNode(data []byte) (doc *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed on this text (%v)", r)
		}
	}()
	doc = &yaml.Node{}
	return doc, yaml.Unmarshal(data, doc)
}
