package localapi

import "time"

// State is the state of a job.
type State string

// Job states. A job waits until every job it requires has succeeded, is
// queued for its resource class, runs from its claim until it ends, and ends
// in one of the last four states.
const (
	StateWaiting   State = "waiting"
	StateQueued    State = "queued"
	StateRunning   State = "running"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateBlocked   State = "blocked"
	StateCancelled State = "cancelled"
)

// Ended reports whether the state is final.
func (s State) Ended() bool {
	switch s {
	case StateSucceeded, StateFailed, StateBlocked, StateCancelled:
		return true
	}
	return false
}

// Job is the record of one job: a copy that the caller may keep and change.
type Job struct {
	// ID is the task_id that the runner API hands out for this job.
	ID       string `json:"id"`
	BuildNum int    `json:"build_num"`

	// Name is the job's name in its workflow, and ConfigJob its key in the
	// config's jobs map. They differ only for a workflow job with `name:`.
	Name          string   `json:"name"`
	ConfigJob     string   `json:"config_job"`
	Workflow      string   `json:"workflow"`
	WorkflowID    string   `json:"workflow_id"`
	ResourceClass string   `json:"resource_class"`
	Requires      []string `json:"requires,omitempty"`

	State State `json:"state"`

	// Message is the reason the job ended when the task agent or a fail event
	// gave a reason, or why it was blocked or cancelled.
	Message string `json:"message,omitempty"`

	Claims     []Claim      `json:"claims"`
	Unclaims   int          `json:"unclaims"`
	FailEvents []FailEvent  `json:"fail_events"`
	Steps      []StepRecord `json:"steps"`

	QueuedAt  time.Time `json:"queued_at,omitzero"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// Claim is one successful POST /api/v3/runner/claim of a job.
type Claim struct {
	Time       time.Time `json:"time"`
	Allocation string    `json:"allocation"`

	// Token is the resource-class token, masked to its last four characters.
	Token    string `json:"token"`
	Runner   string `json:"runner"`
	Hostname string `json:"hostname"`
	IP       string `json:"ip"`
	Version  string `json:"version"`
}

// FailEvent is one POST /api/v2/task/event/fail with its message decoded.
type FailEvent struct {
	Received   time.Time `json:"received"`
	Allocation string    `json:"allocation"`
	Timestamp  int64     `json:"timestamp"` // Unix milliseconds, as sent
	Message    string    `json:"message"`
}

// StepRecord is the progress of one step as the task agent reported it.
type StepRecord struct {
	Index      int    `json:"index"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Background bool   `json:"background,omitempty"`

	// Status is one of the taskproto.Status values.
	Status string `json:"status"`

	// ExitCode is nil until the step ends with an exit status.
	ExitCode *int   `json:"exit_code,omitempty"`
	Message  string `json:"message,omitempty"`
	Output   string `json:"output"`

	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// Duration returns how long the step ran, or 0 when it did not both start
// and end.
func (s StepRecord) Duration() time.Duration {
	if s.StartedAt.IsZero() || s.EndedAt.IsZero() {
		return 0
	}
	return s.EndedAt.Sub(s.StartedAt)
}

func (j *Job) clone() Job {
	out := *j
	out.Requires = append([]string(nil), j.Requires...)
	out.Claims = append([]Claim{}, j.Claims...)
	out.FailEvents = append([]FailEvent{}, j.FailEvents...)
	out.Steps = make([]StepRecord, len(j.Steps))
	for i, step := range j.Steps {
		out.Steps[i] = step
		if step.ExitCode != nil {
			code := *step.ExitCode
			out.Steps[i].ExitCode = &code
		}
	}
	return out
}
