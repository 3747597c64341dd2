package pipeline

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a config file, with the position of the YAML node
// it concerns and the dotted path of that node, such as jobs.build.steps[2].
type Error struct {
	File    string
	Line    int
	Column  int
	Path    string
	Message string
}

func (e *Error) Error() string {
	location := fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	if e.Path == "" {
		return location + ": " + e.Message
	}
	return location + ": " + e.Path + ": " + e.Message
}

// Errors is every problem found in one config file, in file order.
type Errors []*Error

func (list Errors) Error() string {
	lines := make([]string, len(list))
	for i, err := range list {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

func (list Errors) sort() {
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Line != list[j].Line {
			return list[i].Line < list[j].Line
		}
		return list[i].Column < list[j].Column
	})
}
