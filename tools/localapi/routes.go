package localapi

import (
	"net/http"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// The runner API, as the launch agent speaks it.
	mux.Handle("/api/v3/runner/claim", methods{"POST": s.handleClaim})
	mux.Handle("/api/v3/runner/unclaim", methods{"POST": s.handleUnclaim})
	mux.Handle("/api/v2/task/event/fail", methods{"POST": s.handleFailEvent})
	mux.Handle(taskproto.PathConfig, methods{"GET": s.handleTaskConfig})

	// The task agent protocol of package taskproto.
	mux.Handle(taskproto.PathCheckout, methods{"GET": s.handleCheckout})
	mux.Handle(taskproto.PathStepStart, methods{"POST": stepHandler(s, s.applyStepStart, "step")})
	mux.Handle(taskproto.PathStepOutput, methods{"POST": stepHandler(s, s.applyStepOutput, "step", "output")})
	mux.Handle(taskproto.PathStepEnd, methods{"POST": stepHandler(s, s.applyStepEnd, "step", "status", "exit_code")})
	mux.Handle(taskproto.PathComplete, methods{"POST": stepHandler(s, s.applyComplete, "result")})

	// Task agent downloads.
	mux.Handle("/task-agent/", methods{"GET": s.handleTaskAgent})

	// Endpoints for tests and people.
	mux.Handle("/local/jobs", methods{"GET": s.handleJobs, "POST": s.handleEnqueue})
	mux.Handle("/local/jobs/{id}", methods{"GET": s.handleJob})
	mux.Handle("/local/jobs/{id}/cancel", methods{"POST": s.handleCancel})
	mux.Handle("/local/calls", methods{"GET": s.handleCalls})
	mux.Handle("/local/wait", methods{"GET": s.handleWait})
	mux.Handle("/local/faults", methods{"GET": s.handleFaults, "POST": s.handleAddFaults, "DELETE": s.handleClearFaults})
	mux.Handle("/", methods{"GET": s.handleIndex})

	return s.recordCalls(s.injectFaults(mux))
}
