package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// insertInto adds the missing names under an existing mapping: at the end of
// a block mapping, with the indentation of its keys, or after the last item
// of a flow mapping.
func (d *editDoc) insertInto(parent *yaml.Node, names []string, value any) ([]byte, error) {
	if parent.Style&yaml.FlowStyle != 0 {
		return d.insertIntoFlow(parent, names, value)
	}
	if len(parent.Content) < 2 {
		return nil, errSpan
	}

	end, err := d.pairEnd(parent.Content[len(parent.Content)-2], parent.Content[len(parent.Content)-1])
	if err != nil {
		return nil, err
	}
	indent := strings.Repeat(" ", parent.Content[0].Column-1)
	at, prefix := d.afterLine(end)
	lines := renderSectionLines(names, value, indent, d.indentUnit(), d.text.lineBreak())
	return d.splice(at, at, prefix+lines), nil
}

// pairEnd returns the offset after a mapping pair's value, or after the colon
// when the value is empty.
func (d *editDoc) pairEnd(keyNode, valueNode *yaml.Node) (int, error) {
	if isImplicitNull(valueNode) {
		return d.colonAfter(keyNode)
	}
	return d.nodeEnd(valueNode, false, 0)
}

// afterLine returns the offset of the line after the one that contains the
// character before end, and the line break to write first when that line is
// the last one and has no line break.
func (d *editDoc) afterLine(end int) (int, string) {
	line, _ := d.text.position(max(end-1, 0))
	if line < d.text.lineCount() {
		return d.text.lineStart(line + 1), ""
	}
	return len(d.text.data), d.text.lineBreak()
}

// insertIntoFlow adds "name: value" after the last item of a flow mapping,
// or inside an empty one.
func (d *editDoc) insertIntoFlow(parent *yaml.Node, names []string, value any) ([]byte, error) {
	start, err := d.nodeStart(parent)
	if err != nil {
		return nil, err
	}
	at, separator := start+1, ""
	if len(parent.Content) > 0 {
		if at, err = d.nodeEnd(parent.Content[len(parent.Content)-1], true, 0); err != nil {
			return nil, err
		}
		separator = ", "
	}
	return d.splice(at, at, separator+renderFlowPairs(names, value)), nil
}

// fillNullSection adds the missing names under a section written with no
// value ("runner:") or a null ("runner: ~"), which it removes.
func (d *editDoc) fillNullSection(keyNode, valueNode *yaml.Node, names []string, value any) ([]byte, error) {
	removeStart, removeEnd := 0, 0
	end, err := d.colonAfter(keyNode)
	if err != nil {
		return nil, err
	}
	if !isImplicitNull(valueNode) {
		if removeEnd, err = d.nodeEnd(valueNode, false, 0); err != nil {
			return nil, err
		}
		removeStart, end = end, removeEnd
	}

	indent := strings.Repeat(" ", keyNode.Column-1+d.indentUnit())
	at, prefix := d.afterLine(end)
	lines := renderSectionLines(names, value, indent, d.indentUnit(), d.text.lineBreak())

	data := d.text.data
	out := make([]byte, 0, len(data)+len(lines)+len(prefix))
	out = append(out, data[:removeStart]...)
	out = append(out, data[removeEnd:at]...)
	out = append(out, prefix+lines...)
	return append(out, data[at:]...), nil
}

// appendSection adds the names at the end of a file that has no content.
func (d *editDoc) appendSection(names []string, value any) []byte {
	data := d.text.data
	prefix := ""
	if len(data) > 0 && lineBreakSize(data[len(data)-1:]) == 0 {
		prefix = d.text.lineBreak()
	}
	lines := renderSectionLines(names, value, "", defaultIndentUnit, d.text.lineBreak())
	return d.splice(len(data), len(data), prefix+lines)
}

const defaultIndentUnit = 2

// indentUnit returns how many spaces the file indents a section's keys, from
// the first block section inside a block mapping, or 2.
func (d *editDoc) indentUnit() int {
	if unit := findIndentUnit(d.root, 0); unit > 0 {
		return unit
	}
	return defaultIndentUnit
}

func findIndentUnit(mapping *yaml.Node, depth int) int {
	if mapping == nil || mapping.Kind != yaml.MappingNode || mapping.Style&yaml.FlowStyle != 0 || depth > maxEditDepth {
		return 0
	}
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		key, value := mapping.Content[i], mapping.Content[i+1]
		if value.Kind != yaml.MappingNode || value.Style&yaml.FlowStyle != 0 || len(value.Content) == 0 {
			continue
		}
		if unit := value.Content[0].Column - key.Column; unit > 0 {
			return unit
		}
		if unit := findIndentUnit(value, depth+1); unit > 0 {
			return unit
		}
	}
	return 0
}

// renderSectionLines writes names as nested block keys, the last with the
// value: "runner:\n  ssh:\n    advertise_addr: host:2222\n".
func renderSectionLines(names []string, value any, indent string, unit int, lineBreak string) string {
	var b strings.Builder
	for i, name := range names {
		b.WriteString(indent + strings.Repeat(" ", unit*i) + name + ":")
		if i == len(names)-1 {
			b.WriteString(" " + renderInline(value, 0, false))
		}
		b.WriteString(lineBreak)
	}
	return b.String()
}

// renderFlowPairs writes names as nested flow mappings: "ssh: {advertise_addr: x}".
func renderFlowPairs(names []string, value any) string {
	if len(names) == 1 {
		return names[0] + ": " + renderInline(value, 0, true)
	}
	return names[0] + ": {" + renderFlowPairs(names[1:], value) + "}"
}
