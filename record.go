package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// keptElsewhereError says results.xlsx could not be put in place and the
// complete record was kept under another name: exit 1, and the message,
// printed last, names that file.
type keptElsewhereError struct {
	path  string // where the results belonged
	cause error
	kept  string // where they are
}

func (e *keptElsewhereError) Error() string {
	return fmt.Sprintf("%s could not be written (%v; on Windows: is it open in Excel?); the complete results of this run are in %s", e.path, e.cause, e.kept)
}

// keepRecord writes the run's record when results.xlsx cannot be put in
// place (a full disk, or on Windows a results.xlsx open in Excel): first as
// results-TIME.xlsx in the output folder, then as results-TIME.csv there,
// then the same two in the user's temporary folder. It returns the file
// written.
func keepRecord(out string, run results.Run, rs []results.Result, now time.Time) (string, error) {
	stamp := now.UTC().Format("20060102T150405")
	var errs []error
	for _, dir := range []string{out, os.TempDir()} {
		prefix := "results-"
		if dir != out {
			prefix = "enrollbatch-results-"
		}
		for _, try := range []struct {
			ext   string
			write func(string, results.Run, []results.Result) error
		}{{".xlsx", output.WriteWorkbook}, {".csv", output.WriteCSV}} {
			p := filepath.Join(dir, prefix+stamp+try.ext)
			if err := try.write(p, run, rs); err != nil {
				errs = append(errs, err)
				continue
			}
			return p, nil
		}
	}
	return "", errors.Join(errs...)
}

// removeSheetAfterFailure removes the QR sheet an earlier run left at path
// when this run's sheet could not be written, so that the folder never
// holds codes that do not match the results.
func removeSheetAfterFailure(w io.Writer, path string, cause error) {
	if _, err := os.Stat(path); err != nil {
		return
	}
	if err := output.RemoveSheet(path); err != nil {
		fmt.Fprintf(w, "warning: the QR sheet could not be written (%v), and the earlier %s could not be removed either (%v): delete it, its codes do not match these results\n", cause, path, err)
		return
	}
	fmt.Fprintf(w, "removed the earlier %s: this run's sheet could not be written, and the folder must match the results\n", path)
}
