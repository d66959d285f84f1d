package input

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"strings"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// fixtures build the files under testdata that hold what Excel, scripts
// and the export command write, byte for byte; they are committed, and
// go test ./input -update -only PATH rebuilds one (see TestMain).
var fixtures = map[string]func() ([]byte, error){
	"testdata/quoting.csv":                   genQuoting,
	"testdata/refused/unclosed-quote.csv":    genUnclosedQuote,
	"testdata/refused/late-closed-quote.csv": genLateClosedQuote,
	"testdata/refused/mixed-encoding.csv":    genMixedEncoding,
	"testdata/refused/two-sheets.xlsx":       genTwoSheets,
	"testdata/hidden-sheets.xlsx":            genHiddenSheets,
	"testdata/script-formulas.xlsx":          genScriptFormulas,
	"testdata/invisible-names.csv":           genInvisibleCSV,
	"testdata/invisible-names.xlsx":          genInvisibleXLSX,
	"testdata/excel-de-dates.csv":            genGermanDates,
	"testdata/admin-center-words.xlsx":       genAdminCenterWords,
}

// crlf writes lines as Excel's "CSV UTF-8" does: a byte order mark, CRLF
// after each record, and LF for a line break inside a cell (the lines
// given here hold those as \n inside quotes).
func crlf(records ...string) []byte {
	return []byte("\ufeff" + strings.Join(records, "\r\n") + "\r\n")
}

// genQuoting is a "CSV UTF-8" file with every kind of quoting Excel
// writes (line breaks, delimiters and doubled quotes in quoted cells, an
// empty quoted cell, a blank row), and the bare inch and foot marks that
// scripts and hand edits leave in unquoted cells. Every record's first
// line starts with its name, Kasse NN, so the records can be counted
// without a CSV reader.
func genQuoting() ([]byte, error) {
	return crlf(
		"displayName,description,Site",
		"Kasse 01,\"Zwei Zeilen:\nEingang und Café\",Nord",
		"Kasse 02,\"27\"\" Monitor, Halter\",Nord",
		"Kasse 03,27\" monitor,Süd",
		"\"Kasse 04\",\"\"\"zitiert\"\"\",Süd",
		"Kasse 05,\"\",Ost",
		",,",
		"\"Kasse 06 \"\"Mitte\"\"\",a,West",
		"Kasse 07,\"Drei\nZeilen\n\"\"hier\"\"\",West",
		"Kasse 08,5' 11\" Regal,West",
		"Kasse 09,\"Komma, Semikolon; Tab\t\",Nord",
		"Kasse 10,\"endet mit \"\"\",Nord",
		"Kasse 11,\"\n\",Nord",
	), nil
}

// genUnclosedQuote is a list typed by hand in a text editor: the quote
// before the monitor size in line 3 is never closed.
func genUnclosedQuote() ([]byte, error) {
	return []byte("displayName,description\n" +
		"Kasse 1,Eingang\n" +
		"Kasse 2,\"27 inch monitor\n" +
		"Kasse 3,Lager\n" +
		"Kasse 4,Ausgang\n" +
		"Kasse 5,Büro\n"), nil
}

// genLateClosedQuote is like genUnclosedQuote, but a later quoted cell's
// opening quote closes the quote of line 3.
func genLateClosedQuote() ([]byte, error) {
	return []byte("displayName,description\n" +
		"Kasse 1,Eingang\n" +
		"Kasse 2,\"27 inch monitor\n" +
		"Kasse 3,Lager\n" +
		"Kasse 4,\"Ausgang, hinten\"\n" +
		"Kasse 5,Büro\n"), nil
}

// genMixedEncoding is a UTF-8 file into which one description was pasted
// from a Windows-1252 file: its euro sign is the single byte 0x80.
func genMixedEncoding() ([]byte, error) {
	return []byte("displayName,description\n" +
		"Café Nord,Kasse am Eingang\n" +
		"Kasse 2,Preis 5 \x80\n" +
		"Kasse 3,Lager\n"), nil
}

// workbookBytes saves an excelize workbook to bytes.
func workbookBytes(wb *excelize.File, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	buf, err := wb.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// genTwoSheets is a workbook with one list per region on two visible
// sheets, Nord and Sued, and an old list on a hidden sheet.
func genTwoSheets() ([]byte, error) {
	wb := excelize.NewFile()
	if err := wb.SetSheetName("Sheet1", "Nord"); err != nil {
		return nil, err
	}
	for _, s := range []string{"Sued", "Alt"} {
		if _, err := wb.NewSheet(s); err != nil {
			return nil, err
		}
	}
	n := &sheetWriter{wb: wb, sheet: "Nord", styles: map[string]int{}}
	n.row(1, "displayName", "description")
	n.row(2, "Kasse Nord 1", "Eingang")
	n.row(3, "Kasse Nord 2", "Ausgang")
	s := &sheetWriter{wb: wb, sheet: "Sued", styles: n.styles}
	s.row(1, "displayName", "description")
	s.row(2, "Kasse Süd 1", "Eingang")
	a := &sheetWriter{wb: wb, sheet: "Alt", styles: n.styles}
	a.row(1, "displayName")
	a.row(2, "Kasse Alt")
	for _, w := range []*sheetWriter{n, s, a} {
		if w.err != nil {
			return nil, w.err
		}
	}
	return workbookBytes(wb, wb.SetSheetVisible("Alt", false))
}

// genHiddenSheets is a workbook with one visible sheet between two hidden
// ones.
func genHiddenSheets() ([]byte, error) {
	wb := excelize.NewFile()
	if err := wb.SetSheetName("Sheet1", "Alt 2025"); err != nil {
		return nil, err
	}
	for _, s := range []string{"Liste", "Vorlage"} {
		if _, err := wb.NewSheet(s); err != nil {
			return nil, err
		}
	}
	w := &sheetWriter{wb: wb, sheet: "Liste", styles: map[string]int{}}
	w.row(1, "displayName")
	w.row(2, "Kasse 1")
	o := &sheetWriter{wb: wb, sheet: "Alt 2025", styles: w.styles}
	o.row(1, "displayName")
	o.row(2, "Kasse 0")
	for _, x := range []*sheetWriter{w, o} {
		if x.err != nil {
			return nil, x.err
		}
	}
	wb.SetActiveSheet(1) // excelize does not hide the active sheet
	for _, s := range []string{"Alt 2025", "Vorlage"} {
		if err := wb.SetSheetVisible(s, false); err != nil {
			return nil, err
		}
	}
	return workbookBytes(wb, nil)
}

// genScriptFormulas is a workbook as scripts write one, without
// calculating: formula cells with no saved value in the forms excelize
// (<f> alone) and openpyxl (<f> and an empty <v>) write, a shared formula,
// a formula Excel saved with an error value, and a row whose only value
// is right of the headers.
func genScriptFormulas() ([]byte, error) {
	inline := func(ref, s string) string {
		return `<c r="` + ref + `" t="inlineStr"><is><t>` + s + `</t></is></c>`
	}
	sheet := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1">` + inline("A1", "displayName") + inline("B1", "description") + inline("C1", "Site") + `</row>` +
		`<row r="2"><c r="A2"><f>CONCAT("Kasse ",C2)</f></c>` + inline("B2", "excelize") + inline("C2", "Nord") + `</row>` +
		`<row r="3"><c r="A3"><f>CONCAT("Kasse ",C3)</f><v></v></c>` + inline("B3", "openpyxl") + inline("C3", "Sued") + `</row>` +
		`<row r="4"><c r="A4"><f t="shared" ref="A4:A5" si="0">CONCAT("Kasse ",C4)</f></c>` + inline("C4", "Ost") + `</row>` +
		`<row r="5"><c r="A5"><f t="shared" si="0"/></c>` + inline("C5", "West") + `</row>` +
		`<row r="6"><c r="A6" t="e"><f>KONKAT("Kasse ",C6)</f><v>#NAME?</v></c>` + inline("C6", "Mitte") + `</row>` +
		`<row r="7">` + inline("A7", "Kasse Lager") + `<c r="B7"><f>UPPER(C7)</f></c>` + inline("C7", "Lager") + `</row>` +
		`<row r="8">` + inline("E8", "stray") + `</row>` +
		`<row r="9">` + inline("A9", "Kasse Büro") + `<c r="B9" t="str"><f>UPPER(C9)</f><v>BÜRO</v></c>` + inline("C9", "Büro") + `</row>` +
		`</sheetData></worksheet>`
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`</Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
			`</Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="Profiles" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`</Relationships>`},
		{"xl/worksheets/sheet1.xml", sheet},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// invisibleNames are tenant names with invisible format characters, as
// export writes them back.
var invisibleNames = []string{"Kasse\u200b 1", "\u200eKasse 2", "Kasse 3"}

// genInvisibleCSV writes invisibleNames as export's CSV does
// (encoding/csv: LF, quotes only where needed, no byte order mark).
func genInvisibleCSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"displayName", "description"})
	for _, n := range invisibleNames {
		w.Write([]string{n, "exported"})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// genInvisibleXLSX writes invisibleNames as export's workbook does
// (excelize).
func genInvisibleXLSX() ([]byte, error) {
	wb := excelize.NewFile()
	w := &sheetWriter{wb: wb, sheet: "Sheet1", styles: map[string]int{}}
	w.row(1, "displayName", "description")
	for i, n := range invisibleNames {
		w.row(i+2, n, "exported")
	}
	return workbookBytes(wb, w.err)
}

// genGermanDates is a sheet saved by German Excel as "CSV
// (Trennzeichen-getrennt)": Windows-1252, semicolons, CRLF, and date
// cells written as Excel shows them: TT.MM.JJJJ, T.M.JJJJ, and with a time
// TT.MM.JJJJ hh:mm or hh:mm:ss.
func genGermanDates() ([]byte, error) {
	text := strings.Join([]string{
		"displayName;description;tokenExpirationDateTime;enrollmentMode",
		"Kasse Nord;Kühlregal;31.12.2027;corporateOwnedDedicatedDevice",
		"Kasse Süd;;1.2.2027;",
		"Kasse Ost;;01.02.2027 18:00;",
		"Kasse West;;31.12.2027 18:00:30;",
		"Kasse Mitte;;29.02.2027;",
		"Kasse Lager;;1.2.27;",
		"Kasse Büro;;15.1.2027;corporateOwnedAOSPUserlessDevice",
		"Kasse Alt;;30.11.2026;",
	}, "\r\n") + "\r\n"
	return charmap.Windows1252.NewEncoder().Bytes([]byte(text))
}

// genAdminCenterWords is a workbook filled in with the names the Intune
// admin center shows for the enrollment modes, token types and Wi-Fi
// types, as someone copying them from the portal writes them.
func genAdminCenterWords() ([]byte, error) {
	wb := excelize.NewFile()
	w := &sheetWriter{wb: wb, sheet: "Sheet1", styles: map[string]int{}}
	w.row(1, "Display Name", "Enrollment Mode", "Enrollment Token Type", "Wifi SSID", "Wifi Password", "Wifi Security Type")
	w.row(2, "Kasse 1", "Corporate-owned dedicated devices", "Default")
	w.row(3, "Kasse 2", "dedicated", "Corporate-owned dedicated device with Microsoft Entra ID shared mode")
	w.row(4, "Kasse 3", "Corporate-owned, fully managed user devices", "Corporate-owned, fully managed, via staging")
	w.row(5, "Kasse 4", "Corporate-owned devices with work profile", "Device staging")
	w.row(6, "Kasse 5", "Corporate-owned AOSP userless", nil, "Lager", "geheim-123", "WPA2-PSK")
	w.row(7, "Kasse 6", "corporate owned AOSP user-associated", nil, "Büro", "geheim-456", "WPA2")
	w.row(8, "Kasse 7", "CORPORATE_OWNED_FULLY_MANAGED", "corporate-owned, fully managed (default)")
	w.row(9, "Kasse 8", "Corporate-owned dedicated devise", "Defualt")
	w.row(10, "Kasse 9", "corporateOwnedAOSPUserlessDevice", nil, "Lager", "geheim-789", "WPA3")
	return workbookBytes(wb, w.err)
}
