package systemtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

// canaryTokens are resource class tokens made for this run, which the
// local runner API accepts. They end in different digits, so their masked
// forms differ.
var canaryTokens = [2]string{newCanary("0005"), newCanary("0006")}

func newCanary(suffix string) string {
	random := make([]byte, 12)
	// crypto/rand.Read never returns an error on Linux since Go 1.24.
	_, _ = rand.Read(random)
	return "system-test-canary-" + hex.EncodeToString(random) + "-" + suffix
}

// processSampler reads the command line and environment of every process
// of a machine from the host, again and again, and records each that
// contains one of its secrets.
type processSampler struct {
	machine *testroot.Machine
	secrets []string
	stop    chan struct{}
	done    chan struct{}

	mu     sync.Mutex
	hits   []string
	rounds int
	// environReads counts the environments read that contain
	// NOTIFY_SOCKET=, as the agent's does, to show that the sampler can
	// read the environment of root's processes.
	environReads int
}

// sampleProcesses starts a sampler that reads every 20 ms until stopped.
func sampleProcesses(machine *testroot.Machine, secrets []string) *processSampler {
	p := &processSampler{machine: machine, secrets: secrets, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *processSampler) run() {
	defer close(p.done)
	for {
		p.sample()
		select {
		case <-p.stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *processSampler) sample() {
	for _, pid := range p.machine.HostPIDs() {
		for _, file := range []string{"cmdline", "environ"} {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
			if err != nil {
				continue
			}
			p.record(pid, file, data)
		}
	}
	p.mu.Lock()
	p.rounds++
	p.mu.Unlock()
}

func (p *processSampler) record(pid int, file string, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if file == "environ" && bytes.Contains(data, []byte("NOTIFY_SOCKET=")) {
		p.environReads++
	}
	for i, secret := range p.secrets {
		if bytes.Contains(data, []byte(secret)) {
			command := strings.ReplaceAll(string(data), secret, "CANARY")
			if file == "environ" {
				command = "(environment)"
			}
			p.hits = append(p.hits, fmt.Sprintf("host PID %d %s contains canary %d: %.200s", pid, file, i, command))
		}
	}
}

// finish stops the sampler and returns its hits, its rounds and how many
// environments it read with NOTIFY_SOCKET= in them.
func (p *processSampler) finish() (hits []string, rounds, environReads int) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits, p.rounds, p.environReads
}

// searchedDirs are the top folders of the container but /proc, /sys and
// /dev.
var searchedDirs = []string{"/bin", "/boot", "/etc", "/home", "/lib", "/media", "/mnt", "/opt", "/root", "/run", "/sbin", "/srv", "/tmp", "/usr", "/var"}

// filesContaining returns the files below dirs inside the machine that user
// can read and that contain secret. grep reads the secret from its standard
// input, so it is in no command line.
func (s *system) filesContaining(user, secret string, dirs ...string) []string {
	s.t.Helper()
	args := append([]string{"runuser", "-u", user, "--", "grep", "-rlsF", "-D", "skip", "-f", "-"}, dirs...)
	result, err := s.machine.Exec(testroot.Command{Args: args, Stdin: strings.NewReader(secret + "\n"), Timeout: 2 * time.Minute})
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.Fields(result.Stdout)
}

func TestCanaryTokenStaysSecret(t *testing.T) {
	t.Parallel()
	s := bootSystem(t)
	sampler := sampleProcesses(s.machine, canaryTokens[:])
	s.install(canaryTokens[0])
	s.waitForStatus("Healthy", 20*time.Second)

	first := s.waitForEnd(s.enqueue("identity").ID, time.Minute)
	if first.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", first.State, first.Message)
	}
	s.waitForTaskGone(launchID(first))

	reconfigured := time.Now()
	s.reconfigure(canaryTokens[1])
	s.waitForClaimWith(canaryTokens[1], reconfigured)
	second := s.waitForEnd(s.enqueue("identity").ID, time.Minute)
	if second.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", second.State, second.Message)
	}
	s.waitForTaskGone(launchID(second))

	hits, rounds, environReads := sampler.finish()
	t.Logf("read the command line and environment of every process %d times", rounds)
	for _, hit := range hits {
		t.Error(hit)
	}
	if environReads == 0 {
		t.Error("the sampler read no environment with NOTIFY_SOCKET=, as the agent's has, so it cannot read root's processes")
	}

	// Once more from inside the container.
	inside := s.machine.Shell("cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null || true").Stdout
	if !strings.Contains(inside, "NOTIFY_SOCKET=") {
		t.Error("/proc/*/environ inside the container shows no NOTIFY_SOCKET=, as the agent's has, so the search is broken")
	}
	journal := s.machine.Run("journalctl", "--no-pager", "--output", "export").Stdout
	for i, canary := range canaryTokens {
		if strings.Contains(inside, canary) {
			t.Errorf("/proc/*/cmdline or /proc/*/environ inside the container contains canary %d", i)
		}
		if strings.Contains(journal, canary) {
			t.Errorf("the journal contains canary %d", i)
		}
		// The startup lines show the masked token, so the search reads
		// the agent's entries and both tokens were in use.
		if !strings.Contains(journal, localapi.MaskToken(canary)) {
			t.Errorf("the journal lacks canary %d's masked form %s", i, localapi.MaskToken(canary))
		}
		for _, job := range []localapi.Job{first, second} {
			if strings.Contains(strings.Join(outputLines(job), "\n"), canary) {
				t.Errorf("the output of job %s contains canary %d", job.ID, i)
			}
		}
	}

	if found := s.filesContaining("root", canaryTokens[0], searchedDirs...); len(found) != 0 {
		t.Errorf("files contain the replaced token: %v", found)
	}
	if found := s.filesContaining("root", canaryTokens[1], searchedDirs...); len(found) != 1 || found[0] != "/opt/circleci/launch-agent-config.yaml" {
		t.Errorf("files %v contain the token, expected only /opt/circleci/launch-agent-config.yaml", found)
	}
}

// waitForClaimWith waits until a claim after since used token.
func (s *system) waitForClaimWith(token string, since time.Time) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, call := range s.api.Calls() {
			if call.Path == "/api/v3/runner/claim" && call.Time.After(since) && call.Token == localapi.MaskToken(token) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("no claim with token %s within 15s of dpkg-reconfigure", localapi.MaskToken(token))
}
