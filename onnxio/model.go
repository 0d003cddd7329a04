package onnxio

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// The IR versions lethe reads: 3 (ONNX 1.0, the first with opset imports)
// through 11 (ONNX 1.18). Newer files may add semantics lethe cannot check.
const (
	MinIRVersion = 3
	MaxIRVersion = 11
)

// DefaultMaxBytes is the default limit on the bytes one Load or Decode reads:
// the model file plus all of its external data.
const DefaultMaxBytes int64 = 4 << 30

// maxRecursion limits message nesting while parsing. A subgraph costs three
// levels (graph, node, attribute), so this allows about 30 nested subgraphs.
const maxRecursion = 100

// DecodeOptions configures Decode. The zero value decodes a self-contained
// model of at most DefaultMaxBytes.
type DecodeOptions struct {
	// BaseDir is the folder that external data locations are relative to.
	// Empty means the model may not use external data.
	BaseDir string
	// MaxBytes limits the model bytes plus all external data read, and
	// separately the memory the decoded tensors of the graph take (integer
	// types decode to int64); 0 means DefaultMaxBytes.
	MaxBytes int64
}

// OpsetID is one operator set import.
type OpsetID struct {
	Domain  string
	Version int64
}

// Model is a loaded ONNX model. It keeps the complete protobuf, unknown fields
// included, so that Save writes back everything it read; only initializer
// values and metadata properties change, through SetInitializer,
// SetParamVector and SetMetadata.
//
// Methods that only read may be called concurrently; a method that changes
// the model must not run concurrently with any other.
type Model struct {
	path  string
	pb    *onnxpb.ModelProto
	graph *Graph                         // current decoded snapshot
	ext   map[*onnxpb.TensorProto][]byte // bytes of tensors stored as external data
	files []string                       // absolute paths of the files read
}

// Load reads the ONNX model at path, with external data relative to its folder
// and the DefaultMaxBytes limit. Errors name the file; a file that is not a
// usable model gives an *InvalidModelError.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, &InvalidModelError{Path: path, Reason: "not a regular file", Err: ErrNotONNX}
	}
	if st.Size() > DefaultMaxBytes {
		return nil, &InvalidModelError{Path: path, Reason: fmt.Sprintf("%d bytes exceed the %d-byte limit", st.Size(), DefaultMaxBytes), Err: ErrTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, DefaultMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("onnxio: read %s: %w", path, err)
	}
	m, err := Decode(data, DecodeOptions{BaseDir: filepath.Dir(path)})
	if err != nil {
		return nil, withPath(err, path)
	}
	m.path = path
	if abs, err := filepath.Abs(path); err == nil {
		m.files = append([]string{abs}, m.files...)
	}
	return m, nil
}

// Decode parses an ONNX model from data. Malformed or hostile input gives an
// error, never a panic: sizes are checked against the input before anything
// is allocated and nesting is limited.
func Decode(data []byte, opts DecodeOptions) (*Model, error) {
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if int64(len(data)) > limit {
		return nil, invalid(ErrTooLarge, "", "%d bytes exceed the %d-byte limit", len(data), limit)
	}
	if len(data) == 0 {
		return nil, invalid(ErrNotONNX, "", "not an ONNX model: the file is empty")
	}
	pb := new(onnxpb.ModelProto)
	if err := (proto.UnmarshalOptions{RecursionLimit: maxRecursion}).Unmarshal(data, pb); err != nil {
		return nil, diagnose(data, err)
	}
	if pb.IrVersion == nil && pb.Graph == nil {
		return nil, invalid(ErrNotONNX, "", "not an ONNX model: no ir_version and no graph")
	}
	if ir := pb.GetIrVersion(); ir < MinIRVersion || ir > MaxIRVersion {
		return nil, invalid(ErrUnsupportedIR, "", "IR version %d is not supported (lethe reads IR versions %d to %d)", ir, MinIRVersion, MaxIRVersion)
	}
	if pb.Graph == nil {
		return nil, invalid(nil, "", "the model has no graph")
	}
	if len(pb.OpsetImport) == 0 {
		return nil, invalid(nil, "", "the model imports no operator set")
	}
	m := &Model{pb: pb, ext: map[*onnxpb.TensorProto][]byte{}}
	budget := limit - int64(len(data))
	for _, tp := range externalTensors(pb) {
		b, file, err := loadExternal(tp, opts.BaseDir, budget)
		if err != nil {
			if slices.Contains(pb.Graph.Initializer, tp) {
				err = asInitializer(err)
			}
			return nil, err
		}
		budget -= int64(len(b))
		m.ext[tp] = b
		if !slices.Contains(m.files, file) {
			m.files = append(m.files, file)
		}
	}
	decoded := limit
	g, err := (&graphDecoder{ext: m.ext, budget: &decoded}).graph(pb.Graph)
	if err != nil {
		return nil, err
	}
	m.graph = g
	return m, nil
}

// Path is the file the model was loaded from ("" after Decode).
func (m *Model) Path() string { return m.path }

// Files lists the absolute paths of every file the model was read from: the
// model file (after Load) and its external data files. Save never writes over
// any of them.
func (m *Model) Files() []string { return slices.Clone(m.files) }

// IRVersion is the model's ONNX IR version.
func (m *Model) IRVersion() int64 { return m.pb.GetIrVersion() }

// ProducerName is the name of the tool that wrote the model.
func (m *Model) ProducerName() string { return m.pb.GetProducerName() }

// ProducerVersion is the version of the tool that wrote the model.
func (m *Model) ProducerVersion() string { return m.pb.GetProducerVersion() }

// Opsets lists the operator set imports in file order.
func (m *Model) Opsets() []OpsetID {
	out := make([]OpsetID, 0, len(m.pb.OpsetImport))
	for _, o := range m.pb.OpsetImport {
		out = append(out, OpsetID{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	return out
}

// Opset returns the imported version of domain, or 0 when it is not imported.
// "" and "ai.onnx" both name the default ONNX domain.
func (m *Model) Opset(domain string) int64 {
	norm := func(d string) string {
		if d == "ai.onnx" {
			return ""
		}
		return d
	}
	for _, o := range m.pb.OpsetImport {
		if norm(o.GetDomain()) == norm(domain) {
			return o.GetVersion()
		}
	}
	return 0
}

// Metadata returns a copy of the model's metadata_props.
func (m *Model) Metadata() map[string]string {
	out := make(map[string]string, len(m.pb.MetadataProps))
	for _, e := range m.pb.MetadataProps {
		out[e.GetKey()] = e.GetValue()
	}
	return out
}

// SetMetadata sets a metadata_props entry, replacing the value of an existing
// key in place or appending a new entry.
func (m *Model) SetMetadata(key, value string) {
	for _, e := range m.pb.MetadataProps {
		if e.GetKey() == key {
			e.Value = &value
			return
		}
	}
	m.pb.MetadataProps = append(m.pb.MetadataProps, &onnxpb.StringStringEntryProto{Key: &key, Value: &value})
}

// DeleteMetadata removes the metadata property key, if present.
func (m *Model) DeleteMetadata(key string) {
	m.pb.MetadataProps = slices.DeleteFunc(m.pb.MetadataProps, func(e *onnxpb.StringStringEntryProto) bool {
		return e.GetKey() == key
	})
}

// Graph returns the current decoded snapshot of the main graph. It is shared
// and must not be modified; SetInitializer and SetParamVector replace the
// snapshot, so a Graph obtained earlier keeps the values it had.
func (m *Model) Graph() *Graph { return m.graph }

// Clone returns an independent deep copy of m (same Path and Files).
func (m *Model) Clone() *Model {
	c := &Model{path: m.path, pb: proto.Clone(m.pb).(*onnxpb.ModelProto), graph: m.graph,
		ext: make(map[*onnxpb.TensorProto][]byte, len(m.ext)), files: slices.Clone(m.files)}
	orig, cl := externalTensors(m.pb), externalTensors(c.pb)
	for i, tp := range cl {
		c.ext[tp] = m.ext[orig[i]] // never modified in place, only replaced
	}
	return c
}
