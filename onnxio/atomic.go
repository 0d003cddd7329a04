package onnxio

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes a file through write so that path either keeps its
// old content or gets the complete new content, never a partial file: the
// bytes go to a temporary file in the same folder, which is synced and then
// renamed over path. The new file has mode 0644. If path is a symbolic link,
// the link itself is replaced.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	s, err := stage(path, write)
	if err != nil {
		return err
	}
	return s.commit()
}

// staged is a complete temporary file waiting to be renamed to path.
type staged struct{ tmp, path string }

// stage writes and syncs a temporary file next to path.
func stage(path string, write func(w io.Writer) error) (*staged, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("onnxio: write %s: %w", path, err)
	}
	s := &staged{tmp: f.Name(), path: path}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.abort()
		return nil, fmt.Errorf("onnxio: write %s: %w", path, err)
	}
	return s, nil
}

// commit renames the temporary file to its destination and syncs the folder.
func (s *staged) commit() error {
	if err := os.Rename(s.tmp, s.path); err != nil {
		s.abort()
		return fmt.Errorf("onnxio: write %s: %w", s.path, err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync() // best effort: not every file system syncs folders
		d.Close()
	}
	return nil
}

// abort removes the temporary file.
func (s *staged) abort() { os.Remove(s.tmp) }
