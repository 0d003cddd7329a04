// Package atomicfile writes files that appear at their path complete or not
// at all, even when the process is killed while writing.
//
// A File's bytes go to a temporary file in the destination's folder, which
// Commit syncs and then moves into place. On Linux the temporary file is
// unnamed (open(2) with O_TMPFILE): it has no directory entry until Commit
// links it to its path, so a process killed before that (SIGKILL included)
// leaves nothing behind; the kernel frees the file. Committing to a path
// that does not exist is one linkat(2), atomic, and needs no temporary name
// at all. Replacing an existing file links the data under a temporary name
// and renames it over the path, so readers see the old file or the new one;
// a kill between those two calls leaves the temporary name, ".<base>.tmp-*".
// Where O_TMPFILE or /proc/self/fd is unavailable (other systems, some file
// systems), the temporary file is named from the start and a kill before
// Commit leaves it.
package atomicfile
