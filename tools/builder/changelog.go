package builder

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ChangelogEntry is the top entry of a Debian changelog.
type ChangelogEntry struct {
	Package    string
	Version    string
	Maintainer string // "NAME <EMAIL>"
	Date       time.Time
}

var (
	changelogHeading = regexp.MustCompile(`^(\S+) \(([^)]+)\) [^;]+; urgency=\S+$`)
	changelogTrailer = regexp.MustCompile(`^ -- (.+ <[^>]+>)  (.+)$`)
)

// ParseChangelog returns the top entry of a changelog in the format of
// deb-changelog(5).
func ParseChangelog(data []byte) (ChangelogEntry, error) {
	var entry ChangelogEntry
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for lineNumber := 1; scanner.Scan(); lineNumber++ {
		line := scanner.Text()
		if entry.Version == "" {
			if strings.TrimSpace(line) == "" {
				continue
			}
			match := changelogHeading.FindStringSubmatch(line)
			if match == nil {
				return entry, fmt.Errorf("changelog line %d: expected \"PACKAGE (VERSION) DISTRIBUTION; urgency=URGENCY\", found %q", lineNumber, line)
			}
			entry.Package, entry.Version = match[1], match[2]
			continue
		}
		if match := changelogTrailer.FindStringSubmatch(line); match != nil {
			date, err := time.Parse(time.RFC1123Z, match[2])
			if err != nil {
				return entry, fmt.Errorf("changelog line %d: invalid date %q, expected the format of date -R: %w", lineNumber, match[2], err)
			}
			entry.Maintainer, entry.Date = match[1], date
			return entry, nil
		}
	}
	if entry.Version == "" {
		return entry, fmt.Errorf("changelog has no entry")
	}
	return entry, fmt.Errorf("changelog entry %s has no \" -- NAME <EMAIL>  DATE\" line", entry.Version)
}

// changelogFor returns the changelog to ship with version. For a version
// other than the top entry's, such as a test build with a version
// override, it adds an entry on top that states this, so that the
// changelog never contradicts the package's version.
func changelogFor(data []byte, version string, date time.Time) ([]byte, error) {
	top, err := ParseChangelog(data)
	if err != nil {
		return nil, err
	}
	if top.Version == version {
		return data, nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s (%s) stable; urgency=medium\n\n", top.Package, version)
	fmt.Fprintf(&b, "  * Build of %s with a version override; the changes are those of %s.\n\n", version, top.Version)
	fmt.Fprintf(&b, " -- %s  %s\n\n", top.Maintainer, date.UTC().Format(time.RFC1123Z))
	b.Write(data)
	return b.Bytes(), nil
}
