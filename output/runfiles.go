package output

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/enrollbatch/enrollbatch/qrsheet"
	"github.com/enrollbatch/enrollbatch/results"
)

// RunFiles says what a run writes into its output folder.
type RunFiles struct {
	Dir    string
	CSV    bool         // also results.csv
	Plan   bool         // a dry run: plan.xlsx, and nothing else
	Sheet  qrsheet.Spec // the QR sheet
	Report io.Writer    // what was written, notes about labels, rows not printed
}

// KeptElsewhereError says results.xlsx could not be put in place and the
// complete record was kept under another name: the message, printed last,
// names that file.
type KeptElsewhereError struct {
	Path  string // where the results belonged
	Cause error
	Kept  string // where they are
}

func (e *KeptElsewhereError) Error() string {
	return fmt.Sprintf("%s could not be written (%v; on Windows: is it open in Excel?); the complete results of this run are in %s", e.Path, e.Cause, e.Kept)
}

func (e *KeptElsewhereError) Unwrap() error { return e.Cause }

// WriteRun writes a run's outputs from its record, one way for every run:
// the QR sheet first (its notes about labels go into the results), then
// results.xlsx, then results.csv when asked. A dry run writes plan.xlsx
// alone. The record's spool is removed once the outputs hold its results.
//
// When results.xlsx cannot be put in place, the complete record is kept
// under another name (see KeepResults) and a *KeptElsewhereError says
// where. When even that fails, the spool stays and the error names it.
// When the sheet cannot be written, the earlier sheet is removed, so that
// the folder never holds codes that do not match the results.
func WriteRun(f RunFiles, run results.Run, rec *Record) error {
	src := rec.Source()
	if f.Plan {
		p := filepath.Join(f.Dir, PlanFile)
		if err := WriteWorkbookFrom(p, run, src); err != nil {
			return fmt.Errorf("write plan: %w; %s", err, rec.Keep())
		}
		fmt.Fprintf(f.Report, "wrote %s\n", p)
		rec.Remove(f.Report)
		return nil
	}
	pdf := filepath.Join(f.Dir, SheetFile)
	sheet, sheetErr := qrsheet.Write(pdf, f.Sheet, src, run.ExtraHeaders, true)
	noted := sheet.WithNotes(src)
	xlsx := filepath.Join(f.Dir, ResultsFile)
	if err := WriteWorkbookFrom(xlsx, run, noted); err != nil {
		kept, kerr := KeepResults(f.Dir, run, noted, time.Now())
		if kerr != nil {
			return fmt.Errorf("write results: %w; keeping them elsewhere failed too: %w; %s", err, kerr, rec.Keep())
		}
		rec.Remove(f.Report)
		if sheetErr != nil {
			removeSheetAfterFailure(f.Report, pdf, sheetErr)
		} else {
			sheet.Report(f.Report, noted)
		}
		return &KeptElsewhereError{Path: xlsx, Cause: err, Kept: kept}
	}
	fmt.Fprintf(f.Report, "wrote %s\n", xlsx)
	if f.CSV {
		p := filepath.Join(f.Dir, CSVFile)
		if err := WriteCSVFrom(p, run, noted); err != nil {
			rec.Remove(f.Report)
			return fmt.Errorf("write results: %w", err)
		}
		fmt.Fprintf(f.Report, "wrote %s\n", p)
	}
	if sheetErr != nil {
		rec.Remove(f.Report)
		removeSheetAfterFailure(f.Report, pdf, sheetErr)
		return fmt.Errorf("write QR sheet: %w; the results are complete: print the codes with enrollbatch qr --results %s", sheetErr, xlsx)
	}
	sheet.Report(f.Report, noted)
	rec.Remove(f.Report)
	return nil
}

// KeepResults writes a run's record when results.xlsx cannot be put in
// place (a full disk, or on Windows a results.xlsx open in Excel): first as
// results-TIME.xlsx in dir, then as results-TIME.csv there, then the same
// two in the user's temporary folder. It returns the file written.
func KeepResults(dir string, run results.Run, src results.Source, now time.Time) (string, error) {
	stamp := now.UTC().Format("20060102T150405")
	var errs []error
	for _, d := range []string{dir, os.TempDir()} {
		prefix := "results-"
		if d != dir {
			prefix = "enrollbatch-results-"
		}
		for _, try := range []struct {
			ext   string
			write func(string, results.Run, results.Source) error
		}{{".xlsx", WriteWorkbookFrom}, {".csv", WriteCSVFrom}} {
			p := filepath.Join(d, prefix+stamp+try.ext)
			if err := try.write(p, run, src); err != nil {
				errs = append(errs, err)
				continue
			}
			return p, nil
		}
	}
	return "", errors.Join(errs...)
}

// removeSheetAfterFailure removes the QR sheet an earlier run left at path
// when this run's sheet could not be written.
func removeSheetAfterFailure(w io.Writer, path string, cause error) {
	if _, err := os.Stat(path); err != nil {
		return
	}
	if err := qrsheet.Remove(path); err != nil {
		fmt.Fprintf(w, "warning: the QR sheet could not be written (%v), and the earlier %s could not be removed either (%v): delete it, its codes do not match these results\n", cause, path, err)
		return
	}
	fmt.Fprintf(w, "removed the earlier %s: this run's sheet could not be written, and the folder must match the results\n", path)
}
