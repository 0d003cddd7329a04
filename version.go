package lethe

import "runtime/debug"

// modulePath is this module's import path.
const modulePath = "github.com/lethe-ml/lethe"

// Version is the lethe version recorded in certificates (tool.version).
// `make build` sets it from git with
// -ldflags "-X github.com/lethe-ml/lethe.Version=...". When it is left at
// "dev" in a program that requires lethe as a module, the module version
// from the build information is used instead.
var Version = "dev"

// toolVersion is the version certificates record.
func toolVersion() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == modulePath && d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return Version
}
