package builder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Suite and Component name the one distribution of the APT repository:
// "deb [signed-by=KEYRING] URL stable main".
const (
	Suite     = "stable"
	Component = "main"
)

// repoPackage is one .deb placed in the repository's pool.
type repoPackage struct {
	arch     string
	control  string // the package's control file
	filename string // path relative to the repository root
	data     []byte
}

// ReadControl returns the control file of a .deb: the ar member
// control.tar.gz (or an uncompressed control.tar) and its ./control entry.
func ReadControl(deb []byte) (string, error) {
	member, name, err := findArMember(deb, "control.tar")
	if err != nil {
		return "", err
	}
	var tarStream io.Reader = bytes.NewReader(member)
	switch name {
	case "control.tar":
	case "control.tar.gz":
		gz, err := gzip.NewReader(tarStream)
		if err != nil {
			return "", err
		}
		tarStream = gz
	default:
		return "", fmt.Errorf("unsupported control member %s", name)
	}
	tr := tar.NewReader(tarStream)
	for {
		header, err := tr.Next()
		if err == io.EOF {
			return "", errors.New("control archive has no ./control")
		}
		if err != nil {
			return "", err
		}
		if path.Clean(header.Name) == "control" {
			control, err := io.ReadAll(tr)
			return string(control), err
		}
	}
}

// findArMember returns the first member of an ar archive whose name starts
// with prefix, and that name.
func findArMember(archive []byte, prefix string) ([]byte, string, error) {
	const magic = "!<arch>\n"
	if !bytes.HasPrefix(archive, []byte(magic)) {
		return nil, "", errors.New("not an ar archive")
	}
	offset := len(magic)
	for offset+60 <= len(archive) {
		header := archive[offset : offset+60]
		name := strings.TrimSuffix(strings.TrimSpace(string(header[0:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(header[48:58])))
		if err != nil || size < 0 || offset+60+size > len(archive) {
			return nil, "", fmt.Errorf("invalid ar member header at offset %d", offset)
		}
		body := archive[offset+60 : offset+60+size]
		if strings.HasPrefix(name, prefix) {
			return body, name, nil
		}
		offset += 60 + size + size%2
	}
	return nil, "", fmt.Errorf("no ar member %s*", prefix)
}

// packagesStanza returns the Packages index entry of p: its control file
// with the pool path, size and digests that apt checks the download against.
func packagesStanza(p repoPackage) string {
	md5sum := md5.Sum(p.data)
	sha1sum := sha1.Sum(p.data)
	sha256sum := sha256.Sum256(p.data)
	var b strings.Builder
	b.WriteString(strings.TrimRight(p.control, "\n"))
	fmt.Fprintf(&b, "\nFilename: %s\n", p.filename)
	fmt.Fprintf(&b, "Size: %d\n", len(p.data))
	fmt.Fprintf(&b, "MD5sum: %s\n", hex.EncodeToString(md5sum[:]))
	fmt.Fprintf(&b, "SHA1: %s\n", hex.EncodeToString(sha1sum[:]))
	fmt.Fprintf(&b, "SHA256: %s\n", hex.EncodeToString(sha256sum[:]))
	return b.String()
}

// writeAPTRepository writes pool/, the Packages indexes for every
// architecture in arches, and the signed Release files under root.
func writeAPTRepository(root string, arches []string, packages []repoPackage, signer *Signer, date time.Time) error {
	for _, p := range packages {
		if err := writeFile(filepath.Join(root, filepath.FromSlash(p.filename)), p.data); err != nil {
			return err
		}
	}

	dist := filepath.Join(root, "dists", Suite)
	indexes := map[string][]byte{}
	for _, arch := range arches {
		var stanzas []string
		for _, p := range packages {
			if p.arch == arch || p.arch == "all" {
				stanzas = append(stanzas, packagesStanza(p))
			}
		}
		sort.Strings(stanzas)
		index := []byte(strings.Join(stanzas, "\n"))
		dir := path.Join(Component, "binary-"+arch)
		indexes[dir+"/Packages"] = index
		indexes[dir+"/Packages.gz"] = gzipBytes(index)
	}
	for name, data := range indexes {
		if err := writeFile(filepath.Join(dist, filepath.FromSlash(name)), data); err != nil {
			return err
		}
	}

	release := releaseFile(arches, indexes, date)
	if err := writeFile(filepath.Join(dist, "Release"), release); err != nil {
		return err
	}
	inRelease, err := signer.ClearSign(release, date)
	if err != nil {
		return fmt.Errorf("sign InRelease: %w", err)
	}
	if err := writeFile(filepath.Join(dist, "InRelease"), inRelease); err != nil {
		return err
	}
	detached, err := signer.DetachSign(release, date)
	if err != nil {
		return fmt.Errorf("sign Release.gpg: %w", err)
	}
	return writeFile(filepath.Join(dist, "Release.gpg"), detached)
}

// releaseFile returns the Release file that lists every index with its
// size and digests, as apt verifies them.
func releaseFile(arches []string, indexes map[string][]byte, date time.Time) []byte {
	names := make([]string, 0, len(indexes))
	for name := range indexes {
		names = append(names, name)
	}
	sort.Strings(names)

	var b bytes.Buffer
	fmt.Fprintf(&b, "Origin: circleci-runner\n")
	fmt.Fprintf(&b, "Label: circleci-runner\n")
	fmt.Fprintf(&b, "Suite: %s\n", Suite)
	fmt.Fprintf(&b, "Codename: %s\n", Suite)
	fmt.Fprintf(&b, "Date: %s\n", date.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC"))
	fmt.Fprintf(&b, "Architectures: %s\n", strings.Join(arches, " "))
	fmt.Fprintf(&b, "Components: %s\n", Component)
	fmt.Fprintf(&b, "Description: CircleCI self-hosted machine runner packages\n")
	digests := []struct {
		field string
		sum   func([]byte) string
	}{
		{"MD5Sum", func(d []byte) string { s := md5.Sum(d); return hex.EncodeToString(s[:]) }},
		{"SHA1", func(d []byte) string { s := sha1.Sum(d); return hex.EncodeToString(s[:]) }},
		{"SHA256", func(d []byte) string { s := sha256.Sum256(d); return hex.EncodeToString(s[:]) }},
	}
	for _, digest := range digests {
		fmt.Fprintf(&b, "%s:\n", digest.field)
		for _, name := range names {
			fmt.Fprintf(&b, " %s %d %s\n", digest.sum(indexes[name]), len(indexes[name]), name)
		}
	}
	return b.Bytes()
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
