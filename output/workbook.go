package output

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/qrsheet"
	"github.com/enrollbatch/enrollbatch/results"
)

// Sheet names of the results workbook.
const (
	ResultsSheet = "Results"
	SummarySheet = "Summary"
)

// Columns are the fixed columns of the Results sheet and of results.csv, in
// order; the input's extra columns follow them.
var Columns = []string{
	"row", "displayName", "status", "id", "httpStatus", "attempts", "errorCode", "errorMessage",
	"requestId", "tokenExpirationDateTime", "qrCodeContent", "description", "errorRaw", "clientRequestId",
	"changes", "notes", "enrollmentMode",
}

// Column widths of the Results sheet, in characters, aligned with Columns.
var columnWidths = []float64{6, 32, 14, 38, 11, 9, 24, 60, 38, 21, 48, 32, 40, 38, 48, 48, 30}

const (
	extraWidth  = 18
	maxCellText = 32767 // Excel's limit on the characters in one cell
	dateFormat  = "yyyy-mm-dd hh:mm:ss"
)

// statusColours are the fill and font colours of each status cell.
var statusColours = map[results.Status][2]string{
	results.Created:      {"C6EFCE", "006100"},
	results.Renewed:      {"C6EFCE", "006100"},
	results.Exists:       {"D9D9D9", "3A3A3A"},
	results.Invalid:      {"FFEB9C", "9C5700"},
	results.Failed:       {"FFC7CE", "9C0006"},
	results.NotAttempted: {"BDD7EE", "1F4E79"},
	results.Planned:      {"F2F2F2", "404040"},
	results.Updated:      {"DDEBF7", "1F4E79"},
	results.Deleted:      {"E4DFEC", "5B3F86"},
	results.Revoked:      {"E4DFEC", "5B3F86"},
	results.NotFound:     {"FCE4D6", "833C0B"},
}

// styles are the workbook's cell styles.
type styles struct {
	header, date, bold int
	status             map[results.Status]int
}

func newStyles(f *excelize.File) (*styles, error) {
	var s styles
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}},
	}); err != nil {
		return nil, err
	}
	if s.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, err
	}
	format := dateFormat
	if s.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &format, Alignment: &excelize.Alignment{Horizontal: "left"}}); err != nil {
		return nil, err
	}
	// In the summary's order, so that the same results give the same
	// styles.xml and style ids from one run to the next.
	s.status = make(map[results.Status]int, len(statusColours))
	for _, st := range results.Statuses {
		c, ok := statusColours[st]
		if !ok {
			continue
		}
		if s.status[st], err = f.NewStyle(&excelize.Style{
			Font: &excelize.Font{Color: c[1]},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c[0]}},
		}); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// WriteWorkbook writes the results workbook to path (atomically, mode
// 0600): a Results sheet with one row per result, in the order given, and a
// Summary sheet with the counts, the run's facts and the problems by row.
// Both sheets are streamed, so memory stays bounded for very large runs.
func WriteWorkbook(path string, run results.Run, rs []results.Result) error {
	return WriteWorkbookFrom(path, run, results.FromSlice(rs))
}

// WriteWorkbookFrom writes the results workbook to path as WriteWorkbook
// does, from the results src yields, without holding them: the Results
// sheet is streamed in one range over src, counting as it goes, and the
// Summary's problems by row come from a second range. An error yielded by
// src fails the write, and the file at path is left as it was.
func WriteWorkbookFrom(path string, run results.Run, src results.Source) error {
	f := excelize.NewFile()
	defer f.Close()
	rows, err := newSheetRows(len(Columns) + len(run.ExtraHeaders))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer rows.close()
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		return &spliceZip{Writer: fastZip(w), part: resultsPart, rows: rows}
	})
	if err := buildWorkbook(f, run, src, rows); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return f.Write(w) })
}

// resultsPart is the Results sheet's part in the archive: the first sheet
// of a new workbook, renamed.
const resultsPart = "xl/worksheets/sheet1.xml"

// fastZip compresses the workbook at deflate's fastest level: a third of
// the time of writing 100,000 rows went into the default level, for files
// about 10 % smaller. Its compressors come from flatePool, as
// archive/zip's own do from its pool: a new one allocates and clears about
// a megabyte, and a workbook has a dozen parts, most of them a few hundred
// bytes; over many tenants' workbooks that was a tenth of the run's CPU.
func fastZip(w io.Writer) *zip.Writer {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if fw, ok := flatePool.Get().(*flate.Writer); ok {
			fw.Reset(out)
			return &pooledFlate{fw: fw}, nil
		}
		fw, err := flate.NewWriter(out, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		return &pooledFlate{fw: fw}, nil
	})
	return zw
}

// flatePool holds fastZip's compressors between workbook parts.
var flatePool sync.Pool

// pooledFlate is a compressor of fastZip: Close flushes it and gives it
// back to flatePool once; it is not used after.
type pooledFlate struct{ fw *flate.Writer }

func (p *pooledFlate) Write(b []byte) (int, error) {
	if p.fw == nil {
		return 0, errors.New("write to a closed compressor")
	}
	return p.fw.Write(b)
}

func (p *pooledFlate) Close() error {
	if p.fw == nil {
		return nil
	}
	err := p.fw.Close()
	flatePool.Put(p.fw)
	p.fw = nil
	return err
}

func buildWorkbook(f *excelize.File, run results.Run, src results.Source, rows *sheetRows) error {
	if err := f.SetSheetName("Sheet1", ResultsSheet); err != nil {
		return err
	}
	if _, err := f.NewSheet(SummarySheet); err != nil {
		return err
	}
	// Before the sheets are streamed: SetActiveSheet parses every sheet,
	// and a streamed sheet small enough to be kept in memory would be
	// parsed back in full (10,000 rows took 1.4 s and 500 MiB that way).
	f.SetActiveSheet(0)
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	// The filter must be on the sheet before the stream writer takes it
	// over (it marks the sheet as filtered in its first element); its
	// range is set again once the rows are counted.
	if err := setFilter(f, run, 0); err != nil {
		return err
	}
	t, err := writeResults(f, st, run, src, rows)
	if err != nil {
		return err
	}
	return writeSummary(f, st, run, src, t)
}

// setFilter puts the Results sheet's filter over its header and n rows.
func setFilter(f *excelize.File, run results.Run, n int) error {
	last, err := excelize.CoordinatesToCellName(len(Columns)+len(run.ExtraHeaders), n+1)
	if err != nil {
		return err
	}
	return f.AutoFilter(ResultsSheet, "A1:"+last, nil)
}

// tally is what the Summary sheet counts of the results.
type tally struct {
	total  int
	counts map[results.Status]int
	plan   results.Plan
	one    [1]results.Result // the result being counted, for results.PlanOf
}

func newTally() *tally {
	return &tally{counts: make(map[results.Status]int, len(results.Statuses))}
}

// add counts r.
func (t *tally) add(r *results.Result) {
	t.total++
	t.counts[r.Status]++
	t.one[0] = *r
	p := results.PlanOf(t.one[:])
	t.one[0] = results.Result{}
	t.plan.Create += p.Create
	t.plan.Update += p.Update
	t.plan.Delete += p.Delete
	t.plan.Unchanged += p.Unchanged
	t.plan.Invalid += p.Invalid
	t.plan.Other += p.Other
}

// writeResults streams the Results sheet from src and counts the results:
// the header and the sheet's layout through excelize, the rows through
// rows, which the archive puts in the sheet's part.
func writeResults(f *excelize.File, st *styles, run results.Run, src results.Source, rows *sheetRows) (*tally, error) {
	sw, err := f.NewStreamWriter(ResultsSheet)
	if err != nil {
		return nil, err
	}
	for i, w := range columnWidths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if n := len(run.ExtraHeaders); n > 0 {
		if err := sw.SetColWidth(len(Columns)+1, len(Columns)+n, extraWidth); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	row := make([]interface{}, len(Columns)+len(run.ExtraHeaders))
	for i, h := range append(append([]string(nil), Columns...), run.ExtraHeaders...) {
		row[i] = excelize.Cell{StyleID: st.header, Value: cellText(h)}
	}
	if err := sw.SetRow("A1", row); err != nil {
		return nil, err
	}
	t := newTally()
	for r, err := range src {
		if err != nil {
			return nil, fmt.Errorf("read result %d: %w", t.total+1, err)
		}
		if err := rows.start(t.total + 2); err != nil {
			return nil, fmt.Errorf("results row %d: %w", r.Row, err)
		}
		rows.num(0, r.Row)
		rows.text(1, 0, cellText(r.DisplayName))
		rows.text(2, st.status[r.Status], string(r.Status))
		rows.text(3, 0, cellText(r.ID))
		if r.HTTPStatus != 0 {
			rows.num(4, r.HTTPStatus)
		}
		rows.num(5, r.Attempts)
		rows.text(6, 0, cellText(r.ErrorCode))
		rows.text(7, 0, cellText(r.ErrorMessage))
		rows.text(8, 0, cellText(r.RequestID))
		if !r.TokenExpiration.IsZero() {
			rows.date(9, st.date, excelTime(r.TokenExpiration))
		}
		rows.text(10, 0, cellText(results.StoredContent(r.QRCodeContent)))
		rows.text(11, 0, cellText(r.Description))
		rows.text(12, 0, cellText(r.ErrorRaw))
		rows.text(13, 0, cellText(r.ClientRequestID))
		rows.text(14, 0, cellText(strings.Join(r.Changes, "\n")))
		rows.text(15, 0, cellText(strings.Join(r.Notes, "\n")))
		rows.text(16, 0, cellText(r.EnrollmentMode))
		for j := range run.ExtraHeaders {
			if j < len(r.Extras) {
				rows.text(len(Columns)+j, 0, cellText(r.Extras[j]))
			}
		}
		if err := rows.end(); err != nil {
			return nil, err
		}
		t.add(r)
	}
	if err := rows.finish(); err != nil {
		return nil, err
	}
	if err := setFilter(f, run, t.total); err != nil {
		return nil, err
	}
	return t, sw.Flush()
}

// Labels of the run's facts on the Summary sheet.
const (
	factCommand     = "command"
	factInput       = "input"
	factSheet       = "sheet"
	factStart       = "start"
	factEnd         = "end"
	factDuration    = "duration"
	factGraphURL    = "graph URL"
	factTenant      = "tenant"
	factConcurrency = "concurrency"
	factRate        = "rate (requests/s, 0 = no limit)"
	factDryRun      = "dry run"
	factPlan        = "plan"
	factRequests    = "requests"
	factThrottled   = "429 responses"
	factPaused      = "paused by Retry-After"
	factInterrupted = "interrupted"
	factAborted     = "aborted"
	problemsTitle   = "Problems"
)

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// planText is the plan line of the Summary sheet: what a dry run would
// do, or what a run did, in the same words.
func planText(run results.Run, p results.Plan) string {
	if run.DryRun {
		return p.String()
	}
	return p.Done()
}

// writeSummary streams the Summary sheet: t's counts, the run's facts, and
// the problems by row from a second range over src.
func writeSummary(f *excelize.File, st *styles, run results.Run, src results.Source, t *tally) error {
	sw, err := f.NewStreamWriter(SummarySheet)
	if err != nil {
		return err
	}
	for i, w := range []float64{30, 40, 14, 80} {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	n := 0
	add := func(vals ...interface{}) error {
		n++
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	}
	hdr := func(s string) excelize.Cell { return excelize.Cell{StyleID: st.header, Value: s} }
	if err := add(hdr("status"), hdr("count")); err != nil {
		return err
	}
	for _, s := range results.Statuses {
		if err := add(excelize.Cell{StyleID: st.status[s], Value: string(s)}, t.counts[s]); err != nil {
			return err
		}
	}
	if err := add(excelize.Cell{StyleID: st.bold, Value: "total"}, excelize.Cell{StyleID: st.bold, Value: t.total}); err != nil {
		return err
	}
	n++ // blank line
	var duration interface{}
	if !run.Start.IsZero() && !run.End.IsZero() {
		duration = run.End.Sub(run.Start).Round(time.Millisecond).String()
	}
	facts := [][2]interface{}{
		{factCommand, cellText(run.Command)},
		{factInput, cellText(run.Input)},
		{factSheet, cellText(run.Sheet)},
		{factStart, timeText(run.Start)},
		{factEnd, timeText(run.End)},
		{factDuration, duration},
		{factGraphURL, cellText(run.GraphURL)},
		{factConcurrency, run.Concurrency},
		{factRate, run.Rate},
		{factDryRun, yesNo(run.DryRun)},
		{factPlan, planText(run, t.plan)},
		{factRequests, run.Requests},
		{factThrottled, run.Throttled},
		{factPaused, run.Paused.Round(time.Millisecond).String()},
		{factInterrupted, yesNo(run.Interrupted)},
		{factAborted, cellText(run.Aborted)},
	}
	if run.Tenant != "" { // a run over several tenants: whose results these are
		facts = slices.Insert(facts, 7, [2]interface{}{factTenant, cellText(run.Tenant)})
	}
	if err := add(hdr("run"), hdr("")); err != nil {
		return err
	}
	for _, fct := range facts {
		if err := add(fct[0], fct[1]); err != nil {
			return err
		}
	}
	n++
	if err := add(excelize.Cell{StyleID: st.bold, Value: problemsTitle}); err != nil {
		return err
	}
	if err := add(hdr("row"), hdr("displayName"), hdr("status"), hdr("errorMessage")); err != nil {
		return err
	}
	problems, read := 0, 0
	for r, err := range src {
		if err != nil {
			return fmt.Errorf("read result %d: %w", read+1, err)
		}
		read++
		if r.Status.OK() {
			continue
		}
		problems++
		if err := add(r.Row, cellText(r.DisplayName), excelize.Cell{StyleID: st.status[r.Status], Value: string(r.Status)}, cellText(r.ErrorMessage)); err != nil {
			return err
		}
	}
	if problems == 0 {
		if err := add("none"); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// excelTime is t as Excel shows it: UTC wall time, whole seconds (Excel
// cells carry no zone).
func excelTime(t time.Time) time.Time {
	return t.UTC().Round(time.Second)
}

// cellText keeps a string within Excel's limit on one cell, cutting on a
// character boundary and saying so.
func cellText(s string) string {
	if len(s) <= maxCellText || utf8.RuneCountInString(s) <= maxCellText {
		return s
	}
	const note = " … [cut: longer than an Excel cell holds]"
	r := []rune(s)
	return string(r[:maxCellText-utf8.RuneCountInString(note)]) + note
}

// ReadWorkbook reads a results workbook written by WriteWorkbook (for
// reprints): the rows of the Results sheet, the extra columns after the fixed
// ones, and the run's facts from the Summary sheet when it is there.
func ReadWorkbook(path string) (results.Run, []results.Result, error) {
	var run results.Run
	f, err := input.OpenWorkbook(path)
	if err != nil {
		return run, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	rs, extras, err := readResults(f)
	if err != nil {
		return run, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if idx, _ := f.GetSheetIndex(SummarySheet); idx >= 0 {
		if err := readSummary(f, &run); err != nil {
			return run, nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	run.ExtraHeaders = extras
	return run, rs, nil
}

func readResults(f *excelize.File) ([]results.Result, []string, error) {
	rows, err := f.Rows(ResultsSheet)
	if err != nil {
		return nil, nil, fmt.Errorf("no %s sheet (is this a results.xlsx from enrollbatch?): %w", ResultsSheet, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, nil, fmt.Errorf("%s sheet is empty", ResultsSheet)
	}
	header, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	known := make(map[string]bool, len(Columns))
	for _, c := range Columns {
		known[c] = true
	}
	col := make(map[string]int)
	seen := make(map[string]bool)
	var extras []string
	var extraIdx []int
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
		case known[h] && !seen[h]:
			col[h], seen[h] = i, true
		default: // an extra column, also one named like a fixed column
			extras = append(extras, h)
			extraIdx = append(extraIdx, i)
		}
	}
	for _, need := range []string{"row", "displayName", "status"} {
		if _, ok := col[need]; !ok {
			return nil, nil, fmt.Errorf("%s sheet has no %q column (is this a results.xlsx from enrollbatch?)", ResultsSheet, need)
		}
	}
	var rs []results.Result
	line := 1
	for rows.Next() {
		line++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, nil, fmt.Errorf("%s row %d: %w", ResultsSheet, line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(cells) {
				return cells[i]
			}
			return ""
		}
		if strings.TrimSpace(strings.Join(cells, "")) == "" {
			continue
		}
		var r results.Result
		var perr error
		num := func(name string) int {
			s := strings.TrimSpace(get(name))
			if s == "" || perr != nil {
				return 0
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				perr = fmt.Errorf("%s row %d, %s: %q is not a number", ResultsSheet, line, name, s)
			}
			return int(v)
		}
		r.Row = num("row")
		r.DisplayName = get("displayName")
		r.Status = results.Status(strings.TrimSpace(get("status")))
		r.ID = get("id")
		r.HTTPStatus = num("httpStatus")
		r.Attempts = num("attempts")
		r.ErrorCode = get("errorCode")
		r.ErrorMessage = get("errorMessage")
		r.RequestID = get("requestId")
		r.QRCodeContent = get("qrCodeContent")
		r.Description = get("description")
		r.ErrorRaw = get("errorRaw")
		r.ClientRequestID = get("clientRequestId")
		r.Changes = splitLines(get("changes"))
		r.Notes = splitLines(get("notes"))
		r.EnrollmentMode = get("enrollmentMode") // empty in workbooks of earlier versions
		if perr != nil {
			return nil, nil, perr
		}
		if s := strings.TrimSpace(get("tokenExpirationDateTime")); s != "" {
			t, err := parseCellTime(s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s row %d, tokenExpirationDateTime: %w", ResultsSheet, line, err)
			}
			r.TokenExpiration = t
		}
		if len(extraIdx) > 0 {
			r.Extras = make([]string, len(extraIdx))
			for j, i := range extraIdx {
				if i < len(cells) {
					r.Extras[j] = cells[i]
				}
			}
		}
		rs = append(rs, r)
	}
	if err := rows.Error(); err != nil {
		return nil, nil, err
	}
	return rs, extras, nil
}

// timeText is a time for the Summary sheet: local time with its offset,
// so it is never read as an unmarked UTC time.
func timeText(t time.Time) interface{} {
	if t.IsZero() {
		return nil
	}
	return qrsheet.Shown(t).Format("2006-01-02 15:04:05 -07:00")
}

// splitLines splits a cell that holds one item per line; an empty cell is nil.
func splitLines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

// parseCellTime reads a date cell's raw value (an Excel serial number) or,
// in a workbook someone edited, an RFC 3339 or YYYY-MM-DD text.
func parseCellTime(s string) (time.Time, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		t, err := excelize.ExcelDateToTime(v, false)
		if err != nil {
			return time.Time{}, err
		}
		return t.UTC().Round(time.Second), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05 -07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (use 2027-03-31 or 2027-03-31T08:00:00Z)", s)
}

func readSummary(f *excelize.File, run *results.Run) error {
	rows, err := f.Rows(SummarySheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return err
		}
		if len(cells) == 0 {
			continue
		}
		if cells[0] == problemsTitle {
			break
		}
		if len(cells) < 2 {
			continue
		}
		v := strings.TrimSpace(cells[1])
		atoi := func() int { n, _ := strconv.Atoi(v); return n }
		tm := func() time.Time { t, _ := parseCellTime(v); return t }
		switch cells[0] {
		case factCommand:
			run.Command = v
		case factInput:
			run.Input = v
		case factSheet:
			run.Sheet = v
		case factStart:
			run.Start = tm()
		case factEnd:
			run.End = tm()
		case factGraphURL:
			run.GraphURL = v
		case factTenant:
			run.Tenant = v
		case factConcurrency:
			run.Concurrency = atoi()
		case factRate:
			run.Rate, _ = strconv.ParseFloat(v, 64)
		case factDryRun:
			run.DryRun = v == "yes"
		case factRequests:
			run.Requests = atoi()
		case factThrottled:
			run.Throttled = atoi()
		case factPaused:
			run.Paused, _ = time.ParseDuration(v)
		case factInterrupted:
			run.Interrupted = v == "yes"
		case factAborted:
			run.Aborted = v
		}
	}
	return rows.Error()
}
