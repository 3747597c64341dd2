package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes the host that a report was measured on.
type Machine struct {
	CPUs     int    // from nproc, so a CPU affinity limit shows
	CPUModel string // the first "model name" of /proc/cpuinfo
	MemoryKB int64  // MemTotal of /proc/meminfo
	Kernel   string // /proc/sys/kernel/osrelease
	Go       string // the Go version that built the driver
}

// ReadMachine reads the machine's description from nproc and /proc.
func ReadMachine() (Machine, error) {
	m := Machine{Go: runtime.Version()}

	out, err := exec.Command("nproc").Output()
	if err != nil {
		return m, fmt.Errorf("nproc: %w", err)
	}
	if m.CPUs, err = strconv.Atoi(strings.TrimSpace(string(out))); err != nil {
		return m, fmt.Errorf("nproc printed %q: %w", out, err)
	}

	m.CPUModel, err = procField("/proc/cpuinfo", "model name")
	if err != nil {
		return m, err
	}
	memTotal, err := procField("/proc/meminfo", "MemTotal")
	if err != nil {
		return m, err
	}
	// MemTotal reads "24641496 kB".
	if m.MemoryKB, err = strconv.ParseInt(strings.TrimSuffix(memTotal, " kB"), 10, 64); err != nil {
		return m, fmt.Errorf("/proc/meminfo: invalid MemTotal %q", memTotal)
	}

	kernel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return m, err
	}
	m.Kernel = strings.TrimSpace(string(kernel))
	return m, nil
}

// procField returns the value of the first "key : value" line of a /proc
// file.
func procField(path, key string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()

	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(name) == key {
			return strings.TrimSpace(value), nil
		}
	}
	if err := scanner.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s has no %q line", path, key)
}

// String describes the machine in one line.
func (m Machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB memory, Linux %s, %s",
		m.CPUs, m.CPUModel, float64(m.MemoryKB)/(1<<20), m.Kernel, m.Go)
}

// readLoadAverage returns the first three fields of /proc/loadavg, or
// "unknown".
func readLoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	fields := strings.Fields(string(data))
	if err != nil || len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}
