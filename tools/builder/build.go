package builder

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// versionPackage is the import path whose override variable sets the
// version at link time.
const versionPackage = "github.com/circleci-runner/circleci-runner/pkg/version"

// Options configures a Build.
type Options struct {
	// RepoRoot is the root of the source tree (where go.mod is).
	RepoRoot string
	// OutDir receives the release; it is removed and made anew.
	OutDir string
	// Version overrides pkg/version/VERSION, for test builds of another
	// version. The agent is then linked with the same override.
	Version string
	// Arches defaults to Architectures.
	Arches []string
	// Signer signs the APT repository.
	Signer *Signer
	// Date is the time recorded in packages, documents and signatures.
	// When zero, SourceDate picks it.
	Date time.Time
	// Go is the go command; "go" when empty.
	Go string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Result lists what a Build wrote.
type Result struct {
	Version string
	Debs    map[string]string // architecture to .deb path
	Agents  map[string]string // architecture to agent binary path
}

// ReadVersion returns the released version from pkg/version/VERSION.
func ReadVersion(repoRoot string) (string, error) {
	file, err := os.Open(filepath.Join(repoRoot, "pkg/version/VERSION"))
	if err != nil {
		return "", err
	}
	defer file.Close()
	return release.ReadVersion(file)
}

// SourceDate returns the build date: SOURCE_DATE_EPOCH when it is set,
// otherwise the date of the top entry of debian/changelog, as
// dpkg-buildpackage does. Either way, two builds of the same tree record
// the same time.
func SourceDate(repoRoot string) (time.Time, error) {
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		seconds, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds: %w", epoch, err)
		}
		return time.Unix(seconds, 0).UTC(), nil
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "debian/changelog"))
	if err != nil {
		return time.Time{}, err
	}
	entry, err := ParseChangelog(data)
	if err != nil {
		return time.Time{}, fmt.Errorf("debian/changelog: %w", err)
	}
	return entry.Date.UTC(), nil
}

// Build writes the release into opts.OutDir:
//
//	circleci-runner_VERSION_ARCH.deb            the packages
//	release.txt                                 the version, one line
//	VERSION/checksums.txt                       "SHA256 *linux/ARCH/circleci-launch-agent"
//	VERSION/linux/ARCH/circleci-launch-agent    the agents
//	pool/, dists/stable/                        the signed APT repository
//	circleci-runner-archive-keyring.gpg, .asc   the repository's public key
func Build(opts Options) (*Result, error) {
	if opts.Signer == nil {
		return nil, fmt.Errorf("no signing key given for the APT repository")
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Go == "" {
		opts.Go = "go"
	}
	if len(opts.Arches) == 0 {
		opts.Arches = Architectures
	}
	released, err := ReadVersion(opts.RepoRoot)
	if err != nil {
		return nil, fmt.Errorf("read pkg/version/VERSION: %w", err)
	}
	version := released
	if opts.Version != "" {
		version = opts.Version
	}
	if err := release.ValidateVersion(version); err != nil {
		return nil, err
	}
	date := opts.Date
	if date.IsZero() {
		if date, err = SourceDate(opts.RepoRoot); err != nil {
			return nil, err
		}
	}
	changelog, err := os.ReadFile(filepath.Join(opts.RepoRoot, "debian/changelog"))
	if err != nil {
		return nil, err
	}
	if top, err := ParseChangelog(changelog); err != nil {
		return nil, fmt.Errorf("debian/changelog: %w", err)
	} else if top.Version != released {
		return nil, fmt.Errorf("debian/changelog's top entry is %s but pkg/version/VERSION is %s; add a changelog entry for %s", top.Version, released, released)
	}

	if err := os.RemoveAll(opts.OutDir); err != nil {
		return nil, err
	}
	generated, err := os.MkdirTemp("", "circleci-runner-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(generated)
	if err := writeGeneratedDocs(opts.RepoRoot, generated, version, date); err != nil {
		return nil, err
	}

	result := &Result{Version: version, Debs: map[string]string{}, Agents: map[string]string{}}
	pkg := CircleCIRunner()
	var packages []repoPackage
	var sums []release.Entry
	for _, arch := range opts.Arches {
		relative := path.Join("linux", arch, "circleci-launch-agent")
		agent := filepath.Join(opts.OutDir, version, filepath.FromSlash(relative))
		override := ""
		if version != released {
			override = version
		}
		start := time.Now()
		if err := buildAgent(opts, arch, override, agent); err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, "built %s in %s\n", agent, time.Since(start).Round(time.Millisecond))
		sum, err := release.FileSHA256(agent)
		if err != nil {
			return nil, err
		}
		sums = append(sums, release.Entry{Sum: sum, Path: relative})
		result.Agents[arch] = agent

		debPath := filepath.Join(opts.OutDir, DebFileName(pkg.Name, version, arch))
		start = time.Now()
		err = writeDeb(debInput{
			pkg: pkg, version: version, arch: arch, agent: agent,
			repoRoot: opts.RepoRoot, mtime: date, generatedDir: generated,
		}, debPath)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(opts.Log, "packaged %s in %s\n", debPath, time.Since(start).Round(time.Millisecond))
		result.Debs[arch] = debPath

		data, err := os.ReadFile(debPath)
		if err != nil {
			return nil, err
		}
		control, err := ReadControl(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", debPath, err)
		}
		packages = append(packages, repoPackage{
			arch:     arch,
			control:  control,
			filename: path.Join("pool", Component, pkg.Name[:1], pkg.Name, DebFileName(pkg.Name, version, arch)),
			data:     data,
		})
	}

	if err := writeReleaseTree(opts.OutDir, version, sums); err != nil {
		return nil, err
	}
	if err := writeAPTRepository(opts.OutDir, opts.Arches, packages, opts.Signer, date); err != nil {
		return nil, err
	}
	if err := writePublicKeys(opts.OutDir, opts.Signer); err != nil {
		return nil, err
	}
	return result, nil
}

// buildAgent cross-compiles the launch agent. CGO_ENABLED=0 makes a
// static binary; -trimpath and an empty build ID keep paths and build
// hosts out of it, so the same source gives the same bytes.
func buildAgent(opts Options, arch, versionOverride, output string) error {
	ldflags := "-s -w -buildid="
	if versionOverride != "" {
		ldflags += " -X " + versionPackage + ".override=" + versionOverride
	}
	cmd := exec.Command(opts.Go, "build", "-trimpath", "-buildvcs=false", "-ldflags="+ldflags,
		"-o", output, "./cmd/circleci-launch-agent")
	cmd.Dir = opts.RepoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for linux/%s failed: %v\n%s", arch, err, stderr.String())
	}
	return nil
}

// writeReleaseTree writes release.txt and VERSION/checksums.txt; the
// agents are already in place.
func writeReleaseTree(outDir, version string, sums []release.Entry) error {
	var checksums bytes.Buffer
	if err := release.Write(&checksums, sums); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(outDir, version, "checksums.txt"), checksums.Bytes()); err != nil {
		return err
	}
	var releaseTxt bytes.Buffer
	if err := release.WriteVersion(&releaseTxt, version); err != nil {
		return err
	}
	return writeFile(filepath.Join(outDir, "release.txt"), releaseTxt.Bytes())
}

// KeyringName is the file name of the repository's public key in dist/,
// also the name an administrator gives it under /etc/apt/keyrings.
const KeyringName = "circleci-runner-archive-keyring"

func writePublicKeys(outDir string, signer *Signer) error {
	var binary, armored bytes.Buffer
	if err := signer.WritePublicKey(&binary); err != nil {
		return err
	}
	if err := signer.WriteArmoredPublicKey(&armored); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(outDir, KeyringName+".gpg"), binary.Bytes()); err != nil {
		return err
	}
	return writeFile(filepath.Join(outDir, KeyringName+".asc"), armored.Bytes())
}

// FindRepoRoot returns the directory containing go.mod, searching upward
// from dir.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir || strings.TrimSpace(parent) == "" {
			return "", fmt.Errorf("no go.mod found above %s", dir)
		}
		dir = parent
	}
}
