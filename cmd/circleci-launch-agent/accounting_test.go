package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// logEntry is one JSON line of the agent's log.
type logEntry map[string]any

// str returns a string field of the entry, or "".
func (e logEntry) str(field string) string {
	value, _ := e[field].(string)
	return value
}

// logEntries parses the log of every run of the agent so far. Lines that
// are not JSON, such as configuration warnings printed before the logger
// starts, are skipped.
func (r *rig) logEntries() []logEntry {
	var entries []logEntry
	scanner := bufio.NewScanner(strings.NewReader(r.stderr.String()))
	scanner.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for scanner.Scan() {
		var entry logEntry
		if json.Unmarshal(scanner.Bytes(), &entry) == nil {
			entries = append(entries, entry)
		}
	}
	return entries
}

// logged returns the entries whose message starts with prefix.
func (r *rig) logged(prefix string) []logEntry {
	var found []logEntry
	for _, entry := range r.logEntries() {
		if strings.HasPrefix(entry.str("message"), prefix) {
			found = append(found, entry)
		}
	}
	return found
}

// waitLogged waits until the log has count entries whose message starts
// with prefix, and returns the last of them.
func (r *rig) waitLogged(prefix string, count int, timeout time.Duration) logEntry {
	r.t.Helper()
	var found []logEntry
	waitFor(r.t, "log message "+prefix, timeout, func() bool {
		found = r.logged(prefix)
		return len(found) >= count
	})
	return found[count-1]
}

// Log messages of the agent that the accounting reads.
const (
	msgClaimed        = "claimed task"
	msgStarted        = "task agent started"
	msgUnclaimed      = "task unclaimed"
	msgUnclaimGone    = "task could not start and its job was already cancelled"
	msgFailEventSent  = "sent fail event"
	msgFailEventError = "sending the fail event failed"
)

// claimFate is what became of one claim of a job.
type claimFate string

const (
	fateRan          claimFate = "ran"
	fateUnclaimed    claimFate = "unclaimed"
	fateFailEvent    claimFate = "fail event"
	fateJobCancelled claimFate = "unclaim found the job cancelled"
	fateReportFailed claimFate = "fail event failed and was logged"
	fateLost         claimFate = "claim response lost before the agent"
)

// claimRecord is one claim of one job and its fate.
type claimRecord struct {
	job        string
	allocation string
	fate       claimFate
}

// accountClaims checks the final accounting of a run: every claim that the
// local runner API handed out ran once, was unclaimed, got a fail event, or
// never reached the agent because an injected fault broke the response. It
// also checks that no job ran twice. It reads the jobs and the call log of
// the local runner API, the agent's log and the command_prefix records, and
// returns each claim with its fate.
func (r *rig) accountClaims() []claimRecord {
	r.t.Helper()
	seen := r.agentView()
	var records []claimRecord
	for _, job := range r.api.Jobs() {
		records = append(records, r.accountJob(job, seen)...)
	}
	r.checkLostClaims(records)
	if r.t.Failed() {
		for _, record := range records {
			r.t.Logf("claim of job %s (allocation %s): %s", record.job, record.allocation, record.fate)
		}
	}
	return records
}

// agentView is what the agent's log and the command_prefix records show,
// as a count of each event per allocation.
type agentView struct {
	claimed, launched, recorded, unclaimed, gone, failSent, failErrors map[string]int
}

func (r *rig) agentView() agentView {
	view := agentView{
		claimed: map[string]int{}, launched: map[string]int{}, recorded: map[string]int{},
		unclaimed: map[string]int{}, gone: map[string]int{}, failSent: map[string]int{}, failErrors: map[string]int{},
	}
	counts := map[string]map[string]int{
		msgClaimed: view.claimed, msgStarted: view.launched, msgUnclaimed: view.unclaimed,
		msgUnclaimGone: view.gone, msgFailEventSent: view.failSent, msgFailEventError: view.failErrors,
	}
	for _, entry := range r.logEntries() {
		for prefix, count := range counts {
			if strings.HasPrefix(entry.str("message"), prefix) {
				count[entry.str("allocation")]++
			}
		}
	}
	for _, allocation := range r.recordedAllocations() {
		view.recorded[allocation]++
	}
	return view
}

// recordedAllocations returns the --allocation of every launch that the
// recorder script saw. Tests with another command_prefix record nothing.
func (r *rig) recordedAllocations() []string {
	var allocations []string
	matches, _ := filepath.Glob(filepath.Join(r.records, "*", "args"))
	for _, path := range matches {
		for _, arg := range lines(readRecord(r.t, filepath.Dir(path), "args")) {
			if allocation, ok := strings.CutPrefix(arg, "--allocation="); ok {
				allocations = append(allocations, allocation)
			}
		}
	}
	return allocations
}

func (r *rig) accountJob(job localapi.Job, seen agentView) []claimRecord {
	r.t.Helper()
	serverFailEvents := map[string]int{}
	for _, event := range job.FailEvents {
		serverFailEvents[event.Allocation]++
	}

	var records []claimRecord
	runs, unclaims := 0, 0
	for i, claim := range job.Claims {
		a := claim.Allocation
		record := claimRecord{job: job.Name, allocation: a}
		switch {
		case seen.recorded[a] > 0 && seen.unclaimed[a] > 0:
			r.t.Errorf("job %s, allocation %s: the task ran and was also unclaimed", job.Name, a)
		case seen.recorded[a] > 0 || seen.launched[a] > 0 && seen.unclaimed[a] == 0:
			// A launch that was unclaimed afterwards never reached the
			// task agent, such as when the command_prefix exited at once.
			record.fate = fateRan
			runs += max(seen.launched[a], seen.recorded[a])
		case seen.unclaimed[a] > 0:
			record.fate = fateUnclaimed
			unclaims++
			if serverFailEvents[a] > 0 {
				r.t.Errorf("job %s, allocation %s: the task was unclaimed and also got a fail event", job.Name, a)
			}
		case seen.gone[a] > 0:
			record.fate = fateJobCancelled
			if job.State != localapi.StateCancelled {
				r.t.Errorf("job %s: unclaim reported the job cancelled, but its state is %s", job.Name, job.State)
			}
		case serverFailEvents[a] > 0:
			record.fate = fateFailEvent
		case seen.failErrors[a] > 0:
			record.fate = fateReportFailed
		case seen.claimed[a] == 0:
			record.fate = fateLost
		default:
			r.t.Errorf("job %s, allocation %s: the agent received the claim, but the task neither ran, nor was unclaimed, nor got a fail event", job.Name, a)
		}
		if record.fate == fateUnclaimed && i == len(job.Claims)-1 && job.State.Ended() {
			r.t.Errorf("job %s ended as %s, but its last claim was unclaimed", job.Name, job.State)
		}
		if seen.failSent[a] > 0 && serverFailEvents[a] == 0 {
			r.t.Errorf("job %s, allocation %s: the agent logged a fail event that the runner API never received", job.Name, a)
		}
		records = append(records, record)
	}

	if runs > 1 {
		r.t.Errorf("job %s ran %d times, want at most once", job.Name, runs)
	}
	if job.Unclaims != unclaims {
		r.t.Errorf("job %s: the runner API counted %d unclaims, the agent logged %d", job.Name, job.Unclaims, unclaims)
	}
	return records
}

// checkLostClaims checks that every claim that never reached the agent has
// an injected fault that broke a claim response to blame.
func (r *rig) checkLostClaims(records []claimRecord) {
	r.t.Helper()
	lost := 0
	for _, record := range records {
		if record.fate == fateLost {
			lost++
		}
	}
	broken := 0
	for _, call := range r.api.Calls() {
		if call.Path == "/api/v3/runner/claim" && call.Fault != 0 {
			broken++
		}
	}
	if lost > broken {
		r.t.Errorf("%d claims never reached the agent, but only %d claim responses were faulted", lost, broken)
	}
}

// fates returns the fates of the claims of job, in claim order.
func fates(records []claimRecord, job string) []claimFate {
	var out []claimFate
	for _, record := range records {
		if record.job == job {
			out = append(out, record.fate)
		}
	}
	return out
}
