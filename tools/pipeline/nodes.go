package pipeline

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parser walks the YAML node tree of one file and collects every error, so
// that one run reports all problems instead of the first.
type parser struct {
	file string
	errs Errors
}

// entry is one key and value of a mapping after aliases and merge keys have
// been resolved.
type entry struct {
	key   string
	keyAt *yaml.Node
	value *yaml.Node
}

func (p *parser) errorf(at *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, &Error{
		File:    p.file,
		Line:    at.Line,
		Column:  at.Column,
		Path:    path,
		Message: fmt.Sprintf(format, args...),
	})
}

func (p *parser) unsupported(at *yaml.Node, path, what string) {
	p.errorf(at, path, "%s is not supported by the local runner API", what)
}

// resolve follows aliases to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// mapping returns the entries of a mapping node in file order. Merge keys
// (`<<: *anchor`) are expanded, and keys written in the mapping itself win
// over merged ones, as YAML's merge key type specifies.
func (p *parser) mapping(n *yaml.Node, path string) ([]entry, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a map, not %s", describe(n))
		return nil, false
	}

	var own, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Tag == "!!merge" {
			merged = append(merged, p.mergeEntries(value, path)...)
			continue
		}
		if first, dup := seen[key.Value]; dup {
			p.errorf(key, path, "key %q is defined twice (first at line %d)", key.Value, first.Line)
			continue
		}
		seen[key.Value] = key
		own = append(own, entry{key: key.Value, keyAt: key, value: value})
	}

	for _, e := range merged {
		if _, dup := seen[e.key]; !dup {
			seen[e.key] = e.keyAt
			own = append(own, e)
		}
	}
	return own, true
}

// mergeEntries returns the entries that a merge key brings in: one mapping
// or a list of mappings, where earlier mappings win.
func (p *parser) mergeEntries(value *yaml.Node, path string) []entry {
	value = resolve(value)
	sources := []*yaml.Node{value}
	if value.Kind == yaml.SequenceNode {
		sources = value.Content
	}

	var out []entry
	seen := map[string]bool{}
	for _, source := range sources {
		entries, ok := p.mapping(source, path)
		if !ok {
			continue
		}
		for _, e := range entries {
			if !seen[e.key] {
				seen[e.key] = true
				out = append(out, e)
			}
		}
	}
	return out
}

func (p *parser) sequence(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "must be a list, not %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

// text returns a scalar as written, so `007` stays "007". Null is rejected.
func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, path, "must be a string, not %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// boolean accepts YAML 1.2 booleans only, so `yes` is an error rather than
// a surprise.
func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, path, "must be true or false, not %s", describe(n))
		return false, false
	}
	value, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		p.errorf(n, path, "must be true or false, not %q", n.Value)
		return false, false
	}
	return value, true
}

// environment reads a map of variable names to scalar values.
func (p *parser) environment(n *yaml.Node, path string) map[string]string {
	entries, ok := p.mapping(n, path)
	if !ok {
		return nil
	}

	env := make(map[string]string, len(entries))
	for _, e := range entries {
		keyPath := joinPath(path, e.key)
		if !validEnvName(e.key) {
			p.errorf(e.keyAt, keyPath, "invalid environment variable name %q: use letters, digits and _, not starting with a digit", e.key)
			continue
		}
		if isNull(e.value) {
			env[e.key] = ""
			continue
		}
		if value, ok := p.text(e.value, keyPath); ok {
			env[e.key] = value
		}
	}
	return env
}

func validEnvName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for _, r := range name {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && r != '_' && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a YAML node of an unexpected kind"
}
