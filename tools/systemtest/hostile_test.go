package systemtest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// hostileJobs are jobs that attack the runner from inside a task, as the
// circleci user. Each prints what it tried as "key=value" lines, which the
// tests read back from the job's output.
const hostileJobs = `
  ignore-sigterm:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Ignore SIGTERM inside and outside the step's process group
          command: |
            trap '' TERM
            setsid sh -c 'trap "" TERM; exec sleep 610' </dev/null >/dev/null 2>&1 &
            sleep 611

  daemons:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Start daemons and try to leave the task's cgroup
          command: |
            nohup sleep 620 >/dev/null 2>&1 &
            ( setsid sleep 621 </dev/null >/dev/null 2>&1 & )
            setsid --fork sleep 622 </dev/null >/dev/null 2>&1
            ( ( exec -a hidden-daemon sleep 623 </dev/null >/dev/null 2>&1 & ) & )
            setsid sh -c 'trap "" TERM; exec sleep 624' </dev/null >/dev/null 2>&1 &
            for procs in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do
              if [ -e "$procs" ]; then
                if echo $$ 2>/dev/null >"$procs"; then echo "escaped=$procs"; else echo "denied=$procs"; fi
              fi
            done
            if loginctl enable-linger 2>&1; then echo "escaped=linger"; else echo "denied=linger"; fi
            if systemd-run --quiet --collect sleep 625 2>&1; then echo "escaped=system unit"; else echo "denied=system unit"; fi
            if systemd-run --user --quiet --collect sleep 626 2>&1; then echo "escaped=user unit"; else echo "denied=user unit"; fi
            sleep 5

  read-secrets:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Read the agent's configuration and process files
          command: |
            agent=$(systemctl show --property=MainPID --value circleci.service)
            echo "agent=$agent"
            for path in /opt/circleci/launch-agent-config.yaml /var/cache/debconf/passwords.dat /proc/$agent/environ /proc/$agent/cmdline /proc/$agent/mem /proc/$agent/maps /proc/$agent/fd/0 /proc/$agent/fd/1 /proc/$agent/fd/2; do
              if content=$(head -c 65536 "$path" 2>&1 | tr '\0' ' '); then echo "read=$path"; echo "$content"; else echo "denied=$path: $content"; fi
            done
            for dir in /proc/$agent/fd /proc/$agent/root /proc/$agent/cwd /proc/$agent/map_files; do
              if content=$(ls "$dir/" 2>&1); then echo "read=$dir"; echo "$content"; else echo "denied=$dir: $content"; fi
            done
            journalctl --unit circleci.service --no-pager 2>&1 | sed 's/^/journal=/' || true

  signal-agent:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Send signals to the agent and to launch-task
          command: |
            agent=$(systemctl show --property=MainPID --value circleci.service)
            echo "agent=$agent"
            for signal in TERM INT HUP USR1 STOP KILL; do
              if kill -s $signal "$agent" 2>/dev/null; then echo "sent=$signal"; else echo "denied=$signal"; fi
            done
            for pid in $(pgrep -f '^/bin/sh /opt/circleci/launch-task') $(pgrep -x systemd-run); do
              if kill -s TERM "$pid" 2>/dev/null; then echo "sent=TERM to $pid"; else echo "denied=TERM to $pid"; fi
            done
            for action in stop kill reload; do
              if systemctl $action circleci.service 2>&1; then echo "sent=systemctl $action"; else echo "denied=systemctl $action"; fi
            done
            NOTIFY_SOCKET=/run/systemd/notify systemd-notify --status="Unhealthy: set by a job" STOPPING=1 2>&1 || true
            echo "notified"
            sleep 1

  workdir-symlink:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Replace the working directory with a link to /etc
          command: |
            dir=$PWD
            base=$(dirname "$dir")
            cd /
            rm -rf "$dir"
            ln -s /etc "$dir"
            ls -ld "$dir"
            # Names that the agent's sweep of stale directories takes for
            # its own.
            ln -s /etc "$base/zzzzzzzz-zzzzzzz1"
            mkdir "$base/zzzzzzzz-zzzzzzz2"
            ln -s /etc "$base/zzzzzzzz-zzzzzzz2/etc"
            ln -s /etc/passwd "$base/zzzzzzzz-zzzzzzz2/passwd"

  fill-workdir:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Fill the working directory's file system
          command: |
            df -P . | tail -n 1 | sed 's/^/before=/'
            dd if=/dev/zero of=fill bs=1M 2>&1 | tail -n 1 || true
            i=0
            while touch "file-$i" 2>/dev/null; do i=$((i+1)); done
            echo "files=$i"
            df -P . | tail -n 1 | sed 's/^/after=/'
            df -Pi . | tail -n 1 | sed 's/^/inodes=/'

  print-1gb:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run:
          name: Print 1 GB of output
          command: |
            (timeout 60 yes "$(printf '%0999d' 0)" || true) | head -c 1000000000 | tee >(wc -c >printed)
            wait $!
      - run: echo "printed=$(cat printed)"
`

// hostileGracePeriod replaces the default runner.cancel_grace_period of
// 20 s in the tests that wait for it.
const hostileGracePeriod = 5 * time.Second

// setCancelGracePeriod sets runner.cancel_grace_period and waits until the
// agent has reloaded its configuration.
func (s *system) setCancelGracePeriod(grace time.Duration) {
	s.t.Helper()
	s.machine.Run("circleci-launch-agent", "config", "set", "runner.cancel_grace_period="+grace.String())
	s.machine.Run("systemctl", "reload", serviceUnit)
	s.waitForJournal("configuration reloaded")
}

// checkAgentUndisturbed checks that the agent with MainPID pid still runs,
// reports Healthy and was never restarted.
func (s *system) checkAgentUndisturbed(pid string) {
	s.t.Helper()
	if got := s.property("MainPID"); got != pid {
		s.t.Errorf("MainPID changed from %s to %s, expected the agent to keep running", pid, got)
	}
	if status := s.property("StatusText"); status != "Healthy" {
		s.t.Errorf("StatusText = %q, expected Healthy", status)
	}
	if restarts := s.property("NRestarts"); restarts != "0" {
		s.t.Errorf("NRestarts = %s, expected 0", restarts)
	}
}

// checkNextJobRuns runs a short job and checks that it succeeds.
func (s *system) checkNextJobRuns() {
	s.t.Helper()
	job := s.waitForEnd(s.enqueue("short").ID, time.Minute)
	if job.State != localapi.StateSucceeded {
		s.t.Errorf("the next job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
}

// waitForNoProcessesOf waits until user has no process left, and fails
// the test with what is left after timeout.
func (s *system) waitForNoProcessesOf(user string, timeout time.Duration) {
	s.t.Helper()
	start := time.Now()
	for {
		left := s.processesOf(user)
		if len(left) == 0 {
			return
		}
		if time.Since(start) > timeout {
			s.t.Errorf("processes of %s are left %s later:\n%s", user, timeout, strings.Join(left, "\n"))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestHostileJobIgnoringSIGTERM(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	s.setCancelGracePeriod(hostileGracePeriod)
	s.machine.Run("sed", "-i", "s/^#DRAIN_TIMEOUT=.*/DRAIN_TIMEOUT=1s/", "/etc/default/circleci-runner")

	job := s.waitForStep(s.enqueue("ignore-sigterm").ID, 1, time.Minute)
	s.waitForProcesses([]string{"sleep 610", "sleep 611"})
	elapsed := s.stopService()
	t.Logf("systemctl stop took %s with DRAIN_TIMEOUT=1s and a %s grace period", elapsed.Round(time.Millisecond), hostileGracePeriod)

	// stop-agent drains for 1 s, and the agent's cancel then waits one
	// grace period before SIGKILL. Reporting the task takes the rest.
	if limit := time.Second + hostileGracePeriod + 8*time.Second; elapsed > limit {
		t.Errorf("systemctl stop took %s, expected under %s", elapsed.Round(time.Second), limit)
	}
	if left := s.processesOf("circleci"); len(left) != 0 {
		t.Errorf("processes of circleci outlived the stop:\n%s", strings.Join(left, "\n"))
	}
	if left := s.transientUnits(); len(left) != 0 {
		t.Errorf("transient units are left after the stop: %v", left)
	}
	if entries := s.workdirEntries(); len(entries) != 0 {
		t.Errorf("%s contains %v after the stop, expected it empty", workdirBase, entries)
	}
	job, _ = s.api.Job(job.ID)
	if len(job.FailEvents) != 1 || !strings.Contains(job.FailEvents[0].Message, "cancelled") {
		t.Errorf("job got fail events %v, expected one saying it was cancelled", job.FailEvents)
	}
	if !s.journalHas("circleci-launch", "task agent did not exit within the grace period; sent SIGKILL") {
		t.Error("the agent did not log that it sent SIGKILL after the grace period")
	}
	if s.journalHas("circleci-launch", "stopping the task's transient unit failed") {
		t.Error("the agent logged that stopping the transient unit failed")
	}

	s.machine.Run("systemctl", "start", serviceUnit)
	s.waitForStatus("Healthy", 20*time.Second)
	s.checkNextJobRuns()
}

func TestHostileJobLeavesDaemons(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	s.setCancelGracePeriod(hostileGracePeriod)
	pid := s.property("MainPID")
	daemons := []string{"sleep 620", "sleep 621", "sleep 622", "hidden-daemon 623", "sleep 624"}

	job := s.waitForStep(s.enqueue("daemons").ID, 1, time.Minute)
	s.waitForProcesses(daemons)
	job = s.waitForEnd(job.ID, time.Minute)
	ended := time.Now()
	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	// sleep 624 ignores SIGTERM, so systemd stops the task's unit with
	// SIGKILL once the grace period, its TimeoutStopSec, is over.
	s.waitForNoProcessesOf("circleci", hostileGracePeriod+10*time.Second)
	t.Logf("waited %s after the job for its processes to end", time.Since(ended).Round(time.Millisecond))
	s.waitForTaskGone(launchID(job))
	s.waitForEmptyWorkdir()

	lines := outputLines(job)
	if escaped := linesWithPrefix(lines, "escaped="); len(escaped) != 0 {
		t.Errorf("the job escaped its unit: %v", escaped)
	}
	denied := linesWithPrefix(lines, "denied=")
	for _, attempt := range []string{"denied=/sys/fs/cgroup/systemd/cgroup.procs", "denied=/sys/fs/cgroup/unified/cgroup.procs",
		"denied=linger", "denied=system unit", "denied=user unit"} {
		if !contains(denied, attempt) {
			t.Errorf("the job printed no %q:\n%s", attempt, strings.Join(lines, "\n"))
		}
	}
	// NOTE: systemd-run exits 1 when the unit's stop timed out, so the
	// agent sends a fail event for the task, which the task agent had
	// completed. That is not checked here, since it may change.
	job, _ = s.api.Job(job.ID)
	t.Logf("fail events after the job: %v", job.FailEvents)
	s.checkAgentUndisturbed(pid)
	s.checkNextJobRuns()
}

func TestHostileJobReadsSecrets(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	pid := s.property("MainPID")

	job := s.waitForEnd(s.enqueue("read-secrets").ID, time.Minute)

	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	lines := outputLines(job)
	if !contains(lines, "agent="+pid) {
		t.Fatalf("the job did not find the agent's PID %s:\n%s", pid, strings.Join(lines, "\n"))
	}
	denied := map[string]bool{}
	for _, line := range linesWithPrefix(lines, "denied=") {
		path, _, _ := strings.Cut(strings.TrimPrefix(line, "denied="), ":")
		denied[path] = true
	}
	proc := "/proc/" + pid
	for _, path := range []string{"/opt/circleci/launch-agent-config.yaml", "/var/cache/debconf/passwords.dat",
		proc + "/environ", proc + "/mem", proc + "/maps", proc + "/fd/0", proc + "/fd/1", proc + "/fd/2",
		proc + "/fd", proc + "/root", proc + "/cwd", proc + "/map_files"} {
		if !denied[path] {
			t.Errorf("the job was not denied %s:\n%s", path, strings.Join(lines, "\n"))
		}
	}
	// The command line is readable by every user, and holds no secret.
	if !contains(lines, "read="+proc+"/cmdline") {
		t.Errorf("the job could not read %s/cmdline, which every user can", proc)
	}
	if !contains(linesWithPrefix(lines, "journal="), "journal=No journal files were opened due to insufficient permissions.") {
		t.Errorf("the job read the journal:\n%s", strings.Join(linesWithPrefix(lines, "journal="), "\n"))
	}
	if strings.Contains(strings.Join(lines, "\n"), firstToken) {
		t.Error("the job's output contains the resource class token")
	}

	// Every file that circleci can read, outside /proc, /sys and /dev.
	if found := s.filesContaining("root", firstToken, "/opt/circleci"); !contains(found, "/opt/circleci/launch-agent-config.yaml") {
		t.Fatalf("grep as root found the token in %v, expected the configuration file, so the search is broken", found)
	}
	if found := s.filesContaining("circleci", firstToken, searchedDirs...); len(found) != 0 {
		t.Errorf("the circleci user can read the token in %v", found)
	}
	s.checkAgentUndisturbed(pid)
}

func TestHostileJobSignalsAgent(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	pid := s.property("MainPID")

	job := s.waitForEnd(s.enqueue("signal-agent").ID, time.Minute)

	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	lines := outputLines(job)
	if !contains(lines, "agent="+pid) {
		t.Fatalf("the job did not find the agent's PID %s:\n%s", pid, strings.Join(lines, "\n"))
	}
	if sent := linesWithPrefix(lines, "sent="); len(sent) != 0 {
		t.Errorf("the job signalled root's processes: %v", sent)
	}
	for _, attempt := range []string{"denied=TERM", "denied=INT", "denied=HUP", "denied=USR1", "denied=STOP", "denied=KILL",
		"denied=systemctl stop", "denied=systemctl kill", "denied=systemctl reload"} {
		if !contains(lines, attempt) {
			t.Errorf("the job printed no %q:\n%s", attempt, strings.Join(lines, "\n"))
		}
	}
	// launch-task and systemd-run, both root's.
	if n := len(linesWithPrefix(lines, "denied=TERM to ")); n != 2 {
		t.Errorf("the job was denied signals to %d processes of launch-task, expected 2 (launch-task and systemd-run):\n%s", n, strings.Join(lines, "\n"))
	}
	if !contains(lines, "notified") {
		t.Errorf("the job did not get past systemd-notify:\n%s", strings.Join(lines, "\n"))
	}
	// systemd takes the notification for the transient unit's, which
	// accepts none.
	notices := s.machine.Run("journalctl", "--no-pager", "--output", "cat", "--unit", "circleci-"+launchID(job)+".service").Stdout
	if !strings.Contains(notices, "but reception is disabled") {
		t.Errorf("systemd logged no ignored notification for the job's unit:\n%s", notices)
	}
	for _, message := range []string{"received SIGHUP; reloading the configuration between tasks", "runner is draining", "cancelling: stopping the running task"} {
		if entries := entriesWithMessage(s.journal(), message); len(entries) != 0 {
			t.Errorf("the agent logged %q after the job's signals", message)
		}
	}
	if reports(job) != 0 {
		t.Errorf("job got %d fail events and %d unclaims, expected none", len(job.FailEvents), job.Unclaims)
	}
	s.checkAgentUndisturbed(pid)
	s.checkNextJobRuns()
}

// etcSnapshot returns a listing of /etc with each entry's type, mode,
// owner, size, modification time and link target, and a checksum of each
// regular file.
func (s *system) etcSnapshot() string {
	s.t.Helper()
	return s.machine.Shell(`find /etc -xdev -printf '%p %y %m %U:%G %s %T@ %l\n' | sort
find /etc -xdev -type f -exec sha256sum {} + | sort`).Stdout
}

func TestHostileJobLinksWorkdirToEtc(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	before := s.etcSnapshot()

	job := s.waitForEnd(s.enqueue("workdir-symlink").ID, time.Minute)
	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	id := launchID(job)
	if !strings.Contains(job.Steps[1].Output, workdirBase+"/"+id+" -> /etc") {
		t.Fatalf("the job did not replace its working directory with a link:\n%s", job.Steps[1].Output)
	}
	s.waitForTaskGone(id)
	// Cleanup removes the task's link. The two entries that the job made
	// with names of the launch id pattern are left to the sweep at the
	// agent's next start.
	deadline := time.Now().Add(15 * time.Second)
	for contains(s.workdirEntries(), id) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if entries := s.workdirEntries(); contains(entries, id) {
		t.Errorf("%s contains %v after the job, expected the link %s removed", workdirBase, entries, id)
	}
	pid := s.property("MainPID")
	s.machine.Run("systemctl", "restart", serviceUnit)
	s.waitForNewMainPID(pid, 20*time.Second)
	s.waitForStatus("Healthy", 20*time.Second)
	s.waitForEmptyWorkdir()

	if after := s.etcSnapshot(); after != before {
		t.Errorf("/etc changed during the job and its cleanup:\n%s", lineDiff(before, after))
	}
	if state := s.property("ActiveState"); state != "active" {
		t.Errorf("circleci.service is %s, expected active", state)
	}
	s.checkNextJobRuns()
}

// lineDiff returns the lines of before that after lacks, with "-", and the
// lines of after that before lacks, with "+".
func lineDiff(before, after string) string {
	count := map[string]int{}
	for _, line := range strings.Split(before, "\n") {
		count[line]++
	}
	for _, line := range strings.Split(after, "\n") {
		count[line]--
	}
	var out []string
	for line, n := range count {
		switch {
		case n > 0:
			out = append(out, "-"+line)
		case n < 0:
			out = append(out, "+"+line)
		}
	}
	return strings.Join(out, "\n")
}

// smallFileSystem is the mount point of a 32 MiB tmpfs with 2048 inodes
// that holds both the working directories and the agent's state folder,
// as one root file system does on a host with the default paths.
const smallFileSystem = "/srv/circleci-small"

func TestHostileJobFillsWorkdir(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	s.machine.Shell(`mkdir -p ` + smallFileSystem + `
mount -t tmpfs -o size=32m,nr_inodes=2048,mode=0755 circleci-small ` + smallFileSystem + `
mkdir ` + smallFileSystem + `/workdir ` + smallFileSystem + `/state
chown circleci: ` + smallFileSystem + `/workdir
mkdir -p /var/lib/circleci-runner
cp -a /var/lib/circleci-runner/. ` + smallFileSystem + `/state/
mount --bind ` + smallFileSystem + `/workdir ` + workdirBase + `
mount --bind ` + smallFileSystem + `/state /var/lib/circleci-runner`)
	// The unit's sandboxing options give the agent a mount namespace of
	// its own, so it is started again to be sure that it uses the mounts.
	old := s.property("MainPID")
	s.machine.Run("systemctl", "restart", serviceUnit)
	pid := s.waitForNewMainPID(old, 20*time.Second)
	s.waitForStatus("Healthy", 20*time.Second)
	restarts := s.property("NRestarts")

	job := s.waitForEnd(s.enqueue("fill-workdir").ID, time.Minute)

	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	lines := outputLines(job)
	after := linesWithPrefix(lines, "after=circleci-small ")
	if len(after) != 1 || !strings.HasSuffix(after[0], " 100% "+workdirBase) {
		t.Errorf("the job did not fill the small file system:\n%s", strings.Join(lines, "\n"))
	}
	inodes := linesWithPrefix(lines, "inodes=circleci-small ")
	if len(inodes) != 1 || !strings.HasSuffix(inodes[0], " 100% "+workdirBase) {
		t.Errorf("the job did not use every inode of the small file system:\n%s", strings.Join(lines, "\n"))
	}
	s.waitForTaskGone(launchID(job))
	s.waitForEmptyWorkdir()
	// Cleanup gave the space back.
	free := strings.Fields(s.machine.Run("df", "--output=pcent", smallFileSystem).Stdout)
	if len(free) != 2 || free[1] == "100%" {
		t.Errorf("df of %s after cleanup printed %v, expected space free again", smallFileSystem, free)
	}
	if got := s.property("MainPID"); got != pid {
		t.Errorf("MainPID changed from %s to %s, expected the agent to keep running", pid, got)
	}
	if got := s.property("NRestarts"); got != restarts {
		t.Errorf("NRestarts changed from %s to %s, expected no restart", restarts, got)
	}
	// The record of the finished task is written while the job's files
	// still fill the file system.
	if !s.journalHas("circleci-launch", "recording the claimed task failed; a crash now would leave it unreported") {
		t.Error("the agent logged no failure to write its record, so its state folder was not full")
	}
	s.waitForStatus("Healthy", 5*time.Second)
	s.checkNextJobRuns()
}

// printedOutput is how much the print-1gb job prints: 1 GB in lines of
// 1000 bytes.
const printedOutput = 1_000_000_000

// maxLoggedOutput is the agent's limit on the task agent output it logs
// for one task.
const maxLoggedOutput = 1 << 20

// journalCap is the limit that TestHostileJobPrints1GB gives the
// container's journal, in case the agent's own limit fails. The journal
// lives in the container's volatile root, which is memory on the host.
const journalCap = "64M"

func TestHostileJobPrints1GB(t *testing.T) {
	t.Parallel()
	s := bootSystem(t)
	s.writeFile("/etc/systemd/journald.conf.d/50-system-test.conf",
		"[Journal]\nSystemMaxUse="+journalCap+"\nRuntimeMaxUse="+journalCap+"\n", "0644")
	s.machine.Run("systemctl", "restart", "systemd-journald")
	s.install(firstToken)
	s.waitForStatus("Healthy", 20*time.Second)
	pid := s.property("MainPID")

	start := time.Now()
	job := s.waitForEnd(s.enqueue("print-1gb").ID, 2*time.Minute)
	t.Logf("the job printed 1 GB in %s", time.Since(start).Round(time.Millisecond))

	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	if !contains(outputLines(job), "printed="+strconv.Itoa(printedOutput)) {
		t.Errorf("the job printed %q, expected printed=%d", linesWithPrefix(outputLines(job), "printed="), printedOutput)
	}
	if stored := len(job.Steps[1].Output); stored > taskproto.MaxStepOutput {
		t.Errorf("the runner API stored %d bytes of the step's output, expected at most %d", stored, taskproto.MaxStepOutput)
	}

	id := launchID(job)
	// The limit counts the newline of each line, which the messages lack.
	logged := 0
	limitWarnings := 0
	for _, entry := range s.journal() {
		if field(entry.Fields, "launch_id") != id {
			continue
		}
		if field(entry.Fields, "stream") != "" {
			logged += len(entry.Message)
		}
		if entry.Message == "task agent output exceeds the log limit; the rest is not logged" {
			limitWarnings++
		}
	}
	t.Logf("the agent logged %d bytes of the task's output", logged)
	if logged > maxLoggedOutput {
		t.Errorf("the agent logged %d bytes of the task's output, expected at most %d", logged, maxLoggedOutput)
	}
	if logged < maxLoggedOutput*99/100 {
		t.Errorf("the agent logged %d bytes of the task's output, expected close to %d", logged, maxLoggedOutput)
	}
	if limitWarnings != 1 {
		t.Errorf("the agent logged %d warnings about the log limit, expected 1", limitWarnings)
	}

	usage := s.machine.Run("journalctl", "--disk-usage").Stdout
	t.Logf("%s", strings.TrimSpace(usage))
	if size := journalSize(usage); size < 0 || size > 32<<20 {
		t.Errorf("journalctl --disk-usage printed %q, expected well under %s", strings.TrimSpace(usage), journalCap)
	}
	status := s.machine.Run("cat", "/proc/"+pid+"/status").Stdout
	peak := statusKiB(status, "VmHWM")
	t.Logf("the agent's peak resident memory was %d KiB", peak)
	if peak == 0 || peak > 64<<10 {
		t.Errorf("the agent's VmHWM is %d KiB, expected under 64 MiB", peak)
	}
	s.checkAgentUndisturbed(pid)
	s.checkNextJobRuns()
}

var diskUsagePattern = regexp.MustCompile(`take up ([0-9.]+)([BKMG])`)

// journalSize returns the size that journalctl --disk-usage printed, in
// bytes, or -1 when it cannot be read.
func journalSize(usage string) int64 {
	match := diskUsagePattern.FindStringSubmatch(usage)
	if match == nil {
		return -1
	}
	value, err := strconv.ParseFloat(match[1], 64)
	if err != nil {
		return -1
	}
	unit := map[string]float64{"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match[2]]
	return int64(value * unit)
}

// statusKiB returns a field of /proc/PID/status given in kB, such as VmHWM,
// or 0 when it is missing.
func statusKiB(status, name string) int {
	for _, line := range strings.Split(status, "\n") {
		if value, ok := strings.CutPrefix(line, name+":"); ok {
			fields := strings.Fields(value)
			if len(fields) > 0 {
				n, _ := strconv.Atoi(fields[0])
				return n
			}
		}
	}
	return 0
}
