package onnxio_test

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// tiny is a one-node model with a float initializer "w" stored with enc.
func tiny(enc onnxtest.Encoding) *onnxtest.Builder {
	return onnxtest.New(8, 13).
		Input("x", onnxio.Float, -1, 3).
		Float("w", []int64{3}, []float32{1, 2, 3}, enc).
		Node("Mul", []string{"x", "w"}, []string{"y"}).
		Output("y", onnxio.Float, -1, 3)
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeModel(t *testing.T, b *onnxtest.Builder, path string) string {
	t.Helper()
	if err := b.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadErrors checks that each kind of bad input gives an error that is
// classified (errors.Is), names the file and, where one is involved, the
// tensor, and explains the problem.
func TestLoadErrors(t *testing.T) {
	mlp := onnxtest.MLP(1, onnxtest.Raw, 8, 4, 2).Bytes()
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name     string
		make     func(t *testing.T, dir string) string // returns the model path
		sentinel error
		words    []string // the message must contain each
	}{
		{"missing file", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope.onnx") },
			fs.ErrNotExist, []string{"no such file"}},
		{"directory", func(t *testing.T, dir string) string { return dir },
			onnxio.ErrNotONNX, []string{"not a regular file"}},
		{"empty", func(t *testing.T, dir string) string { return writeFile(t, filepath.Join(dir, "m.onnx"), nil) },
			onnxio.ErrNotONNX, []string{"empty"}},
		{"random bytes", func(t *testing.T, dir string) string { return writeFile(t, filepath.Join(dir, "m.onnx"), garbage) },
			onnxio.ErrNotONNX, []string{"not"}},
		{"text", func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "m.onnx"), []byte("hello, world\n"))
		},
			onnxio.ErrNotONNX, []string{"not"}},
		{"npy file", func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "m.onnx"), []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"))
		}, onnxio.ErrNotONNX, []string{"not"}},
		{"truncated", func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "m.onnx"), mlp[:len(mlp)*6/10])
		},
			onnxio.ErrTruncated, []string{"truncated", "graph"}},
		{"IR version too old", func(t *testing.T, dir string) string {
			return writeModel(t, onnxtest.New(2, 13).Output("y", onnxio.Float), filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrUnsupportedIR, []string{"IR version 2"}},
		{"IR version too new", func(t *testing.T, dir string) string {
			return writeModel(t, onnxtest.New(99, 13).Output("y", onnxio.Float), filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrUnsupportedIR, []string{"IR version 99"}},
		{"raw data shorter than dims", func(t *testing.T, dir string) string {
			b := onnxtest.New(8, 13).Float("w", []int64{2, 3}, []float32{1, 2, 3, 4, 5}, onnxtest.Raw)
			return writeModel(t, b, filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrTensorData, []string{`initializer "w"`, "20 bytes", "[2 3]"}},
		{"typed data longer than dims", func(t *testing.T, dir string) string {
			b := onnxtest.New(8, 13).Float("w", []int64{2}, []float32{1, 2, 3}, onnxtest.Typed)
			return writeModel(t, b, filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrTensorData, []string{`initializer "w"`, "3 values", "[2]"}},
		{"negative dim", func(t *testing.T, dir string) string {
			b := onnxtest.New(8, 13).Float("w", []int64{-1}, nil, onnxtest.Typed)
			return writeModel(t, b, filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrTensorData, []string{`initializer "w"`, "negative"}},
		{"huge dims, no data", func(t *testing.T, dir string) string {
			b := onnxtest.New(8, 13).Float("w", []int64{1 << 30, 1 << 30}, []float32{1, 2}, onnxtest.Raw)
			return writeModel(t, b, filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrTensorData, []string{`initializer "w"`}},
		{"external data: absolute path", func(t *testing.T, dir string) string {
			b := tiny(onnxtest.External)
			b.ExternalLocation = filepath.Join(dir, "w.data")
			return writeModel(t, b, filepath.Join(dir, "m.onnx"))
		}, onnxio.ErrExternalData, []string{`initializer "w"`, "absolute"}},
		{"external data: parent folder", func(t *testing.T, dir string) string {
			sub := filepath.Join(dir, "model")
			os.Mkdir(sub, 0o755)
			b := tiny(onnxtest.External)
			b.ExternalLocation = "../w.data"
			return writeModel(t, b, filepath.Join(sub, "m.onnx"))
		}, onnxio.ErrExternalData, []string{`initializer "w"`, `".."`}},
		{"external data: symlink out of the folder", func(t *testing.T, dir string) string {
			sub := filepath.Join(dir, "model")
			os.Mkdir(sub, 0o755)
			b := tiny(onnxtest.External)
			b.ExternalLocation = "w.data"
			p := writeModel(t, b, filepath.Join(sub, "m.onnx"))
			os.Rename(filepath.Join(sub, "w.data"), filepath.Join(dir, "w.data"))
			if err := os.Symlink(filepath.Join(dir, "w.data"), filepath.Join(sub, "w.data")); err != nil {
				t.Fatal(err)
			}
			return p
		}, onnxio.ErrExternalData, []string{`initializer "w"`, "outside the model's folder"}},
		{"external data: missing file", func(t *testing.T, dir string) string {
			p := writeModel(t, tiny(onnxtest.External), filepath.Join(dir, "m.onnx"))
			os.Remove(p + ".data")
			return p
		}, onnxio.ErrExternalData, []string{`initializer "w"`, "m.onnx.data", "no such file"}},
		{"external data: file too short", func(t *testing.T, dir string) string {
			p := writeModel(t, tiny(onnxtest.External), filepath.Join(dir, "m.onnx"))
			os.Truncate(p+".data", 5)
			return p
		}, onnxio.ErrExternalData, []string{`initializer "w"`, "beyond its end"}},
		{"no graph", func(t *testing.T, dir string) string {
			b, _ := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8)})
			return writeFile(t, filepath.Join(dir, "m.onnx"), b)
		}, nil, []string{"no graph"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.make(t, t.TempDir())
			m, err := onnxio.Load(path)
			if err == nil {
				t.Fatalf("Load(%s) succeeded with %d nodes; want an error", path, len(m.Graph().Nodes))
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tc.sentinel)
			}
			var ime *onnxio.InvalidModelError
			if tc.sentinel != fs.ErrNotExist && (!errors.As(err, &ime) || ime.Path != path) {
				t.Errorf("error %q is not an *InvalidModelError for %s", err, path)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			msg := strings.ReplaceAll(err.Error(), path, "MODEL")
			for _, w := range tc.words {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "onnxio: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
		})
	}
}

// TestDecodeWithoutBaseDir checks that bytes decoded without a folder cannot
// use external data, and that MaxBytes is enforced.
func TestDecodeWithoutBaseDir(t *testing.T) {
	dir := t.TempDir()
	p := writeModel(t, tiny(onnxtest.External), filepath.Join(dir, "m.onnx"))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnxio.Decode(data, onnxio.DecodeOptions{}); !errors.Is(err, onnxio.ErrExternalData) {
		t.Errorf("Decode without BaseDir: got %v, want ErrExternalData", err)
	}
	if _, err := onnxio.Decode(data, onnxio.DecodeOptions{BaseDir: dir}); err != nil {
		t.Errorf("Decode with BaseDir: %v", err)
	}
	if _, err := onnxio.Decode(data, onnxio.DecodeOptions{BaseDir: dir, MaxBytes: int64(len(data)) + 5}); !errors.Is(err, onnxio.ErrTooLarge) {
		t.Errorf("Decode with a limit below model+data (12 bytes of data): got %v, want ErrTooLarge", err)
	}
	if _, err := onnxio.Decode(data, onnxio.DecodeOptions{MaxBytes: 10}); !errors.Is(err, onnxio.ErrTooLarge) {
		t.Errorf("Decode with MaxBytes 10: got %v, want ErrTooLarge", err)
	}
}

// TestDecodeHugeDimsAllocatesLittle checks that a tensor declaring 2^40
// elements but holding 8 bytes is refused before anything is allocated for it.
func TestDecodeHugeDimsAllocatesLittle(t *testing.T) {
	data := onnxtest.New(8, 13).Float("w", []int64{1 << 20, 1 << 20}, []float32{1, 2}, onnxtest.Raw).Bytes()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := onnxio.Decode(data, onnxio.DecodeOptions{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, onnxio.ErrTensorData) {
		t.Fatalf("got %v, want ErrTensorData", err)
	}
	// 1 MiB is far above what decoding a ~100-byte model needs and far below
	// the 4 TiB the dims claim.
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("decoding allocated %d bytes", got)
	}
}

// TestDeepNestingRefused checks that subgraphs nested far beyond any real
// model are an error, not a stack overflow.
func TestDeepNestingRefused(t *testing.T) {
	g := &onnxpb.GraphProto{Name: proto.String("leaf")}
	for range 1000 {
		g = &onnxpb.GraphProto{Node: []*onnxpb.NodeProto{{OpType: proto.String("If"), Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g}}}}}
	}
	data, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(13)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnxio.Decode(data, onnxio.DecodeOptions{}); !errors.Is(err, onnxio.ErrNotONNX) {
		t.Errorf("got %v, want an ErrNotONNX parse error", err)
	}
}

// TestDecodedSizeLimited checks that DecodeOptions.MaxBytes bounds the memory
// of the decoded tensors too, not only the bytes read: an int8 initializer
// decodes to int64, eight times its stored size, so a file under the limit
// could otherwise take eight times the limit.
func TestDecodedSizeLimited(t *testing.T) {
	const n = 4096
	g := &onnxpb.GraphProto{Name: proto.String("g"), Initializer: []*onnxpb.TensorProto{{
		Name: proto.String("q"), DataType: proto.Int32(int32(onnxio.Int8)), Dims: []int64{n}, RawData: make([]byte, n)}}}
	data, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(13)}}})
	if err != nil {
		t.Fatal(err)
	}
	// 2n bytes hold the file (n bytes and a few dozen of framing) but not
	// the 8n bytes the decoded values take.
	_, err = onnxio.Decode(data, onnxio.DecodeOptions{MaxBytes: 2 * n})
	if !errors.Is(err, onnxio.ErrTooLarge) || !strings.Contains(err.Error(), `"q"`) {
		t.Fatalf("got %v, want ErrTooLarge naming the tensor", err)
	}
	if _, err := onnxio.Decode(data, onnxio.DecodeOptions{MaxBytes: 8 * n}); err != nil {
		t.Fatalf("with room for the decoded values: %v", err)
	}
}
