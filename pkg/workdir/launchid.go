package workdir

import (
	"crypto/rand"
	"strconv"
	"time"
)

// launchIDExpr matches what NewLaunchID returns: the start time in
// milliseconds in base 36, a dash, and eight random base-36 characters.
const launchIDExpr = `[0-9a-z]{8,9}-[0-9a-z]{8}`

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewLaunchID returns a new launch id such as "mi9x3k2p-4f7qa0zz". It is
// short, unique, sorts by start time, and uses only [a-z0-9-], so it can name
// a working directory and the transient systemd unit circleci-LAUNCH_ID.
func NewLaunchID(now time.Time) string {
	random := make([]byte, 8)
	// crypto/rand.Read never returns an error on Linux since Go 1.24.
	_, _ = rand.Read(random)
	for i, b := range random {
		random[i] = base36[int(b)%len(base36)]
	}
	return strconv.FormatInt(now.UnixMilli(), 36) + "-" + string(random)
}
