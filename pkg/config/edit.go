package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Change sets one key for Edit. Value is a string for string and duration
// keys, a bool for boolean keys and a []string for runner.command_prefix.
type Change struct {
	Key   string
	Value any
}

// Edit applies changes to the YAML text of a config file in place, for the
// Debian maintainer scripts. An existing key gets its value rewritten within
// the value's own span, so comments, other keys, order, indentation, line
// endings and, where possible, the quoting style stay as they were. A
// missing key is added at the end of its section with the file's
// indentation, and a missing section at the end of the file.
//
// Edit rejects data that does not parse or that has a duplicate key, unknown
// keys, and values of the wrong Go type. It parses its own result and
// returns an error rather than a file in which anything but the requested
// keys changed. Errors never contain the new values, which may be secrets.
func Edit(data []byte, changes []Change) ([]byte, error) {
	doc, err := parseForEdit(data)
	if err != nil {
		return nil, err
	}
	if err := checkNoDuplicates(doc.root, 0); err != nil {
		return nil, err
	}
	for _, change := range changes {
		if err := checkChange(change); err != nil {
			return nil, err
		}
		data, err = editKey(data, change)
		if err != nil {
			return nil, fmt.Errorf("cannot set %s: %w", change.Key, err)
		}
	}
	return data, nil
}

// checkChange requires a known key and a valid UTF-8 value of the key's Go
// type.
func checkChange(change Change) error {
	if err := CheckKey(change.Key); err != nil {
		return err
	}
	spec, _ := lookupSpec(change.Key)
	var typeOK, textOK bool
	switch v := change.Value.(type) {
	case string:
		typeOK, textOK = spec.kind == kindString || spec.kind == kindDuration, utf8.ValidString(v)
	case bool:
		typeOK, textOK = spec.kind == kindBool, true
	case []string:
		typeOK = spec.kind == kindList
		textOK = !slices.ContainsFunc(v, func(s string) bool { return !utf8.ValidString(s) })
	}
	switch {
	case !typeOK:
		return fmt.Errorf("cannot set %s: expected a %s value, got a %T", change.Key, spec.kind, change.Value)
	case !textOK:
		return fmt.Errorf("cannot set %s: the value is not valid UTF-8", change.Key)
	}
	return nil
}

// editKey applies one change and checks the result.
func editKey(data []byte, change Change) ([]byte, error) {
	doc, err := parseForEdit(data)
	if err != nil {
		return nil, err
	}
	var before []string
	flatten(doc.root, "", 0, &before)

	edited, err := doc.apply(change)
	if err != nil {
		return nil, err
	}
	out := doc.text.withBOM(edited)
	if err := verifyEdit(out, change, before); err != nil {
		return nil, err
	}
	return out, nil
}

// apply finds the key's place in the tree and rewrites or inserts its value.
func (d *editDoc) apply(change Change) ([]byte, error) {
	names := strings.Split(change.Key, ".")
	if d.root == nil {
		return d.appendSection(names, change.Value), nil
	}

	if d.root.Anchor != "" {
		return nil, fmt.Errorf("line %d: the top level has an anchor (&%s) that aliases may refer to; edit the file by hand",
			d.root.Line, d.root.Anchor)
	}
	parent := d.root
	for i, name := range names {
		keyNode, valueNode, err := findPair(parent, name)
		inFlow := parent.Style&yaml.FlowStyle != 0
		switch {
		case err != nil:
			return nil, err
		case valueNode != nil && valueNode.Anchor != "":
			return nil, fmt.Errorf("line %d: %s has an anchor (&%s) that aliases may refer to; edit the file by hand",
				valueNode.Line, name, valueNode.Anchor)
		case keyNode == nil:
			return d.insertInto(parent, names[i:], change.Value)
		case valueNode.Kind == yaml.AliasNode && i < len(names)-1:
			return nil, fmt.Errorf("line %d: %s is an alias of another section; edit the file by hand", valueNode.Line, name)
		case i == len(names)-1:
			return d.replace(keyNode, valueNode, change.Value, inFlow)
		case isNull(valueNode):
			return d.fillNullSection(keyNode, valueNode, names[i+1:], change.Value)
		case valueNode.Kind != yaml.MappingNode:
			return nil, fmt.Errorf("line %d: %s is %s, not a section; edit the file by hand",
				valueNode.Line, name, describeKind(valueNode))
		}
		parent = valueNode
	}
	return nil, errors.New("empty key")
}

// splice returns the text with [start, end) replaced.
func (d *editDoc) splice(start, end int, replacement string) []byte {
	out := make([]byte, 0, len(d.text.data)+len(replacement))
	out = append(out, d.text.data[:start]...)
	out = append(out, replacement...)
	return append(out, d.text.data[end:]...)
}

// replace rewrites the value of an existing key. inFlow is true when the key
// is inside a flow mapping ({...}).
func (d *editDoc) replace(keyNode, valueNode *yaml.Node, value any, inFlow bool) ([]byte, error) {
	if isImplicitNull(valueNode) {
		colon, err := d.colonAfter(keyNode)
		if err != nil {
			return nil, err
		}
		return d.splice(colon, colon, " "+renderInline(value, 0, inFlow)), nil
	}
	if valueNode.Kind == yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the value is a mapping; edit the file by hand", valueNode.Line)
	}

	start, err := d.nodeStart(valueNode)
	if err != nil {
		return nil, err
	}
	end, err := d.nodeEnd(valueNode, inFlow, 0)
	if err != nil {
		return nil, err
	}
	return d.splice(start, end, d.renderReplacement(valueNode, start, value, inFlow)), nil
}

// renderReplacement keeps a block list a block list and a scalar's quoting
// style where the new value allows it.
func (d *editDoc) renderReplacement(old *yaml.Node, start int, value any, inFlow bool) string {
	items, isList := value.([]string)
	if isList && old.Kind == yaml.SequenceNode && old.Style&yaml.FlowStyle == 0 && len(items) > 0 {
		line, _ := d.text.position(start)
		indent := string(d.text.data[d.text.lineStart(line):start])
		if strings.Trim(indent, " ") == "" {
			return renderBlockItems(items, indent, d.text.lineBreak())
		}
	}
	return renderInline(value, old.Style, inFlow)
}

// colonAfter returns the offset just after the colon that follows a key.
func (d *editDoc) colonAfter(keyNode *yaml.Node) (int, error) {
	start, err := d.nodeStart(keyNode)
	if err != nil {
		return 0, err
	}
	end, err := d.keyEnd(keyNode, start)
	if err != nil {
		return 0, err
	}
	data := d.text.data
	for i := end; i < len(data); i++ {
		switch {
		case data[i] == ':':
			return i + 1, nil
		case !isBlank(data[i]):
			return 0, errSpan
		}
	}
	return 0, errSpan
}

// keyEnd returns the offset after a scalar mapping key.
func (d *editDoc) keyEnd(keyNode *yaml.Node, start int) (int, error) {
	switch {
	case keyNode.Style&yaml.DoubleQuotedStyle != 0:
		return d.doubleQuotedEnd(start)
	case keyNode.Style&yaml.SingleQuotedStyle != 0:
		return d.singleQuotedEnd(start)
	case bytes.HasPrefix(d.text.data[start:], []byte(keyNode.Value)):
		return start + len(keyNode.Value), nil
	}
	return 0, errSpan
}
