// Package release reads and writes the files of a release tree:
// checksums.txt, in the format that sha256sum writes and
// sha256sum --check reads, and release.txt, which contains the current
// version. The launch agent reads them to verify task agent downloads, and
// the package builder writes them.
package release

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxVersionBytes bounds a version string. Real versions are a few dozen
// bytes, so anything longer is a wrong file rather than a version.
const maxVersionBytes = 128

// ValidateVersion returns an error unless version is safe to use as one
// path segment of a URL or a file name. A valid version starts with a letter
// or digit and contains only letters, digits and "._+-". It contains no ".."
// and is at most 128 bytes long.
func ValidateVersion(version string) error {
	switch {
	case version == "":
		return errors.New("version is empty")
	case len(version) > maxVersionBytes:
		return fmt.Errorf("version %.20q... is longer than %d bytes", version, maxVersionBytes)
	case !isAlphanumeric(version[0]):
		return fmt.Errorf("version %q must start with a letter or digit", version)
	case strings.Contains(version, ".."):
		return fmt.Errorf("version %q must not contain \"..\"", version)
	}

	for i := 0; i < len(version); i++ {
		c := version[i]
		if !isAlphanumeric(c) && !strings.ContainsRune("._+-", rune(c)) {
			return fmt.Errorf("version %q contains %q; only letters, digits and \"._+-\" are allowed", version, c)
		}
	}
	return nil
}

func isAlphanumeric(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ReadVersion reads release.txt and returns the version it contains. The
// file has exactly one non-empty line. Surrounding white space, a CRLF line
// ending and a missing final newline are accepted.
func ReadVersion(r io.Reader) (string, error) {
	content, err := io.ReadAll(io.LimitReader(r, maxVersionBytes+64))
	if err != nil {
		return "", fmt.Errorf("read release.txt: %w", err)
	}

	version := strings.TrimSpace(string(content))
	if strings.ContainsAny(version, "\r\n") {
		return "", errors.New("release.txt contains more than one line; expected only the version")
	}
	if err := ValidateVersion(version); err != nil {
		return "", fmt.Errorf("release.txt: %w", err)
	}
	return version, nil
}

// WriteVersion writes version as the content of release.txt: the version and
// a newline.
func WriteVersion(w io.Writer, version string) error {
	if err := ValidateVersion(version); err != nil {
		return err
	}

	bw := bufio.NewWriter(w)
	bw.WriteString(version)
	bw.WriteByte('\n')
	return bw.Flush()
}
