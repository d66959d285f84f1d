package input

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The generated files under testdata and samples are committed; this flag
// rebuilds them: go test ./input -update, or only some of them with
// -only testdata/quoting.csv,testdata/refused/two-sheets.xlsx
var (
	update = flag.Bool("update", false, "rewrite the generated files in testdata and ../samples")
	only   = flag.String("only", "", "with -update, rewrite only these files (comma-separated paths)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		wanted := func(path string) bool {
			return *only == "" || slices.Contains(strings.Split(*only, ","), path)
		}
		for path, gen := range map[string]func() (*excelize.File, error){
			"testdata/friendly.xlsx":   genFriendly,
			"../samples/profiles.xlsx": genSamples,
		} {
			if !wanted(path) {
				continue
			}
			wb, err := gen()
			if err == nil {
				err = wb.SaveAs(path)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "generate %s: %v\n", path, err)
				os.Exit(1)
			}
		}
		for path, gen := range fixtures {
			if !wanted(path) {
				continue
			}
			data, err := gen()
			if err == nil {
				err = os.MkdirAll(filepath.Dir(path), 0o755)
			}
			if err == nil {
				err = os.WriteFile(path, data, 0o644)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "generate %s: %v\n", path, err)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// sheetWriter fills one sheet, keeping styles by number format.
type sheetWriter struct {
	wb     *excelize.File
	sheet  string
	styles map[string]int
	err    error
}

func (w *sheetWriter) style(s *excelize.Style, key string) int {
	if id, ok := w.styles[key]; ok {
		return id
	}
	id, err := w.wb.NewStyle(s)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.styles[key] = id
	return id
}

// set writes a value: string, int, float64, bool or a date with a number
// format ("14" for the built-in short date).
func (w *sheetWriter) set(ref string, v any) {
	if w.err != nil {
		return
	}
	var err error
	switch v := v.(type) {
	case date:
		if err = w.wb.SetCellValue(w.sheet, ref, v.t); err != nil {
			break
		}
		st := &excelize.Style{CustomNumFmt: &v.format}
		if v.format == "14" {
			st = &excelize.Style{NumFmt: 14}
		}
		err = w.wb.SetCellStyle(w.sheet, ref, ref, w.style(st, v.format))
	case string:
		err = w.wb.SetCellStr(w.sheet, ref, v)
	default:
		err = w.wb.SetCellValue(w.sheet, ref, v)
	}
	if err != nil {
		w.err = fmt.Errorf("%s: %w", ref, err)
	}
}

// row writes values from column A on; nil leaves a cell empty.
func (w *sheetWriter) row(n int, values ...any) {
	for i, v := range values {
		if v != nil {
			w.set(fmt.Sprintf("%s%d", columnLetters(i), n), v)
		}
	}
}

// date is a date cell with a display format.
type date struct {
	t      time.Time
	format string
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// genFriendly builds testdata/friendly.xlsx: friendly headers, date cells
// in several display formats, numbers, booleans, extra columns, blank
// rows, a few invalid cells, and a second sheet.
func genFriendly() (*excelize.File, error) {
	wb := excelize.NewFile()
	if err := wb.SetSheetName("Sheet1", "Rollout"); err != nil {
		return nil, err
	}
	w := &sheetWriter{wb: wb, sheet: "Rollout", styles: map[string]int{}}
	w.row(1, "Display Name", "Description", "Token Expiration Date Time", "Role Scope Tag IDs", "Enrollment Mode",
		"Enrollment Token Usage Count", "Configure Wifi", "Wifi SSID", "Is Teams Device Profile", "Site", "Asset Count",
		"Created Date Time", "Enrolment Mode")
	w.row(2, "Leeds Scanners", "Zebra TC52", date{day(2027, 3, 31), "dd.mm.yyyy"}, 0, "corporateOwnedDedicatedDevice",
		nil, nil, nil, nil, "Leeds", 12)
	w.row(3, "Kraków Kiosks", "Entrance\nCafé", date{day(2027, 2, 15), "m/d/yyyy"}, "1\n2", "corporateOwnedAOSPUserlessDevice",
		100, true, "KRK-Kiosk", nil, "Kraków")
	// row 4 stays empty
	w.row(5, "  Brno Tills ", nil, date{time.Date(2027, 9, 30, 14, 30, 0, 0, time.UTC), "yyyy-mm-dd hh:mm"}, nil, "corporateOwnedAOSPUserAssociatedDevice",
		nil, nil, nil, "yes", "Brno")
	w.row(6, "   ", nil, nil, nil, nil, nil, nil, nil, nil, "  ")
	w.row(7, "İzmir Printers", nil, date{day(2027, 1, 15), "14"}, nil, nil,
		nil, 0, nil, nil, "İzmir")
	w.row(8, "Bad Number Date", nil, 46387, nil, "corporateOwnedAOSPUserlessDevice", 12.5)
	w.row(9, "Bad Text Date", nil, "31.12.2026", nil, nil, nil, nil, nil, "maybe")
	w.row(10, "Long Format Date", nil, date{day(2027, 12, 1), "[$-409]d mmmm yyyy;@"}, nil, nil,
		nil, nil, nil, false, nil, nil, nil, "typo column value")

	if _, err := wb.NewSheet("Spare"); err != nil {
		return nil, err
	}
	s := &sheetWriter{wb: wb, sheet: "Spare", styles: w.styles}
	s.row(1, "displayName", "tokenExpirationDateTime")
	s.row(2, "Spare Kiosk", date{day(2027, 1, 31), "yyyy-mm-dd"})
	if w.err != nil {
		return nil, w.err
	}
	return wb, s.err
}

// genSamples builds samples/profiles.xlsx from samples/profiles.csv, with
// the expiry dates as real date cells.
func genSamples() (*excelize.File, error) {
	in, err := Read("../samples/profiles.csv", Options{})
	if err != nil {
		return nil, err
	}
	if p := in.Problems(); len(p) > 0 {
		return nil, fmt.Errorf("samples/profiles.csv has problems: %v", p)
	}
	wb := excelize.NewFile()
	if err := wb.SetSheetName("Sheet1", "Profiles"); err != nil {
		return nil, err
	}
	w := &sheetWriter{wb: wb, sheet: "Profiles", styles: map[string]int{}}
	headers := make([]any, len(in.Headers))
	for i, h := range in.Headers {
		headers[i] = h
	}
	w.row(1, headers...)
	bold := w.style(&excelize.Style{Font: &excelize.Font{Bold: true}}, "bold")
	if w.err == nil {
		w.err = wb.SetCellStyle("Profiles", "A1", columnLetters(len(headers)-1)+"1", bold)
	}
	for n, r := range in.Rows {
		values := make([]any, len(in.Headers))
		for prop, i := range in.Columns {
			switch v := r.Body[prop].(type) {
			case []string:
				s := ""
				for k, x := range v {
					if k > 0 {
						s += ", "
					}
					s += x
				}
				values[i] = s
			case string:
				values[i] = v
			}
		}
		if !r.TokenExpiration.IsZero() {
			values[in.Columns["tokenExpirationDateTime"]] = date{r.TokenExpiration, "yyyy-mm-dd"}
		}
		for k, i := range in.extraCols {
			values[i] = r.Extras[k]
		}
		w.row(n+2, values...)
	}
	for i, h := range in.Headers {
		width := 16.0
		switch h {
		case "displayName":
			width = 36
		case "description":
			width = 58
		case "enrollmentMode":
			width = 30
		}
		if w.err == nil {
			w.err = wb.SetColWidth("Profiles", columnLetters(i), columnLetters(i), width)
		}
	}
	return wb, w.err
}
