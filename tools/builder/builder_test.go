package builder

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// goreleaserConfig is the part of .goreleaser.yaml that describes the
// package.
type goreleaserConfig struct {
	Builds []struct {
		ID     string   `yaml:"id"`
		Main   string   `yaml:"main"`
		Binary string   `yaml:"binary"`
		Env    []string `yaml:"env"`
		Goarch []string `yaml:"goarch"`
	} `yaml:"builds"`
	NFPMs []struct {
		PackageName  string   `yaml:"package_name"`
		Formats      []string `yaml:"formats"`
		Bindir       string   `yaml:"bindir"`
		Maintainer   string   `yaml:"maintainer"`
		Description  string   `yaml:"description"`
		Homepage     string   `yaml:"homepage"`
		License      string   `yaml:"license"`
		Section      string   `yaml:"section"`
		Priority     string   `yaml:"priority"`
		Dependencies []string `yaml:"dependencies"`
		Contents     []struct {
			Src      string `yaml:"src"`
			Dst      string `yaml:"dst"`
			Type     string `yaml:"type"`
			FileInfo struct {
				Mode  int    `yaml:"mode"`
				Owner string `yaml:"owner"`
				Group string `yaml:"group"`
			} `yaml:"file_info"`
		} `yaml:"contents"`
		Scripts struct {
			PostInstall string `yaml:"postinstall"`
			PreRemove   string `yaml:"preremove"`
			PostRemove  string `yaml:"postremove"`
		} `yaml:"scripts"`
		Deb struct {
			Scripts struct {
				Config    string `yaml:"config"`
				Templates string `yaml:"templates"`
			} `yaml:"scripts"`
		} `yaml:"deb"`
	} `yaml:"nfpms"`
}

// goreleaserFile is a File as .goreleaser.yaml describes it.
type goreleaserFile struct {
	Source, Destination, Type string
	Mode                      os.FileMode
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestGoreleaserMatchesBuilder(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var config goreleaserConfig
	if err := yaml.Unmarshal(data, &config); err != nil {
		t.Fatalf("parse .goreleaser.yaml: %v", err)
	}
	if len(config.Builds) != 1 || len(config.NFPMs) != 1 {
		t.Fatalf(".goreleaser.yaml has %d builds and %d nfpms, expected one of each", len(config.Builds), len(config.NFPMs))
	}
	build, nfpm := config.Builds[0], config.NFPMs[0]
	pkg := CircleCIRunner()

	if diff := cmp.Diff(Architectures, build.Goarch); diff != "" {
		t.Errorf("goarch differs from Architectures (-builder +goreleaser):\n%s", diff)
	}
	if build.Main != "./cmd/circleci-launch-agent" || !contains(build.Env, "CGO_ENABLED=0") {
		t.Errorf("build is main %q with env %q, expected ./cmd/circleci-launch-agent with CGO_ENABLED=0", build.Main, build.Env)
	}
	if diff := cmp.Diff([]string{"deb"}, nfpm.Formats); diff != "" {
		t.Errorf("formats (-expected +goreleaser):\n%s", diff)
	}
	fields := map[string][2]string{
		"package_name": {pkg.Name, nfpm.PackageName},
		"maintainer":   {pkg.Maintainer, nfpm.Maintainer},
		"description":  {pkg.Description, nfpm.Description},
		"homepage":     {pkg.Homepage, nfpm.Homepage},
		"license":      {pkg.License, nfpm.License},
		"section":      {pkg.Section, nfpm.Section},
		"priority":     {pkg.Priority, nfpm.Priority},
		"postinstall":  {pkg.PostInstall, nfpm.Scripts.PostInstall},
		"preremove":    {pkg.PreRemove, nfpm.Scripts.PreRemove},
		"postremove":   {pkg.PostRemove, nfpm.Scripts.PostRemove},
		"config":       {pkg.Config, nfpm.Deb.Scripts.Config},
		"templates":    {pkg.Templates, nfpm.Deb.Scripts.Templates},
	}
	for field, values := range fields {
		if values[0] != values[1] {
			t.Errorf("%s: builder has %q, .goreleaser.yaml has %q", field, values[0], values[1])
		}
	}
	if diff := cmp.Diff(pkg.Depends, nfpm.Dependencies); diff != "" {
		t.Errorf("dependencies (-builder +goreleaser):\n%s", diff)
	}

	var fromBuilder, fromGoreleaser []goreleaserFile
	for _, file := range pkg.Files {
		switch file.Generated {
		case GeneratedAgent:
			// goreleaser installs its build's binary into bindir itself.
			if got := nfpm.Bindir + "/" + build.Binary; got != file.Destination {
				t.Errorf("goreleaser installs the agent at %s, the builder at %s", got, file.Destination)
			}
			continue
		case GeneratedChangelog, GeneratedManPage:
			file.Source = "build/goreleaser/" + file.Generated + ".gz"
		}
		fromBuilder = append(fromBuilder, goreleaserFile{file.Source, file.Destination, file.Type, fileMode(file)})
	}
	for _, content := range nfpm.Contents {
		file := goreleaserFile{content.Src, content.Dst, content.Type, os.FileMode(content.FileInfo.Mode)}
		if content.Type == "symlink" {
			file.Mode = 0
		} else if content.FileInfo.Owner != "root" || content.FileInfo.Group != "root" {
			t.Errorf("%s is owned by %s:%s in .goreleaser.yaml, expected root:root", content.Dst, content.FileInfo.Owner, content.FileInfo.Group)
		}
		fromGoreleaser = append(fromGoreleaser, file)
	}
	sortFiles(fromBuilder)
	sortFiles(fromGoreleaser)
	if diff := cmp.Diff(fromBuilder, fromGoreleaser); diff != "" {
		t.Errorf("package contents (-builder +goreleaser):\n%s", diff)
	}
}

// fileMode is the mode compared with .goreleaser.yaml, where symlinks have
// none.
func fileMode(file File) os.FileMode {
	if file.Type == "symlink" {
		return 0
	}
	return file.Mode
}

func sortFiles(files []goreleaserFile) {
	sort.Slice(files, func(i, j int) bool { return files[i].Destination < files[j].Destination })
}

func contains(values []string, value string) bool {
	for _, v := range values {
		if v == value {
			return true
		}
	}
	return false
}

func TestChangelogMatchesVersion(t *testing.T) {
	root := repoRoot(t)
	version, err := ReadVersion(root)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "debian/changelog"))
	if err != nil {
		t.Fatal(err)
	}
	entry, err := ParseChangelog(data)
	if err != nil {
		t.Fatal(err)
	}
	if entry.Version != version {
		t.Errorf("debian/changelog's top entry is %s, pkg/version/VERSION is %s", entry.Version, version)
	}
	if entry.Package != "circleci-runner" {
		t.Errorf("debian/changelog names package %q", entry.Package)
	}
}

func TestChangelogForOverrideAddsEntry(t *testing.T) {
	data := []byte("circleci-runner (1.0.0) stable; urgency=medium\n\n  * First.\n\n -- A B <a@example.invalid>  Fri, 04 Dec 2026 17:00:00 +0000\n")
	date := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)

	same, err := changelogFor(data, "1.0.0", date)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same, data) {
		t.Errorf("changelog for its own version changed:\n%s", same)
	}
	newer, err := changelogFor(data, "1.0.0+test.1", date)
	if err != nil {
		t.Fatal(err)
	}
	top, err := ParseChangelog(newer)
	if err != nil {
		t.Fatalf("generated changelog does not parse: %v\n%s", err, newer)
	}
	if top.Version != "1.0.0+test.1" || !top.Date.Equal(date) || top.Maintainer != "A B <a@example.invalid>" {
		t.Errorf("generated top entry = %+v", top)
	}
	if !bytes.HasSuffix(newer, data) {
		t.Error("generated changelog does not keep the original entries")
	}
}

func TestParseChangelogRejectsMalformed(t *testing.T) {
	cases := map[string]string{
		"empty":      "",
		"no heading": "circleci-runner 1.0.0\n",
		"no trailer": "circleci-runner (1.0.0) stable; urgency=medium\n\n  * x\n",
		"bad date":   "circleci-runner (1.0.0) stable; urgency=medium\n\n -- A <a@b>  yesterday\n",
	}
	for name, text := range cases {
		if _, err := ParseChangelog([]byte(text)); err == nil {
			t.Errorf("%s: ParseChangelog accepted %q", name, text)
		}
	}
}

// Every module linked into the agent must have its license in
// debian/copyright, because the binary is static.
func TestCopyrightListsAgentModules(t *testing.T) {
	root := repoRoot(t)
	binary := filepath.Join(t.TempDir(), "circleci-launch-agent")
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "./cmd/circleci-launch-agent")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	copyright, err := os.ReadFile(filepath.Join(root, "debian/copyright"))
	if err != nil {
		t.Fatal(err)
	}
	modules := 0
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "dep" {
			continue
		}
		modules++
		if !bytes.Contains(copyright, []byte(fields[1]+"/")) {
			t.Errorf("debian/copyright has no Files: stanza for module %s, which the agent links", fields[1])
		}
	}
	t.Logf("the agent links %d modules", modules)
}

func TestGzipBytesIsDeterministic(t *testing.T) {
	first := gzipBytes([]byte("same input"))
	second := gzipBytes([]byte("same input"))
	if !bytes.Equal(first, second) {
		t.Error("gzipBytes gave different output for the same input")
	}
}
