package onnxio

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// externalAlign is the alignment of each tensor in an external data file
// written by Save (a cache line, enough for any vector load).
const externalAlign = 64

// Encode returns the model as deterministic protobuf bytes. The bytes are
// self-contained: tensors that were stored as external data are inlined as
// raw_data, so they never depend on files next to them (Save keeps them
// external instead). Models over 2 GiB cannot be encoded this way.
func (m *Model) Encode() ([]byte, error) {
	c := proto.Clone(m.pb).(*onnxpb.ModelProto)
	orig := externalTensors(m.pb)
	for i, tp := range externalTensors(c) {
		tp.RawData = m.ext[orig[i]]
		tp.DataLocation = nil
		tp.ExternalData = nil
	}
	return marshal(c)
}

func marshal(pb *onnxpb.ModelProto) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("onnxio: encode: %w", err)
	}
	return b, nil
}

// Save writes the model to path atomically (see WriteFileAtomic). It refuses
// to write over any of Files(), the model file and external data it was read
// from; to update a model in place, save it elsewhere and rename.
//
// A model that uses external data is saved with all of its external tensors
// (changed or not) in one new file next to path, named path's base name plus
// ".data" (for "out.onnx", "out.onnx.data"), and with each tensor's location,
// offset and length (and checksum, if it had one) pointing there. The input's
// external files are never modified. The data file is staged, then the model,
// and both are moved into place only once both are complete, the data
// first: a model file never appears without its data.
//
// Save is Stage followed by Commit.
func (m *Model) Save(path string) error {
	s, err := m.Stage(path)
	if err != nil {
		return err
	}
	return s.Commit()
}

// Staged is a model written in full to temporary files (see Model.Stage),
// not yet at its path.
type Staged struct {
	path        string
	sha256      string
	model, data *staged // data is nil without external data
}

// Stage writes the model (and its external data) as Save does, to
// temporary files in path's folder, without touching path: Commit moves
// them into place, Abort discards them. On Linux the temporary files are
// unnamed, so a process killed before Commit leaves nothing behind. Stage
// refuses what Save refuses.
func (m *Model) Stage(path string) (*Staged, error) {
	if err := m.checkNotInput(path); err != nil {
		return nil, err
	}
	c := proto.Clone(m.pb).(*onnxpb.ModelProto)
	s := &Staged{path: path}
	if orig := externalTensors(m.pb); len(orig) > 0 {
		dataName := filepath.Base(path) + ".data"
		dataPath := filepath.Join(filepath.Dir(path), dataName)
		if err := m.checkNotInput(dataPath); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		for i, tp := range externalTensors(c) {
			if pad := buf.Len() % externalAlign; pad != 0 {
				buf.Write(make([]byte, externalAlign-pad))
			}
			b := m.ext[orig[i]]
			setExternal(tp, dataName, int64(buf.Len()), b)
			buf.Write(b)
		}
		var err error
		s.data, err = stage(dataPath, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
		if err != nil {
			return nil, err
		}
	}
	b, err := marshal(c)
	if err != nil {
		s.Abort()
		return nil, err
	}
	if s.model, err = stage(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		s.Abort()
		return nil, err
	}
	s.sha256 = s.model.sha256
	return s, nil
}

// Path is the file the staged model is for.
func (s *Staged) Path() string { return s.path }

// SHA256 is the SHA-256 of the staged model file (without its external
// data), 64 lower-case hex digits: the hash the file will have at its path.
func (s *Staged) SHA256() string { return s.sha256 }

// Commit moves the external data file (if any) and then the model file
// into place, replacing files there. On error nothing more is moved and
// the temporary files are discarded.
func (s *Staged) Commit() error {
	if s.data != nil {
		if err := s.data.commit(); err != nil {
			s.Abort()
			return err
		}
		s.data = nil
	}
	err := s.model.commit()
	s.model = nil
	return err
}

// Abort discards the temporary files not yet committed. It does nothing
// after Commit.
func (s *Staged) Abort() {
	for _, f := range []*staged{s.data, s.model} {
		if f != nil {
			f.abort()
		}
	}
	s.data, s.model = nil, nil
}

// checkNotInput refuses path when it names one of the files m was read from.
func (m *Model) checkNotInput(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("onnxio: save %s: %w", path, err)
	}
	st, statErr := os.Stat(abs)
	for _, in := range m.files {
		same := abs == in
		if !same && statErr == nil {
			if ist, err := os.Stat(in); err == nil {
				same = os.SameFile(st, ist)
			}
		}
		if same {
			return fmt.Errorf("onnxio: save %s: %w (%s)", path, ErrOverwriteInput, in)
		}
	}
	return nil
}
