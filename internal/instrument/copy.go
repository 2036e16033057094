package instrument

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// within reports whether p is root or inside it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// prepareDst makes sure dst is an empty folder, and reports whether it
// created it.
func prepareDst(dst string) (bool, error) {
	entries, err := os.ReadDir(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return false, fmt.Errorf("failed to create %s: %w", dst, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("failed to read destination: %w", err)
	case len(entries) > 0:
		return false, fmt.Errorf("destination %s is not empty", dst)
	}
	return false, nil
}

// copyTree copies the folder src (a real path) into the existing folder
// dst, skipping .git. Symlinks are followed if they stay inside src; one
// that leaves it, a loop, and anything but files and folders (a FIFO, a
// device) are errors. Files keep their mode exactly.
//
// Everything is read through an [os.Root] at src and written through one
// at dst, so even a symlink swapped in while the copy runs cannot make it
// read outside src or write outside dst.
func copyTree(src, dst string) error {
	from, err := os.OpenRoot(src)
	if err != nil {
		return fmt.Errorf("failed to read folder %s: %w", src, err)
	}
	defer from.Close()
	to, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", dst, err)
	}
	defer to.Close()
	c := &treeCopy{root: src, from: from, to: to, active: map[string]bool{src: true}}
	return c.dir(".", "")
}

// treeCopy is the state of one copyTree.
type treeCopy struct {
	root     string   // src, a real absolute path
	from, to *os.Root // src and dst
	active   map[string]bool
}

// dir copies the folder srcRel (an OS path relative to the root, with no
// symlinks in it) to the slash path rel in dst.
func (c *treeCopy) dir(srcRel, rel string) error {
	entries, err := c.readDir(srcRel)
	if err != nil {
		return fmt.Errorf("failed to read folder %s: %w", filepath.Join(c.root, srcRel), err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == ".git" {
			continue
		}
		from, r := filepath.Join(srcRel, name), path.Join(rel, name)
		to := filepath.FromSlash(r)
		info, err := c.from.Lstat(from)
		if err != nil {
			return fmt.Errorf("failed to copy %s: %w", r, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(filepath.Join(c.root, from))
			if err != nil {
				return fmt.Errorf("failed to copy %s: broken symlink: %w", r, err)
			}
			if !within(c.root, target) {
				return fmt.Errorf("failed to copy %s: symlink points outside the extension folder, to %s", r, target)
			}
			if from, err = filepath.Rel(c.root, target); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
			if info, err = c.from.Stat(from); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
		}
		switch abs := filepath.Join(c.root, from); {
		case info.IsDir():
			if c.active[abs] {
				return fmt.Errorf("failed to copy %s: symlink loop", r)
			}
			if err := c.to.Mkdir(to, info.Mode().Perm()|0o700); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
			c.active[abs] = true
			err := c.dir(from, r)
			delete(c.active, abs)
			if err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := c.file(from, to, info.Mode().Perm()); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
		default:
			return fmt.Errorf("failed to copy %s: not a regular file (%s)", r, info.Mode().Type())
		}
	}
	return nil
}

// readDir lists a folder of src, sorted by name.
func (c *treeCopy) readDir(name string) ([]fs.DirEntry, error) {
	f, err := c.from.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// file copies one regular file and gives the copy exactly mode perm.
func (c *treeCopy) file(from, to string, perm fs.FileMode) error {
	in, err := c.from.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := c.to.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return c.to.Chmod(to, perm) // exact mode, regardless of umask
}

// writeFile writes a file in the copy, keeping the mode of an existing file
// (even a read-only one).
func writeFile(name string, data []byte) error {
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(name); err == nil {
		perm = st.Mode().Perm()
		if err := os.Chmod(name, perm|0o200); err != nil {
			return fmt.Errorf("failed to write %s: %w", name, err)
		}
	}
	if err := os.WriteFile(name, data, perm|0o200); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if err := os.Chmod(name, perm); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	return nil
}

// listFiles returns the regular files under dir as sorted slash paths
// relative to it.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
