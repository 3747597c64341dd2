package localtaskagent

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveDir(t *testing.T) {
	t.Setenv("HOME", "/home/circleci")
	tests := []struct{ base, dir, want string }{
		{"/work/x", "", "/work/x"},
		{"/work/x", "project", "/work/x/project"},
		{"/work/x", "a/../b", "/work/x/b"},
		{"/work/x", "/srv/app", "/srv/app"},
		{"/work/x", "~", "/home/circleci"},
		{"/work/x", "~/project", "/home/circleci/project"},
		{"/work/x", "~other", "/work/x/~other"},
	}
	for _, tt := range tests {
		got, err := resolveDir(tt.base, tt.dir)
		if err != nil || got != tt.want {
			t.Errorf("resolveDir(%q, %q) = %q, %v; want %q", tt.base, tt.dir, got, err, tt.want)
		}
	}
}

func TestStepEnvironmentPrecedence(t *testing.T) {
	env := stepEnvironment(
		[]string{"PATH=/usr/bin", "A=base", "HOME=/root"},
		map[string]string{"A": "builtin", "B": "builtin"},
		map[string]string{"B": "job", "C": "job"},
		map[string]string{"C": "step"},
	)
	want := "A=builtin B=job C=step HOME=/root PATH=/usr/bin"
	if got := strings.Join(env, " "); got != want {
		t.Errorf("environment = %s, want %s", got, want)
	}
}

func TestCompleteRunes(t *testing.T) {
	euro := []byte("€") // three bytes
	tests := []struct {
		data []byte
		want int
	}{
		{[]byte("abc"), 3},
		{append([]byte("a"), euro...), 4},
		{append([]byte("a"), euro[:2]...), 1},
		{append([]byte("a"), euro[:1]...), 1},
		{[]byte{}, 0},
		{[]byte{0xff}, 1},
	}
	for _, tt := range tests {
		if got := completeRunes(tt.data); got != tt.want {
			t.Errorf("completeRunes(%q) = %d, want %d", tt.data, got, tt.want)
		}
	}
}

func TestShellCommand(t *testing.T) {
	if got := strings.Join(shellCommand("", "make"), "|"); got != "/bin/bash|-eo|pipefail|-c|make" {
		t.Errorf("default shell command = %s", got)
	}
	if got := strings.Join(shellCommand("/bin/sh -e", "make"), "|"); got != "/bin/sh|-e|-c|make" {
		t.Errorf("custom shell command = %s", got)
	}
}

type tarEntry struct {
	name, link, body string
	kind             byte
}

func makeTar(t *testing.T, entries []tarEntry) *bytes.Buffer {
	t.Helper()
	var buffer bytes.Buffer
	archive := tar.NewWriter(&buffer)
	for _, entry := range entries {
		header := &tar.Header{Name: entry.name, Linkname: entry.link, Typeflag: entry.kind, Mode: 0o644, Size: int64(len(entry.body))}
		if err := archive.WriteHeader(header); err != nil {
			t.Fatal(err)
		}
		archive.Write([]byte(entry.body))
	}
	archive.Close()
	return &buffer
}

func TestUnpackTar(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old.txt"), []byte("old"), 0o644)
	archive := makeTar(t, []tarEntry{
		{name: "sub/", kind: tar.TypeDir},
		{name: "sub/file.txt", body: "hello", kind: tar.TypeReg},
		{name: "deep/er/file.txt", body: "x", kind: tar.TypeReg},
		{name: "link", link: "sub/file.txt", kind: tar.TypeSymlink},
		{name: "old.txt", body: "new", kind: tar.TypeReg},
	})

	count, err := unpackTar(archive, dir)
	if err != nil {
		t.Fatalf("unpackTar: %v", err)
	}
	if count != 5 {
		t.Errorf("count = %d, want 5", count)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "link")); string(data) != "hello" {
		t.Errorf("link content = %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "old.txt")); string(data) != "new" {
		t.Errorf("old.txt = %q, want it replaced", data)
	}
}

func TestUnpackTarStaysInside(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
	}{
		{"parent path", []tarEntry{{name: "../evil", body: "x", kind: tar.TypeReg}}},
		{"absolute path", []tarEntry{{name: "/tmp/evil", body: "x", kind: tar.TypeReg}}},
		{"through symbolic link", []tarEntry{
			{name: "out", link: "..", kind: tar.TypeSymlink},
			{name: "out/evil", body: "x", kind: tar.TypeReg},
		}},
		{"device", []tarEntry{{name: "dev", kind: tar.TypeChar}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "checkout")
			os.Mkdir(dir, 0o755)

			if _, err := unpackTar(makeTar(t, tt.entries), dir); err == nil {
				t.Error("unpackTar succeeded, want an error")
			}
			if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
				t.Error("a file was written outside the checkout directory")
			}
		})
	}
}
