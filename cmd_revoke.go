package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/profile"
)

func (m *Main) revokeCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("revoke", "revoke (--input FILE | --name-prefix P) [--dry-run]")
	var (
		inPath, sheet, prefix string
		dryRun                bool
		cf                    connFlags
		lf                    logFlags
	)
	fs.StringVar(&inPath, "input", "", "revoke the tokens of the profiles named in this file")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet to read (default the first)")
	fs.StringVar(&prefix, "name-prefix", "", "revoke the tokens of profiles whose displayName starts with this")
	fs.BoolVar(&dryRun, "dry-run", false, "list what would be revoked; revoke nothing")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if (inPath == "") == (prefix == "") {
		return usagef("give either --input FILE or --name-prefix P")
	}
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	want := map[string]string{} // name key -> name as written
	if inPath != "" {
		file, err := input.Read(inPath, input.Options{Sheet: sheet})
		if err != nil {
			return &usageError{err}
		}
		for _, r := range file.Rows {
			if r.DisplayName != "" {
				want[profile.Key(r.DisplayName)] = r.DisplayName
			}
		}
	}
	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	all, err := c.client.List(ctx, "id", "displayName")
	if err != nil {
		return fmt.Errorf("list profiles: %w", err)
	}
	found, failed := map[string]bool{}, 0
	for _, p := range all {
		k := profile.Key(p.DisplayName)
		if _, named := want[k]; inPath != "" && !named || prefix != "" && !strings.HasPrefix(k, strings.ToLower(prefix)) {
			continue
		}
		found[k] = true
		if dryRun {
			fmt.Fprintf(m.Stdout, "would revoke %s (%s)\n", p.DisplayName, p.ID)
			continue
		}
		if err := c.client.RevokeToken(ctx, p.ID); err != nil {
			fmt.Fprintf(m.Stdout, "failed %s (%s): %v\n", p.DisplayName, p.ID, err)
			failed++
			continue
		}
		fmt.Fprintf(m.Stdout, "revoked %s (%s)\n", p.DisplayName, p.ID)
	}
	missing := 0
	for k, name := range want {
		if !found[k] {
			fmt.Fprintf(m.Stdout, "not in the tenant: %s\n", name)
			missing++
		}
	}
	if len(found) == 0 && prefix != "" {
		fmt.Fprintf(m.Stderr, "no profile starts with %q\n", prefix)
	}
	if failed+missing > 0 {
		return &rowsError{n: failed + missing}
	}
	return nil
}
