package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// oTmpfile is O_TMPFILE (__O_TMPFILE | O_DIRECTORY), the same on every
// Linux architecture Go supports; package syscall lacks it on amd64.
const oTmpfile = 0x410000

// atSymlinkFollow is AT_SYMLINK_FOLLOW: linkat(2) follows /proc/self/fd/N
// to the open file.
const atSymlinkFollow = 0x400

// procFD reports whether /proc/self/fd is there, through which an unnamed
// file is linked.
var procFD = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/self/fd")
	return err == nil
})

// createUnnamed opens an unnamed file in dir.
func createUnnamed(dir string, perm fs.FileMode) (*os.File, error) {
	if !procFD() {
		return nil, errUnsupported
	}
	return os.OpenFile(dir, syscall.O_RDWR|oTmpfile, perm)
}

// linkUnnamed gives the unnamed file f the name path; an existing path is
// an error wrapping fs.ErrExist.
func linkUnnamed(f *os.File, path string) error {
	from, err := syscall.BytePtrFromString("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return err
	}
	to, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	atFDCWD := -100 // AT_FDCWD: paths relative to the working folder
	_, _, errno := syscall.Syscall6(syscall.SYS_LINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(from)),
		uintptr(atFDCWD), uintptr(unsafe.Pointer(to)), atSymlinkFollow, 0)
	if errno != 0 {
		return &os.LinkError{Op: "linkat", Old: "(unnamed temporary file)", New: path, Err: errno}
	}
	return nil
}

// linkTemp gives the unnamed file f a fresh temporary name beside path and
// returns it.
func linkTemp(f *os.File, path string) (string, error) {
	for range 100 {
		var b [8]byte
		rand.Read(b[:])
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(b[:]))
		err := linkUnnamed(f, name)
		if !errors.Is(err, fs.ErrExist) {
			return name, err
		}
	}
	return "", errors.New("atomicfile: no free temporary name")
}
