package output

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/results"
)

// A run over several tenants writes each tenant's results and QR sheet in
// a folder of its own (OUT/<tenant>), and SummaryFile beside them: one row
// per tenant, with how it ended, its counts by status and its files.

// SummaryFile is the workbook of a run over several tenants, in OUT.
const SummaryFile = "summary.xlsx"

// TenantsSheet is SummaryFile's sheet.
const TenantsSheet = "Tenants"

// How a tenant's share of a run ended.
const (
	TenantDone    = "done"    // every row was settled (some may have failed)
	TenantFailed  = "failed"  // nothing could be done in it (sign-in, consent, listing); its rows say why
	TenantStopped = "stopped" // a stop signal or the deadline came first; rerun to finish
	TenantNotRun  = "not run" // its folder or tenant was locked or could not be written: no results
)

// TenantSummary is a tenant's row of SummaryFile.
type TenantSummary struct {
	Tenant    string
	State     string
	Rows      int
	Counts    map[results.Status]int
	Requests  int
	Throttled int
	Results   string // the results (or plan) workbook, relative to OUT; "" when none was written
	Sheet     string // the QR sheet, relative to OUT; "" when none was written
	Message   string // why it did not end done, or what to know
}

// CountsText is the counts by status, in results.Statuses order, e.g.
// "3 created, 1 failed"; "" when there are none.
func (t TenantSummary) CountsText() string {
	var parts []string
	for _, s := range results.Statuses {
		if n := t.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

// summaryHeaders are SummaryFile's columns: the tenant, its state and
// rows, a count per status, then its requests and files.
func summaryHeaders() []string {
	h := []string{"tenant", "state", "rows"}
	for _, st := range results.Statuses {
		h = append(h, string(st))
	}
	return append(h, "requests", "429 responses", "results", "qr sheet", "message")
}

// WriteSummary writes dir/SummaryFile (mode 0600, replaced whole), unless
// a file enrollbatch did not write is there.
func WriteSummary(dir string, ts []TenantSummary) error {
	path := filepath.Join(dir, SummaryFile)
	if err := CheckReplace(path, false); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), TenantsSheet); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	var head []any
	for _, h := range summaryHeaders() {
		head = append(head, h)
	}
	if err := f.SetSheetRow(TenantsSheet, "A1", &head); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	for i, t := range ts {
		row := []any{cellText(t.Tenant), t.State, t.Rows}
		for _, s := range results.Statuses {
			row = append(row, t.Counts[s])
		}
		row = append(row, t.Requests, t.Throttled, filepath.ToSlash(t.Results), filepath.ToSlash(t.Sheet), cellText(t.Message))
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(TenantsSheet, cell, &row); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := f.SetPanes(TenantsSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return f.Write(w) })
}

// ReadSummary reads a SummaryFile back.
func ReadSummary(path string) ([]TenantSummary, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	rows, err := f.GetRows(TenantsSheet)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read %s: the %s sheet is empty", path, TenantsSheet)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var out []TenantSummary
	for _, r := range rows[1:] {
		get := func(h string) string {
			if i, ok := col[h]; ok && i < len(r) {
				return r[i]
			}
			return ""
		}
		num := func(h string) int {
			var n int
			fmt.Sscan(get(h), &n)
			return n
		}
		t := TenantSummary{Tenant: get("tenant"), State: get("state"), Rows: num("rows"), Counts: map[results.Status]int{},
			Requests: num("requests"), Throttled: num("429 responses"), Results: get("results"), Sheet: get("qr sheet"), Message: get("message")}
		for _, s := range results.Statuses {
			if n := num(string(s)); n > 0 {
				t.Counts[s] = n
			}
		}
		out = append(out, t)
	}
	return out, nil
}
