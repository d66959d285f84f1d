package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/doctor"
)

// doctorCommand checks a tenant without changing it: it signs in with the
// same flags as run and reports what the tenant allows.
func (m *Main) doctorCommand(ctx context.Context, args []string) error {
	fs := m.newFlagSet("doctor", "doctor [flags]  (the sign-in and Graph flags of run)")
	var (
		cf            connFlags
		lf            logFlags
		inPath, sheet string
	)
	fs.StringVar(&inPath, "input", "", "also check what this sheet needs: reading scope tags when roleScopeTagIds gives names, reading groups when deviceGroup names groups")
	fs.StringVar(&sheet, "sheet", "", "with --input: XLSX sheet to read (default the first)")
	cf.register(fs, m.Getenv)
	lf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	var tags, groups bool
	if inPath != "" {
		scan, err := batch.ScanFile(inPath, sheet, false)
		if err != nil {
			return &usageError{err}
		}
		tags, groups = scan.Census.NamesNeeded()
		cf.askFor(groups)
	} else if sheet != "" {
		return usagef("--sheet goes with --input")
	}
	// Only problems are logged, as text; --log-format json turns the
	// report itself into one JSON object.
	log, err := (&logFlags{format: "text", verbose: lf.verbose}).logger(m.Stderr)
	if err != nil {
		return err
	}
	c, err := m.connect(ctx, &cf, log)
	if err != nil {
		return err
	}
	defer c.close()
	rec := doctor.NewRecorder(c.client.HTTP.Transport)
	c.client.HTTP.Transport = rec

	o := doctor.Options{Client: c.client, GraphURL: c.url, Cloud: cf.cloud, Recorder: rec, ScopeTags: tags, Groups: groups,
		Delegated:         cf.auth == auth.ModeDeviceCode || cf.auth == auth.ModeBrowser,
		SignInUnreachable: func(err error) bool { return !isSignInFailure(err) && !isNoCredentials(err) }}
	switch {
	case cf.simulate:
		o.Cloud, o.SignIn = "simulator", "the built-in simulator (--simulate)"
	case cf.graphURL != "":
		o.Cloud += ", Graph URL from --graph-url or GRAPH_URL"
	}
	if d, ok := c.client.Tokens.(interface{ Describe() string }); ok {
		o.SignIn = d.Describe()
	}
	rep, err := doctor.Run(ctx, o)
	if err != nil {
		return err
	}
	if lf.format == "json" {
		err = rep.WriteJSON(m.Stdout)
	} else {
		err = rep.WriteText(m.Stdout)
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	switch {
	case rep.Ready:
		return nil
	case rep.AuthFailed:
		return &exitError{code: exitAborted, err: fmt.Errorf("doctor: sign-in or permission failure: %s", rep.Advice)}
	}
	var failed []string
	for _, ch := range rep.Checks {
		if ch.Result == doctor.Fail {
			failed = append(failed, ch.Name)
		}
	}
	return &exitError{code: exitRows, err: fmt.Errorf("doctor: %s failed: %s", strings.Join(failed, ", "), rep.Advice)}
}

// exitError ends a command with a given exit code and message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
