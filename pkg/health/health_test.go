package health

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

func TestReporterSendsEachChangeOnce(t *testing.T) {
	var sent []string
	var logs bytes.Buffer
	r := NewReporter(func(state string) (bool, error) {
		sent = append(sent, state)
		return true, nil
	}, zerolog.New(&logs))

	r.Ready()
	r.Healthy()
	r.Healthy()
	r.Unhealthy("authentication rejected (HTTP 401)")
	r.Unhealthy("authentication rejected (HTTP 401)")
	r.Healthy()
	r.Draining()
	r.Stopping()

	want := []string{
		"READY=1",
		"STATUS=Healthy",
		"STATUS=Unhealthy: authentication rejected (HTTP 401)",
		"STATUS=Healthy",
		"STATUS=Draining",
		"STOPPING=1",
	}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("sent states (-want +got):\n%s", diff)
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 4 {
		t.Errorf("logged %d lines, want 4 (one per status change):\n%s", lines, logs.String())
	}
	if got := r.Status(); got != "Draining" {
		t.Errorf("Status() = %q, want Draining", got)
	}
}

func TestSystemdNotifyReachesSocket(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", socket)

	r := NewReporter(SystemdNotify, zerolog.Nop())
	r.Unhealthy("API unreachable")

	buf := make([]byte, 256)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "STATUS=Unhealthy: API unreachable" {
		t.Errorf("socket received %q", got)
	}
	if os.Getenv("NOTIFY_SOCKET") != socket {
		t.Error("NOTIFY_SOCKET was unset")
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "10000000")
	t.Setenv("WATCHDOG_PID", "")
	if got := WatchdogInterval(); got != 5*time.Second {
		t.Errorf("WatchdogInterval() = %v, want 5s", got)
	}
	t.Setenv("WATCHDOG_USEC", "")
	if got := WatchdogInterval(); got != 0 {
		t.Errorf("WatchdogInterval() without watchdog = %v, want 0", got)
	}
}
