package taskagent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// lockRetryInterval is how often lockDir tries again while another process
// holds the lock. A download takes seconds, so a tenth of a second adds
// little delay.
const lockRetryInterval = 100 * time.Millisecond

// lockDir takes an exclusive flock on the file at path, creating it when
// missing, and returns the function that releases it. It waits while another
// process holds the lock, until ctx ends.
//
// On a read-only file system it locks the existing file opened for reading,
// or nothing when there is no lock file. No process can change the cache
// there, so a cached binary is still safe to use, and a download fails with
// the path it could not write.
func lockDir(ctx context.Context, path string) (unlock func(), err error) {
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, syscall.EROFS) {
		file, err = os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return func() {}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("task agent cache: open lock file: %w", err)
	}

	for {
		err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { file.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			file.Close()
			return nil, fmt.Errorf("task agent cache: lock %s: %w", path, err)
		}

		select {
		case <-ctx.Done():
			file.Close()
			return nil, fmt.Errorf("task agent cache: wait for the lock on %s: %w", path, ctx.Err())
		case <-time.After(lockRetryInterval):
		}
	}
}
