//go:build !linux

package atomicfile

import (
	"io/fs"
	"os"
)

func createUnnamed(string, fs.FileMode) (*os.File, error) { return nil, errUnsupported }
func linkUnnamed(*os.File, string) error                  { return errUnsupported }
func linkTemp(*os.File, string) (string, error)           { return "", errUnsupported }
