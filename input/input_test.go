package input

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// wantRow is what a test expects of one row.
type wantRow struct {
	line     int
	name     string
	body     map[string]any
	extras   []string
	problems []string // Problem.Error() texts, in order
	// wifiUnset says the body has no configureWifi; otherwise a body
	// without one expects configureWifi false.
	wifiUnset bool
}

func checkRows(t *testing.T, f *File, want []wantRow) {
	t.Helper()
	if len(f.Rows) != len(want) {
		for _, r := range f.Rows {
			t.Logf("got row %d %q %v", r.Line, r.DisplayName, r.Problems)
		}
		t.Fatalf("got %d rows, want %d", len(f.Rows), len(want))
	}
	for i, w := range want {
		r := f.Rows[i]
		if _, set := w.body["configureWifi"]; !set && !w.wifiUnset && w.body != nil {
			// A row without Wi-Fi values is sent configureWifi false: the
			// service's default is true.
			w.body["configureWifi"] = false
		}
		if r.Line != w.line || r.DisplayName != w.name {
			t.Errorf("row %d: got line %d name %q, want line %d name %q", i, r.Line, r.DisplayName, w.line, w.name)
		}
		if !reflect.DeepEqual(r.Body, w.body) {
			t.Errorf("row %d (line %d): body\n got %#v\nwant %#v", i, r.Line, r.Body, w.body)
		}
		if w.extras == nil {
			w.extras = []string{}
		}
		if !reflect.DeepEqual(r.Extras, w.extras) {
			t.Errorf("row %d (line %d): extras got %q, want %q", i, r.Line, r.Extras, w.extras)
		}
		var got []string
		for _, p := range r.Problems {
			got = append(got, p.Error())
		}
		if !reflect.DeepEqual(got, w.problems) {
			t.Errorf("row %d (line %d): problems\n got %q\nwant %q", i, r.Line, got, w.problems)
		}
		if r.Valid() != (len(w.problems) == 0) {
			t.Errorf("row %d: Valid() = %v with %d problems", i, r.Valid(), len(w.problems))
		}
	}
}

// testNow is the clock token expiries are checked against in these tests.
var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func TestReadFiles(t *testing.T) {
	dateHintMsg := " is not a date (use 2026-12-31, 31.12.2026 or 2026-12-31T08:00:00+01:00)"
	tests := []struct {
		path      string
		sheet     string
		format    string
		delim     rune
		extras    []string
		warnings  []string
		rows      []wantRow
		tokenExp0 time.Time // expiry of the first row
	}{
		{
			path: "testdata/bom_comma_crlf.csv", format: "csv", delim: ',', extras: []string{"Site"},
			tokenExp0: time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC),
			rows: []wantRow{
				{line: 2, name: "Leeds Receiving Scanners", extras: []string{"Leeds"}, body: map[string]any{
					"displayName": "Leeds Receiving Scanners", "description": "Zebra TC52, receiving dock",
					"tokenExpirationDateTime": "2027-03-31T23:59:59Z", "roleScopeTagIds": []string{"0", "1"}}},
				{line: 4, name: "Kraków Kiosks", extras: []string{"Kraków"}, body: map[string]any{
					"displayName": "Kraków Kiosks", "description": "Two lines:\nentrance and café",
					"tokenExpirationDateTime": "2027-06-30T18:00:00+02:00"}},
				{line: 6, name: "Brno Tills", extras: []string{"Brno"}, body: map[string]any{
					"displayName": "Brno Tills", "description": `Tills at the "front" desk`,
					"roleScopeTagIds": []string{"1", "2", "3"}}},
				{line: 9, name: "İzmir Label Printers", extras: []string{"İzmir"}, body: map[string]any{
					"displayName": "İzmir Label Printers"}},
			},
		},
		{
			path: "testdata/semicolon.csv", format: "csv", delim: ';', extras: []string{"Technician"},
			warnings:  []string{`column "enrollmentTokenUsageCount" is ignored: enrollmentTokenUsageCount is never sent, because it is the number of AOSP devices enrolled with the current token, which the service counts; it is not a limit you set`},
			tokenExp0: time.Date(2027, 1, 15, 23, 59, 59, 0, time.UTC),
			rows: []wantRow{
				{line: 2, name: "Brno Sklad Skenery", extras: []string{"Jiří Novák"}, body: map[string]any{
					"displayName": "Brno Sklad Skenery", "description": "Sklad, příjem zboží",
					"tokenExpirationDateTime": "2027-01-15T23:59:59Z", "enrollmentMode": "corporateOwnedAOSPUserlessDevice"}},
				{line: 3, name: "Brno Pokladny", extras: []string{"Jiří Novák"}, body: map[string]any{
					"displayName": "Brno Pokladny", "description": "Pokladny v prodejně",
					"tokenExpirationDateTime": "2027-01-15T08:00:00+01:00", "enrollmentMode": "corporateOwnedDedicatedDevice"}},
				{line: 5, name: "Brno Tiskárny", extras: []string{"Eva Dvořáková"}, body: map[string]any{
					"displayName": "Brno Tiskárny", "description": "Tiskárny štítků; sklad"}},
			},
		},
		{
			path: "testdata/tab.csv", format: "csv", delim: '\t',
			rows: []wantRow{
				{line: 2, name: "Warehouse AOSP", body: map[string]any{
					"displayName": "Warehouse AOSP", "enrollmentMode": "corporateOwnedAOSPUserlessDevice",
					"configureWifi": true, "wifiSsid": "WH-Devices", "wifiPassword": "s3cret-Pa55", "wifiSecurityType": "wpa",
					"wifiHidden": false, "isTeamsDeviceProfile": false, "deviceNameTemplate": "WH-{{SERIAL}}"}},
				{line: 3, name: "Teams Rooms", body: map[string]any{
					"displayName": "Teams Rooms", "enrollmentMode": "corporateOwnedAOSPUserAssociatedDevice", "isTeamsDeviceProfile": true, "deviceNameTemplate": "TEAMS-{{RAND:4}}"}},
			},
		},
		{
			path: "testdata/invalid.csv", format: "csv", delim: ',', extras: []string{"DisplayNme"},
			tokenExp0: time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC),
			warnings: []string{
				`column "enrollmentTokenUsageCount" is ignored: enrollmentTokenUsageCount is never sent, because it is the number of AOSP devices enrolled with the current token, which the service counts; it is not a limit you set`,
				`column "DisplayNme" is not a property; did you mean displayName?`,
			},
			rows: []wantRow{
				{line: 2, name: "Good Row", extras: []string{"typo column"}, body: map[string]any{
					"displayName": "Good Row", "tokenExpirationDateTime": "2027-12-31T23:59:59Z",
					"accountId": "6b0a1f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "isTeamsDeviceProfile": false,
					"deviceNameTemplate": "SCAN-{{SERIALLAST4DIGITS}}-{{RAND:3}}"}},
				{line: 3, name: "Dotted Date", extras: []string{""}, body: map[string]any{"displayName": "Dotted Date"},
					problems: []string{`testdata/invalid.csv: row 3, tokenExpirationDateTime: "31.02.2026"` + dateHintMsg}},
				{line: 4, name: "Slashed Date", extras: []string{""}, body: map[string]any{"displayName": "Slashed Date"},
					problems: []string{
						`testdata/invalid.csv: row 4, tokenExpirationDateTime: "12/31/2026"` + dateHintMsg,
						`testdata/invalid.csv: row 4, accountId: "not-a-guid" is not a GUID (use the form 00000000-0000-0000-0000-000000000000)`,
					}},
				{line: 5, name: "No Offset", extras: []string{""}, body: map[string]any{"displayName": "No Offset"},
					problems: []string{
						`testdata/invalid.csv: row 5, tokenExpirationDateTime: "2026-12-31T08:00:00"` + dateHintMsg,
						`testdata/invalid.csv: row 5, enrollmentMode: "dedicted" is not one of corporateOwnedDedicatedDevice, corporateOwnedFullyManaged, corporateOwnedWorkProfile, corporateOwnedAOSPUserlessDevice, corporateOwnedAOSPUserAssociatedDevice; did you mean corporateOwnedDedicatedDevice?`,
						`testdata/invalid.csv: row 5, isTeamsDeviceProfile: "maybe" is not a boolean (use true/false, yes/no, 1/0, WAHR/FALSCH, VRAI/FAUX, VERDADERO/FALSO, WAAR/ONWAAR, VERO/FALSO, PRAWDA/FAŁSZ)`,
					}},
				{line: 6, name: "Usage On Dedicated", extras: []string{""}, body: map[string]any{
					"displayName": "Usage On Dedicated", "enrollmentMode": "corporateOwnedDedicatedDevice"}},
				{line: 7, name: "Usage Fraction", extras: []string{""}, body: map[string]any{
					"displayName": "Usage Fraction", "enrollmentMode": "corporateOwnedAOSPUserAssociatedDevice"}},
				{line: 8, name: "Usage Too Many", extras: []string{""}, body: map[string]any{
					"displayName": "Usage Too Many", "enrollmentMode": "corporateOwnedAOSPUserlessDevice"}},
				{line: 9, name: "Wifi Without Flag", extras: []string{""}, body: map[string]any{
					"displayName": "Wifi Without Flag", "enrollmentMode": "corporateOwnedAOSPUserlessDevice",
					"configureWifi": false, "wifiSsid": "Shop", "wifiPassword": "hunter2"},
					problems: []string{
						`testdata/invalid.csv: row 9, wifiSsid: is only used when configureWifi is true (the service ignores it otherwise); set configureWifi to true or leave this empty`,
						`testdata/invalid.csv: row 9, wifiPassword: is only used when configureWifi is true (the service ignores it otherwise); set configureWifi to true or leave this empty`,
					}},
				{line: 10, name: "Wifi Without Ssid", extras: []string{""}, body: map[string]any{
					"displayName": "Wifi Without Ssid", "enrollmentMode": "corporateOwnedAOSPUserlessDevice", "configureWifi": true},
					problems: []string{`testdata/invalid.csv: row 10, wifiSsid: is required when configureWifi is true; give the network name`}},
				{line: 11, name: "Shared Mode Wrong", extras: []string{""}, body: map[string]any{
					"displayName": "Shared Mode Wrong", "enrollmentMode": "corporateOwnedFullyManaged",
					"enrollmentTokenType": "corporateOwnedDedicatedDeviceWithAzureADSharedMode"},
					problems: []string{`testdata/invalid.csv: row 11, enrollmentTokenType: corporateOwnedDedicatedDeviceWithAzureADSharedMode is only for enrollmentMode corporateOwnedDedicatedDevice, not corporateOwnedFullyManaged (Graph docs, intune-androidforwork-androiddeviceownerenrollmenttokentype)`}},
				{line: 12, name: "Staging Wrong", extras: []string{""}, body: map[string]any{
					"displayName": "Staging Wrong", "enrollmentTokenType": "deviceStaging"},
					problems: []string{`testdata/invalid.csv: row 12, enrollmentTokenType: deviceStaging is only for enrollmentMode corporateOwnedFullyManaged and corporateOwnedWorkProfile, not an empty enrollmentMode (a dedicated device) (Graph docs, intune-androidforwork-androiddeviceownerenrollmenttokentype)`}},
				{line: 13, name: "Bad Template", extras: []string{""}, body: map[string]any{"displayName": "Bad Template"},
					problems: []string{`testdata/invalid.csv: row 13, deviceNameTemplate: {{SERIALNUMBER}} is not a device name token (use {{SERIAL}}, {{SERIALLAST4DIGITS}}, {{ENROLLMENTDATETIME}}, {{USERNAME}}, {{DEVICETYPE}}, {{UPNPREFIX}}, {{rand:x}}, where x is 1 to 9 random digits)`}},
				{line: 14, name: "Long Template", extras: []string{""}, body: map[string]any{"displayName": "Long Template"},
					problems: []string{`testdata/invalid.csv: row 14, deviceNameTemplate: is 64 characters long; at most 63 are allowed`}},
				{line: 15, name: "", extras: []string{""}, body: map[string]any{"tokenExpirationDateTime": "2027-01-01T23:59:59Z"},
					problems: []string{`testdata/invalid.csv: row 15, displayName: is empty; every profile needs a name`}},
				{line: 16, name: "good row", extras: []string{""}, body: map[string]any{"displayName": "good row"},
					problems: []string{`testdata/invalid.csv: row 16, displayName: "good row" is already used in row 2; names must be unique in the file (case is ignored)`}},
				{line: 17, name: "Ragged", extras: []string{""}, body: map[string]any{
					"displayName": "Ragged", "tokenExpirationDateTime": "2027-01-01T23:59:59Z"},
					problems: []string{`testdata/invalid.csv: row 17: has 2 fields but the header row has 13; check the delimiters (commas) and quotes`}},
				{line: 19, name: "Staging Right", extras: []string{""}, body: map[string]any{
					"displayName": "Staging Right", "enrollmentMode": "corporateOwnedFullyManaged", "enrollmentTokenType": "deviceStaging"}},
			},
		},
		{
			path: "testdata/friendly.xlsx", format: "xlsx", sheet: "Rollout",
			extras:    []string{"Site", "Asset Count", "Enrolment Mode"},
			tokenExp0: time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC),
			warnings: []string{
				`column "Enrollment Token Usage Count" is ignored: enrollmentTokenUsageCount is never sent, because it is the number of AOSP devices enrolled with the current token, which the service counts; it is not a limit you set`,
				`column "Created Date Time" is ignored: createdDateTime is never sent, because the service stamps it`,
				`column "Enrolment Mode" is not a property; did you mean enrollmentMode?`,
			},
			rows: []wantRow{
				{line: 2, name: "Leeds Scanners", extras: []string{"Leeds", "12", ""}, body: map[string]any{
					"displayName": "Leeds Scanners", "description": "Zebra TC52", "tokenExpirationDateTime": "2027-03-31T23:59:59Z",
					"roleScopeTagIds": []string{"0"}, "enrollmentMode": "corporateOwnedDedicatedDevice"}},
				{line: 3, name: "Kraków Kiosks", extras: []string{"Kraków", "", ""}, body: map[string]any{
					"displayName": "Kraków Kiosks", "description": "Entrance\nCafé", "tokenExpirationDateTime": "2027-02-15T23:59:59Z",
					"roleScopeTagIds": []string{"1", "2"}, "enrollmentMode": "corporateOwnedAOSPUserlessDevice",
					"configureWifi": true, "wifiSsid": "KRK-Kiosk"}},
				{line: 5, name: "Brno Tills", extras: []string{"Brno", "", ""}, body: map[string]any{
					"displayName": "Brno Tills", "tokenExpirationDateTime": "2027-09-30T14:30:00Z", "isTeamsDeviceProfile": true,
					"enrollmentMode": "corporateOwnedAOSPUserAssociatedDevice"}},
				{line: 7, name: "İzmir Printers", extras: []string{"İzmir", "", ""}, body: map[string]any{
					"displayName": "İzmir Printers", "tokenExpirationDateTime": "2027-01-15T23:59:59Z", "configureWifi": false}},
				{line: 8, name: "Bad Number Date", extras: []string{"", "", ""}, body: map[string]any{
					"displayName": "Bad Number Date", "enrollmentMode": "corporateOwnedAOSPUserlessDevice"},
					problems: []string{
						`testdata/friendly.xlsx: row 8, tokenExpirationDateTime: 46387 is a number, not a date; format the cell as a date or type the date as text (use 2026-12-31, 31.12.2026 or 2026-12-31T08:00:00+01:00)`,
					}},
				// A text cell with a German date, as typed into a cell
				// formatted as text: read as the day it names.
				{line: 9, name: "Bad Text Date", extras: []string{"", "", ""}, body: map[string]any{"displayName": "Bad Text Date", "tokenExpirationDateTime": "2026-12-31T23:59:59Z"},
					problems: []string{
						`testdata/friendly.xlsx: row 9, isTeamsDeviceProfile: "maybe" is not a boolean (use true/false, yes/no, 1/0, WAHR/FALSCH, VRAI/FAUX, VERDADERO/FALSO, WAAR/ONWAAR, VERO/FALSO, PRAWDA/FAŁSZ)`,
					}},
				{line: 10, name: "Long Format Date", extras: []string{"", "", "typo column value"}, body: map[string]any{
					"displayName": "Long Format Date", "tokenExpirationDateTime": "2027-12-01T23:59:59Z", "isTeamsDeviceProfile": false}},
			},
		},
		{
			path: "testdata/friendly.xlsx", sheet: "Spare", format: "xlsx",
			tokenExp0: time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC),
			rows: []wantRow{{line: 2, name: "Spare Kiosk", body: map[string]any{
				"displayName": "Spare Kiosk", "tokenExpirationDateTime": "2027-01-31T23:59:59Z"}}},
		},
		{
			path: "testdata/friendly.xlsx", sheet: "spare", format: "xlsx", // sheet names match regardless of case
			tokenExp0: time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC),
			rows: []wantRow{{line: 2, name: "Spare Kiosk", body: map[string]any{
				"displayName": "Spare Kiosk", "tokenExpirationDateTime": "2027-01-31T23:59:59Z"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.sheet, func(t *testing.T) {
			opts := Options{Sheet: tt.sheet, Now: func() time.Time { return testNow }}
			f, err := Read(tt.path, opts)
			if err != nil {
				t.Fatal(err)
			}
			wantSheet := tt.sheet
			if tt.sheet == "spare" {
				wantSheet = "Spare"
			}
			if f.Format != tt.format || f.Delimiter != tt.delim || f.Sheet != wantSheet || f.Path != tt.path {
				t.Errorf("got format %q delimiter %q sheet %q path %q", f.Format, f.Delimiter, f.Sheet, f.Path)
			}
			if tt.extras == nil {
				tt.extras = []string{}
			}
			if !reflect.DeepEqual(f.ExtraHeaders, tt.extras) {
				t.Errorf("extra headers %q, want %q", f.ExtraHeaders, tt.extras)
			}
			if !reflect.DeepEqual(f.Warnings, tt.warnings) {
				t.Errorf("warnings\n got %q\nwant %q", f.Warnings, tt.warnings)
			}
			if i, ok := f.Columns["displayName"]; !ok || f.Headers[i] == "" {
				t.Errorf("displayName column not mapped: %v", f.Columns)
			}
			checkRows(t, f, tt.rows)
			if len(f.Rows) > 0 && !f.Rows[0].TokenExpiration.Equal(tt.tokenExp0) {
				t.Errorf("first row expires %v, want %v", f.Rows[0].TokenExpiration, tt.tokenExp0)
			}
			var n int
			for _, r := range tt.rows {
				n += len(r.problems)
			}
			if got := len(f.Problems()); got != n {
				t.Errorf("File.Problems() has %d problems, want %d", got, n)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, sheet string
		want              []string // substrings of the error
		noDisplayName     bool
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.csv"), want: []string{"read " + filepath.Join(dir, "nope.csv"), "no such file"}},
		{name: "unknown extension", path: write("profiles.json", "displayName\nA\n"), want: []string{"unknown file type \".json\"", ".csv or .xlsx"}},
		{name: "old xls", path: write("profiles.xls", "x"), want: []string{"save it as .xlsx"}},
		{name: "empty csv", path: write("empty.csv", ""), want: []string{"the file is empty"}},
		{name: "bom only", path: write("bom.csv", "\ufeff"), want: []string{"the file is empty"}},
		{name: "no displayName", path: write("nodn.csv", "name;description\nA;B\n"), want: []string{"no displayName column", "row 1 must hold the headers"}, noDisplayName: true},
		{name: "displayName typo", path: write("typo.csv", "Display Nmae,description\nA,B\n"), want: []string{`column "Display Nmae" is not a property; did you mean displayName?`}, noDisplayName: true},
		{name: "not a workbook", path: write("fake.xlsx", "displayName\nA\n"), want: []string{"open workbook", "is it an .xlsx file?"}},
		{name: "no such sheet", path: "testdata/friendly.xlsx", sheet: "Nope", want: []string{`no sheet named "Nope"`, `the sheets "Rollout" and "Spare"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Read(tt.path, Options{Sheet: tt.sheet})
			if err == nil {
				t.Fatalf("no error; got %d rows", len(f.Rows))
			}
			if !strings.HasPrefix(err.Error(), "read "+tt.path+": ") {
				t.Errorf("error %q does not start with the path", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if errors.Is(err, ErrNoDisplayName) != tt.noDisplayName {
				t.Errorf("errors.Is(err, ErrNoDisplayName) = %v", !tt.noDisplayName)
			}
		})
	}
}

// readString reads CSV content through a temporary file.
func readString(t *testing.T, content string) *File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Read(p, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCSVVariants(t *testing.T) {
	utf16le := func(s string) string {
		b := []byte{0xFF, 0xFE}
		for _, r := range s { // ASCII and BMP only in this test
			b = append(b, byte(r), byte(r>>8))
		}
		return string(b)
	}
	tests := []struct {
		name, content string
		delim         rune
		rows          []wantRow
	}{
		{name: "excel sep line", content: "sep=;\r\ndisplayName;description\r\nA;x, y\r\n", delim: ';',
			rows: []wantRow{{line: 3, name: "A", body: map[string]any{"displayName": "A", "description": "x, y"}}}},
		{name: "utf-16 with bom, tabs", content: utf16le("displayName\tdescription\r\nŁódź\tSklep\r\n"), delim: '\t',
			rows: []wantRow{{line: 2, name: "Łódź", body: map[string]any{"displayName": "Łódź", "description": "Sklep"}}}},
		{name: "single column", content: "displayName\nA\n\n\nB", delim: ',',
			rows: []wantRow{
				{line: 2, name: "A", body: map[string]any{"displayName": "A"}},
				{line: 5, name: "B", body: map[string]any{"displayName": "B"}},
			}},
		{name: "delimiters inside a quoted header", content: "displayName,\"notes; more; even more\"\nA,\"x;y\"\n", delim: ',',
			rows: []wantRow{{line: 2, name: "A", body: map[string]any{"displayName": "A"}, extras: []string{"x;y"}}}},
		{name: "trailing delimiters", content: "displayName,description,,\nA,B,,\nC,D,,E\n", delim: ',',
			rows: []wantRow{
				{line: 2, name: "A", body: map[string]any{"displayName": "A", "description": "B"}},
				{line: 3, name: "C", body: map[string]any{"displayName": "C", "description": "D"},
					problems: []string{"row 3: has a value in field 4, which has no header; add a header or remove the value"}},
			}},
		{name: "too many fields", content: "displayName;description\nA;B;C\n", delim: ';',
			rows: []wantRow{{line: 2, name: "A", body: map[string]any{"displayName": "A", "description": "B"},
				problems: []string{"row 2: has 3 fields but the header row has 2; check the delimiters (semicolons) and quotes"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readString(t, tt.content)
			if f.Delimiter != tt.delim {
				t.Errorf("delimiter %q, want %q", f.Delimiter, tt.delim)
			}
			for i := range tt.rows {
				for j, p := range tt.rows[i].problems {
					tt.rows[i].problems[j] = f.Path + ": " + p
				}
			}
			checkRows(t, f, tt.rows)
		})
	}
}

func TestSecretsStayOutOfProblems(t *testing.T) {
	const pw, token = "Tr0ub4dor&3", "tok-8c1f2a"
	content := "displayName,configureWifi,wifiSsid,wifiPassword,tokenValue\n" +
		"A,false,,\"" + pw + "\"," + token + "\n" +
		"B,true,," + pw + "\xff," + token + "\xfe\n" +
		"C,no,Net,\"" + strings.Repeat(pw, 3) + "\",\n"
	f := readString(t, content)
	if n := len(f.Problems()); n < 4 {
		t.Fatalf("want at least 4 problems, got %d: %v", n, f.Problems())
	}
	for _, p := range f.Problems() {
		for _, secret := range []string{pw, token, "Tr0ub"} {
			if strings.Contains(p.Error(), secret) {
				t.Errorf("problem shows a secret: %s", p.Error())
			}
		}
	}
	if got, ok := f.Rows[0].Body["tokenValue"]; ok {
		t.Errorf("tokenValue in the body is %v; the service sets it, so it must never be sent", got)
	}
	for _, r := range f.Rows {
		for _, x := range r.Extras {
			if strings.Contains(x, token) {
				t.Errorf("row %d keeps the token in an extra column", r.Line)
			}
		}
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"profiles.csv", 7, "tokenExpirationDateTime", `"31.12.2026" is not a date`, false}, `profiles.csv: row 7, tokenExpirationDateTime: "31.12.2026" is not a date`},
		{Problem{"profiles.csv", 7, "", "has 3 fields", false}, "profiles.csv: row 7: has 3 fields"},
		{Problem{"p.xlsx", 0, "Site", "odd", false}, "p.xlsx: Site: odd"},
		{Problem{"", 2, "", "x", false}, "row 2: x"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestConvertValues(t *testing.T) {
	tests := []struct {
		header, value string
		want          any    // nil when invalid
		msg           string // part of the problem when invalid
	}{
		{"isTeamsDeviceProfile", "YES", true, ""},
		{"isTeamsDeviceProfile", "No", false, ""},
		{"isTeamsDeviceProfile", "1", true, ""},
		{"isTeamsDeviceProfile", "0", false, ""},
		{"isTeamsDeviceProfile", "TRUE", true, ""},
		{"isTeamsDeviceProfile", "2", nil, "is not a boolean"},
		{"accountId", "6B0A1F4E-2C3D-4E5F-8A9B-0C1D2E3F4A5B", "6B0A1F4E-2C3D-4E5F-8A9B-0C1D2E3F4A5B", ""},
		{"accountId", "{6b0a1f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b}", nil, "is not a GUID"},
		{"enrollmentMode", "CORPORATEOWNEDWORKPROFILE", "corporateOwnedWorkProfile", ""},
		{"wifiSecurityType", "Wep", "wep", ""},
		{"roleScopeTagIds", " 1 ;\n2,,3 ", []string{"1", "2", "3"}, ""},
		{"roleScopeTagIds", ";,", nil, "only separators"},
		{"tokenExpirationDateTime", "2027-02-29", nil, "is not a date"},
		{"tokenExpirationDateTime", "2027-03-31T08:00:00.5-05:00", "2027-03-31T08:00:00.5-05:00", ""},
		{"tokenExpirationDateTime", "2027-03-31 08:00:00Z", nil, "is not a date"},
		{"deviceNameTemplate", "K-{{RAND:9}}", "K-{{RAND:9}}", ""},
		{"deviceNameTemplate", "K-{{rand:1}}", "K-{{rand:1}}", ""},
		{"deviceNameTemplate", "K-{{RAND:12}}", nil, "{{RAND:12}}: the number of random digits must be 1 to 9"},
		{"deviceNameTemplate", "K-{{rand:0}}", nil, "{{rand:0}}: the number of random digits must be 1 to 9"},
		{"deviceNameTemplate", "K-{{RAND:x}}", nil, "{{RAND:x}}: the number of random digits must be 1 to 9"},
		{"deviceNameTemplate", "K-{{RAND:}}", nil, "the number of random digits must be 1 to 9"},
		{"deviceNameTemplate", "K-{{Rand:4}}", nil, "{{Rand:4}} is not a device name token"},
		{"deviceNameTemplate", "K-{{serial}}", nil, "{{serial}} is not a device name token; write it {{SERIAL}}"},
		{"deviceNameTemplate", "K-{{SERIAL", nil, "has {{ without }}"},
		{"deviceNameTemplate", "K-SERIAL}}", nil, "has }} without {{"},
		{"deviceNameTemplate", "{{DEVICETYPE}}-{{UPNPREFIX}}-{{USERNAME}}", "{{DEVICETYPE}}-{{UPNPREFIX}}-{{USERNAME}}", ""},
		{"deviceNameTemplate", "{{ENROLLMENTDATETIME}}{{SERIAL}}", "{{ENROLLMENTDATETIME}}{{SERIAL}}", ""},
		{"wifiSsid", strings.Repeat("x", 32), strings.Repeat("x", 32), ""},
		{"wifiSsid", strings.Repeat("x", 33), nil, "is 33 bytes long in UTF-8; a Wi-Fi network name is at most 32 bytes"},
		{"wifiSsid", strings.Repeat("ż", 17), nil, "is 34 bytes long"},
		{"description", strings.Repeat("ż", 1025), strings.Repeat("ż", 1025), ""}, // no documented limit
		{"displayName", "Line\x01Feed", nil, "holds the control character U+0001"},
	}
	for _, tt := range tests {
		t.Run(tt.header+"="+tt.value[:min(len(tt.value), 20)], func(t *testing.T) {
			content := "displayName," + tt.header + ",configureWifi,wifiSsid\nX,\"" + tt.value + "\",true,Net\n"
			switch tt.header {
			case "displayName":
				content = "Site,displayName\nX,\"" + tt.value + "\"\n"
			case "wifiSsid":
				content = "displayName,wifiSsid,configureWifi\nX,\"" + tt.value + "\",true\n"
			}
			f := readString(t, content)
			r := f.Rows[0]
			got, ok := r.Body[tt.header]
			if tt.want == nil {
				if ok {
					t.Errorf("accepted %q as %#v", tt.value, got)
				}
				found := false
				for _, p := range r.Problems {
					found = found || (p.Column == tt.header && strings.Contains(p.Message, tt.msg))
				}
				if !found {
					t.Errorf("no problem on %s containing %q: %v", tt.header, tt.msg, r.Problems)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v (problems %v)", got, tt.want, r.Problems)
			}
		})
	}
}

func TestSerialToTime(t *testing.T) {
	tests := []struct {
		serial   float64
		date1904 bool
		want     time.Time
		ok       bool
	}{
		{46477, false, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), true},
		{46477.75, false, time.Date(2027, 3, 31, 18, 0, 0, 0, time.UTC), true},
		{1, false, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{59, false, time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), true},
		{60, false, time.Time{}, false},
		{61, false, time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{45015, true, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), true},
		{0, false, time.Time{}, false},
		{-3, false, time.Time{}, false},
		{3e6, false, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := serialToTime(tt.serial, tt.date1904)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("serialToTime(%v, %v) = %v, %v; want %v, %v", tt.serial, tt.date1904, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsDateFormat(t *testing.T) {
	tests := map[string]bool{
		"yyyy-mm-dd":           true,
		"dd.mm.yyyy":           true,
		"[$-409]d mmmm yyyy;@": true,
		"h:mm AM/PM":           true,
		"[h]:mm":               true,
		"General":              false,
		"0.00":                 false,
		"#,##0 [$€-407]":       false,
		`0 "days"`:             false,
		"0.00E+00":             false,
		"@":                    false,
		`\d0`:                  false,
		"[Red]0;[Blue]-0":      false,
	}
	for code, want := range tests {
		if got := isDateFormat(code); got != want {
			t.Errorf("isDateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestOneTypo(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"displaynme", "displayname", true},
		{"dispalyname", "displayname", true},
		{"displaynamee", "displayname", true},
		{"displayname", "displayname", false},
		{"dsplynme", "displayname", false},
		{"", "a", true},
	}
	for _, tt := range tests {
		if got := oneTypo(tt.a, tt.b); got != tt.want {
			t.Errorf("oneTypo(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestHeaderWarnings(t *testing.T) {
	f := readString(t, "displayName,Display Name,ID,qrCodeImage,descripton,Created-Date-Time,Notes,wifiPasword,Token Valeu,tokenValue\nA,B,C,D,E,F,G,pw-1,tok-2,tok-3\n")
	want := []string{
		`column "Display Name" (field 2) repeats displayName, already given in column "displayName" (field 1); only the first is used, this one is kept as an extra column`,
		`column "qrCodeImage" is ignored: qrCodeImage is never sent, because the service builds the QR code from the token`,
		`column "descripton" is not a property; did you mean description?`,
		`column "Created-Date-Time" is ignored: createdDateTime is never sent, because the service stamps it`,
		`column "wifiPasword" is not a property but looks like wifiPassword, a secret: it is not sent, and its values are kept out of the results and logs; rename the header to wifiPassword if it holds the wifiPassword`,
		`column "Token Valeu" is not a property but looks like tokenValue, a secret: it is not sent, and its values are kept out of the results and logs; rename the header to tokenValue if it holds the tokenValue`,
		`column "tokenValue" is ignored: tokenValue is never sent, because the service creates the token; it is a secret, so the column is also left out of the results`,
	}
	if !reflect.DeepEqual(f.Warnings, want) {
		t.Errorf("warnings\n got %q\nwant %q", f.Warnings, want)
	}
	checkRows(t, f, []wantRow{{line: 2, name: "A", body: map[string]any{"displayName": "A"},
		extras: []string{"B", "E", "G"}}})
	if !reflect.DeepEqual(f.ExtraHeaders, []string{"Display Name", "descripton", "Notes"}) {
		t.Errorf("extra headers %q: ignored and secret-looking columns must not be kept", f.ExtraHeaders)
	}
}

// TestXLSXBuiltInWorkbook covers workbook details that are easier to build
// than to keep as files: the 1904 date system and values beyond the last
// header.
func TestXLSXBuiltInWorkbook(t *testing.T) {
	wb := excelize.NewFile()
	defer wb.Close()
	yes := true
	if err := wb.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
		t.Fatal(err)
	}
	w := &sheetWriter{wb: wb, sheet: "Sheet1", styles: map[string]int{}}
	w.row(1, "displayName", "tokenExpirationDateTime", "wifiHidden")
	w.row(2, "Mac Workbook", date{day(2027, 3, 31), "d/m/yy"}, nil)
	w.row(3, "Stray Value", nil, 1e10, nil, "oops")
	if w.err != nil {
		t.Fatal(w.err)
	}
	path := filepath.Join(t.TempDir(), "mac.xlsx")
	if err := wb.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, f, []wantRow{
		{line: 2, name: "Mac Workbook", body: map[string]any{"displayName": "Mac Workbook",
			"tokenExpirationDateTime": "2027-03-31T23:59:59Z"}},
		{line: 3, name: "Stray Value", body: map[string]any{"displayName": "Stray Value"}, wifiUnset: true, problems: []string{
			path + ": row 3: has a value in column E, which has no header; add a header or clear the cell",
			path + `: row 3, wifiHidden: "10000000000" is not a boolean (use true/false, yes/no, 1/0, WAHR/FALSCH, VRAI/FAUX, VERDADERO/FALSO, WAAR/ONWAAR, VERO/FALSO, PRAWDA/FAŁSZ)`,
			path + `: row 3, wifiSsid: is empty, but the row has wifiHidden; give the network name, or leave the Wi-Fi columns empty`,
		}},
	})
}
