// Command build-dist writes the circleci-runner release into a directory:
// the .debs for amd64 and arm64, the release tree of the launch agent and a
// signed APT repository. See package builder for the layout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/builder"
)

// passphraseVariable names the environment variable that holds the
// passphrase of an encrypted signing key.
const passphraseVariable = "CIRCLECI_RUNNER_SIGNING_KEY_PASSPHRASE"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "build-dist:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("out", "dist", "directory to write the release into; it is removed first")
	key := flag.String("key", "", "OpenPGP secret key file (armored or binary) that signs the APT repository; an encrypted key takes its passphrase from $"+passphraseVariable)
	throwawayKey := flag.String("throwaway-key", "", "when -key is not given: a key file to use, generated first when missing; for local builds only")
	version := flag.String("version", "", "version to build instead of pkg/version/VERSION, for test builds")
	flag.Parse()

	root, err := builder.FindRepoRoot(".")
	if err != nil {
		return err
	}
	keyPath := *key
	if keyPath == "" {
		if *throwawayKey == "" {
			return errors.New("no signing key: give -key FILE, or -throwaway-key FILE for a local build")
		}
		if err := ensureThrowawayKey(*throwawayKey); err != nil {
			return err
		}
		keyPath = *throwawayKey
		fmt.Fprintf(os.Stderr, "build-dist: signing with the throwaway key %s; publish nothing signed with it\n", keyPath)
	}
	signer, err := builder.LoadSigner(keyPath, []byte(os.Getenv(passphraseVariable)))
	if err != nil {
		return err
	}

	start := time.Now()
	result, err := builder.Build(builder.Options{
		RepoRoot: root,
		OutDir:   *out,
		Version:  *version,
		Signer:   signer,
		Log:      os.Stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "build-dist: wrote circleci-runner %s to %s in %s\n", result.Version, *out, time.Since(start).Round(time.Millisecond))
	return nil
}

// ensureThrowawayKey generates an unencrypted key at path unless one is
// there. Its creation time is fixed in the past so that any build date
// after 2020 is a valid signature time.
func ensureThrowawayKey(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	return builder.GenerateKey(path, "circleci-runner local build", "local-build@circleci-runner.invalid", created)
}
