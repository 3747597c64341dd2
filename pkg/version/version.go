// Package version holds the release version of circleci-runner. The version
// lives in the VERSION file beside this source, so the agent, the package
// builder and the Debian changelog read it from one place.
package version

import (
	_ "embed"
	"runtime"
	"strings"
)

//go:embed VERSION
var embedded string

// override is set with -ldflags "-X .../pkg/version.override=1.2.3" by test
// builds that need a version other than the released one.
var override string

// Version returns the version of this build, such as "1.0.0".
func Version() string {
	if override != "" {
		return override
	}
	return strings.TrimSpace(embedded)
}

// UserAgent returns the User-Agent header the agent sends to the runner API.
func UserAgent() string {
	return "circleci-launch-agent/" + Version() + " (linux; " + runtime.GOARCH + ")"
}
