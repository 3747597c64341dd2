package release

import (
	"errors"
	"fmt"
	"strings"
)

// parseLine parses one non-blank, non-comment line of checksums.txt.
func parseLine(line string) (Entry, error) {
	escaped := strings.HasPrefix(line, "\\")
	if escaped {
		line = line[1:]
	}

	var entry Entry
	var err error
	if strings.HasPrefix(line, "SHA256 (") {
		entry, err = parseBSDLine(line)
	} else {
		entry, err = parseGNULine(line)
	}
	if err != nil {
		return Entry{}, err
	}

	if escaped {
		entry.Path, err = unescapePath(entry.Path)
		if err != nil {
			return Entry{}, err
		}
	}
	if entry.Path == "" {
		return Entry{}, errors.New("the path is empty")
	}
	return entry, nil
}

// parseGNULine parses "DIGEST *PATH" or "DIGEST  PATH".
func parseGNULine(line string) (Entry, error) {
	if len(line) < sumLength+2 || line[sumLength] != ' ' {
		return Entry{}, errors.New(`expected "DIGEST *PATH" or "DIGEST  PATH", where DIGEST is 64 hexadecimal digits`)
	}

	sum, err := normalizeSum(line[:sumLength])
	if err != nil {
		return Entry{}, err
	}

	marker := line[sumLength+1]
	if marker != '*' && marker != ' ' {
		return Entry{}, fmt.Errorf(`expected "*" or " " after the digest, found %q`, marker)
	}
	return Entry{Sum: sum, Path: line[sumLength+2:]}, nil
}

// parseBSDLine parses "SHA256 (PATH) = DIGEST", as sha256sum --tag writes it.
func parseBSDLine(line string) (Entry, error) {
	rest := strings.TrimPrefix(line, "SHA256 (")
	separator := strings.LastIndex(rest, ") = ")
	if separator < 0 {
		return Entry{}, errors.New(`expected "SHA256 (PATH) = DIGEST"`)
	}

	sum, err := normalizeSum(rest[separator+len(") = "):])
	if err != nil {
		return Entry{}, err
	}
	return Entry{Sum: sum, Path: rest[:separator]}, nil
}

// normalizeSum checks that sum is a SHA-256 digest in hexadecimal and
// returns it in lowercase.
func normalizeSum(sum string) (string, error) {
	if len(sum) != sumLength {
		return "", fmt.Errorf("digest %q has %d characters; a SHA-256 digest has %d hexadecimal digits", sum, len(sum), sumLength)
	}

	for i := 0; i < len(sum); i++ {
		if !isHexDigit(sum[i]) {
			return "", fmt.Errorf("digest %q contains %q, which is not a hexadecimal digit", sum, sum[i])
		}
	}
	return strings.ToLower(sum), nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unescapePath reverses the escaping that sha256sum applies to a path that
// contains a backslash, a newline or a carriage return.
func unescapePath(path string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] != '\\' {
			b.WriteByte(path[i])
			continue
		}

		i++
		if i == len(path) {
			return "", errors.New("the escaped path ends with a lone backslash")
		}
		switch path[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf(`the escaped path contains "\%c"; only \\, \n and \r are valid`, path[i])
		}
	}
	return b.String(), nil
}

// escapePath escapes path as sha256sum does and reports whether it changed
// the path.
func escapePath(path string) (string, bool) {
	if !strings.ContainsAny(path, "\\\n\r") {
		return path, false
	}

	replacer := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
	return replacer.Replace(path), true
}
