// Package runnerapi is a client for CircleCI's runner API: claim a task,
// fetch its configuration, unclaim it and report its failure.
package runnerapi

import "fmt"

// ClaimRequest is the body of POST /api/v3/runner/claim.
type ClaimRequest struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
	IP       string `json:"ip"`
	Version  string `json:"version"`
}

// Claim is a task claimed by POST /api/v3/runner/claim.
type Claim struct {
	TaskToken     string `json:"task_token"`
	AgentVersion  string `json:"agent_version"`
	Allocation    string `json:"allocation"`
	ResourceClass string `json:"resource_class"`
	Warning       string `json:"warning"`
	IsEnterprise  bool   `json:"is_enterprise"`
}

// TaskConfig is the part of GET /api/v2/task/config that the launch agent
// reads. Raw holds the whole body.
type TaskConfig struct {
	TaskID string `json:"task_id"`
	Raw    []byte `json:"-"`
}

// UnclaimRequest is the body of POST /api/v3/runner/unclaim.
type UnclaimRequest struct {
	TaskID    string `json:"task_id"`
	TaskToken string `json:"task_token"`
}

// FailEvent is the body of POST /api/v2/task/event/fail. Timestamp is Unix
// milliseconds; Message is the base64 of the sanitized UTF-8 text.
type FailEvent struct {
	Allocation string `json:"allocation"`
	Timestamp  int64  `json:"timestamp"`
	Message    string `json:"message"`
}

// String formats the claim for logs with the task token masked, so printing
// a Claim with %v does not leak the token.
func (c Claim) String() string {
	return fmt.Sprintf("{allocation:%s agent_version:%s resource_class:%s task_token:%s is_enterprise:%t warning:%q}",
		c.Allocation, c.AgentVersion, c.ResourceClass, maskToken(c.TaskToken), c.IsEnterprise, c.Warning)
}
