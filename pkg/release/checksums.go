package release

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// sumLength is the length of a SHA-256 digest in hexadecimal.
const sumLength = 64

// maxLineBytes bounds one line of checksums.txt. A line is a digest and a
// relative path, so 64 KiB leaves room for any path a release contains.
const maxLineBytes = 64 << 10

// Entry is one line of checksums.txt: the SHA-256 digest of the file at Path,
// in lowercase hexadecimal. Path is relative to the folder of checksums.txt
// and uses "/" as separator, such as "linux/amd64/circleci-agent".
type Entry struct {
	Sum  string
	Path string
}

// Checksums is a parsed checksums.txt. The zero value contains no entries.
type Checksums struct {
	sums map[string]string
}

// ParseError reports a malformed line of checksums.txt.
type ParseError struct {
	Line    int    // 1-based line number
	Message string // what is wrong with the line
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("checksums.txt line %d: %s", e.Line, e.Message)
}

// Parse reads checksums.txt. It accepts the lines that sha256sum --check
// accepts: "DIGEST *PATH" (binary mode), "DIGEST  PATH" (text mode), the BSD
// form "SHA256 (PATH) = DIGEST", and a leading backslash that marks a path escaped
// with \\, \n and \r. Blank lines and lines that start with "#" are skipped,
// and a trailing "\r" is removed from every line. A malformed line or a path
// listed twice is a *ParseError.
func Parse(r io.Reader) (Checksums, error) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 4096), maxLineBytes)

	sums := make(map[string]string)
	for lineNumber := 1; scanner.Scan(); lineNumber++ {
		line := strings.TrimSuffix(scanner.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}

		entry, err := parseLine(line)
		if err != nil {
			return Checksums{}, &ParseError{Line: lineNumber, Message: err.Error()}
		}
		if _, ok := sums[entry.Path]; ok {
			return Checksums{}, &ParseError{Line: lineNumber, Message: fmt.Sprintf("path %q is listed twice", entry.Path)}
		}
		sums[entry.Path] = entry.Sum
	}

	if err := scanner.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Checksums{}, fmt.Errorf("checksums.txt: a line is longer than %d bytes", maxLineBytes)
		}
		return Checksums{}, fmt.Errorf("read checksums.txt: %w", err)
	}
	return Checksums{sums: sums}, nil
}

// Lookup returns the digest listed for path, in lowercase hexadecimal. The
// path must match the listed one exactly: "./linux/amd64/x" does not match
// "linux/amd64/x".
func (c Checksums) Lookup(path string) (sum string, ok bool) {
	sum, ok = c.sums[path]
	return sum, ok
}

// Entries returns every entry, sorted by path.
func (c Checksums) Entries() []Entry {
	entries := make([]Entry, 0, len(c.sums))
	for path, sum := range c.sums {
		entries = append(entries, Entry{Sum: sum, Path: path})
	}

	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries
}

// Len returns the number of entries.
func (c Checksums) Len() int {
	return len(c.sums)
}
