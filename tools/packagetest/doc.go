// Package packagetest tests the circleci-runner Debian packages on real
// parts: dpkg-deb, lintian and systemd-analyze on the built packages, and
// install, reconfigure, upgrade, remove and purge in debootstrap roots of
// Debian bookworm for amd64 and arm64, from files and from the signed APT
// repository served on loopback. The tests need root; run them alone with
// "go test ./tools/packagetest/".
package packagetest
