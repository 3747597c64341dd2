package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
)

// noopPackage is the no-op task agent's package, relative to the module
// root.
const noopPackage = "./tools/bench/noopagent"

// buildNoop builds the no-op task agent into out, with the record file
// linked in.
func buildNoop(ctx context.Context, repoDir, out, records string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out,
		"-ldflags", "-X main.recordFile="+records, noopPackage)
	cmd.Dir = repoDir
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", noopPackage, err, output)
	}
	return nil
}

// padCopy copies the executable from to to and appends pseudo-random bytes
// up to size bytes. Linux loads an ELF file by its program headers, so the
// padding is never mapped and the program runs as before. The padding only
// makes the file as large as a real task agent for downloads and checksums.
func padCopy(from, to string, size int64) error {
	if err := copyFile(from, to, 0o755); err != nil {
		return err
	}
	file, err := os.OpenFile(to, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return err
	}
	if pad := size - info.Size(); pad > 0 {
		source := rand.NewChaCha8([32]byte{'b', 'e', 'n', 'c', 'h'})
		if _, err := io.CopyN(file, source, pad); err != nil {
			file.Close()
			return fmt.Errorf("pad %s: %w", to, err)
		}
	}
	return file.Close()
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()

	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	return out.Close()
}
