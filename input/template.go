package input

import (
	"time"

	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/xuri/excelize/v2"
)

// TemplateSheet is the name of the sheet WriteTemplate writes.
const TemplateSheet = "Profiles"

// templateExtras are the extra columns a template shows, with example
// values: columns that are not properties travel into the results and onto
// the QR labels.
var templateExtras = []struct{ Header, Example, Help string }{
	{"Site", "Leeds DC", "Extra column (not sent to Intune): copied into results.xlsx and printable on the QR labels with --label-columns. Add as many extra columns as you like."},
	{"Technician", "J. Patel", "Extra column (not sent to Intune): who sets the devices up; copied into results.xlsx and printable on the QR labels."},
}

// TemplateProperties returns the properties a template has columns for,
// in the order people fill them (the schema's order).
func TemplateProperties() []profile.Property {
	var out []profile.Property
	for _, p := range profile.Properties {
		if p.Input {
			out = append(out, p)
		}
	}
	return out
}

// WriteTemplate writes an input template to path, XLSX or CSV by the
// extension: the headers in fill order, one example row that Read accepts
// unchanged, and the extra columns Site and Technician. The XLSX template
// also has a note on each header saying what goes there, date formatting
// on date columns and drop-downs on choice and boolean columns. The file
// is replaced atomically with mode 0600, as every file the tool writes
// (atomicfile.WriteFile).
func WriteTemplate(path string) error {
	var (
		data []byte
		err  error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		data, err = csvTemplate()
	case ".xlsx":
		data, err = xlsxTemplate()
	default:
		err = fmt.Errorf("unknown file type %q; use .csv or .xlsx", ext)
	}
	if err != nil {
		return fmt.Errorf("write template %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	return nil
}

// templateRow returns the headers and the example row.
func templateRow() (headers, example []string) {
	for _, p := range TemplateProperties() {
		headers = append(headers, p.Name)
		example = append(example, p.Example)
	}
	for _, x := range templateExtras {
		headers = append(headers, x.Header)
		example = append(example, x.Example)
	}
	return headers, example
}

// csvTemplate is the CSV template: UTF-8 with a byte order mark, so Excel
// shows names with accents correctly when it opens the file.
func csvTemplate() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	headers, example := templateRow()
	if err := w.Write(headers); err != nil {
		return nil, err
	}
	if err := w.Write(example); err != nil {
		return nil, err
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// xlsxTemplate builds the XLSX template.
func xlsxTemplate() ([]byte, error) {
	wb := excelize.NewFile()
	defer wb.Close()
	const sh = TemplateSheet
	if err := wb.SetSheetName(wb.GetSheetName(0), sh); err != nil {
		return nil, err
	}
	headStyle, err := wb.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	if err != nil {
		return nil, err
	}
	dateFmt := "yyyy-mm-dd"
	dateStyle, err := wb.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return nil, err
	}
	textStyle, err := wb.NewStyle(&excelize.Style{NumFmt: 49}) // "@": keeps 0,1 from turning into a number
	if err != nil {
		return nil, err
	}
	headers, example := templateRow()
	props := TemplateProperties()
	for i, h := range headers {
		col := columnLetters(i)
		help := ""
		width := float64(max(len(h)+4, 14))
		if i < len(props) {
			p := props[i]
			help = p.Help
			switch p.Kind {
			case profile.DateTime:
				if err := wb.SetColStyle(sh, col, dateStyle); err != nil {
					return nil, err
				}
			case profile.StringList, profile.GUID, profile.String:
				if err := wb.SetColStyle(sh, col, textStyle); err != nil {
					return nil, err
				}
			}
			if err := addDropDown(wb, sh, col, p); err != nil {
				return nil, err
			}
			if p.Name == "displayName" || p.Name == "description" {
				width = 36
			}
		} else {
			help = templateExtras[i-len(props)].Help
		}
		if err := wb.SetColWidth(sh, col, col, width); err != nil {
			return nil, err
		}
		if err := wb.SetCellStr(sh, col+"1", h); err != nil {
			return nil, err
		}
		if err := wb.AddComment(sh, excelize.Comment{
			Cell: col + "1", Author: "enrollbatch",
			Paragraph: []excelize.RichTextRun{
				{Text: h + "\n", Font: &excelize.Font{Bold: true}},
				{Text: help},
			},
			Width: 280, Height: 90,
		}); err != nil {
			return nil, err
		}
		if err := setExample(wb, sh, col+"2", i < len(props) && props[i].Kind == profile.DateTime, example[i]); err != nil {
			return nil, err
		}
	}
	last := columnLetters(len(headers) - 1)
	if err := wb.SetCellStyle(sh, "A1", last+"1", headStyle); err != nil {
		return nil, err
	}
	if err := wb.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wb.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// setExample writes the example value: dates as real date cells.
func setExample(wb *excelize.File, sh, ref string, isDate bool, v string) error {
	if v == "" {
		return nil
	}
	if isDate {
		if t, ok := parseDate(v); ok {
			return wb.SetCellValue(sh, ref, t.Truncate(24*time.Hour)) // a date cell: the day alone
		}
	}
	return wb.SetCellStr(sh, ref, v)
}

// addDropDown puts a drop-down list on the data rows of a choice or
// boolean column.
func addDropDown(wb *excelize.File, sh, col string, p profile.Property) error {
	var values []string
	switch p.Kind {
	case profile.Enum:
		values = p.Values
	case profile.Bool:
		values = []string{"true", "false"}
	default:
		return nil
	}
	dv := excelize.NewDataValidation(true)
	dv.SetSqref(fmt.Sprintf("%s2:%s%d", col, col, excelize.TotalRows))
	if err := dv.SetDropList(values); err != nil {
		return err
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, p.Name, "Choose one of: "+strings.Join(values, ", "))
	return wb.AddDataValidation(sh, dv)
}
