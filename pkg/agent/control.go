package agent

import (
	"context"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// control turns signals and other stop requests into channels: drain is
// closed by the first SIGINT, cancel by SIGTERM or a second SIGINT, and
// reload holds a pending SIGHUP.
type control struct {
	log zerolog.Logger

	drain  chan struct{}
	cancel chan struct{}
	reload chan struct{}

	mu          sync.Mutex
	drained     bool
	cancelled   bool
	cancelCause string
}

func newControl(log zerolog.Logger) *control {
	return &control{
		log:    log,
		drain:  make(chan struct{}),
		cancel: make(chan struct{}),
		reload: make(chan struct{}, 1),
	}
}

func (c *control) watchSignals(ctx context.Context, signals <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-signals:
			c.handle(sig)
		}
	}
}

func (c *control) handle(sig os.Signal) {
	switch sig {
	case syscall.SIGINT:
		if c.draining() {
			c.requestCancel("a second SIGINT")
			return
		}
		c.requestDrain("SIGINT")
	case syscall.SIGTERM:
		c.requestCancel("SIGTERM")
	case syscall.SIGHUP:
		c.log.Info().Msg("received SIGHUP; reloading the configuration between tasks")
		c.requestReload()
	}
}

// watchContext cancels the running task when the caller's context ends
// before the loop does.
func (c *control) watchContext(ctx context.Context, loopDone <-chan struct{}) {
	select {
	case <-ctx.Done():
		c.requestCancel("context cancelled")
	case <-loopDone:
	}
}

// watchExecutable drains when path no longer names the file the agent
// started from, as after a package upgrade, so that systemd starts the new
// version once the running task has finished.
func (c *control) watchExecutable(ctx context.Context, path string, every time.Duration) {
	initial, err := identify(path)
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot watch the agent's executable for upgrades")
		return
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.drain:
			return
		case <-ticker.C:
		}
		current, err := identify(path)
		if err == nil && current == initial {
			continue
		}
		c.log.Info().Str("path", path).Msg("the agent's executable was replaced; draining so the new version starts after the running task")
		c.requestDrain("executable replaced")
		return
	}
}

// fileIdentity changes when a file is replaced or rewritten.
type fileIdentity struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func identify(path string) (fileIdentity, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileIdentity{}, err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdentity{size: info.Size(), mtime: info.ModTime()}, nil
	}
	return fileIdentity{dev: st.Dev, ino: st.Ino, size: info.Size(), mtime: info.ModTime()}, nil
}

func (c *control) requestDrain(cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.drained {
		return
	}
	c.drained = true
	close(c.drain)
	c.log.Info().Str("cause", cause).Msg("draining: claiming no new task; the running task may finish")
}

func (c *control) requestCancel(cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if !c.drained {
		c.drained = true
		close(c.drain)
	}
	if c.cancelled {
		return
	}
	c.cancelled = true
	c.cancelCause = cause
	close(c.cancel)
	c.log.Info().Str("cause", cause).Msg("cancelling: stopping the running task")
}

func (c *control) requestReload() {
	select {
	case c.reload <- struct{}{}:
	default:
	}
}

func (c *control) draining() bool {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.drained
}

func (c *control) cancelling() (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.cancelled, c.cancelCause
}

func defaultRand() float64 { return rand.Float64() }
