package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Get returns the value of a dotted key as written in the YAML text of a
// config file, without defaults or the environment. A list is returned as a
// YAML flow list of double-quoted strings. ok is false when the key is
// absent or has no value. A key that is a section, or that occurs twice, is
// an error.
func Get(data []byte, key string) (value string, ok bool, err error) {
	doc, err := parseForEdit(data)
	if err != nil {
		return "", false, err
	}
	n, err := lookupNode(doc.root, key)
	if err != nil || isNull(n) {
		return "", false, err
	}

	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, true, nil
	case yaml.SequenceNode:
		items := make([]string, len(n.Content))
		for i, item := range n.Content {
			item = resolveAlias(item)
			if item == nil || item.Kind != yaml.ScalarNode {
				return "", false, fmt.Errorf("line %d: item %d of %s is %s, not a string", n.Line, i+1, key, describeKind(item))
			}
			items[i] = item.Value
		}
		return flowList(items), true, nil
	default:
		return "", false, fmt.Errorf("line %d: %s is a section, not a value", n.Line, key)
	}
}

// ParseChange parses a "KEY=VALUE" argument into a Change. VALUE is read as
// an environment variable of the key would be. A boolean is true or false,
// a duration is a Go duration, and a list is a YAML flow list or words
// separated by whitespace. A duration stays text in the Change.
func ParseChange(argument string) (Change, error) {
	key, text, ok := strings.Cut(argument, "=")
	if !ok {
		return Change{}, fmt.Errorf("%q is not KEY=VALUE; write it such as runner.name=my-runner", argument)
	}
	if err := CheckKey(key); err != nil {
		return Change{}, err
	}

	spec, _ := lookupSpec(key)
	value, problems := convertText(spec, text, Source{})
	if len(problems) > 0 {
		return Change{}, fmt.Errorf("%s: %s", key, problems[0].Message)
	}
	if spec.kind == kindDuration {
		value = text
	}
	return Change{Key: key, Value: value}, nil
}

// verifyEdit parses the edited text and checks that the key has the new value
// and that every other scalar is unchanged.
func verifyEdit(out []byte, change Change, before []string) error {
	doc, err := parseForEdit(out)
	if err != nil {
		return fmt.Errorf("the edited file would not parse (%v); edit the file by hand", err)
	}
	if err := checkNoDuplicates(doc.root, 0); err != nil {
		return fmt.Errorf("the edited file would have a duplicate key (%v); edit the file by hand", err)
	}
	n, err := lookupNode(doc.root, change.Key)
	if err != nil || !nodeMatches(n, change.Value) {
		return fmt.Errorf("the edited file would not contain the new value; edit the file by hand")
	}

	var after []string
	flatten(doc.root, "", 0, &after)
	path := flatPath(change.Key)
	if !slices.Equal(withoutPath(before, path), withoutPath(after, path)) {
		return fmt.Errorf("the edit would change other keys; edit the file by hand")
	}
	return nil
}

// nodeMatches reports whether a node holds exactly the value of a Change.
func nodeMatches(n *yaml.Node, value any) bool {
	if n == nil {
		return false
	}
	switch v := value.(type) {
	case bool:
		return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && n.Value == strconv.FormatBool(v)
	case string:
		return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == v
	case []string:
		if n.Kind != yaml.SequenceNode || len(n.Content) != len(v) {
			return false
		}
		for i, item := range n.Content {
			if !nodeMatches(item, v[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// flatPath returns a dotted key in the path form that flatten uses.
func flatPath(key string) string {
	names := strings.Split(key, ".")
	for i, name := range names {
		names[i] = "!!str:" + name
	}
	return strings.Join(names, ".")
}

// withoutPath drops the entries of a key, of its list items and of its
// sections, which may change from empty to a mapping.
func withoutPath(entries []string, path string) []string {
	var remaining []string
	for _, entry := range entries {
		p, _, _ := strings.Cut(entry, "\x00")
		if p == path || strings.HasPrefix(p, path+"[") || strings.HasPrefix(p, path+".") ||
			strings.HasPrefix(path, p+".") {
			continue
		}
		remaining = append(remaining, entry)
	}
	return remaining
}

// Has reports whether a dotted key has a value in the YAML text of a config
// file that is neither empty nor only whitespace. An empty list counts as no
// value. Like Get, it ignores defaults and the environment.
func Has(data []byte, key string) (bool, error) {
	doc, err := parseForEdit(data)
	if err != nil {
		return false, err
	}
	n, err := lookupNode(doc.root, key)
	if err != nil || isNull(n) {
		return false, err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return strings.TrimSpace(n.Value) != "", nil
	case yaml.SequenceNode:
		return len(n.Content) > 0, nil
	default:
		return false, fmt.Errorf("line %d: %s is a section, not a value", n.Line, key)
	}
}
