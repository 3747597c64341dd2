package taskagent

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

// verifiedMinAge is how long before a hash starts the binary's last change
// must be for Cache to remember the hash. Timestamps advance in ticks of a
// few milliseconds at most, so two changes within one tick can leave the
// same ctime. A file last changed a second before its hash began gets a
// newer ctime from any later change.
const verifiedMinAge = time.Second

// fileIdentity is the part of a file's metadata that changes with its
// content. A write, truncate or rename over the file changes the size, the
// mtime, the inode or the ctime, and no system call sets ctime to a chosen
// value.
type fileIdentity struct {
	dev, ino     uint64
	size         int64
	mtime, ctime syscall.Timespec
	// sum is the digest that the file matched.
	sum string
}

func identityOf(info fs.FileInfo, sum string) (fileIdentity, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdentity{}, false
	}
	return fileIdentity{
		dev: st.Dev, ino: st.Ino, size: st.Size,
		mtime: st.Mtim, ctime: st.Ctim, sum: sum,
	}, true
}

// verifyCached checks the cached binary at path against the digest
// expected. It hashes the file unless this Cache hashed it before and the
// file's identity has not changed since, which saves reading the whole
// binary before every task. The caller holds c.mu.
//
// NOTE: a change that bypasses the file system, such as a write to the
// block device, keeps the identity and goes unnoticed until the agent
// restarts or reloads its configuration.
func (c *Cache) verifyCached(path, expected string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	identity, ok := identityOf(info, expected)
	if ok && info.Mode().IsRegular() && c.verified[path] == identity {
		return nil
	}
	delete(c.verified, path)

	hashStarted := time.Now()
	if err := verifyFile(path, expected); err != nil {
		return err
	}
	changed := time.Unix(identity.ctime.Unix())
	if ok && hashStarted.Sub(changed) >= verifiedMinAge {
		if c.verified == nil {
			c.verified = map[string]fileIdentity{}
		}
		c.verified[path] = identity
	}
	return nil
}
