package packagetest

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/circleci-runner/circleci-runner/tools/builder"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

// debEntry is one line of "dpkg-deb --contents".
type debEntry struct {
	mode  string // such as "-rwxr-xr-x"
	owner string // such as "root/root"
	path  string // without the leading "."
	link  string // symlink target
}

func debContents(t *testing.T, deb string) map[string]debEntry {
	t.Helper()
	out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb --contents %s: %v", deb, err)
	}
	entries := map[string]debEntry{}
	for _, line := range lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) < 6 {
			t.Fatalf("unexpected dpkg-deb line %q", line)
		}
		entry := debEntry{mode: fields[0], owner: fields[1], path: strings.TrimPrefix(fields[5], ".")}
		if len(fields) == 8 && fields[6] == "->" {
			entry.link = fields[7]
		}
		entries[entry.path] = entry
	}
	return entries
}

func TestDebContentsAndModes(t *testing.T) {
	requireBuild(t)
	testroot.Require(t, "dpkg-deb")
	expected := map[string]string{
		"/opt/circleci/circleci-launch-agent":            "-rwxr-xr-x",
		"/opt/circleci/launch-task":                      "-rwxr-xr-x",
		"/usr/sbin/circleci-launch-agent":                "lrwxrwxrwx",
		"/opt/circleci/stop-agent":                       "-rwxr-xr-x",
		"/lib/systemd/system/circleci.service":           "-rw-r--r--",
		"/opt/circleci/circleci.service":                 "-rw-r--r--",
		"/etc/default/circleci-runner":                   "-rw-r--r--",
		"/etc/needrestart/conf.d/circleci-runner.conf":   "lrwxrwxrwx",
		"/usr/share/circleci-runner/needrestart.conf":    "-rw-r--r--",
		"/usr/share/doc/circleci-runner/copyright":       "-rw-r--r--",
		"/usr/share/doc/circleci-runner/changelog.gz":    "-rw-r--r--",
		"/usr/share/man/man8/circleci-launch-agent.8.gz": "-rw-r--r--",
		"/usr/share/lintian/overrides/circleci-runner":   "-rw-r--r--",
	}
	for _, arch := range builder.Architectures {
		t.Run(arch, func(t *testing.T) {
			entries := debContents(t, current.debs[arch])
			var files []string
			for path, entry := range entries {
				if entry.owner != "root/root" {
					t.Errorf("%s is owned by %s, expected root/root", path, entry.owner)
				}
				if strings.HasPrefix(entry.mode, "d") {
					if entry.mode != "drwxr-xr-x" {
						t.Errorf("directory %s has mode %s, expected drwxr-xr-x", path, entry.mode)
					}
					continue
				}
				files = append(files, path)
			}
			sort.Strings(files)
			if len(files) != len(expected) {
				t.Errorf("package has files %q, expected the %d in the test's list", files, len(expected))
			}
			for path, mode := range expected {
				entry, ok := entries[path]
				if !ok {
					t.Errorf("%s is missing", path)
					continue
				}
				if entry.mode != mode {
					t.Errorf("%s has mode %s, expected %s", path, entry.mode, mode)
				}
			}
			links := map[string]string{
				"/etc/needrestart/conf.d/circleci-runner.conf": "/usr/share/circleci-runner/needrestart.conf",
				"/usr/sbin/circleci-launch-agent":              "/opt/circleci/circleci-launch-agent",
			}
			for path, target := range links {
				if got := entries[path].link; got != target {
					t.Errorf("%s points to %q, expected %q", path, got, target)
				}
			}
		})
	}
}

func TestDebControlFields(t *testing.T) {
	requireBuild(t)
	testroot.Require(t, "dpkg-deb")
	for _, arch := range builder.Architectures {
		t.Run(arch, func(t *testing.T) {
			deb := current.debs[arch]
			if filepath.Base(deb) != "circleci-runner_"+current.version+"_"+arch+".deb" {
				t.Errorf("package file is named %s", filepath.Base(deb))
			}
			fields := map[string]string{
				"Package":      "circleci-runner",
				"Version":      current.version,
				"Architecture": arch,
				"Depends":      "adduser, debconf (>= 1.5.34) | debconf-2.0, procps, systemd",
			}
			for field, expected := range fields {
				out, err := exec.Command("dpkg-deb", "--field", deb, field).Output()
				if err != nil {
					t.Fatalf("dpkg-deb --field %s: %v", field, err)
				}
				if got := strings.TrimSpace(string(out)); got != expected {
					t.Errorf("%s = %q, expected %q", field, got, expected)
				}
			}
			conffiles := extractControlFile(t, deb, "conffiles")
			if conffiles != "/etc/default/circleci-runner\n" {
				t.Errorf("conffiles = %q, expected only /etc/default/circleci-runner", conffiles)
			}
			for _, script := range []string{"config", "postinst", "prerm", "postrm"} {
				if !strings.HasPrefix(extractControlFile(t, deb, script), "#!/bin/sh\n") {
					t.Errorf("%s is not a POSIX sh script", script)
				}
			}
		})
	}
}

func extractControlFile(t *testing.T, deb, name string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "--control", deb, dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --control: %v: %s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestAgentBinaryArchitecture(t *testing.T) {
	requireBuild(t)
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for arch, machine := range machines {
		file, err := elf.Open(filepath.Join(current.dir, current.version, "linux", arch, "circleci-launch-agent"))
		if err != nil {
			t.Fatal(err)
		}
		if file.Machine != machine {
			t.Errorf("%s agent is built for %s", arch, file.Machine)
		}
		for _, prog := range file.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s agent has a program interpreter, so it is not static", arch)
			}
		}
		file.Close()
	}
}

// lintianTag matches a lintian result line that is not an override (O:)
// or a note (N:).
var lintianTag = regexp.MustCompile(`(?m)^[EWIPX]: .*$`)

func TestLintianClean(t *testing.T) {
	requireBuild(t)
	testroot.Require(t, "lintian")
	for _, arch := range builder.Architectures {
		t.Run(arch, func(t *testing.T) {
			cmd := exec.Command("lintian", "--pedantic", "--display-info", "--display-experimental", "--show-overrides", current.debs[arch])
			out, err := cmd.CombinedOutput()
			t.Logf("lintian output:\n%s", out)
			if tags := lintianTag.FindAllString(string(out), -1); len(tags) > 0 {
				t.Errorf("lintian reported tags that no override explains:\n%s", strings.Join(tags, "\n"))
			}
			// With --show-overrides, lintian exits 2 for overridden errors
			// too, so the tag lines above decide. Any other failing exit
			// code means lintian did not run.
			var exitErr *exec.ExitError
			if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 2) {
				t.Errorf("lintian failed: %v", err)
			}
			if !strings.Contains(string(out), "O: circleci-runner: dir-or-file-in-opt") {
				t.Error("lintian output lacks the overridden tags, so the overrides file was not read")
			}
		})
	}
}

func TestLintianOverridesExplained(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(mustRepoRoot(t), "debian/lintian-overrides"))
	if err != nil {
		t.Fatal(err)
	}
	previous := ""
	for number, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			previous = ""
			continue
		}
		if !strings.HasPrefix(line, "#") && !strings.HasPrefix(previous, "#") {
			t.Errorf("debian/lintian-overrides line %d has no comment above it: %q", number+1, line)
		}
		previous = line
	}
}

func mustRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := builder.FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], nil)

	result := root.Run("systemd-analyze", "verify", "--man=no", "/lib/systemd/system/circleci.service")
	if strings.TrimSpace(result.Stderr) != "" {
		t.Errorf("systemd-analyze verify warned:\n%s", result.Stderr)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	requireBuild(t)
	again, err := buildRelease(t.TempDir(), current.keyPath, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	err = filepath.Walk(current.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		relative, _ := filepath.Rel(current.dir, path)
		first, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		second, err := os.ReadFile(filepath.Join(again.dir, relative))
		if err != nil {
			t.Errorf("%s is missing from the second build: %v", relative, err)
			return nil
		}
		if !bytes.Equal(first, second) {
			t.Errorf("%s differs between two builds with the same SOURCE_DATE_EPOCH", relative)
		}
		compared++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if compared < 10 {
		t.Errorf("compared only %d files", compared)
	}
}
