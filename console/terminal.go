package console

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal (a console on Windows), for
// --progress auto. Redirected output, pipes and files are not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Width returns the terminal's width in columns, or 0 when w is not a
// terminal or the width is unknown.
func Width(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// EnableANSI makes the terminal behind w understand escape codes, and
// reports whether it does. Unix terminals always do. Windows Terminal and
// consoles since Windows 10 do once virtual terminal processing is turned
// on; the classic console of older Windows does not, and then the
// progress bar is redrawn with carriage returns only.
func EnableANSI(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	return enableVT(f)
}
