package localapi

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
)

func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, err := s.activeTaskLocked(r)
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}

	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if err := writeRepositoryTar(w, s.opts.RepoDir); err != nil {
		// The status is sent, so the client sees a tar that ends early.
		s.log.Error().Err(err).Str("repository", s.opts.RepoDir).Msg("checkout tar failed")
	}
}

// writeRepositoryTar writes the repository's files, folders and symbolic
// links as a tar, without the .git folder. Owners are left out so that the
// task agent's user owns what it unpacks.
func writeRepositoryTar(w io.Writer, root string) error {
	archive := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		if entry.IsDir() && entry.Name() == ".git" {
			return filepath.SkipDir
		}
		return addTarEntry(archive, root, path, entry)
	})
	if err != nil {
		return fmt.Errorf("write checkout of %s: %w", root, err)
	}
	return archive.Close()
}

func addTarEntry(archive *tar.Writer, root, path string, entry fs.DirEntry) error {
	info, err := entry.Info()
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	} else if !info.Mode().IsRegular() && !info.IsDir() {
		return nil // sockets, devices and pipes are not part of a checkout
	}

	header, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	relative, err := filepath.Rel(root, path)
	if err != nil {
		return err
	}
	header.Name = filepath.ToSlash(relative)
	if info.IsDir() {
		header.Name += "/"
	}
	header.Uid, header.Gid, header.Uname, header.Gname = 0, 0, "", ""
	if err := archive.WriteHeader(header); err != nil {
		return err
	}

	if !info.Mode().IsRegular() {
		return nil
	}
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	_, err = io.Copy(archive, file)
	return err
}
