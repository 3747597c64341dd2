package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// editDoc is a parsed file for Edit and Get.
type editDoc struct {
	text *text
	root *yaml.Node // a mapping, or nil for an empty document
}

// parseForEdit parses data for Edit and Get. The root must be a mapping or
// empty.
func parseForEdit(data []byte) (*editDoc, error) {
	t := newText(data)
	root, problems := parseYAML("", t)
	if len(problems) > 0 {
		return nil, problemsError(problems)
	}
	root = resolveAlias(root)
	if isNull(root) {
		root = nil
	}
	if root != nil && root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: expected a mapping with the sections api, runner and logging, found %s",
			root.Line, describeKind(root))
	}
	return &editDoc{text: t, root: root}, nil
}

// problemsError joins problems that have no file name into one error.
func problemsError(problems []Problem) error {
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return errors.New(strings.Join(lines, "\n"))
}

// findPair returns the key and value nodes of name in a mapping, or nils
// when it is absent. A name that occurs twice is an error, because it is
// unclear which one to read or change.
func findPair(mapping *yaml.Node, name string) (*yaml.Node, *yaml.Node, error) {
	var keyNode, valueNode *yaml.Node
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		k := resolveAlias(mapping.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode || k.Value != name {
			continue
		}
		if keyNode != nil {
			return nil, nil, fmt.Errorf("line %d: duplicate key %s, first set at line %d; remove one of them",
				k.Line, name, keyNode.Line)
		}
		keyNode, valueNode = k, mapping.Content[i+1]
	}
	return keyNode, valueNode, nil
}

// lookupNode returns the value node of a dotted key, or nil when the key or
// one of its sections is absent or null.
func lookupNode(root *yaml.Node, key string) (*yaml.Node, error) {
	node := root
	for _, name := range strings.Split(key, ".") {
		node = resolveAlias(node)
		if isNull(node) {
			return nil, nil
		}
		if node.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: %s is inside %s, which is not a section", node.Line, key, describeKind(node))
		}
		_, value, err := findPair(node, name)
		if err != nil || value == nil {
			return nil, err
		}
		node = value
	}
	return resolveAlias(node), nil
}

// checkNoDuplicates returns an error for the first mapping key that occurs
// twice anywhere in the tree.
func checkNoDuplicates(n *yaml.Node, depth int) error {
	if n == nil || depth > maxEditDepth {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				continue
			}
			if first, ok := seen[k.Value]; ok {
				return fmt.Errorf("line %d: duplicate key %q, first set at line %d; remove one of them",
					k.Line, k.Value, first)
			}
			seen[k.Value] = k.Line
		}
	}
	for _, child := range n.Content {
		if err := checkNoDuplicates(child, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// maxEditDepth bounds the tree walks of Edit. Aliases are not followed, so
// the tree has no cycles, but a hostile file could still nest deeply.
const maxEditDepth = 100

// flatten lists every scalar in the tree with its path, in document order,
// so that Edit can check that it changed nothing but the requested key.
// Aliases are listed by name and not followed.
func flatten(n *yaml.Node, path string, depth int, out *[]string) {
	if n == nil || depth > maxEditDepth {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			flatten(n.Content[i+1], joinKey(path, k.ShortTag()+":"+k.Value), depth+1, out)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			flatten(item, path+"["+strconv.Itoa(i)+"]", depth+1, out)
		}
	case yaml.AliasNode:
		*out = append(*out, path+"\x00alias\x00"+n.Value)
	default:
		*out = append(*out, path+"\x00"+n.ShortTag()+"\x00"+n.Value+"\x00"+n.Anchor)
	}
}
