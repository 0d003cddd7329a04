package main

import "path"

// validGlob reports whether p is a valid path.Match pattern (the syntax of
// --freeze).
func validGlob(p string) bool {
	_, err := path.Match(p, "")
	return err == nil
}
