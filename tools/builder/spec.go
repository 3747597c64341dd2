// Package builder makes the circleci-runner release: the agent cross-compiled
// for each architecture, a .deb for each (with nfpm used as a library), the
// release tree that the reference download script reads, and a signed APT
// repository. With the same inputs and SOURCE_DATE_EPOCH it writes the same
// bytes.
package builder

import "os"

// Architectures are the Debian (and Go) architectures released.
var Architectures = []string{"amd64", "arm64"}

// AgentPath is where the package installs the launch agent, as the
// reference installation procedure does.
const AgentPath = "/opt/circleci/circleci-launch-agent"

// File is one entry of the package's contents.
type File struct {
	// Source is a path relative to the repository root. It is empty for
	// files the builder generates: the agent binary and gzipped documents.
	Source      string
	Destination string
	Mode        os.FileMode
	// Type is "" for a regular file, "config|noreplace" for a conffile or
	// "symlink", with Source as the link target; nfpm's names are used.
	Type string
	// Generated names how the builder makes a file without a Source: see
	// the Generated* constants.
	Generated string
}

// Ways the builder makes files that have no Source.
const (
	GeneratedAgent     = "agent"     // the cross-compiled launch agent
	GeneratedChangelog = "changelog" // debian/changelog, gzipped
	GeneratedManPage   = "manpage"   // debian/circleci-launch-agent.8, gzipped
)

// Package describes the circleci-runner .deb apart from its version and
// architecture. .goreleaser.yaml describes the same package, and a test
// compares the two.
type Package struct {
	Name        string
	Maintainer  string
	Description string
	Homepage    string
	License     string
	Section     string
	Priority    string
	Depends     []string
	Files       []File
	// Maintainer scripts and debconf files, relative to the repository root.
	PostInstall string
	PreRemove   string
	PostRemove  string
	Config      string
	Templates   string
}

// CircleCIRunner returns the description of the circleci-runner package.
func CircleCIRunner() Package {
	return Package{
		Name:       "circleci-runner",
		Maintainer: "circleci-runner maintainers <maintainers@circleci-runner.invalid>",
		Description: "CircleCI self-hosted machine runner\n" +
			"circleci-launch-agent claims jobs for a CircleCI resource class and\n" +
			"runs each one as the circleci user in its own transient systemd\n" +
			"unit. The package asks for the runner token, name and resource class\n" +
			"through debconf and runs the agent as circleci.service. Upgrades let\n" +
			"the running job finish before the new version starts.",
		Homepage: "https://github.com/circleci-runner/circleci-runner",
		License:  "Apache-2.0",
		Section:  "devel",
		Priority: "optional",
		// adduser creates the circleci user, debconf prompts for the settings,
		// systemd runs the service and launch-task's systemd-run, and
		// procps provides the /bin/kill of the unit's ExecReload.
		Depends: []string{"adduser", "debconf (>= 1.5.34) | debconf-2.0", "procps", "systemd"},
		Files: []File{
			{Destination: AgentPath, Mode: 0o755, Generated: GeneratedAgent},
			// On PATH for administrators: "circleci-launch-agent --check".
			{Source: AgentPath, Destination: "/usr/sbin/circleci-launch-agent", Mode: 0o777, Type: "symlink"},
			{Source: "debian/launch-task", Destination: "/opt/circleci/launch-task", Mode: 0o755},
			{Source: "debian/stop-agent", Destination: "/opt/circleci/stop-agent", Mode: 0o755},
			{Source: "debian/circleci.service", Destination: "/lib/systemd/system/circleci.service", Mode: 0o644},
			// A copy for the reference procedure's "systemctl enable
			// /opt/circleci/circleci.service". It is not a symbolic link,
			// because systemctl enable rejects a path that is one.
			{Source: "debian/circleci.service", Destination: "/opt/circleci/circleci.service", Mode: 0o644},
			{Source: "debian/circleci-runner.default", Destination: "/etc/default/circleci-runner", Mode: 0o644, Type: "config|noreplace"},
			// A symlink rather than a file in /etc, so that
			// /etc/default/circleci-runner stays the only conffile, the
			// only file that can ever stop an upgrade at a conffile prompt.
			{Source: "debian/needrestart.conf", Destination: "/usr/share/circleci-runner/needrestart.conf", Mode: 0o644},
			{Source: "/usr/share/circleci-runner/needrestart.conf", Destination: "/etc/needrestart/conf.d/circleci-runner.conf", Mode: 0o777, Type: "symlink"},
			{Source: "debian/copyright", Destination: "/usr/share/doc/circleci-runner/copyright", Mode: 0o644},
			{Destination: "/usr/share/doc/circleci-runner/changelog.gz", Mode: 0o644, Generated: GeneratedChangelog},
			{Destination: "/usr/share/man/man8/circleci-launch-agent.8.gz", Mode: 0o644, Generated: GeneratedManPage},
			{Source: "debian/lintian-overrides", Destination: "/usr/share/lintian/overrides/circleci-runner", Mode: 0o644},
		},
		PostInstall: "debian/postinst",
		PreRemove:   "debian/prerm",
		PostRemove:  "debian/postrm",
		Config:      "debian/config",
		Templates:   "debian/templates",
	}
}
