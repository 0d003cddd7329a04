package onnxio

import (
	"crypto/sha1"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// externalRef is the parsed external_data of a TensorProto.
type externalRef struct {
	location string
	offset   int64
	length   int64 // -1: to the end of the file
}

// parseExternal reads the location/offset/length entries of tp.
func parseExternal(tp *onnxpb.TensorProto) (externalRef, error) {
	ref := externalRef{length: -1}
	for _, e := range tp.ExternalData {
		var err error
		switch e.GetKey() {
		case "location":
			ref.location = e.GetValue()
		case "offset":
			ref.offset, err = strconv.ParseInt(e.GetValue(), 10, 64)
		case "length":
			ref.length, err = strconv.ParseInt(e.GetValue(), 10, 64)
		}
		if err != nil || ref.offset < 0 || ref.length < -1 {
			return ref, invalid(ErrExternalData, tp.GetName(), "bad external data %s %q", e.GetKey(), e.GetValue())
		}
	}
	if ref.location == "" {
		return ref, invalid(ErrExternalData, tp.GetName(), "external data without a location")
	}
	return ref, nil
}

// resolveExternal returns the resolved path of location inside baseDir. It refuses
// absolute locations, any ".." element, and symbolic links that lead out of
// baseDir, so a model can only read files in its own folder tree.
func resolveExternal(baseDir, tensor, location string) (string, error) {
	if baseDir == "" {
		return "", invalid(ErrExternalData, tensor, "uses external data %q but the model has no folder to read it from", location)
	}
	loc := filepath.FromSlash(location)
	if filepath.IsAbs(loc) || strings.HasPrefix(location, "/") || strings.HasPrefix(location, `\`) || filepath.VolumeName(loc) != "" {
		return "", invalid(ErrExternalData, tensor, "external data location %q is an absolute path; only paths inside the model's folder are allowed", location)
	}
	if slices.Contains(strings.FieldsFunc(location, func(r rune) bool { return r == '/' || r == '\\' }), "..") {
		return "", invalid(ErrExternalData, tensor, "external data location %q contains \"..\"; only paths inside the model's folder are allowed", location)
	}
	base, err := filepath.EvalSymlinks(baseDir)
	if err != nil {
		return "", invalid(ErrExternalData, tensor, "model folder: %v", err)
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(base, loc))
	if err != nil {
		return "", invalid(ErrExternalData, tensor, "external data file %q: %v", location, unwrapPathError(err))
	}
	if rel, err := filepath.Rel(base, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", invalid(ErrExternalData, tensor, "external data file %q resolves to %s, outside the model's folder", location, resolved)
	}
	return resolved, nil
}

// loadExternal reads the external bytes of tp relative to baseDir and returns
// them with the resolved file path.
func loadExternal(tp *onnxpb.TensorProto, baseDir string, budget int64) ([]byte, string, error) {
	ref, err := parseExternal(tp)
	if err != nil {
		return nil, "", err
	}
	file, err := resolveExternal(baseDir, tp.GetName(), ref.location)
	if err != nil {
		return nil, "", err
	}
	b, err := readExternal(file, tp.GetName(), ref, budget)
	return b, file, err
}

// unwrapPathError drops the path from an *os.PathError (the caller names it).
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// readExternal reads the bytes of ref from the file at path, refusing to read
// more than budget bytes.
func readExternal(path, tensor string, ref externalRef, budget int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, invalid(ErrExternalData, tensor, "external data file %q: %v", ref.location, unwrapPathError(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, invalid(ErrExternalData, tensor, "external data file %q: %v", ref.location, unwrapPathError(err))
	}
	if !st.Mode().IsRegular() {
		return nil, invalid(ErrExternalData, tensor, "external data file %q is not a regular file", ref.location)
	}
	size := st.Size()
	length := ref.length
	if length < 0 {
		length = size - ref.offset
	}
	if ref.offset > size || length < 0 || length > size-ref.offset {
		return nil, invalid(ErrExternalData, tensor, "external data file %q has %d bytes; offset %d length %d lies beyond its end",
			ref.location, size, ref.offset, length)
	}
	if length > budget {
		return nil, invalid(ErrTooLarge, tensor, "external data (%d bytes) exceeds the remaining size limit of %d bytes", length, budget)
	}
	data := make([]byte, length)
	if _, err := f.ReadAt(data, ref.offset); err != nil && err != io.EOF {
		return nil, invalid(ErrExternalData, tensor, "external data file %q: %v", ref.location, unwrapPathError(err))
	}
	return data, nil
}

// setExternal points tp's external_data at location/offset/len(data), keeping
// any other keys and refreshing a "checksum" entry (SHA-1, as ONNX defines it).
func setExternal(tp *onnxpb.TensorProto, location string, offset int64, data []byte) {
	want := map[string]string{
		"location": location,
		"offset":   strconv.FormatInt(offset, 10),
		"length":   strconv.Itoa(len(data)),
	}
	seen := map[string]bool{}
	for _, e := range tp.ExternalData {
		k := e.GetKey()
		if v, ok := want[k]; ok {
			e.Value = &v
			seen[k] = true
		}
		if k == "checksum" {
			sum := sha1.Sum(data)
			v := hex.EncodeToString(sum[:])
			e.Value = &v
		}
	}
	for _, k := range []string{"location", "offset", "length"} {
		if !seen[k] {
			key, v := k, want[k]
			tp.ExternalData = append(tp.ExternalData, &onnxpb.StringStringEntryProto{Key: &key, Value: &v})
		}
	}
}
