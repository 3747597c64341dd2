package taskagent

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestGetRemembersOnlyOldBinaries(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	path, err := cache.Get(context.Background(), "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.verified[path]; ok {
		t.Errorf("a binary changed less than %s ago was remembered as hashed", verifiedMinAge)
	}

	time.Sleep(verifiedMinAge + 100*time.Millisecond)
	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatal(err)
	}

	if _, ok := cache.verified[path]; !ok {
		t.Errorf("a binary changed over %s ago was not remembered as hashed", verifiedMinAge)
	}
}

func TestGetNoticesChangeOfRememberedBinary(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, warnings := newTestCache(t, rs, nil)
	path, err := cache.Get(context.Background(), "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(verifiedMinAge + 100*time.Millisecond)
	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	// Same size and the old mtime, so only the ctime shows the change.
	tampered := strings.Repeat("x", int(info.Size()))
	if err := os.WriteFile(path, []byte(tampered), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	path, err = cache.Get(context.Background(), "1.0.0")

	if err != nil {
		t.Fatalf("Get after the change: %v", err)
	}
	if content := readFile(t, path); content != agentAMD64+"1.0.0" {
		t.Errorf("binary content = %q, want the download", content)
	}
	if n := rs.count("/1.0.0/linux/amd64/circleci-agent"); n != 2 {
		t.Errorf("binary requests = %d, want 2", n)
	}
	if len(*warnings) != 1 {
		t.Errorf("warnings = %v, want one about the invalid binary", *warnings)
	}
}
