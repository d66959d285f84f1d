package cli

import (
	"context"
	"fmt"

	"github.com/enrollbatch/enrollbatch/input"
)

func (m *Main) validateCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("validate", "validate [--input] FILE [--sheet NAME]")
	var inPath, sheet string
	fs.StringVar(&inPath, "input", "", "profile definitions, .csv or .xlsx (required)")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default the first)")
	if err := m.parseInput(fs, args, &inPath); err != nil {
		return err
	}
	if inPath == "" {
		fs.Usage()
		return usagef("--input is required")
	}
	file, err := input.Read(inPath, input.Options{Sheet: sheet})
	if err != nil {
		return &usageError{err}
	}
	if len(file.Rows) == 0 {
		return noRows(inPath)
	}
	for _, w := range file.Warnings {
		fmt.Fprintf(m.Stdout, "warning: %s: %s\n", inPath, w)
	}
	var problems []input.Problem
	for i := range file.Rows {
		if r := &file.Rows[i]; input.KeepsPassword(r.Problems) {
			// Valid to run with --on-exists update or skip over the
			// profiles that exist; a new profile needs the password.
			fmt.Fprintf(m.Stdout, "note: %s: row %d, wifiPassword: empty: the profile, if it exists, keeps its password; to create it, give one\n", inPath, r.Line)
			continue
		}
		problems = append(problems, file.Rows[i].Problems...)
	}
	for _, p := range problems {
		fmt.Fprintln(m.Stdout, p.Error())
	}
	for _, r := range file.Rows {
		for _, n := range r.Notes {
			fmt.Fprintf(m.Stdout, "note: %s: row %d, %s\n", inPath, r.Line, n)
		}
	}
	invalid := 0
	for i := range file.Rows {
		if !file.Rows[i].Valid() && !input.KeepsPassword(file.Rows[i].Problems) {
			invalid++
		}
	}
	fmt.Fprintf(m.Stdout, "%s: %d row(s), %d valid, %d invalid, %d problem(s)\n",
		inPath, len(file.Rows), len(file.Rows)-invalid, invalid, len(problems))
	if invalid > 0 {
		return &rowsError{n: invalid}
	}
	return nil
}
