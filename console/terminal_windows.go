//go:build windows

package console

import (
	"os"

	"golang.org/x/sys/windows"
)

// enableVT turns on virtual terminal processing for the console behind f,
// so that escape codes clear the line and colour text. It reports false on
// consoles that refuse it (before Windows 10).
func enableVT(f *os.File) bool {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return false
	}
	if mode&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0 {
		return true
	}
	return windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING) == nil
}
