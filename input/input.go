// Package input reads a CSV or XLSX file of enrollment profile definitions
// into validated rows.
//
// Row 1 holds the headers. A header names a property of the resource
// (profile.Properties) when it matches the property's name ignoring case,
// spaces, underscores and hyphens, so "Display Name" is displayName. Every
// other column is an extra column: never sent, copied into the results.
// The deviceGroup column (DeviceGroupColumn) is neither: it names the
// profile's enrollment-time device group, which the run sets after the
// create, and is never part of the body.
//
// Each non-blank row becomes a Row with the POST body built from its
// non-empty cells, typed as the schema says, and every problem found in it.
// Read fails only when the file cannot be used at all; problems with
// single rows are reported on the rows, all of them in one pass.
//
// Read holds every row. Open returns a Reader that gives the same rows one
// at a time and keeps none of them, so memory stays flat however long the
// file is, and the file can be read twice (to check it, then to send it).
package input

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/suggest"
	"github.com/enrollbatch/enrollbatch/tenant"
)

// Problem is one thing wrong with the input, naming file, row and column.
//
// A row whose name could not be read (an empty cell, a formula with no
// saved value, a spreadsheet error, a control character, bytes that are
// not text) always has a Problem whose Column is "displayName", whatever
// the header says ("Display Name"), and its Row.DisplayName is empty; see
// Row.NameUnknown.
type Problem struct {
	File    string // the input file as given to Read
	Row     int    // row number a person sees; 0 for the file as a whole
	Column  string // property name (e.g. "displayName"), or the header of an extra column as written; may be empty
	Message string // what is wrong and what to do about it
	// ForNew marks a problem that matters only when the row's values are
	// sent (a token expiry in the past): a row whose profile already
	// exists, and that the run leaves alone, is not held back by it.
	ForNew bool
}

// KeepsPassword reports a row whose only problem is a Wi-Fi password left
// empty (as in an exported sheet, since the service never returns one): it
// is valid for a profile that exists, which keeps the password it has, as
// long as the row changes no Wi-Fi setting; a new profile needs one.
func KeepsPassword(ps []Problem) bool {
	return len(ps) == 1 && ps[0].ForNew && ps[0].Column == "wifiPassword"
}

// OnlyForNew reports whether every problem in ps matters only when the
// row's values are sent.
func OnlyForNew(ps []Problem) bool {
	for _, p := range ps {
		if !p.ForNew {
			return false
		}
	}
	return len(ps) > 0
}

// Error formats the problem the way people read it, e.g.
// `profiles.csv: row 7, tokenExpirationDateTime: "31.02.2026" is not a date (use 2026-12-31, 31.12.2026 or 2026-12-31T08:00:00+01:00)`.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(": ")
	}
	if p.Row > 0 {
		b.WriteString("row ")
		b.WriteString(strconv.Itoa(p.Row))
		if p.Column != "" {
			b.WriteString(", ")
		} else {
			b.WriteString(": ")
		}
	}
	if p.Column != "" {
		b.WriteString(p.Column)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Row is one non-blank input row.
type Row struct {
	// Line is the row number a person sees: the sheet row in XLSX, the line
	// where the record starts in CSV (blank lines count).
	Line int
	// DisplayName is the profile name, trimmed, and otherwise exactly as
	// given (an invisible character in it is kept, with a note). It is
	// empty when the name could not be read: then Problems has one with
	// Column "displayName" saying why (see NameUnknown).
	DisplayName string
	// NameGiven is the displayName cell's text when it holds one that could
	// not be used as a name (too long, a control character): the results
	// show it, so the person finds the row. It never names a profile.
	NameGiven string
	// ID is the profile id an id column gives (as export writes it):
	// never sent, since profiles are matched by name; a run notes when the
	// profile a row's name finds has another id.
	ID string
	// Description is the description, trimmed.
	Description string
	// TokenExpiration is the token's expiry; zero when not given or invalid.
	TokenExpiration time.Time
	// Body holds the JSON-ready POST properties: exactly the non-empty input
	// properties that parsed, typed (string, bool, int32, []string, and
	// RFC 3339 strings for dates). It has no @odata.type and no read-only
	// properties.
	Body map[string]any
	// Extras are the values of the extra columns, aligned with
	// File.ExtraHeaders.
	Extras []string
	// Problems lists every problem found in the row; empty means valid.
	Problems []Problem
	// Notes are things worth telling about a row that do not make it
	// invalid: a value accepted with a caveat the documentation gives, a
	// name holding an invisible character, a value read as another (an
	// admin-center word as its enum value). Each starts with the property
	// name. They go into the result's notes.
	Notes []string
	// DeviceGroup is the deviceGroup cell, trimmed: a group's display name
	// or object id, "none", or empty (see DeviceGroupColumn). It is never
	// part of Body.
	DeviceGroup string
	// Tenant is the tenant column's value in the form tenant.Parse gives
	// (a tenant id or a domain, in lower case), or empty without the
	// column. It is never part of Body.
	Tenant string
	// WifiOff says Body's configureWifi false was filled in because the
	// row has no Wi-Fi values (the service's default is true): a new
	// profile gets it, but an existing profile's Wi-Fi is not changed for
	// it.
	WifiOff bool
}

// Given returns the body without the values the reader filled in (see
// WifiOff): what the person asked for, to compare with an existing profile.
func (r *Row) Given() map[string]any {
	if !r.WifiOff {
		return r.Body
	}
	m := make(map[string]any, len(r.Body))
	for k, v := range r.Body {
		if k != "configureWifi" {
			m[k] = v
		}
	}
	return m
}

// Valid reports whether the row has no problems.
func (r *Row) Valid() bool { return len(r.Problems) == 0 }

// NameUnknown reports whether the row's displayName could not be read:
// the cell is empty, holds a formula with no saved value or an error, or
// a value that is not a valid name. Such a row always has a Problem on
// "displayName". A caller that acts on the names a file does not list (a
// prune) must not go ahead when any row's name is unknown: that row's
// profile would look absent from the file.
func (r *Row) NameUnknown() bool { return r.DisplayName == "" }

// File is an input file, read and validated.
type File struct {
	Path      string // as given to Read
	Sheet     string // sheet read, XLSX only
	Format    string // "csv" or "xlsx"
	Delimiter rune   // field delimiter, CSV only
	// Headers are the header cells as written (trimmed).
	Headers []string
	// Columns maps a property name, DeviceGroupColumn or tenant.Column, to the index of
	// its column in Headers.
	Columns map[string]int
	// ExtraHeaders are the headers of the extra columns, in column order.
	ExtraHeaders []string
	// Warnings are things worth telling the person that do not make a row
	// invalid: a header one typo away from a property, a read-only column.
	// They all come from the file as a whole and its header row, so they
	// are complete once Open returned.
	Warnings []string
	// Rows are the non-blank rows in input order, as Read returns them;
	// nil in Reader.File, whose rows come from Reader.Next.
	Rows []Row

	extraCols []int // column index of each extra header
	idCol     int   // 1 + the column index of an id column (as export writes); 0 for none
}

// Options tune Read and Open.
type Options struct {
	// Sheet is the XLSX sheet to read (the exact name, or else the name in
	// any case; hidden sheets too). Empty means the workbook's only visible
	// sheet: a workbook with more than one visible sheet is refused, with
	// an error listing them, rather than read in part.
	Sheet string
	// Tenant, when set, keeps only the rows of that tenant (in the form
	// tenant.Parse gives) from a file with a tenant column: Next skips the
	// others, and rows whose tenant cell could not be read. Line numbers
	// stay those of the file.
	Tenant string
	// Now is the clock that token expiries are checked against; default
	// time.Now.
	Now func() time.Time
}

// ErrNoDisplayName is wrapped by Read's error when the header row has no
// displayName column.
var ErrNoDisplayName = errors.New("no displayName column")

// Read reads and validates the CSV or XLSX file at path (chosen by the
// extension), holding every row in File.Rows. It returns an error only when
// the file cannot be used at all: unreadable, an unknown extension, no
// header row or no displayName column, a sheet that does not exist, no
// sheet named for a workbook with several visible sheets, or a part of it
// that cannot be read (a damaged workbook, a CSV record whose quotes leave
// its end in doubt): it never returns part of a file. The error names the
// path. To read a large file without holding its rows, use Open and
// Reader.Next, which give the same rows.
func Read(path string, opts Options) (*File, error) {
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := *r.File()
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return &f, nil
		}
		if err != nil {
			return nil, err
		}
		f.Rows = append(f.Rows, row)
	}
}

// Problems returns every row's problems, in input order.
func (f *File) Problems() []Problem {
	var out []Problem
	for i := range f.Rows {
		out = append(out, f.Rows[i].Problems...)
	}
	return out
}

// normalize turns a header or property name into its comparison form:
// lower case without spaces, underscores and hyphens.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '\ufeff' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

var normalized = func() map[string]profile.Property {
	m := make(map[string]profile.Property, len(profile.Properties))
	for _, p := range profile.Properties {
		m[normalize(p.Name)] = p
	}
	return m
}()

// nearProperty returns the input property whose normalised name is one
// typo (an insertion, deletion, substitution or swap of neighbours) away
// from the normalised header.
func nearProperty(norm string) (string, bool) {
	if norm == "" {
		return "", false
	}
	for _, p := range profile.Properties {
		if !p.Input {
			continue
		}
		if oneTypo(norm, normalize(p.Name)) {
			return p.Name, true
		}
	}
	if oneTypo(norm, deviceGroupNorm) {
		return DeviceGroupColumn, true
	}
	return "", false
}

// nearSecret returns the secret property (wifiPassword, tokenValue) whose
// normalised name is one typo away from the normalised header.
func nearSecret(norm string) (string, bool) {
	if norm == "" {
		return "", false
	}
	for _, p := range profile.Properties {
		if p.Secret && oneTypo(norm, normalize(p.Name)) {
			return p.Name, true
		}
	}
	return "", false
}

// oneTypo reports whether a and b differ by exactly one edit: an insertion,
// a deletion, a substitution or a transposition of adjacent characters.
func oneTypo(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > 1 || d < -1 {
		return false // more than one typo; no need to count
	}
	return suggest.Distance(a, b) == 1
}

// setHeaders fills Headers, Columns, ExtraHeaders and the header warnings
// from the header row, and fails when there is no displayName column.
// Trailing empty headers are dropped.
func (f *File) setHeaders(headers []string, colName func(int) string) error {
	for len(headers) > 0 && strings.TrimSpace(headers[len(headers)-1]) == "" {
		headers = headers[:len(headers)-1]
	}
	f.Headers = make([]string, len(headers))
	f.Columns = make(map[string]int)
	f.ExtraHeaders = []string{}
	var typoDisplayName string
	for i, h := range headers {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		f.Headers[i] = h
		norm := normalize(h)
		p, ok := normalized[norm]
		switch {
		case ok && p.Input, !ok && (norm == deviceGroupNorm || norm == tenantNorm):
			name := map[string]string{deviceGroupNorm: DeviceGroupColumn, tenantNorm: tenant.Column}[norm]
			if ok {
				name = p.Name
			}
			if prev, dup := f.Columns[name]; dup {
				f.Warnings = append(f.Warnings, fmt.Sprintf(
					"column %q (%s) repeats %s, already given in column %q (%s); only the first is used, this one is kept as an extra column",
					h, colName(i), name, f.Headers[prev], colName(prev)))
				break
			}
			f.Columns[name] = i
			continue
		case ok && p.Name == "id" && f.idCol == 0:
			// An exported sheet's id column: never sent, read to check
			// that the profile a row's name finds is the one exported.
			f.idCol = i + 1
			continue
		case ok:
			// Set by the service: never sent, and not kept as an extra
			// column either, so a secret (tokenValue) cannot reach the
			// results through it.
			f.Warnings = append(f.Warnings, fmt.Sprintf(
				"column %q is ignored: %s is never sent, because %s", h, p.Name, profile.ServiceSetWhy(p.Name)))
			continue
		default:
			if name, near := nearSecret(norm); near {
				f.Warnings = append(f.Warnings, fmt.Sprintf(
					"column %q is not a property but looks like %s, a secret: it is not sent, and its values are kept out of the results and logs; rename the header to %s if it holds the %s",
					h, name, name, name))
				continue
			}
			if name, near := nearProperty(norm); near {
				f.Warnings = append(f.Warnings, fmt.Sprintf("column %q is not a property; did you mean %s?", h, name))
				if name == "displayName" && typoDisplayName == "" {
					typoDisplayName = h
				}
			}
		}
		f.ExtraHeaders = append(f.ExtraHeaders, h)
		f.extraCols = append(f.extraCols, i)
	}
	if _, ok := f.Columns["displayName"]; !ok {
		if typoDisplayName != "" {
			return fmt.Errorf("%w: column %q is not a property; did you mean displayName? Rename the header", ErrNoDisplayName, typoDisplayName)
		}
		return fmt.Errorf("%w: row 1 must hold the headers and one of them must be displayName (or \"Display Name\")", ErrNoDisplayName)
	}
	return nil
}

// columnLetters names a 0-based column index the way spreadsheets do: A,
// B, ..., Z, AA.
func columnLetters(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// columnNumber names a 0-based column index as a 1-based field number.
func columnNumber(i int) string { return "field " + strconv.Itoa(i+1) }
