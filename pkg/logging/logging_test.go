package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewWritesJSONToStderr(t *testing.T) {
	var stderr bytes.Buffer
	log, out, err := New(Options{Stderr: &stderr, Journal: func() bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	log.Debug().Msg("hidden at the default level")
	log.Info().Str("launch_id", "abc").Msg("claimed task")

	var entry map[string]any
	if err := json.Unmarshal(stderr.Bytes(), &entry); err != nil {
		t.Fatalf("output is not one JSON line: %q", stderr.String())
	}
	if entry["message"] != "claimed task" || entry["launch_id"] != "abc" || entry["level"] != "info" || entry["time"] == nil {
		t.Errorf("entry = %v", entry)
	}
}

func TestNewTextFormatAndLevel(t *testing.T) {
	var stderr bytes.Buffer
	log, _, err := New(Options{Stderr: &stderr, Level: "debug", Format: "text", Journal: func() bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Str("path", "/x").Msg("removed working directory")

	out := stderr.String()
	if !strings.Contains(out, "DBG removed working directory path=/x") {
		t.Errorf("text output = %q", out)
	}
}

func TestNewAppendsToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.log")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	log, out, err := New(Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("started")
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "earlier\n{") || !strings.Contains(string(data), `"message":"started"`) {
		t.Errorf("log file = %q", data)
	}
}

func TestNewRejectsInvalidInput(t *testing.T) {
	_, _, err := New(Options{Level: "loud"})
	if err == nil || err.Error() != `invalid logging.level "loud": use trace, debug, info, warn or error` {
		t.Errorf("error = %v", err)
	}
	missing := filepath.Join(t.TempDir(), "no", "agent.log")
	_, _, err = New(Options{File: missing})
	want := "open logging.file: open " + missing + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestReopenFollowsRotatedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.log")
	log, out, err := New(Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	log.Info().Msg("before rotation")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}

	if err := out.Reopen(Options{File: path, Level: "warn"}); err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("filtered at warn")
	log.Warn().Msg("after rotation")

	rotated, _ := os.ReadFile(path + ".1")
	current, _ := os.ReadFile(path)
	if !strings.Contains(string(rotated), "before rotation") || strings.Contains(string(rotated), "after rotation") {
		t.Errorf("rotated file = %q", rotated)
	}
	if !strings.Contains(string(current), "after rotation") || strings.Contains(string(current), "filtered at warn") {
		t.Errorf("new file = %q", current)
	}
}

func TestReopenKeepsOutputOnError(t *testing.T) {
	var stderr bytes.Buffer
	log, out, err := New(Options{Stderr: &stderr, Journal: func() bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	err = out.Reopen(Options{File: filepath.Join(t.TempDir(), "missing", "agent.log")})
	if err == nil {
		t.Fatal("Reopen() with a missing folder succeeded")
	}
	log.Info().Msg("still here")
	if !strings.Contains(stderr.String(), "still here") {
		t.Errorf("after a failed reopen the log went elsewhere: %q", stderr.String())
	}
}

func TestDurationsLoggedAsText(t *testing.T) {
	var stderr bytes.Buffer
	log, _, err := New(Options{Stderr: &stderr, Journal: func() bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Dur("retry_in", 90*time.Second).Msg("x")
	if !strings.Contains(stderr.String(), `"retry_in":"1m30s"`) {
		t.Errorf("output = %q, want retry_in as 1m30s", stderr.String())
	}
}

func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	if err := CheckFile(filepath.Join(dir, "new.log")); err != nil {
		t.Errorf("CheckFile() of a new file in a writable folder = %v", err)
	}
	missing := filepath.Join(dir, "no", "agent.log")
	want := "logging.file " + missing + " cannot be created: stat " + filepath.Dir(missing) + ": no such file or directory; create the folder " + filepath.Dir(missing) + " or change logging.file"
	if err := CheckFile(missing); err == nil || err.Error() != want {
		t.Errorf("CheckFile() = %v, want %q", err, want)
	}
}
