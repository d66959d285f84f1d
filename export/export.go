// Package export writes a tenant's enrollment profiles as a spreadsheet in
// exactly the format the job reads: the template's headers and order, one
// row per profile, so that the file can be edited and run again (against
// the same tenant it changes nothing), or run against another tenant to
// recreate the profiles there.
//
// Every writable property the service returns is written, except the
// Wi-Fi password, which the service never returns. Values the reader would
// refuse as contradictory are left empty: the Wi-Fi settings of a profile
// whose configureWifi is false. The profile's enrollment-time device group
// follows in the deviceGroup column, then the profile's id as a last
// column, for reference; the reader ignores it, since profiles are matched
// by displayName.
//
// Scope tags and device groups are written by name (FetchNames), so that
// the sheet runs in another tenant where the same names exist; the
// built-in Default tag, and any tag or group whose name would not read
// back as itself, are written as ids.
package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/input"
	"github.com/enrollbatch/enrollbatch/plan"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/tenant"
)

// IDColumn is the header of the extra column that holds the profile's id.
const IDColumn = "id"

// dateFormat is the number format of date cells: the token expiry has a
// time of day.
const dateFormat = "yyyy-mm-dd hh:mm:ss"

// Fetch lists the tenant's profiles whose displayName starts with prefix
// (case is ignored; "" for all), with every property an export writes,
// sorted by displayName.
func Fetch(ctx context.Context, c *graph.Client, prefix string) ([]profile.Profile, error) {
	all, err := c.List(ctx, plan.Select()...)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	var out []profile.Profile
	for _, pr := range all {
		if profile.HasNamePrefix(pr.DisplayName, prefix) {
			out = append(out, pr)
		}
	}
	slices.SortStableFunc(out, func(a, b profile.Profile) int {
		if c := strings.Compare(profile.Key(a.DisplayName), profile.Key(b.DisplayName)); c != 0 {
			return c
		}
		return strings.Compare(a.DisplayName, b.DisplayName)
	})
	return out, nil
}

// Headers returns the columns of an export: the template's property
// columns, then input.DeviceGroupColumn and IDColumn.
func Headers() []string {
	var h []string
	for _, p := range input.TemplateProperties() {
		h = append(h, p.Name)
	}
	return append(h, input.DeviceGroupColumn, IDColumn)
}

// cell returns the value of property name of p for the sheet: a string, a
// bool, an int32, a time.Time, or nil for an empty cell.
func cell(p profile.Profile, name string) any {
	switch name {
	case "wifiPassword":
		return nil // the service never returns it
	case "wifiSsid", "wifiSecurityType", "wifiHidden":
		if !p.ConfigureWifi {
			return nil
		}
	case IDColumn:
		return p.ID
	}
	switch v := plan.Value(p, name).(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return nil
		}
		return v
	case []string:
		if len(v) == 0 {
			return nil
		}
		return strings.Join(v, ", ")
	case time.Time:
		if v.IsZero() || name == "tokenExpirationDateTime" && !v.After(time.Now()) {
			// An expired token's date cannot be given again: the sheet
			// leaves it empty, so a new profile gets the default lifetime.
			return nil
		}
		return v.UTC()
	case bool, int32:
		return v
	}
	return nil
}

// text renders a cell value for CSV and for text cells.
func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case time.Time:
		return t.Format(time.RFC3339)
	case bool:
		return strconv.FormatBool(t)
	case int32:
		return strconv.Itoa(int(t))
	}
	return fmt.Sprint(v)
}

// Write writes the profiles to path, .xlsx or .csv by the extension, with
// mode 0600 (the file names every profile of the tenant). In XLSX the
// sheet is named sheet (default the template's), dates are date cells, and
// the header is bold and frozen. The file is replaced atomically
// (atomicfile.WriteFile): a failed export leaves an earlier file as it was. Scope
// tags are written as ids, and device groups not at all: see WriteNamed.
func Write(path, sheet string, ps []profile.Profile) error {
	return WriteNamed(path, Format{Sheet: sheet}, ps, nil)
}

// Format is how an export is written: the XLSX sheet's name, and the CSV
// delimiter (a comma when 0; German Excel opens semicolon-separated
// files). Every CSV export starts with a UTF-8 byte order mark, without
// which Excel reads the file in the machine's ANSI code page ("KÃ¶ln").
type Format struct {
	Sheet     string
	Delimiter rune
}

// WriteNamed is Write with scope tags and device groups as n has them
// (FetchNames), in the format f.
func WriteNamed(path string, f Format, ps []profile.Profile, n *Names) error {
	return write(path, f, []Tenant{{Profiles: ps, Names: n}}, false)
}

// Tenant is one tenant's share of an export of several tenants: its name
// as the tenant column gives it, its profiles and their names.
type Tenant struct {
	Name     string
	Profiles []profile.Profile
	Names    *Names
}

// WriteTenants writes the profiles of several tenants into one sheet, as
// WriteNamed does, with a tenant column first (tenant.Column), so that the
// sheet runs again across the same tenants.
func WriteTenants(path string, f Format, ts []Tenant) error {
	return write(path, f, ts, true)
}

func write(path string, f Format, ts []Tenant, withTenant bool) error {
	sheet := f.Sheet
	var (
		data []byte
		err  error
	)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		data, err = csvBytes(ts, withTenant, f.Delimiter)
	case ".xlsx":
		if sheet == "" {
			sheet = input.TemplateSheet
		}
		data, err = xlsxBytes(sheet, ts, withTenant)
	default:
		return fmt.Errorf("export to %s: use a file name ending in .xlsx or .csv", path)
	}
	if err != nil {
		return fmt.Errorf("export to %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// columns are the headers of an export, with the tenant column first when
// it holds several tenants.
func columns(withTenant bool) []string {
	if withTenant {
		return append([]string{tenant.Column}, Headers()...)
	}
	return Headers()
}

// value is the cell of column h for p of t.
func (t *Tenant) value(p profile.Profile, h string) any {
	if h == tenant.Column {
		return t.Name
	}
	return t.Names.cell(p, h)
}

func csvBytes(ts []Tenant, withTenant bool, delim rune) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	if delim != 0 {
		w.Comma = delim
	}
	hs := columns(withTenant)
	if err := w.Write(hs); err != nil {
		return nil, err
	}
	rec := make([]string, len(hs))
	for _, t := range ts {
		for _, p := range t.Profiles {
			for i, h := range hs {
				rec[i] = text(t.value(p, h))
			}
			if err := w.Write(rec); err != nil {
				return nil, err
			}
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func xlsxBytes(sheet string, ts []Tenant, withTenant bool) ([]byte, error) {
	wb := excelize.NewFile()
	defer wb.Close()
	if err := wb.SetSheetName(wb.GetSheetName(0), sheet); err != nil {
		return nil, err
	}
	head, err := wb.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return nil, err
	}
	df := dateFormat
	date, err := wb.NewStyle(&excelize.Style{CustomNumFmt: &df})
	if err != nil {
		return nil, err
	}
	sw, err := wb.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	hs := columns(withTenant)
	for i, h := range hs {
		w := float64(max(len(h)+4, 14))
		if h == "displayName" || h == "description" || h == IDColumn || h == input.DeviceGroupColumn || h == tenant.Column {
			w = 38
		}
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	row := make([]any, len(hs))
	for i, h := range hs {
		row[i] = excelize.Cell{StyleID: head, Value: h}
	}
	if err := sw.SetRow("A1", row); err != nil {
		return nil, err
	}
	k := 0
	for _, t := range ts {
		for _, p := range t.Profiles {
			if err := xlsxRow(sw, hs, date, k+2, func(h string) any { return t.value(p, h) }); err != nil {
				return nil, err
			}
			k++
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wb.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// xlsxRow writes one profile's row at line.
func xlsxRow(sw *excelize.StreamWriter, hs []string, date, line int, value func(string) any) error {
	row := make([]any, len(hs))
	for i, h := range hs {
		switch v := value(h).(type) {
		case nil:
		case time.Time:
			row[i] = excelize.Cell{StyleID: date, Value: v}
		default:
			// Text, as the template's cells: "0, 14" must not become a
			// number, and true/false match the template's drop-downs.
			row[i] = text(v)
		}
	}
	ref, _ := excelize.CoordinatesToCellName(1, line)
	return sw.SetRow(ref, row)
}
