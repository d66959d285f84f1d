package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

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
	if file.HasTenants() {
		// Where the rows go: each tenant's rows, valid or not.
		rows, bad := map[string]int{}, map[string]int{}
		for i := range file.Rows {
			r := &file.Rows[i]
			rows[r.Tenant]++
			if !r.Valid() && !input.KeepsPassword(r.Problems) {
				bad[r.Tenant]++
			}
		}
		for _, t := range slices.Sorted(maps.Keys(rows)) {
			name := t
			if t == "" {
				name = "(no tenant: these rows go nowhere)"
			}
			fmt.Fprintf(m.Stdout, "tenant %s: %d row(s), %d invalid\n", name, rows[t], bad[t])
		}
	}
	fmt.Fprintf(m.Stdout, "%s: %d row(s), %d valid, %d invalid, %d problem(s)\n",
		inPath, len(file.Rows), len(file.Rows)-invalid, invalid, len(problems))
	if invalid > 0 {
		return &rowsError{n: invalid}
	}
	return nil
}
