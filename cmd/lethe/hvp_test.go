package main

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/dataset"
)

// TestHVPMatchesFixtures checks `lethe hvp` on every exported model, in both
// precisions, against PyTorch's exact (double-backward) HVP.
func TestHVPMatchesFixtures(t *testing.T) {
	for _, name := range fixtureModels {
		data := fixtureSamples(t, name, 0)
		ref := fixture(t, "fixtures/"+name+".npz")
		v := readNpz(t, ref, "v")
		vpath := writeVector(t, "v.npy", v)
		want := readNpz(t, ref, "hvp")
		for _, prec := range []string{"float64", "float32"} {
			t.Run(name+"/"+prec, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "hv.npy")
				code, stdout, errs := cli(t, "hvp", fixture(t, "models/"+name+".onnx"), "--data", data, "--vector", vpath,
					"--out", out, "--precision", prec, "--batch-size", "3", "--threads", "2", "--json")
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				got := readVector(t, out)
				tol := precisionTol[prec]
				e := normRelErr(got, want)
				if e > tol {
					t.Errorf("HVP: relative error %.3g > %g", e, tol)
				}
				t.Logf("HVP relative error %.3g", e)
				var s lethe.HVPResult
				decodeJSON(t, stdout, &s)
				var vhv float64
				for i := range v {
					vhv += v[i] * got[i]
				}
				// Sums of the same products in the same order, up to the
				// division: a few ulps.
				if s.Samples != 8 || s.Params != len(v) || s.Vector != vpath || math.Abs(s.VectorNorm-l2norm(v)) > 1e-12*s.VectorNorm ||
					math.Abs(s.HVPNorm-l2norm(got)) > 1e-12*s.HVPNorm || math.Abs(s.Curvature-vhv/(s.VectorNorm*s.VectorNorm)) > 1e-9*math.Abs(s.Curvature) {
					t.Errorf("summary %+v", s)
				}
			})
		}
	}
}

// TestHVPFloat32VectorAndL2 checks that a float32 --vector is read exactly
// (the result equals that of the same values stored as float64, bit for bit)
// and that --l2 μ adds μv.
func TestHVPFloat32VectorAndL2(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/cnn_bn.onnx"), fixtureSamples(t, "cnn_bn", 0)
	ref := fixture(t, "fixtures/cnn_bn.npz")
	v := readNpz(t, ref, "v")
	v32 := make([]float32, len(v))
	v64 := make([]float64, len(v))
	for i, x := range v {
		v32[i] = float32(x)
		v64[i] = float64(v32[i])
	}
	p32, p64 := filepath.Join(dir, "v32.npy"), filepath.Join(dir, "v64.npy")
	if err := dataset.WriteNPY(p32, v32, []int{len(v32)}); err != nil {
		t.Fatal(err)
	}
	if err := dataset.WriteNPY(p64, v64, []int{len(v64)}); err != nil {
		t.Fatal(err)
	}
	run := func(vec, out string, extra ...string) []float64 {
		t.Helper()
		args := append([]string{"hvp", model, "--data", data, "--vector", vec, "--out", filepath.Join(dir, out), "--precision", "float64", "--threads", "1", "-q"}, extra...)
		if code, _, errs := cli(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return readVector(t, filepath.Join(dir, out))
	}
	a, b := run(p32, "a.npy"), run(p64, "b.npy")
	if !slices.Equal(a, b) {
		t.Errorf("a float32 vector gives a different HVP than its float64 copy (relative %.3g)", normRelErr(a, b))
	}
	const mu = 0.5
	c := run(p64, "c.npy", "--l2", "0.5")
	for i := range b {
		b[i] += mu * v64[i]
	}
	// One addition per entry, in the same order: rounding only.
	if e := normRelErr(c, b); e > 1e-15 {
		t.Errorf("--l2: relative error %.3g against HVP + μv", e)
	}
}
