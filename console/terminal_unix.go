//go:build !windows

package console

import "os"

// enableVT: Unix terminals interpret escape codes already.
func enableVT(*os.File) bool { return true }
