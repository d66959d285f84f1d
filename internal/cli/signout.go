package cli

import (
	"context"
	"fmt"

	"github.com/enrollbatch/enrollbatch/auth"
)

// signoutCommand forgets the sign-in a person's commands keep between
// them (--auth device-code or browser): the next command signs in again.
func (m *Main) signoutCommand(_ context.Context, args []string) error {
	fs := m.newFlagSet("signout", "signout")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("signout takes no arguments")
	}
	removed, err := auth.SignOut()
	for _, r := range removed {
		fmt.Fprintf(m.Stderr, "removed %s\n", r)
	}
	if err != nil {
		return err
	}
	if len(removed) == 0 {
		fmt.Fprintln(m.Stderr, "no sign-in was kept; nothing to forget")
		return nil
	}
	fmt.Fprintln(m.Stderr, "signed out: the next command signs in again")
	return nil
}
