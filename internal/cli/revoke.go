package cli

import (
	"context"

	"github.com/enrollbatch/enrollbatch/results"
)

func (m *Main) revokeCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("revoke", "revoke (--input FILE | --name-prefix P) [--dry-run] [--yes]")
	ch := &change{action: results.ActRevoke, cf: &connFlags{}, lf: &logFlags{}, concurrency: 1}
	fs.StringVar(&ch.inPath, "input", "", "revoke the tokens of the profiles named in this file")
	fs.StringVar(&ch.sheet, "sheet", "", "XLSX sheet to read (needed when the workbook has several visible sheets)")
	fs.StringVar(&ch.prefix, "name-prefix", "", "revoke the tokens of profiles whose displayName starts with this (case is ignored)")
	fs.BoolVar(&ch.dryRun, "dry-run", false, "list what would be revoked in OUT/plan.xlsx; revoke nothing")
	fs.BoolVar(&ch.yes, "yes", false, "revoke without asking; needed when stdin is not a terminal")
	fs.StringVar(&ch.out, "out", "out", "folder for results.xlsx (created)")
	ch.cf.register(fs, m.Getenv)
	ch.lf.register(fs)
	ch.tf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := ch.tf.check(); err != nil {
		return err
	}
	if (ch.inPath == "") == (ch.prefix == "") {
		return usagef("give either --input FILE or --name-prefix P")
	}
	if err := checkNamePrefix(fs, ch.prefix); err != nil {
		return err
	}
	return m.applyChange(ctx, ch)
}
