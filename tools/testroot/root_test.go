package testroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootHasDebianRelease(t *testing.T) {
	for _, spec := range []Spec{Bookworm, BookwormArm64} {
		t.Run(spec.Arch, func(t *testing.T) {
			dir := Root(t, spec)
			version, err := os.ReadFile(filepath.Join(dir, "etc/debian_version"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(version), "12.") {
				t.Errorf("etc/debian_version = %q, expected 12.x", version)
			}
		})
	}
}
