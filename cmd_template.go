package main

import (
	"context"
	"fmt"

	"github.com/enrollbatch/enrollbatch/input"
)

func (m *Main) templateCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("template", "template --out profiles.xlsx|profiles.csv")
	var out string
	fs.StringVar(&out, "out", "", "file to write, .xlsx (with notes and drop-downs) or .csv (required)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		fs.Usage()
		return usagef("--out is required")
	}
	if err := input.WriteTemplate(out); err != nil {
		return &usageError{err}
	}
	fmt.Fprintf(m.Stderr, "wrote %s: fill in one row per profile, then run enrollbatch run --input %s\n", out, out)
	return nil
}
