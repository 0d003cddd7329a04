package audit

import (
	"fmt"

	"github.com/lethe-ml/lethe/internal/atomicfile"
)

// writeFileAtomic writes data to path through a temporary file in the same
// directory (unnamed on Linux, so a killed process leaves nothing), synced
// and then moved over path, so that readers see either the old file or the
// complete new one, never a partial write. The file is created with mode
// 0644.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o644, true); err != nil {
		return fmt.Errorf("audit: writing %s: %w", path, err)
	}
	return nil
}
