package packagetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/builder"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

const keyringPath = "/etc/apt/keyrings/" + builder.KeyringName + ".gpg"

// addRepository points apt in the root at the repository at url alone,
// trusting the public key in keyring (a host path) through signed-by.
func addRepository(t *testing.T, root *testroot.Overlay, url, keyring string) {
	t.Helper()
	root.CopyIn(keyring, keyringPath)
	root.WriteFile("/etc/apt/sources.list", nil, 0o644)
	line := "deb [signed-by=" + keyringPath + "] " + url + "/ " + builder.Suite + " " + builder.Component + "\n"
	root.WriteFile("/etc/apt/sources.list.d/circleci-runner.list", []byte(line), 0o644)
}

// aptGet runs apt-get in the root and returns its result, whatever its
// exit code.
func aptGet(t *testing.T, root *testroot.Overlay, args ...string) testroot.Result {
	t.Helper()
	result, err := root.Exec(testroot.Command{
		Args:    append([]string{"apt-get", "-o", "Acquire::Retries=0"}, args...),
		Env:     []string{"DEBIAN_FRONTEND=noninteractive"},
		Timeout: 3 * time.Minute,
	})
	if err != nil {
		t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, result.Output())
	}
	return result
}

func packageInstalled(t *testing.T, root *testroot.Overlay) bool {
	t.Helper()
	result, err := root.Exec(testroot.Command{Args: []string{"dpkg-query", "--showformat=${Status}", "--show", "circleci-runner"}})
	if err != nil {
		t.Fatal(err)
	}
	return result.ExitCode == 0 && result.Stdout == "install ok installed"
}

func TestAptInstallFromSignedRepository(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	url := serve(t, current.dir)
	addRepository(t, root, url, filepath.Join(current.dir, builder.KeyringName+".gpg"))
	prepareSystemdStandIn(t, root)
	preseed(t, root, fullAnswers(firstToken))

	update := aptGet(t, root, "update")
	if update.ExitCode != 0 {
		t.Fatalf("apt-get update exited %d:\n%s", update.ExitCode, update.Output())
	}
	if strings.Contains(update.Output(), "W: ") {
		t.Errorf("apt-get update warned:\n%s", update.Output())
	}
	install := aptGet(t, root, "install", "--yes", "circleci-runner")
	if install.ExitCode != 0 {
		t.Fatalf("apt-get install exited %d:\n%s", install.ExitCode, install.Output())
	}
	if !packageInstalled(t, root) {
		t.Error("circleci-runner is not installed")
	}
	assertConfigFile(t, root, firstToken)
}

func TestAptRejectsTamperedPackages(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	tampered := t.TempDir()
	copyTree(t, current.dir, tampered)
	packages := filepath.Join(tampered, "dists", builder.Suite, builder.Component, "binary-amd64", "Packages")
	data, err := os.ReadFile(packages)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "Depends: ", "Depends: injected-package, ", 1))
	if err := os.WriteFile(packages, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// apt prefers Packages.gz; remove it so that the tampered file is used.
	os.Remove(packages + ".gz")
	addRepository(t, root, serve(t, tampered), filepath.Join(current.dir, builder.KeyringName+".gpg"))

	update := aptGet(t, root, "update")
	install := aptGet(t, root, "install", "--yes", "circleci-runner")

	if update.ExitCode == 0 {
		t.Errorf("apt-get update accepted a tampered Packages file:\n%s", update.Output())
	}
	if install.ExitCode == 0 || packageInstalled(t, root) {
		t.Errorf("apt-get installed from a tampered repository:\n%s", install.Output())
	}
}

func TestAptRejectsWrongKey(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	dir := t.TempDir()
	otherKey := filepath.Join(dir, "other.asc")
	if err := builder.GenerateKey(otherKey, "someone else", "other@circleci-runner.invalid", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	signer, err := builder.LoadSigner(otherKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherKeyring := filepath.Join(dir, "other.gpg")
	file, err := os.Create(otherKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.WritePublicKey(file); err != nil {
		t.Fatal(err)
	}
	file.Close()
	addRepository(t, root, serve(t, current.dir), otherKeyring)

	update := aptGet(t, root, "update")
	install := aptGet(t, root, "install", "--yes", "circleci-runner")

	if update.ExitCode == 0 {
		t.Errorf("apt-get update accepted a repository signed by another key:\n%s", update.Output())
	}
	if !strings.Contains(update.Output(), "NO_PUBKEY") {
		t.Errorf("apt-get update did not report the unknown key:\n%s", update.Output())
	}
	if install.ExitCode == 0 || packageInstalled(t, root) {
		t.Errorf("apt-get installed from a repository signed by another key:\n%s", install.Output())
	}
}

func TestArm64PackageInstalls(t *testing.T) {
	t.Parallel()
	requireBuild(t)
	root := testroot.NewOverlay(t, testroot.Root(t, testroot.BookwormArm64))
	installPackage(t, root, current.debs["arm64"], fullAnswers(firstToken))

	arch := root.Run("dpkg", "--print-architecture")
	if strings.TrimSpace(arch.Stdout) != "arm64" {
		t.Fatalf("root architecture is %q", arch.Stdout)
	}
	version := root.Run(agentPath, "--version")
	if !strings.Contains(version.Stdout, current.version) {
		t.Errorf("arm64 agent --version printed %q, expected %s", version.Stdout, current.version)
	}
	assertConfigFile(t, root, firstToken)
}

func TestReferenceDownloadScript(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	url := serve(t, current.dir)
	script, err := os.ReadFile("testdata/reference-download.sh")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(script), "@BASE_URL@", url, 1)
	root.WriteFile("/root/download.sh", []byte("platform=linux/amd64\n"+body), 0o755)

	result := root.Run("/bin/bash", "-c", "cd /root && . ./download.sh")

	if strings.Contains(result.Output(), "Invalid checksum") {
		t.Errorf("the script rejected the checksum:\n%s", result.Output())
	}
	if !strings.Contains(result.Stdout, "Using CircleCI Launch Agent version "+current.version) {
		t.Errorf("the script did not read release.txt:\n%s", result.Output())
	}
	version := root.Run("/opt/circleci/circleci-launch-agent", "--version")
	if !strings.Contains(version.Stdout, current.version) {
		t.Errorf("downloaded agent --version printed %q", version.Stdout)
	}
	mode, _, _ := fileOwner(t, root, "/opt/circleci/circleci-launch-agent")
	if mode.Perm()&0o111 == 0 {
		t.Errorf("downloaded agent has mode %v, expected executable", mode)
	}
}

// The copy in testdata must stay the procedure's script. The procedure is
// read from the shared reference folder beside the repository, when present.
func TestReferenceScriptMatchesProcedure(t *testing.T) {
	procedure := filepath.Join(mustRepoRoot(t), "..", "shared", "reference", "circleci-runner-installation.md")
	doc, err := os.ReadFile(procedure)
	if err != nil {
		t.Skipf("installation procedure not found beside the repository: %v", err)
	}
	script, err := os.ReadFile("testdata/reference-download.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines(string(script)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == `base_url="@BASE_URL@"` {
			line = `base_url="https://circleci-binary-releases.s3.amazonaws.com/circleci-launch-agent"`
		}
		if !strings.Contains(string(doc), line+"\n") {
			t.Errorf("testdata script line is not in the procedure: %q", line)
		}
	}
}
