package localapi

import (
	"net/http"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/pipeline"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// maxStepOutput bounds the output kept for one step, so a noisy job cannot
// exhaust the server's memory.
const maxStepOutput = taskproto.MaxStepOutput

const outputTruncated = "\n[output truncated by the local runner API]\n"

// activeTaskLocked returns the task of the request's bearer token when it is
// the current claim of a running job. Otherwise the error gives the reason: 401 for
// an unknown token, 404 for a claim returned to the queue, 410 for a
// cancelled job and 409 for a job that ended otherwise.
func (s *Server) activeTaskLocked(r *http.Request) (*task, error) {
	token, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	t, ok := s.tasks[token]
	if !ok {
		return nil, errorf(http.StatusUnauthorized, "task token %s is not valid", MaskToken(token))
	}

	state := t.job.record.State
	switch {
	case state == StateCancelled:
		return nil, errorf(http.StatusGone, "task %q was cancelled", t.job.record.ID)
	case state.Ended():
		return nil, errorf(http.StatusConflict, "task %q already ended as %s", t.job.record.ID, state)
	case !t.active:
		return nil, errorf(http.StatusNotFound, "task %q was returned to the queue; this token no longer acts on it", t.job.record.ID)
	}
	return t, nil
}

func (s *Server) handleTaskConfig(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t, err := s.activeTaskLocked(r)
	var config taskproto.TaskConfig
	if err == nil {
		config = s.taskConfig(t)
	}
	s.mu.Unlock()

	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, config)
}

func (s *Server) taskConfig(t *task) taskproto.TaskConfig {
	j := t.job
	config := taskproto.TaskConfig{
		TaskID:           j.record.ID,
		Allocation:       t.allocation,
		JobName:          j.record.Name,
		BuildNum:         j.record.BuildNum,
		WorkflowID:       j.record.WorkflowID,
		WorkflowName:     j.record.Workflow,
		ProjectName:      s.projectName(),
		Environment:      j.def.Environment,
		WorkingDirectory: j.def.WorkingDirectory,
		Shell:            j.def.Shell,
	}
	for _, step := range j.def.Steps {
		config.Steps = append(config.Steps, wireStep(step))
	}
	return config
}

func wireStep(step pipeline.Step) taskproto.Step {
	wire := taskproto.Step{
		Type:             string(step.Type),
		Name:             step.Name,
		Path:             step.Path,
		Command:          step.Command,
		Environment:      step.Environment,
		WorkingDirectory: step.WorkingDirectory,
		Shell:            step.Shell,
		Background:       step.Background,
		When:             string(step.When),
	}
	if step.NoOutputTimeout > 0 {
		wire.NoOutputTimeout = step.NoOutputTimeout.String()
	}
	return wire
}

// stepHandler decodes a step call's body and applies it to the job of the
// request's task token under the server lock.
func stepHandler[T any](s *Server, apply func(j *job, body *T) error, required ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body T
		if err := decodeBody(r, &body, required...); err != nil {
			writeErr(w, err)
			return
		}

		s.mu.Lock()
		t, err := s.activeTaskLocked(r)
		if err == nil {
			err = apply(t.job, &body)
		}
		if err == nil {
			s.notifyLocked()
		}
		s.mu.Unlock()

		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, emptyObject)
	}
}

func stepOf(j *job, index int) (*StepRecord, error) {
	if index < 0 || index >= len(j.record.Steps) {
		return nil, errorf(http.StatusBadRequest, "invalid step %d: the job has steps 0 to %d", index, len(j.record.Steps)-1)
	}
	return &j.record.Steps[index], nil
}

func (s *Server) applyStepStart(j *job, body *taskproto.StepStart) error {
	step, err := stepOf(j, body.Step)
	if err != nil {
		return err
	}
	if step.Status != taskproto.StatusPending {
		return errorf(http.StatusConflict, "step %d is %s, not pending", body.Step, step.Status)
	}
	step.Status = taskproto.StatusRunning
	step.StartedAt = s.opts.Now()
	return nil
}

func (s *Server) applyStepOutput(j *job, body *taskproto.StepOutput) error {
	step, err := stepOf(j, body.Step)
	if err != nil {
		return err
	}
	if step.Status != taskproto.StatusRunning {
		return errorf(http.StatusConflict, "step %d is %s, not running", body.Step, step.Status)
	}
	appendOutput(step, body.Output)
	return nil
}

func appendOutput(step *StepRecord, output string) {
	if len(step.Output) >= maxStepOutput {
		return
	}
	if len(step.Output)+len(output) > maxStepOutput {
		output = output[:maxStepOutput-len(step.Output)] + outputTruncated
	}
	step.Output += output
}

func (s *Server) applyStepEnd(j *job, body *taskproto.StepEnd) error {
	step, err := stepOf(j, body.Step)
	if err != nil {
		return err
	}
	if err := checkStepEnd(step, body); err != nil {
		return err
	}

	step.Status = body.Status
	step.Message = body.Message
	step.EndedAt = s.opts.Now()
	if body.ExitCode != taskproto.NoExitCode {
		code := body.ExitCode
		step.ExitCode = &code
	}
	return nil
}

func checkStepEnd(step *StepRecord, body *taskproto.StepEnd) error {
	switch body.Status {
	case taskproto.StatusSkipped:
		if step.Status != taskproto.StatusPending {
			return errorf(http.StatusConflict, "step %d is %s; only a pending step can be skipped", body.Step, step.Status)
		}
		return nil
	case taskproto.StatusSuccess, taskproto.StatusFailed, taskproto.StatusTimedOut, taskproto.StatusCancelled:
		if step.Status != taskproto.StatusRunning {
			return errorf(http.StatusConflict, "step %d is %s, not running", body.Step, step.Status)
		}
	default:
		return errorf(http.StatusBadRequest, "invalid status %q: use success, failed, timedout, cancelled or skipped", body.Status)
	}

	if body.Status == taskproto.StatusSuccess && body.ExitCode != 0 {
		return errorf(http.StatusBadRequest, "invalid exit_code %d for status success: want 0", body.ExitCode)
	}
	if body.ExitCode < taskproto.NoExitCode || body.ExitCode > 255 {
		return errorf(http.StatusBadRequest, "invalid exit_code %d: want 0 to 255, or -1 for none", body.ExitCode)
	}
	return nil
}

func (s *Server) applyComplete(j *job, body *taskproto.Complete) error {
	state := map[string]State{
		taskproto.ResultSucceeded: StateSucceeded,
		taskproto.ResultFailed:    StateFailed,
		taskproto.ResultCancelled: StateCancelled,
	}[body.Result]
	if state == "" {
		return errorf(http.StatusBadRequest, "invalid result %q: use succeeded, failed or cancelled", body.Result)
	}
	for _, step := range j.record.Steps {
		if step.Status == taskproto.StatusRunning {
			return errorf(http.StatusConflict, "step %d (%s) is still running; end it before completing the task", step.Index, step.Name)
		}
	}

	s.endLocked(j, state, body.Message)
	return nil
}

// endStepsLocked ends every running step with status, for a task that ended
// without reporting them.
func (s *Server) endStepsLocked(j *job, status string) {
	now := s.opts.Now()
	for i := range j.record.Steps {
		if j.record.Steps[i].Status == taskproto.StatusRunning {
			j.record.Steps[i].Status = status
			j.record.Steps[i].EndedAt = now
		}
	}
}

// elapsed returns the time from start to end, or to now while running.
func elapsed(start, end, now time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	if end.IsZero() {
		end = now
	}
	return end.Sub(start)
}
