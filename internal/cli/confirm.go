package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/enrollbatch/enrollbatch/console"
)

// isTerminal reports whether f is a terminal; /dev/null and pipes are not.
func isTerminal(f *os.File) bool { return console.IsTerminal(f) }

// errDeclined is returned when the person answered no: nothing was done.
type errDeclined struct{ what string }

func (e *errDeclined) Error() string { return "not confirmed: nothing was " + e.what }

// confirm asks a person to confirm an action on n profiles, already listed
// above. With yes it does not ask. Without a terminal on stdin it refuses
// (exit 2), saying to pass --yes, since no one can answer.
func (m *Main) confirm(question, done string, n int, yes bool) error {
	if yes || n == 0 {
		return nil
	}
	if m.StdinTerminal == nil || m.Stdin == nil || !m.StdinTerminal() {
		return usagef("refusing to go on without confirmation: stdin is not a terminal, so no one can answer %q; check the list above and pass --yes", question)
	}
	fmt.Fprintf(m.Stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(m.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &errDeclined{what: done}
}
