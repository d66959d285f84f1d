package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/export"
)

func (m *Main) exportCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("export", "export --out FILE.xlsx|FILE.csv [--name-prefix P] [--sheet NAME]")
	var (
		out, prefix, sheet string
		cf                 connFlags
		lf                 logFlags
	)
	fs.StringVar(&out, "out", "", "file to write, .xlsx or .csv, in the input format (required)")
	fs.StringVar(&prefix, "name-prefix", "", "export only profiles whose displayName starts with this (case is ignored)")
	fs.StringVar(&sheet, "sheet", "", "XLSX sheet name (default Profiles, as in a template)")
	var force bool
	fs.BoolVar(&force, "force", false, "replace --out when it is there already (it may be a sheet you edited)")
	var delimiter string
	cliflag.ChoiceVar(fs, &delimiter, "delimiter", "comma", "with a .csv --out: the field separator, comma, semicolon (as German Excel saves) or tab", "comma", "semicolon", "tab")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		fs.Usage()
		return usagef("--out is required")
	}
	if err := checkNamePrefix(fs, prefix); err != nil {
		return err
	}
	if _, err := os.Stat(out); err == nil && !force {
		return usagef("--out %s is there already: it may be a sheet you edited (Wi-Fi passwords, your own columns, rows not yet in the tenant), so export never replaces it: choose another name, or pass --force to replace it", out)
	}
	switch ext := strings.ToLower(filepath.Ext(out)); ext {
	case ".xlsx":
	case ".csv":
		if sheet != "" {
			return usagef("--sheet applies to .xlsx files only")
		}
	default:
		return usagef("--out %s: use a file name ending in .xlsx or .csv", out)
	}
	log, err := lf.logger(m.Stderr)
	if err != nil {
		return err
	}
	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	ps, err := export.Fetch(ctx, c.client, prefix)
	if err != nil {
		return err
	}
	// Scope tags and device groups go by name, for another tenant.
	nm, err := export.FetchNames(ctx, c.client, ps, func(w string) {
		if lf.format == "json" {
			log.Warn("export", "warning", w)
			return
		}
		fmt.Fprintf(m.Stderr, "warning: %s\n", w)
	})
	if err != nil {
		return err
	}
	f := export.Format{Sheet: sheet, Delimiter: map[string]rune{"comma": ',', "semicolon": ';', "tab": '\t'}[delimiter]}
	if err := export.WriteNamed(out, f, ps, nm); err != nil {
		return err
	}
	for _, p := range ps {
		log.Info("profile", "displayName", p.DisplayName, "id", p.ID, "status", "exported")
	}
	log.Info("export", "file", out, "profiles", len(ps), "namePrefix", prefix)
	if lf.format != "json" {
		fmt.Fprintf(m.Stderr, "wrote %s: %d profile(s)", out, len(ps))
		if prefix != "" {
			fmt.Fprintf(m.Stderr, " whose name starts with %q", prefix)
		}
		fmt.Fprintln(m.Stderr, "; Wi-Fi passwords are never exported")
	}
	if len(ps) == 0 && prefix != "" {
		fmt.Fprintf(m.Stderr, "no profile starts with %q\n", prefix)
	}
	return nil
}
