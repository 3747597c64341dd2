package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/pkg/workdir"
)

// inflight is the record of the claimed task, kept on disk from the claim
// until the task has been reported, so that an agent restarted after a crash
// or kill -9 can report the task it lost. It holds the task token, so the
// file is private to the agent's user.
type inflight struct {
	LaunchID   string `json:"launch_id"`
	Allocation string `json:"allocation"`
	TaskToken  string `json:"task_token"`
	TaskID     string `json:"task_id,omitempty"`
	WorkDir    string `json:"working_directory"`
	Started    bool   `json:"started"`
	// Reported is true once the outcome was reported, so only cleanup is
	// left and a restart must not report the task again.
	Reported  bool      `json:"reported,omitempty"`
	ClaimedAt time.Time `json:"claimed_at"`
}

// progress is how far a task got, as its record stores it.
type progress int

const (
	progressClaimed  progress = iota // claimed; the task agent has not started
	progressStarted                  // the task agent started
	progressReported                 // the outcome was reported; cleanup is left
)

// saveInflight records t. Without a state file it does nothing. A failure
// is logged: the task still runs, but a crash would leave it unreported.
//
// NOTE: the file is renamed into place without fsync. That survives a crash
// of the agent, which is what the record is for, but not a power loss.
func (a *Agent) saveInflight(t *task, p progress) {
	if a.opts.StateFile == "" {
		return
	}
	record := inflight{
		LaunchID:   t.launchID,
		Allocation: t.claim.Allocation,
		TaskToken:  t.claim.TaskToken,
		TaskID:     t.id,
		WorkDir:    t.workdir.String(),
		Started:    p >= progressStarted,
		Reported:   p >= progressReported,
		ClaimedAt:  t.claimedAt,
	}
	if err := writePrivateJSON(a.opts.StateFile, record); err != nil {
		t.log.Error().Err(err).Msg("recording the claimed task failed; a crash now would leave it unreported")
	}
}

func (a *Agent) clearInflight(t *task) {
	if a.opts.StateFile == "" {
		return
	}
	if err := os.Remove(a.opts.StateFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Error().Err(err).Str("path", a.opts.StateFile).Msg("removing the record of the finished task failed")
	}
}

func writePrivateJSON(path string, value any) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	// The folder is 0755, not private: as root it is /var/lib/circleci-runner,
	// which also holds the task agent cache that the circleci user must
	// reach to run a task. The record itself is 0600.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		// A full disk leaves part of the record, and so part of the task
		// token, in the temporary file.
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// recoverInflight reports the task that a previous run of the agent left
// behind: its transient unit is stopped, a task that never started is
// unclaimed, and one that did start gets a fail event, unless its outcome
// was reported before the crash. Its working directory is removed, and then
// the record, so the task is reported once.
func (a *Agent) recoverInflight() {
	if a.opts.StateFile == "" {
		return
	}
	data, err := os.ReadFile(a.opts.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		a.log.Error().Err(err).Str("path", a.opts.StateFile).Msg("reading the record of the interrupted task failed")
		return
	}
	var record inflight
	if err := json.Unmarshal(data, &record); err != nil || record.TaskToken == "" {
		a.log.Error().Str("path", a.opts.StateFile).Msg("the record of the interrupted task is damaged; removing it")
		_ = os.Remove(a.opts.StateFile)
		return
	}

	t := a.recoveredTask(record)
	// launch-task got SIGTERM when the previous agent died, so the unit may
	// still be stopping. Its processes get one more grace period.
	a.stopUnit(t, a.cfg.Runner.CancelGracePeriod)
	if record.Reported {
		t.log.Warn().Time("claimed_at", record.ClaimedAt).Msg("found a task whose cleanup a restart of the agent interrupted; it was reported already")
	} else {
		t.log.Warn().Bool("started", record.Started).Time("claimed_at", record.ClaimedAt).Msg("found a task interrupted by a restart of the agent; reporting it")
		a.reportInterrupted(t, record.Started)
	}
	t.workDir = t.workdir.Path(t.launchID)
	a.cleanup(t)
	a.clearInflight(t)
}

// reportInterrupted reports a task that a restart interrupted. A task that
// never started returns to the queue. When the crash came before its task
// id was known, the task configuration is fetched again for the id that
// unclaim needs.
func (a *Agent) reportInterrupted(t *task, started bool) {
	if started {
		a.fail(t, fmt.Sprintf("The launch agent on runner %s restarted while the task ran (launch id %s), so the task was stopped.", a.cfg.Runner.Name, t.launchID))
		return
	}
	if t.id == "" {
		ctx, stop := context.WithTimeout(context.Background(), reportTimeout)
		defer stop()

		taskConfig, err := t.api.TaskConfig(ctx, t.claim.TaskToken)
		if err != nil {
			t.log.Error().Err(err).Msg("fetching the configuration of the interrupted task failed, so it cannot be unclaimed")
			a.fail(t, fmt.Sprintf("The launch agent on runner %s restarted before the task started (launch id %s).", a.cfg.Runner.Name, t.launchID))
			return
		}
		t.id = taskConfig.TaskID
		t.log = t.log.With().Str("task_id", t.id).Logger()
	}
	a.unclaim(t, "the launch agent restarted before the task started")
}

func (a *Agent) recoveredTask(record inflight) *task {
	t := &task{
		claim:     &runnerapi.Claim{TaskToken: record.TaskToken, Allocation: record.Allocation},
		id:        record.TaskID,
		launchID:  record.LaunchID,
		claimedAt: record.ClaimedAt,
		workdir:   a.parts.WorkDir,
		api:       a.parts.API,
	}
	if tmpl, err := workdir.Parse(record.WorkDir); err == nil {
		t.workdir = tmpl
	}
	t.log = a.log.With().Str("launch_id", t.launchID).Str("allocation", record.Allocation).Str("task_id", record.TaskID).Logger()
	return t
}

// stopUnit stops the task's transient systemd unit, in case launch-task
// could not, when tasks run through a command_prefix. Processes left in the
// unit after grace get SIGKILL.
func (a *Agent) stopUnit(t *task, grace time.Duration) {
	if a.opts.StopUnit == nil || len(a.cfg.Runner.CommandPrefix) == 0 {
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), grace+reportTimeout)
	defer stop()

	if err := a.opts.StopUnit(ctx, t.launchID, grace); err != nil {
		t.log.Error().Err(err).Msg("stopping the task's transient unit failed")
	}
}
