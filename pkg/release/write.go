package release

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Write writes entries as checksums.txt, one "DIGEST *PATH" line per entry,
// sorted by path. The installation script of the launch agent strips the
// binary-mode marker "*" from the path, so every line has it. A path that
// contains a backslash, newline or carriage return is escaped as sha256sum
// escapes it. Before it writes anything, Write rejects an invalid digest, an
// empty path, a path containing NUL and a path listed twice.
func Write(w io.Writer, entries []Entry) error {
	sorted, err := validateEntries(entries)
	if err != nil {
		return err
	}

	bw := bufio.NewWriter(w)
	for _, entry := range sorted {
		path, escaped := escapePath(entry.Path)
		if escaped {
			bw.WriteByte('\\')
		}
		fmt.Fprintf(bw, "%s *%s\n", entry.Sum, path)
	}
	return bw.Flush()
}

// validateEntries returns a copy of entries with lowercase digests, sorted
// by path.
func validateEntries(entries []Entry) ([]Entry, error) {
	sorted := make([]Entry, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, entry := range entries {
		sum, err := normalizeSum(entry.Sum)
		if err != nil {
			return nil, fmt.Errorf("checksum of %q: %w", entry.Path, err)
		}
		if err := validatePath(entry.Path); err != nil {
			return nil, err
		}
		if seen[entry.Path] {
			return nil, fmt.Errorf("path %q is listed twice", entry.Path)
		}

		seen[entry.Path] = true
		sorted = append(sorted, Entry{Sum: sum, Path: entry.Path})
	}

	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	return sorted, nil
}

func validatePath(path string) error {
	if path == "" {
		return errors.New("checksum entry has an empty path")
	}
	if strings.ContainsRune(path, 0) {
		return fmt.Errorf("path %q contains a NUL byte", path)
	}
	return nil
}

// FileSHA256 returns the SHA-256 digest of the file at path, in lowercase
// hexadecimal.
func FileSHA256(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()

	hash := sha256.New()
	if _, err := io.Copy(hash, file); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(hash.Sum(nil)), nil
}
