package localapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
)

// DefaultWaitTimeout is the timeout of GET /local/wait without a timeout
// parameter.
const DefaultWaitTimeout = 30 * time.Second

func (s *Server) handleJobs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Jobs())
}

// enqueueRequest is the body of POST /local/jobs.
type enqueueRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleEnqueue(w http.ResponseWriter, r *http.Request) {
	var request enqueueRequest
	if err := decodeBody(r, &request, "name"); err != nil {
		writeErr(w, err)
		return
	}
	job, err := s.Enqueue(request.Name)
	if err != nil {
		writeError(w, http.StatusNotFound, "%v", err)
		return
	}
	writeJSON(w, http.StatusCreated, job)
}

func (s *Server) handleJob(w http.ResponseWriter, r *http.Request) {
	job, ok := s.Job(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "no job has id %q", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, job)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	job, err := s.Cancel(r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}

func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Calls())
}

func (s *Server) handleWait(w http.ResponseWriter, r *http.Request) {
	timeout := DefaultWaitTimeout
	if text := r.URL.Query().Get("timeout"); text != "" {
		parsed, err := time.ParseDuration(text)
		if err != nil || parsed <= 0 {
			writeError(w, http.StatusBadRequest, "invalid timeout %q: use a positive duration such as 30s", text)
			return
		}
		timeout = parsed
	}

	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	jobs, err := s.WaitAllEnded(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusRequestTimeout, "timed out after %s: %v", timeout, err)
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, jobs)
}

// faultsBody is the body of POST /local/faults and of every /local/faults
// response.
type faultsBody struct {
	Rules    []FaultRule    `json:"rules"`
	Checksum *ChecksumFault `json:"checksum,omitempty"`
}

func (s *Server) faultsState() faultsBody {
	checksum := s.agents.checksumFault()
	return faultsBody{Rules: s.Faults(), Checksum: &checksum}
}

func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.faultsState())
}

func (s *Server) handleAddFaults(w http.ResponseWriter, r *http.Request) {
	var request faultsBody
	if err := decodeBody(r, &request); err != nil {
		writeErr(w, err)
		return
	}
	if request.Rules == nil && request.Checksum == nil {
		writeError(w, http.StatusBadRequest, "invalid request body: set rules, checksum or both")
		return
	}

	// Validate everything before changing anything.
	for i := range request.Rules {
		if err := request.Rules[i].validate(); err != nil {
			writeError(w, http.StatusBadRequest, "rules[%d]: %v", i, err)
			return
		}
	}
	if request.Checksum != nil {
		if err := s.SetChecksumFault(*request.Checksum); err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
	}
	for _, rule := range request.Rules {
		s.AddFault(rule)
	}
	writeJSON(w, http.StatusOK, s.faultsState())
}

func (s *Server) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	writeJSON(w, http.StatusOK, s.faultsState())
}

// handleIndex writes a plain-text overview of the jobs and their steps.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "no endpoint %s %s", r.Method, r.URL.Path)
		return
	}

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	table := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(table, "BUILD\tJOB\tWORKFLOW\tRESOURCE CLASS\tSTATE\tCLAIMS\tUNCLAIMS\tFAIL EVENTS")
	now := s.opts.Now()
	for _, job := range s.Jobs() {
		fmt.Fprintf(table, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", job.BuildNum, job.Name, job.Workflow,
			job.ResourceClass, job.State, len(job.Claims), job.Unclaims, len(job.FailEvents))
		for _, step := range job.Steps {
			fmt.Fprintf(table, "\t  %d. %s\t\t\t%s\t%s\t\t\n", step.Index+1, step.Name, step.Status,
				elapsed(step.StartedAt, step.EndedAt, now).Round(time.Millisecond))
		}
	}
	table.Flush()
	writeOutputs(w, s.Jobs())
}

// indexOutputLines is how many of the last lines of each step's output the
// index page shows; GET /local/jobs/{id} has all of it.
const indexOutputLines = 20

// writeOutputs writes the end of each step's output, job by job.
func writeOutputs(w io.Writer, jobs []Job) {
	for _, job := range jobs {
		for _, step := range job.Steps {
			lines := strings.Split(strings.TrimRight(step.Output, "\n"), "\n")
			if step.Output == "" {
				continue
			}
			fmt.Fprintf(w, "\n%s (build %d), step %d. %s:\n", job.Name, job.BuildNum, step.Index+1, step.Name)
			if len(lines) > indexOutputLines {
				fmt.Fprintf(w, "    ... %d earlier lines at /local/jobs/%s\n", len(lines)-indexOutputLines, job.ID)
				lines = lines[len(lines)-indexOutputLines:]
			}
			for _, line := range lines {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
}
