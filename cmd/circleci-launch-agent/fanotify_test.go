package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openGate stops a process at an exact system call: with fanotify
// permission events, the kernel holds an open or exec of a marked file or
// folder until the test allows it. The first open by a process that match
// accepts is held, and every other open is allowed at once. It needs root,
// and a kernel with CONFIG_FANOTIFY_ACCESS_PERMISSIONS.
type openGate struct {
	file  *os.File
	match func(pid int) bool
	held  chan heldOpen
}

// heldOpen is an open that the gate holds.
type heldOpen struct {
	pid int
	fd  int32
}

// newOpenGate marks paths with mask, such as unix.FAN_OPEN_PERM|unix.FAN_ONDIR
// for a folder or unix.FAN_OPEN_EXEC_PERM for a program. It skips the test
// where fanotify permission events are not available.
func newOpenGate(t *testing.T, mask uint64, match func(pid int) bool, paths ...string) *openGate {
	t.Helper()
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_CONTENT|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK, unix.O_RDONLY)
	if err != nil {
		t.Skipf("fanotify permission events are not available (needs root): %v", err)
	}
	for _, path := range paths {
		if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, mask, unix.AT_FDCWD, path); err != nil {
			unix.Close(fd)
			t.Skipf("fanotify cannot mark %s: %v", path, err)
		}
	}

	g := &openGate{file: os.NewFile(uintptr(fd), "fanotify"), match: match, held: make(chan heldOpen, 1)}
	go g.serve()
	// Closing the group lets every open it still holds through.
	t.Cleanup(func() { g.file.Close() })
	return g
}

// serve reads events until the gate is closed.
func (g *openGate) serve() {
	buf := make([]byte, 4096)
	holding := false
	for {
		n, err := g.file.Read(buf)
		if err != nil {
			return
		}
		for offset := 0; offset+int(unsafe.Sizeof(unix.FanotifyEventMetadata{})) <= n; {
			meta := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[offset]))
			offset += int(meta.Event_len)
			if meta.Fd < 0 {
				continue
			}
			if !holding && g.match(int(meta.Pid)) {
				holding = true
				g.held <- heldOpen{pid: int(meta.Pid), fd: meta.Fd}
				continue
			}
			g.allow(heldOpen{fd: meta.Fd})
		}
	}
}

// wait returns the held open, or fails the test after timeout.
func (g *openGate) wait(t *testing.T, what string, timeout time.Duration) heldOpen {
	t.Helper()
	select {
	case h := <-g.held:
		return h
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
		return heldOpen{}
	}
}

// allow lets a held open through and closes its event's file descriptor.
func (g *openGate) allow(h heldOpen) {
	var response [8]byte
	binary.NativeEndian.PutUint32(response[0:], uint32(h.fd))
	binary.NativeEndian.PutUint32(response[4:], unix.FAN_ALLOW)
	g.file.Write(response[:])
	unix.Close(int(h.fd))
}

// parentPID returns the parent of process pid, read from /proc.
func parentPID(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name in brackets may contain spaces, so the fields are
	// counted after its closing bracket: state, then the parent's pid.
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return 0, errors.New("unexpected format of /proc/PID/stat")
	}
	var state string
	var parent int
	if _, err := fmt.Sscan(string(data[end+1:]), &state, &parent); err != nil {
		return 0, err
	}
	return parent, nil
}
