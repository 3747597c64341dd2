// Package localapi is a local runner API: an HTTP server that replaces
// CircleCI's servers so the launch agent can run the jobs of a real
// .circleci/config.yml on loopback, and tests can watch every call and inject
// faults.
//
// New reads the repository's config and creates a job for each job of each
// workflow. A job is queued for its resource class once every job it
// requires has succeeded, and is blocked when one of them ended otherwise.
// A claim with a resource-class token receives the oldest queued job of that
// token's resource class.
//
// Runner API (the launch agent's calls):
//
//	POST /api/v3/runner/claim     Bearer resource-class token; body {name, hostname, ip, version}
//	                              200 {task_token, agent_version, allocation, resource_class, warning,
//	                              is_enterprise}, 204 no queued job, 401 unknown token
//	GET  /api/v2/task/config      Bearer task token; 200 taskproto.TaskConfig, which includes task_id
//	POST /api/v3/runner/unclaim   body {task_id, task_token}; 200 the job is queued again,
//	                              409 the job was returned Options.MaxUnclaims times already,
//	                              404 the job ended or was cancelled, or this claim was already returned
//	POST /api/v2/task/event/fail  Bearer task token; body {allocation, timestamp, message}, where
//	                              timestamp is Unix milliseconds and message standard base64 of UTF-8
//	                              text; 200, and the running job fails; 404 the allocation is not the
//	                              token's task
//
// Task agent protocol (Bearer task token; see package taskproto):
//
//	GET  /api/v2/task/checkout     the repository, without .git, as a tar
//	POST /api/v2/task/step/start   {step}
//	POST /api/v2/task/step/output  {step, output}
//	POST /api/v2/task/step/end     {step, status, exit_code, message}
//	POST /api/v2/task/complete     {result, message}
//
// These respond with 410 once the job is cancelled, 409 once it ended otherwise,
// and 404 once the claim was returned by unclaim.
//
// Task agent downloads, without authentication, for every agent_version
// handed out:
//
//	GET /task-agent/VERSION/checksums.txt               "SHA256 *linux/ARCH/circleci-agent" lines
//	GET /task-agent/VERSION/linux/ARCH/circleci-agent
//
// Endpoints for tests and people:
//
//	GET    /                        plain-text table of jobs and steps
//	GET    /local/jobs              every Job record
//	POST   /local/jobs              {name}: queue another run of a config job; 201 Job
//	GET    /local/jobs/{id}         one Job
//	POST   /local/jobs/{id}/cancel  cancel a job that has not ended
//	GET    /local/calls             the call log: every request outside /local/ and /, in order
//	GET    /local/wait?timeout=30s  200 every Job once all have ended; 408 on timeout
//	GET    /local/faults            {rules, checksum}
//	POST   /local/faults            {rules: [FaultRule...], checksum: "wrong"|"missing"|""}
//	DELETE /local/faults            remove every rule and the checksum fault
//
// Requests with a body must send "Content-Type: application/json;
// charset=utf-8". Bodies are decoded strictly: an unknown key, a missing key,
// a value of the wrong type or data after the object is a 400. Every error
// response is JSON {"message": "..."}. Tokens appear in logs and records
// only masked to their last four characters.
package localapi
