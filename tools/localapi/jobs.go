package localapi

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/circleci-runner/circleci-runner/tools/pipeline"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// job is the server's state of one job. record is guarded by Server.mu.
type job struct {
	record   Job
	def      *pipeline.Job
	requires []*job
	queueSeq int64
	task     *task // the current claim, nil unless running
}

// task is one claim of a job, found by its task token.
type task struct {
	token      string
	allocation string
	job        *job

	// active is false once the claim was returned by unclaim, so the token
	// no longer acts on the job.
	active bool
}

// expandWorkflows creates the jobs of every workflow.
func (s *Server) expandWorkflows() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	for _, workflow := range s.config.Workflows {
		workflowID := newUUID()
		byName := map[string]*job{}
		for _, wj := range workflow.Jobs {
			j, err := s.newJobLocked(wj.Job, wj.Name, workflow.Name, workflowID)
			if err != nil {
				return err
			}
			j.record.Requires = wj.Requires
			byName[wj.Name] = j
		}
		for _, j := range byName {
			for _, name := range j.record.Requires {
				j.requires = append(j.requires, byName[name])
			}
		}
	}

	for _, j := range s.jobs {
		s.advanceLocked(j)
	}
	return nil
}

// newJobLocked adds a waiting job for the config job named configJob.
func (s *Server) newJobLocked(configJob, name, workflow, workflowID string) (*job, error) {
	def, ok := s.config.Jobs[configJob]
	if !ok {
		return nil, fmt.Errorf("job %q is not defined in the config's jobs", configJob)
	}
	class, err := s.resourceClassOf(def)
	if err != nil {
		return nil, err
	}

	s.buildNum++
	j := &job{def: def, record: Job{
		ID:            newUUID(),
		BuildNum:      s.buildNum,
		Name:          name,
		ConfigJob:     configJob,
		Workflow:      workflow,
		WorkflowID:    workflowID,
		ResourceClass: class,
		State:         StateWaiting,
		Claims:        []Claim{},
		FailEvents:    []FailEvent{},
		Steps:         stepRecords(def.Steps),
	}}
	s.jobs = append(s.jobs, j)
	s.byID[j.record.ID] = j
	return j, nil
}

// resourceClassOf returns the job's resource class, and rejects one that no
// token can claim, since such a job would wait forever.
func (s *Server) resourceClassOf(def *pipeline.Job) (string, error) {
	class := def.ResourceClass
	if class == "" {
		class = s.opts.DefaultResourceClass
	}
	if class == "" {
		return "", fmt.Errorf("job %q has no resource_class and no default resource class is set; set one with the default resource class option", def.Name)
	}
	for _, tokenClass := range s.opts.Tokens {
		if tokenClass == class {
			return class, nil
		}
	}
	return "", fmt.Errorf("job %q runs on resource class %q, but no token is configured for it", def.Name, class)
}

func stepRecords(steps []pipeline.Step) []StepRecord {
	records := make([]StepRecord, len(steps))
	for i, step := range steps {
		records[i] = StepRecord{
			Index:      i,
			Type:       string(step.Type),
			Name:       step.Name,
			Background: step.Background,
			Status:     taskproto.StatusPending,
		}
	}
	return records
}

// advanceLocked queues a waiting job whose requirements all succeeded, and
// blocks one with a requirement that ended otherwise.
func (s *Server) advanceLocked(j *job) {
	if j.record.State != StateWaiting {
		return
	}
	for _, required := range j.requires {
		state := required.record.State
		if state.Ended() && state != StateSucceeded {
			s.endLocked(j, StateBlocked, fmt.Sprintf("required job %q ended as %s", required.record.Name, state))
			return
		}
		if state != StateSucceeded {
			return
		}
	}
	s.queueLocked(j)
}

func (s *Server) queueLocked(j *job) {
	s.queueSeq++
	j.queueSeq = s.queueSeq
	j.task = nil
	j.record.State = StateQueued
	j.record.QueuedAt = s.opts.Now()
	s.log.Info().Str("job", j.record.Name).Str("task_id", j.record.ID).
		Str("resource_class", j.record.ResourceClass).Msg("job queued")
	s.notifyLocked()
}

// endLocked moves a job to a final state and advances the jobs that require
// it.
func (s *Server) endLocked(j *job, state State, message string) {
	j.record.State = state
	j.record.Message = message
	j.record.EndedAt = s.opts.Now()
	if j.task != nil {
		j.task.active = false
	}
	for i := range j.record.Steps {
		if j.record.Steps[i].Status == taskproto.StatusPending {
			j.record.Steps[i].Status = taskproto.StatusNotRun
		}
	}
	s.log.Info().Str("job", j.record.Name).Str("task_id", j.record.ID).
		Str("state", string(state)).Str("reason", message).Msg("job ended")
	s.notifyLocked()

	for _, other := range s.jobs {
		if other.record.WorkflowID == j.record.WorkflowID {
			s.advanceLocked(other)
		}
	}
}

// Enqueue adds a new run of the config job named name, with no
// requirements, to its resource class's queue.
func (s *Server) Enqueue(name string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	j, err := s.newJobLocked(name, name, "enqueued", newUUID())
	if err != nil {
		return Job{}, err
	}
	s.queueLocked(j)
	return j.record.clone(), nil
}

// Cancel cancels a job that has not ended. A running job's task token then
// receives 410 on the task agent's calls, and unclaim responds with 404.
func (s *Server) Cancel(id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	j, ok := s.byID[id]
	if !ok {
		return Job{}, fmt.Errorf("%w: no job has id %q", ErrNotFound, id)
	}
	if j.record.State.Ended() {
		return Job{}, fmt.Errorf("%w: job %q already ended as %s", ErrConflict, j.record.Name, j.record.State)
	}
	s.endStepsLocked(j, taskproto.StatusCancelled)
	s.endLocked(j, StateCancelled, "cancelled through the local runner API")
	return j.record.clone(), nil
}

// Jobs returns a copy of every job record, in creation order.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := make([]Job, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = j.record.clone()
	}
	return out
}

// Job returns a copy of the record of the job with the given id.
func (s *Server) Job(id string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	j, ok := s.byID[id]
	if !ok {
		return Job{}, false
	}
	return j.record.clone(), true
}

// Changed returns a channel that is closed at the next change of any job.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.changed
}

// WaitAllEnded blocks until every job has ended, then returns their records.
// It returns ctx's error, with the jobs still open, when ctx ends first.
func (s *Server) WaitAllEnded(ctx context.Context) ([]Job, error) {
	for {
		s.mu.Lock()
		open := s.openJobsLocked()
		changed := s.changed
		s.mu.Unlock()

		if len(open) == 0 {
			return s.Jobs(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Jobs(), fmt.Errorf("%w while jobs have not ended: %s", ctx.Err(), describeJobs(open))
		}
	}
}

func (s *Server) openJobsLocked() []*job {
	var open []*job
	for _, j := range s.jobs {
		if !j.record.State.Ended() {
			open = append(open, j)
		}
	}
	return open
}

func describeJobs(jobs []*job) string {
	text := ""
	for i, j := range jobs {
		if i > 0 {
			text += ", "
		}
		text += fmt.Sprintf("%s (%s)", j.record.Name, j.record.State)
	}
	return text
}

// projectName returns the repository's folder name, for CIRCLE_PROJECT_REPONAME.
func (s *Server) projectName() string {
	abs, err := filepath.Abs(s.opts.RepoDir)
	if err != nil {
		return filepath.Base(s.opts.RepoDir)
	}
	return filepath.Base(abs)
}
