package builder

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// debInput is the set of inputs of one .deb.
type debInput struct {
	pkg      Package
	version  string
	arch     string
	agent    string // path of the agent binary for arch
	repoRoot string
	mtime    time.Time
	// generatedDir holds the gzipped changelog and man page.
	generatedDir string
}

// DebFileName returns the conventional name of the package file.
func DebFileName(name, version, arch string) string {
	return fmt.Sprintf("%s_%s_%s.deb", name, version, arch)
}

// writeGeneratedDocs writes the gzipped changelog and man page into dir.
func writeGeneratedDocs(repoRoot, dir, version string, mtime time.Time) error {
	changelog, err := os.ReadFile(filepath.Join(repoRoot, "debian/changelog"))
	if err != nil {
		return err
	}
	changelog, err = changelogFor(changelog, version, mtime)
	if err != nil {
		return fmt.Errorf("debian/changelog: %w", err)
	}
	manPage, err := os.ReadFile(filepath.Join(repoRoot, "debian/circleci-launch-agent.8"))
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		GeneratedChangelog: changelog,
		GeneratedManPage:   manPage,
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), gzipBytes(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// gzipBytes compresses data with no name and no time in the gzip header,
// as gzip -n does, so the output depends on data alone.
func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// nfpmInfo translates the package description into nfpm's.
func nfpmInfo(in debInput) (*nfpm.Info, error) {
	source := func(path string) string { return filepath.Join(in.repoRoot, path) }
	var contents files.Contents
	for _, file := range in.pkg.Files {
		src := file.Source
		switch {
		case file.Generated == GeneratedAgent:
			src = in.agent
		case file.Generated != "":
			src = filepath.Join(in.generatedDir, file.Generated+".gz")
		case file.Type != "symlink":
			src = source(src)
		}
		content := &files.Content{
			Source:      src,
			Destination: file.Destination,
			Type:        file.Type,
			FileInfo: &files.ContentFileInfo{
				Owner: "root",
				Group: "root",
				Mode:  file.Mode,
				MTime: in.mtime,
			},
		}
		contents = append(contents, content)
	}

	info := &nfpm.Info{
		Name:          in.pkg.Name,
		Arch:          in.arch,
		Platform:      "linux",
		Version:       in.version,
		VersionSchema: "none",
		Section:       in.pkg.Section,
		Priority:      in.pkg.Priority,
		Maintainer:    in.pkg.Maintainer,
		Description:   in.pkg.Description,
		Homepage:      in.pkg.Homepage,
		License:       in.pkg.License,
		MTime:         in.mtime,
		Overridables: nfpm.Overridables{
			Depends:  in.pkg.Depends,
			Contents: contents,
			Umask:    0o022,
			Scripts: nfpm.Scripts{
				PostInstall: source(in.pkg.PostInstall),
				PreRemove:   source(in.pkg.PreRemove),
				PostRemove:  source(in.pkg.PostRemove),
			},
			Deb: nfpm.Deb{
				Compression: "gzip",
				Scripts: nfpm.DebScripts{
					Config:    source(in.pkg.Config),
					Templates: source(in.pkg.Templates),
				},
			},
		},
	}
	return nfpm.WithDefaults(info), nil
}

// writeDeb makes the .deb for one architecture at path.
func writeDeb(in debInput, path string) error {
	info, err := nfpmInfo(in)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := deb.Default.Package(info, &b); err != nil {
		return fmt.Errorf("package %s for %s: %w", in.pkg.Name, in.arch, err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
