package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// convertNode converts a file value to the Go type of its key: string, bool,
// time.Duration or []string. It returns the problems instead when the value
// has the wrong type. Callers handle a null value before calling it.
func convertNode(spec keySpec, v fileValue) (any, []Problem) {
	n := v.node
	if spec.kind == kindList {
		return convertListNode(spec.key, v)
	}
	if n.Kind != yaml.ScalarNode {
		return nil, []Problem{at(v.src, spec.key, wrongShapeMessage(spec.kind, n))}
	}
	value, message := convertScalar(spec.kind, n.Value)
	if message != "" {
		return nil, []Problem{at(v.src, spec.key, message)}
	}
	return value, nil
}

// convertText converts a value written as text, as in the environment or on
// the command line, to the Go type of its key.
func convertText(spec keySpec, text string, src Source) (any, []Problem) {
	if spec.kind != kindList {
		value, message := convertScalar(spec.kind, text)
		if message != "" {
			return nil, []Problem{at(src, spec.key, message)}
		}
		return value, nil
	}

	list, message := parseListText(text)
	if message != "" {
		return nil, []Problem{at(src, spec.key, message)}
	}
	return list, nil
}

// convertScalar converts the text of a scalar. The message is "" on success.
func convertScalar(kind valueKind, text string) (any, string) {
	switch kind {
	case kindBool:
		return parseBool(text)
	case kindDuration:
		return parseDuration(text)
	default:
		return text, ""
	}
}

func parseBool(text string) (any, string) {
	switch text {
	case "true", "True", "TRUE":
		return true, ""
	case "false", "False", "FALSE":
		return false, ""
	}
	switch strings.ToLower(text) {
	case "yes", "no", "on", "off", "y", "n":
		return nil, fmt.Sprintf("%q is a YAML 1.1 boolean, which YAML 1.2 reads as text; write true or false", text)
	}
	return nil, fmt.Sprintf("%q is not a boolean; write true or false", text)
}

func wrongShapeMessage(kind valueKind, n *yaml.Node) string {
	found := describeKind(n)
	switch kind {
	case kindBool:
		return "expected true or false, found " + found
	case kindDuration:
		return "expected a duration such as 5m, found " + found
	default:
		return "expected a string, found " + found + `; quote the value if it contains ": " or starts with "{" or "["`
	}
}

// convertListNode converts a YAML list of strings. A single string is
// rejected rather than taken as a one-item list, because a string with spaces
// would be ambiguous.
func convertListNode(key string, v fileValue) (any, []Problem) {
	n := v.node
	switch n.Kind {
	case yaml.SequenceNode:
		return convertItems(key, v.src.Name, n.Content)
	case yaml.ScalarNode:
		return nil, []Problem{at(v.src, key, fmt.Sprintf("%q is a string, but %s is a list; write %s",
			n.Value, leaf(key), flowList(strings.Fields(n.Value))))}
	default:
		return nil, []Problem{at(v.src, key, fmt.Sprintf(
			"expected a list such as [\"/opt/circleci/launch-task\"], found %s", describeKind(n)))}
	}
}

func convertItems(key, path string, items []*yaml.Node) ([]string, []Problem) {
	list := make([]string, 0, len(items))
	var problems []Problem
	for i, item := range items {
		src := Source{Kind: SourceFile, Name: path, Line: item.Line, Column: item.Column}
		if message := itemMessage(i, resolveAlias(item)); message != "" {
			problems = append(problems, at(src, key, message))
			continue
		}
		list = append(list, resolveAlias(item).Value)
	}
	return list, problems
}

// itemMessage returns what is wrong with a list item, or "".
func itemMessage(index int, item *yaml.Node) string {
	switch {
	case isNull(item):
		return fmt.Sprintf("item %d is empty; remove it or write a value", index+1)
	case item.Kind != yaml.ScalarNode:
		return fmt.Sprintf("item %d is %s, but items must be strings; quote it if it contains \": \"",
			index+1, describeKind(item))
	}
	return ""
}

// parseListText parses a list written as text: a YAML flow list when it
// starts with "[", otherwise words separated by whitespace.
func parseListText(text string) ([]string, string) {
	if !strings.HasPrefix(strings.TrimSpace(text), "[") {
		return strings.Fields(text), ""
	}

	doc, err := unmarshalNode([]byte(text))
	if err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Sprintf("%q is not a YAML flow list; write it such as [\"/opt/circleci/launch-task\"]", text)
	}

	items := doc.Content[0].Content
	list := make([]string, 0, len(items))
	for i, item := range items {
		if message := itemMessage(i, resolveAlias(item)); message != "" {
			return nil, message
		}
		list = append(list, resolveAlias(item).Value)
	}
	return list, ""
}
