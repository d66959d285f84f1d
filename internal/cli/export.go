package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/export"
	"github.com/enrollbatch/enrollbatch/profile"
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
	var tf tenantFlags
	cf.register(fs, m.Getenv)
	lf.register(fs)
	tf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := tf.check(); err != nil {
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
	warn := func(w string) {
		if lf.format == "json" {
			log.Warn("export", "warning", w)
			return
		}
		fmt.Fprintf(m.Stderr, "warning: %s\n", w)
	}
	var ts []export.Tenant
	if len(tf.tenants) == 0 {
		c, err := m.connect(ctx, &cf, log)
		if err != nil {
			return err
		}
		defer c.close()
		t, err := exportTenant(ctx, c, prefix, warn)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	} else {
		// Several tenants: one sheet with a tenant column, which runs
		// again across the same tenants. A tenant that cannot be read
		// fails the export: a sheet missing a tenant would look complete.
		svc, err := m.openService(ctx, &cf, false, tf.tenants)
		if err != nil {
			return err
		}
		defer svc.close()
		names := tf.shard.Take(slices.Sorted(slices.Values(tf.tenants)))
		ts = make([]export.Tenant, len(names))
		g := new(errgroup.Group)
		g.SetLimit(tf.concurrency)
		for i, tn := range names {
			g.Go(func() error {
				c, err := m.connectTo(ctx, svc, &cf, tn, log.With("tenant", tn), "")
				if err != nil {
					return fmt.Errorf("export: %w; nothing was written", err)
				}
				defer c.close()
				t, err := exportTenant(ctx, c, prefix, func(w string) { warn("tenant " + tn + ": " + w) })
				if err != nil {
					return fmt.Errorf("export: tenant %s: %w; nothing was written", tn, err)
				}
				t.Name = tn
				ts[i] = t
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	var ps []profile.Profile
	for _, t := range ts {
		ps = append(ps, t.Profiles...)
	}
	f := export.Format{Sheet: sheet, Delimiter: map[string]rune{"comma": ',', "semicolon": ';', "tab": '\t'}[delimiter]}
	if len(tf.tenants) == 0 {
		err = export.WriteNamed(out, f, ts[0].Profiles, ts[0].Names)
	} else {
		err = export.WriteTenants(out, f, ts)
	}
	if err != nil {
		return err
	}
	for _, t := range ts {
		tlog := log
		if t.Name != "" {
			tlog = log.With("tenant", t.Name)
		}
		for _, p := range t.Profiles {
			tlog.Info("profile", "displayName", p.DisplayName, "id", p.ID, "status", "exported")
		}
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

// exportTenant reads one tenant's profiles under prefix, with the names of
// their scope tags and device groups (for another tenant).
func exportTenant(ctx context.Context, c *conn, prefix string, warn func(string)) (export.Tenant, error) {
	ps, err := export.Fetch(ctx, c.client, prefix)
	if err != nil {
		return export.Tenant{}, err
	}
	nm, err := export.FetchNames(ctx, c.client, ps, warn)
	if err != nil {
		return export.Tenant{}, err
	}
	return export.Tenant{Profiles: ps, Names: nm}, nil
}
