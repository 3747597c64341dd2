package localtaskagent

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// checkout downloads the repository tar and unpacks it into dir. It returns
// the number of entries unpacked.
func (a *Agent) checkout(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("create checkout directory: %w", err)
	}
	response, err := a.client.do("GET", taskproto.PathCheckout, nil)
	if err != nil {
		return 0, fmt.Errorf("download the repository: %w", err)
	}
	defer response.Body.Close()

	return unpackTar(response.Body, dir)
}

// unpackTar unpacks a tar into dir through an os.Root, so that no entry,
// symbolic links included, can write outside dir. Existing files are
// replaced.
func unpackTar(r io.Reader, dir string) (int, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, fmt.Errorf("open checkout directory: %w", err)
	}
	defer root.Close()

	archive := tar.NewReader(r)
	count := 0
	for {
		header, err := archive.Next()
		if errors.Is(err, io.EOF) {
			return count, nil
		}
		if err != nil {
			return count, fmt.Errorf("read repository tar: %w", err)
		}
		if err := unpackEntry(root, archive, header); err != nil {
			return count, fmt.Errorf("unpack %q: %w", header.Name, err)
		}
		count++
	}
}

func unpackEntry(root *os.Root, archive *tar.Reader, header *tar.Header) error {
	name := path.Clean(header.Name)
	if !filepath.IsLocal(name) {
		return errors.New("the path leaves the checkout directory")
	}
	mode := fs.FileMode(header.Mode).Perm()
	if parent := path.Dir(name); parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}

	switch header.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, mode|0o700)
	case tar.TypeSymlink:
		if err := root.RemoveAll(name); err != nil {
			return err
		}
		return root.Symlink(header.Linkname, name)
	case tar.TypeReg:
		return writeEntry(root, archive, name, mode)
	}
	return fmt.Errorf("unsupported tar entry type %q", header.Typeflag)
}

func writeEntry(root *os.Root, archive *tar.Reader, name string, mode fs.FileMode) error {
	if err := root.RemoveAll(name); err != nil {
		return err
	}
	file, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(file, archive); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}
