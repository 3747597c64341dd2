// Package health reports the agent's state to systemd through sd_notify:
// READY=1, STATUS=Healthy or Unhealthy with a reason, Draining, STOPPING=1
// and watchdog keep-alives. Outside systemd every call does nothing.
package health

import (
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
)

// Notify sends one sd_notify state string. It returns false, and no error,
// when there is no notification socket.
type Notify func(state string) (bool, error)

// SystemdNotify sends to the socket named by NOTIFY_SOCKET and leaves the
// variable set, so later calls still reach systemd.
func SystemdNotify(state string) (bool, error) {
	return daemon.SdNotify(false, state)
}

// Reporter tracks the agent's health and sends each change to systemd and
// the log once, however many times the same state is reported.
type Reporter struct {
	notify Notify
	log    zerolog.Logger

	mu     sync.Mutex
	status string
}

// NewReporter returns a Reporter that sends through notify and logs to log.
func NewReporter(notify Notify, log zerolog.Logger) *Reporter {
	return &Reporter{notify: notify, log: log}
}

// Ready sends READY=1, which marks start-up as complete.
func (r *Reporter) Ready() {
	r.send(daemon.SdNotifyReady)
}

// Healthy reports that the runner API responds to claims.
func (r *Reporter) Healthy() {
	if r.setStatus("Healthy") {
		r.log.Info().Str("status", "Healthy").Msg("runner is healthy")
	}
}

// Unhealthy reports why the runner cannot claim tasks, such as
// "authentication rejected (HTTP 401)".
func (r *Reporter) Unhealthy(reason string) {
	if r.setStatus("Unhealthy: " + reason) {
		r.log.Warn().Str("status", "Unhealthy").Str("reason", reason).Msg("runner is unhealthy")
	}
}

// Draining reports that the runner claims no new task and is stopping.
func (r *Reporter) Draining() {
	if r.setStatus("Draining") {
		r.log.Info().Str("status", "Draining").Msg("runner is draining")
	}
}

// Stopping sends STOPPING=1 as the agent exits.
func (r *Reporter) Stopping() {
	r.send(daemon.SdNotifyStopping)
}

// Status returns the last status sent, such as "Healthy".
func (r *Reporter) Status() string {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.status
}

// Watchdog sends a watchdog keep-alive.
func (r *Reporter) Watchdog() {
	r.send(daemon.SdNotifyWatchdog)
}

// WatchdogInterval returns how often to call Watchdog: half the unit's
// WatchdogSec, or 0 when the unit has no watchdog.
func WatchdogInterval() time.Duration {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return 0
	}
	return interval / 2
}

// setStatus records status and sends it when it differs from the last one.
// It returns true when the status changed.
func (r *Reporter) setStatus(status string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()

	if r.status == status {
		return false
	}
	r.status = status
	r.send("STATUS=" + status)
	return true
}

func (r *Reporter) send(state string) {
	if _, err := r.notify(state); err != nil {
		r.log.Warn().Err(err).Str("state", state).Msg("sd_notify failed")
	}
}
