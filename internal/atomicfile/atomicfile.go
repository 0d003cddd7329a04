package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a file being written for a path. Write to it, then Commit or
// Abort; the path is untouched until Commit.
type File struct {
	*os.File
	path  string
	named string // the temporary file's name; "" while it is unnamed
}

// Create starts a file for path with permission bits perm (set exactly,
// whatever the umask).
func Create(path string, perm fs.FileMode) (*File, error) {
	dir := filepath.Dir(path)
	f, err := createUnnamed(dir, perm)
	named := ""
	if err != nil {
		if f, err = os.CreateTemp(dir, tempPattern(path)); err != nil {
			return nil, err
		}
		named = f.Name()
	}
	af := &File{File: f, path: path, named: named}
	if err := f.Chmod(perm); err != nil {
		af.Abort()
		return nil, err
	}
	return af, nil
}

// tempPattern is the pattern of temporary names for path.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// Commit syncs the file and moves it to its path: replacing a file there
// when replace is set, else failing with an error wrapping fs.ErrExist and
// leaving it. The folder is synced too (best effort). On error the
// temporary file is removed and the path is untouched.
func (f *File) Commit(replace bool) (err error) {
	defer func() {
		if err != nil {
			f.Abort()
		}
	}()
	if err := f.Sync(); err != nil {
		return err
	}
	if f.named == "" {
		err := linkUnnamed(f.File, f.path)
		switch {
		case err == nil:
			return f.finish()
		case !errors.Is(err, fs.ErrExist) || !replace:
			return err
		}
		// Replace: give the data a temporary name, then rename it over the
		// path.
		if f.named, err = linkTemp(f.File, f.path); err != nil {
			return err
		}
	}
	if replace {
		if err := os.Rename(f.named, f.path); err != nil {
			return err
		}
	} else {
		// A hard link fails if the path exists, so nothing is replaced.
		if err := os.Link(f.named, f.path); err != nil {
			return err
		}
		os.Remove(f.named)
	}
	f.named = ""
	return f.finish()
}

// finish closes the committed file and syncs its folder.
func (f *File) finish() error {
	if err := f.File.Close(); err != nil {
		return err
	}
	f.File = nil
	if d, err := os.Open(filepath.Dir(f.path)); err == nil {
		_ = d.Sync() // best effort: not every file system syncs folders
		d.Close()
	}
	return nil
}

// Abort discards the file: an unnamed one vanishes when closed, a named
// one is removed. It does nothing after a successful Commit.
func (f *File) Abort() {
	if f.File != nil {
		f.File.Close()
		f.File = nil
	}
	if f.named != "" {
		os.Remove(f.named)
		f.named = ""
	}
}

// WriteFile writes data to path as one File with permission bits perm; see
// Commit for replace.
func WriteFile(path string, data []byte, perm fs.FileMode, replace bool) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit(replace)
}

// errUnsupported: unnamed temporary files are not available here.
var errUnsupported = fmt.Errorf("atomicfile: unnamed temporary files are not supported")
