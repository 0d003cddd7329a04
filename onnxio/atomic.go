package onnxio

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/lethe-ml/lethe/internal/atomicfile"
)

// WriteFileAtomic writes a file through write so that path either keeps its
// old content or gets the complete new content, never a partial file, even
// if the process is killed: the bytes go to a temporary file in the same
// folder (unnamed on Linux, so a killed process leaves nothing), which is
// synced and then moved over path. The new file has mode 0644. If path is a
// symbolic link, the link itself is replaced.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	s, err := stage(path, write)
	if err != nil {
		return err
	}
	return s.commit()
}

// staged is a complete temporary file waiting to be moved to path.
type staged struct {
	f      *atomicfile.File
	path   string
	sha256 string // of the bytes written, 64 hex digits
}

// stage writes and syncs a temporary file for path.
func stage(path string, write func(w io.Writer) error) (*staged, error) {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("onnxio: write %s: %w", path, err)
	}
	s := &staged{f: f, path: path}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.abort()
		return nil, fmt.Errorf("onnxio: write %s: %w", path, err)
	}
	s.sha256 = hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// commit moves the temporary file to its destination, replacing any file
// there, and syncs the folder.
func (s *staged) commit() error {
	if err := s.f.Commit(true); err != nil {
		return fmt.Errorf("onnxio: write %s: %w", s.path, err)
	}
	return nil
}

// abort discards the temporary file.
func (s *staged) abort() { s.f.Abort() }
