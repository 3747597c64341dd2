package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileValue is one key's value in the file.
type fileValue struct {
	written string     // the dotted key as written, such as api.host
	node    *yaml.Node // the value, with an alias resolved to its anchor
	src     Source     // position of the value in the file
}

// fileTree is the result of walking the file's YAML tree.
type fileTree struct {
	path     string
	values   map[string]fileValue  // by today's dotted key
	sections map[string]*yaml.Node // the key node of each section present
	legacy   map[string]fileValue  // values under old spellings, by today's key
	report   *report
}

// walkFile collects the value of every known key from the root node and
// reports unknown keys, duplicate keys and sections of the wrong shape.
func walkFile(path string, root *yaml.Node, r *report) *fileTree {
	tree := &fileTree{
		path:     path,
		values:   map[string]fileValue{},
		sections: map[string]*yaml.Node{},
		legacy:   map[string]fileValue{},
		report:   r,
	}
	if root == nil {
		return tree
	}

	root = resolveAlias(root)
	if root == nil || root.Kind != yaml.MappingNode {
		if !isNull(root) {
			r.problem(Problem{File: path, Line: root.Line, Column: root.Column, Message: fmt.Sprintf(
				"expected a mapping with the sections api, runner and logging, found %s", describeKind(root))})
		}
		return tree
	}
	tree.walkMapping("", root)
	tree.applyLegacy()
	return tree
}

func (t *fileTree) walkMapping(prefix string, mapping *yaml.Node) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		keyNode := resolveAlias(mapping.Content[i])
		valueNode := mapping.Content[i+1]
		if keyNode == nil || keyNode.Kind != yaml.ScalarNode {
			t.problemAt(mapping.Content[i], prefix, "a key must be a plain name, not "+describeKind(keyNode))
			continue
		}

		name := joinKey(prefix, keyNode.Value)
		if keyNode.Value == "<<" {
			t.problemAt(keyNode, name, "merge keys (<<) are not supported; write the keys out in full")
			continue
		}
		if first, ok := seen[keyNode.Value]; ok {
			t.problemAt(keyNode, name, fmt.Sprintf(
				"duplicate key, first set at line %d; remove one of them", first.Line))
			continue
		}
		seen[keyNode.Value] = keyNode
		t.walkPair(name, keyNode, valueNode)
	}
}

func (t *fileTree) walkPair(name string, keyNode, valueNode *yaml.Node) {
	value := resolveAlias(valueNode)
	src := Source{Kind: SourceFile, Name: t.path, Line: valueNode.Line, Column: valueNode.Column}

	if target, ok := legacyKeys[name]; ok {
		t.legacy[target] = fileValue{written: name, node: value, src: src}
		return
	}
	if _, ok := lookupSpec(name); ok {
		t.values[name] = fileValue{written: name, node: value, src: src}
		return
	}
	if !isSection(name) {
		t.problemAt(keyNode, name, unknownKeyMessage(name))
		return
	}

	t.sections[name] = keyNode
	switch {
	case isNull(value):
		// A section with no value, such as "runner:", holds no keys.
	case value.Kind == yaml.MappingNode:
		t.walkMapping(name, value)
	default:
		t.problemAt(valueNode, name, fmt.Sprintf(
			"expected a section of keys, found %s; indent its keys under %s:", describeKind(value), leaf(name)))
	}
}

// applyLegacy moves values written under old key names to today's keys.
func (t *fileTree) applyLegacy() {
	for target, v := range t.legacy {
		if _, ok := t.values[target]; ok {
			t.report.warn(at(v.src, v.written, fmt.Sprintf(
				"ignored because %s is also set; remove %s", target, v.written)))
			continue
		}
		t.report.warn(at(v.src, v.written, fmt.Sprintf(
			"%s is the old name of %s; rename the key to %s", v.written, target, leaf(target))))
		t.values[target] = v
	}
}

func (t *fileTree) problemAt(node *yaml.Node, key, message string) {
	t.report.problem(Problem{File: t.path, Line: node.Line, Column: node.Column, Key: key, Message: message})
}

// unknownKeyMessage names the closest known key, or lists what the section
// accepts when nothing is close.
func unknownKeyMessage(name string) string {
	if suggestion := closestKey(name); suggestion != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", suggestion)
	}
	parent := section(name)
	members := sectionMembers(parent)
	if len(members) > maxListedMembers {
		return "unknown key; run \"circleci-launch-agent config --help\" for the list of keys"
	}
	where := "the top level"
	if parent != "" {
		where = "the " + parent + " section"
	}
	return fmt.Sprintf("unknown key; %s accepts %s", where, joinWords(members))
}

const maxListedMembers = 6

// joinWords returns "a", "a and b" or "a, b and c".
func joinWords(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// resolveAlias returns the anchored node that an alias refers to, or the node
// itself.
func resolveAlias(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

// isNull reports whether a node is missing or a YAML null: no value at all,
// null or ~.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describeKind names a node's shape for messages without showing its value,
// which may be a secret.
func describeKind(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "no value"
	default:
		return "a single value"
	}
}
