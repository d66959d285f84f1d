package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/enrollbatch/enrollbatch/input"
)

func (m *Main) templateCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("template", "template --out profiles.xlsx|profiles.csv [--force]")
	var out string
	var force bool
	fs.StringVar(&out, "out", "", "file to write, .xlsx (with notes and drop-downs) or .csv (required)")
	fs.BoolVar(&force, "force", false, "replace the file if it exists")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		fs.Usage()
		return usagef("--out is required")
	}
	if _, err := os.Lstat(out); err == nil && !force {
		return usagef("%s exists: pass --force to replace it, or choose another --out", out)
	}
	if err := input.WriteTemplate(out); err != nil {
		return &usageError{err}
	}
	fmt.Fprintf(m.Stderr, "wrote %s: fill in one row per profile, then run enrollbatch run --input %s\n", out, out)
	return nil
}
