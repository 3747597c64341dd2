// Package systemtest runs the installed circleci-runner package under a
// real systemd. Each test boots systemd in a cached Debian bookworm root
// with systemd-nspawn and installs the package from the signed APT
// repository served on loopback. The launch agent claims from a local
// runner API on the host's 127.0.0.1, which the container shares. Jobs run through
// launch-task as the circleci user, with the local task agent as their task
// agent. The tests need root; without it they skip, and under CI=true they
// fail.
package systemtest
