package config

import (
	"bytes"
	"sort"
	"unicode/utf8"
)

var byteOrderMark = []byte("\ufeff")

// text is a file's bytes without the UTF-8 byte order mark, with the offset
// at which each line starts. Lines break where the YAML parser breaks them:
// at LF, CR LF, CR, and the Unicode breaks NEL, LS and PS that libyaml also
// accepts.
type text struct {
	data  []byte
	bom   bool
	lines []int
}

func newText(data []byte) *text {
	t := &text{data: data}
	if rest, ok := bytes.CutPrefix(data, byteOrderMark); ok {
		t.data, t.bom = rest, true
	}
	t.lines = []int{0}
	for i := 0; i < len(t.data); {
		size := lineBreakSize(t.data[i:])
		if size == 0 {
			i++
			continue
		}
		i += size
		t.lines = append(t.lines, i)
	}
	return t
}

// lineBreakSize returns the length of the line break at the start of b, or 0.
func lineBreakSize(b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte("\r\n")):
		return 2
	case b[0] == '\n' || b[0] == '\r':
		return 1
	case bytes.HasPrefix(b, []byte("\u0085")):
		return 2
	case bytes.HasPrefix(b, []byte("\u2028")), bytes.HasPrefix(b, []byte("\u2029")):
		return 3
	}
	return 0
}

// lineCount returns the number of lines. A final line break starts an empty
// last line.
func (t *text) lineCount() int {
	return len(t.lines)
}

// lineStart returns the offset of a 1-based line.
func (t *text) lineStart(line int) int {
	return t.lines[line-1]
}

// lineEnd returns the offset of the line break that ends a 1-based line, or
// the end of the data.
func (t *text) lineEnd(line int) int {
	if line >= len(t.lines) {
		return len(t.data)
	}
	return t.breakStart(t.lines[line-1], t.lines[line])
}

// breakStart returns the offset of the line break that ends at next.
func (t *text) breakStart(start, next int) int {
	for i := start; i < next; {
		if size := lineBreakSize(t.data[i:]); size > 0 && i+size == next {
			return i
		}
		_, size := utf8.DecodeRune(t.data[i:])
		i += size
	}
	return next
}

// offset converts a 1-based line and a 1-based column in characters, as the
// YAML parser reports them, to a byte offset. It returns false when the
// position is outside the data.
func (t *text) offset(line, column int) (int, bool) {
	if line < 1 || line > len(t.lines) || column < 1 {
		return 0, false
	}
	i := t.lines[line-1]
	for c := 1; c < column; c++ {
		if i >= len(t.data) {
			return 0, false
		}
		_, size := utf8.DecodeRune(t.data[i:])
		i += size
	}
	return i, true
}

// position converts a byte offset to a 1-based line and column in characters.
func (t *text) position(offset int) (line, column int) {
	line = sort.Search(len(t.lines), func(i int) bool { return t.lines[i] > offset })
	column = 1 + utf8.RuneCount(t.data[t.lines[line-1]:offset])
	return line, column
}

// lineBreak returns the line break that the file uses, CR LF or LF.
func (t *text) lineBreak() string {
	if bytes.Contains(t.data, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// withBOM returns data with the byte order mark put back if the file had one.
func (t *text) withBOM(data []byte) []byte {
	if !t.bom {
		return data
	}
	return append(append([]byte{}, byteOrderMark...), data...)
}
