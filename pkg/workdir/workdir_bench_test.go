package workdir

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkCreate measures making a task's working directory, which the
// claim loop does before every task.
func BenchmarkCreate(b *testing.B) {
	template, err := Parse(filepath.Join(b.TempDir(), "%s"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		launchID := NewLaunchID(time.Now())
		if _, err := template.Create(launchID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRemove measures cleanup of a working directory of 10 000 small
// files in 100 folders. Making the tree is not timed.
func BenchmarkRemove(b *testing.B) {
	template, err := Parse(filepath.Join(b.TempDir(), "%s"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		launchID := NewLaunchID(time.Now())
		makeFiles(b, template.Owned(launchID), 100, 100)
		b.StartTimer()

		if err := template.Remove(launchID); err != nil {
			b.Fatal(err)
		}
	}
}

func makeFiles(b *testing.B, root string, folders, filesPerFolder int) {
	b.Helper()
	content := []byte("a small file of a checkout\n")
	for folder := range folders {
		dir := filepath.Join(root, fmt.Sprint(folder/10), fmt.Sprint(folder%10))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for file := range filesPerFolder {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%d", file)), content, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}
