// Package runlog is the record bench/alternate writes for every timed run
// (one JSON object a line in runs.jsonl) and bench/report reads.
package runlog

import "time"

// Run is the record of one timed run, one line of runs.jsonl: the command,
// its round, its whole-process wall time, CPU time (user and system) and
// peak resident set size (the kernel's ru_maxrss), its exit code, the
// 1-minute load average before and after it, and the file holding its
// stdout.
type Run struct {
	Name      string    `json:"name"`
	Round     int       `json:"round"`
	Command   string    `json:"command"`
	Start     time.Time `json:"start"`
	Wall      float64   `json:"wall_s"`
	User      float64   `json:"user_s"`
	Sys       float64   `json:"sys_s"`
	MaxRSSKB  int64     `json:"maxrss_kb"`
	Exit      int       `json:"exit"`
	LoadStart float64   `json:"load1_start"`
	LoadEnd   float64   `json:"load1_end"`
	Stdout    string    `json:"stdout"`
}
