package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewWritesJSONToStderr(t *testing.T) {
	var stderr bytes.Buffer
	log, closeLog, err := New(Options{Stderr: &stderr, Journal: func() bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()

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
	log, closeLog, err := New(Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("started")
	if err := closeLog(); err != nil {
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
