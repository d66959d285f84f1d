package cli

import (
	"context"

	"github.com/enrollbatch/enrollbatch/results"
)

func (m *Main) deleteCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("delete", "delete (--input FILE | --name-prefix P) [--dry-run] [--yes] [--force] [flags]")
	ch := &change{action: results.ActDelete, cf: &connFlags{}, lf: &logFlags{}}
	fs.StringVar(&ch.inPath, "input", "", "delete the profiles named in this file's displayName column")
	fs.StringVar(&ch.sheet, "sheet", "", "XLSX sheet to read (needed when the workbook has several visible sheets)")
	fs.StringVar(&ch.prefix, "name-prefix", "", "delete the profiles whose displayName starts with this (case is ignored)")
	fs.BoolVar(&ch.dryRun, "dry-run", false, "list what would be deleted in OUT/plan.xlsx (status planned); delete nothing")
	fs.BoolVar(&ch.yes, "yes", false, "delete without asking; needed when stdin is not a terminal")
	fs.BoolVar(&ch.force, "force", false, "also delete profiles that devices enrolled with (enrolledDeviceCount > 0)")
	fs.StringVar(&ch.out, "out", "out", "folder for results.xlsx (created)")
	fs.IntVar(&ch.concurrency, "concurrency", 4, "deletes in flight at once")
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
		fs.Usage()
		return usagef("give either --input FILE or --name-prefix P")
	}
	if err := checkNamePrefix(fs, ch.prefix); err != nil {
		return err
	}
	if ch.concurrency < 1 {
		return usagef("--concurrency %d: use 1 or more", ch.concurrency)
	}
	return m.applyChange(ctx, ch)
}
