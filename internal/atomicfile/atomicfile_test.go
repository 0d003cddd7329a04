package atomicfile

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	f, err := Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	if got := names(t, dir); runtime.GOOS == "linux" && len(got) != 0 {
		t.Errorf("before Commit the folder holds %v; the temporary file should be unnamed", got)
	}
	if err := f.Commit(false); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if b, _ := os.ReadFile(path); err != nil || string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Fatalf("after Commit: %q, %v (%v)", b, st.Mode(), err)
	}
	// No replacing without replace: the old file stays.
	if err := WriteFile(path, []byte("other"), 0o644, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteFile over an existing file without replace: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("a refused write changed the file to %q", b)
	}
	// Replacing.
	if err := WriteFile(path, []byte("replaced"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "replaced" {
		t.Errorf("replaced file holds %q", b)
	}
	// Abort leaves nothing.
	g, err := Create(filepath.Join(dir, "b.txt"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("x"))
	g.Abort()
	g.Abort() // twice is harmless
	if got := names(t, dir); !slices.Equal(got, []string{"a.txt"}) {
		t.Errorf("the folder holds %v, want only a.txt", got)
	}
}

// TestKillLeavesNothing kills a process that is writing a file (SIGKILL,
// so it runs no cleanup) and checks that no temporary file is left.
func TestKillLeavesNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("unnamed temporary files are Linux's")
	}
	if dir := os.Getenv("ATOMICFILE_TEST_CHILD"); dir != "" {
		f, err := Create(filepath.Join(dir, "out.bin"), 0o644)
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		f.Write(make([]byte, 1<<20))
		os.Stdout.WriteString("ready\n")
		select {} // until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillLeavesNothing$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_TEST_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("a killed writer left %v", got)
	}
}
