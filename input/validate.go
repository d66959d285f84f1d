package input

import (
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/tenant"
)

// cellType is what a cell holds, as far as validation cares.
type cellType int

const (
	textCell   cellType = iota // text (every CSV cell)
	numberCell                 // an XLSX number without a date format
	dateCell                   // an XLSX number with a date format, or an ISO date cell
	boolCell                   // an XLSX boolean
	errorCell                  // an XLSX error value such as #REF!
)

// cell is one input cell.
type cell struct {
	text string    // the value as the person sees it, trimmed
	typ  cellType  // what the cell holds
	num  float64   // the number of a number or bool cell
	date time.Time // the time of a date cell
	// unsaved marks an XLSX formula cell the file has no saved value for
	// (written by a program that does not calculate, or saved with
	// calculation off).
	unsaved bool
}

// unsavedFormula is the problem of a formula cell without a saved value.
const unsavedFormula = "the cell holds a formula with no saved value: open the file in Excel and save it, so that the values are computed"

// rawRow is one input record before validation.
type rawRow struct {
	line     int
	cells    []cell
	problems []Problem // problems found while reading: ragged rows, bad quotes
}

// blank reports whether every cell of the row is empty.
func (r rawRow) blank() bool {
	for _, c := range r.cells {
		if c.text != "" || c.unsaved {
			return false
		}
	}
	return true
}

// dateHint is how every date message ends.
const dateHint = "(use 2026-12-31, 31.12.2026 or 2026-12-31T08:00:00+01:00)"

// nameKey stands for a name's profile.Key in the map of names seen: its
// 128-bit FNV-1a hash, 16 bytes whatever the name's length, so that the
// map of a 100,000-row file stays small. Two different names share a hash
// with a probability near 10^-29 for such a file: far below any other cause
// of a wrong answer.
type nameKey [16]byte

// keyOf is the nameKey of a displayName in a tenant ("" without a tenant
// column).
func keyOf(tenant, name string) nameKey {
	h := fnv.New128a()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(profile.Key(name)))
	var k nameKey
	h.Sum(k[:0])
	return k
}

// fileState is what the checks that look back at earlier rows keep while
// a file is read: the names seen so far and the first Teams profile, and
// the clock every row is checked against.
type fileState struct {
	now      time.Time
	seen     map[nameKey]int32 // by the tenant's and the name's key (see keyOf) -> line
	teamsRow map[string]int    // by tenant: line of the first row with isTeamsDeviceProfile on
}

// check applies, to a validated row, the rules that need earlier rows or
// the clock: a displayName may be used once in the file, a token expiry
// must be in the future and within the mode's documented limit, and
// isTeamsDeviceProfile may be on in one profile only. All of them look
// back only, so each row is decided when it is read.
func (s *fileState) check(f *File, row *Row) {
	bad := func(column, msg string) {
		row.Problems = append(row.Problems, Problem{File: f.Path, Row: row.Line, Column: column, Message: msg})
	}
	if row.DisplayName != "" {
		key := keyOf(row.Tenant, row.DisplayName)
		if first, dup := s.seen[key]; dup {
			where := "the file"
			if row.Tenant != "" {
				where = "a tenant"
			}
			bad("displayName", fmt.Sprintf("%q is already used in row %d; names must be unique in %s (case is ignored)", row.DisplayName, first, where))
		} else {
			s.seen[key] = int32(row.Line)
		}
	}
	if exp := row.TokenExpiration; !exp.IsZero() {
		mode, _ := row.Body["enrollmentMode"].(string)
		limit := profile.TokenLimitFor(mode)
		switch {
		case !exp.After(s.now):
			row.Problems = append(row.Problems, Problem{File: f.Path, Row: row.Line, Column: "tokenExpirationDateTime", ForNew: true,
				Message: fmt.Sprintf("%s is in the past; give a later date, or leave it empty for the default lifetime", shownExpiry(exp))})
		case exp.After(limit.Latest(s.now)) && profile.IsThroughDay(exp) && profile.SameDay(exp, limit.Latest(s.now)):
			// The last day allowed, given as a date: the token lasts as
			// long as it may, which ends during that day.
			latest := limit.Latest(s.now).Truncate(time.Second)
			row.TokenExpiration = latest
			row.Body["tokenExpirationDateTime"] = latest.Format(time.RFC3339Nano)
			row.Notes = append(row.Notes, fmt.Sprintf("tokenExpirationDateTime: %s is the last day a %s token may last (%s), so it ends at %s UTC that day, not at the end of it",
				exp.Format("2006-01-02"), profile.EffectiveMode(mode), limit, latest.Format("15:04")))
		case exp.After(limit.Latest(s.now)):
			bad("tokenExpirationDateTime", fmt.Sprintf("%s is more than %s away; %s tokens last at most %s (%s), so give %s or earlier",
				shownExpiry(exp), limit, profile.EffectiveMode(mode), limit, limit.Source, limit.Latest(s.now).UTC().Format("2006-01-02")))
		}
	}
	if teams, _ := row.Body["isTeamsDeviceProfile"].(bool); teams {
		if s.teamsRow[row.Tenant] == 0 {
			if s.teamsRow == nil {
				s.teamsRow = map[string]int{}
			}
			s.teamsRow[row.Tenant] = row.Line
		} else {
			bad("isTeamsDeviceProfile", fmt.Sprintf("is already on in row %d; one profile per tenant may be for Teams devices (%s)",
				s.teamsRow[row.Tenant], profile.PageAOSPAssociate))
		}
	}
}

// validate turns one raw row into a Row with its body and problems.
func (f *File) validate(rr rawRow) Row {
	row := Row{Line: rr.line, Body: map[string]any{}, Extras: make([]string, len(f.extraCols))}
	row.Problems = append(row.Problems, rr.problems...)
	at := func(i int) cell {
		if i < len(rr.cells) {
			return rr.cells[i]
		}
		return cell{}
	}
	bad := func(column, msg string) {
		row.Problems = append(row.Problems, Problem{File: f.Path, Row: rr.line, Column: column, Message: msg})
	}
	if f.idCol > 0 {
		row.ID = strings.TrimSpace(at(f.idCol - 1).text)
	}
	for k, i := range f.extraCols {
		c := at(i)
		row.Extras[k] = c.text
		if c.unsaved && c.text == "" {
			bad(f.Headers[i], unsavedFormula)
		}
	}
	given := map[string]bool{}
	// Walk the schema, not the map, so problems come in a stable order.
	for _, p := range profile.Properties {
		i, ok := f.Columns[p.Name]
		if !ok {
			continue
		}
		c := at(i)
		if c.unsaved && c.text == "" {
			given[p.Name] = true
			bad(p.Name, unsavedFormula)
			continue
		}
		if c.text == "" {
			continue
		}
		given[p.Name] = true
		v, msg, note := convert(p, c)
		if msg != "" {
			bad(p.Name, msg)
			if p.Name == "displayName" {
				row.NameGiven = c.text
			}
			continue
		}
		if note != "" {
			row.Notes = append(row.Notes, p.Name+": "+note)
		}
		row.Body[p.Name] = v
		switch p.Name {
		case "displayName":
			row.DisplayName = v.(string)
		case "description":
			row.Description = v.(string)
		case "tokenExpirationDateTime":
			row.TokenExpiration, _ = time.Parse(time.RFC3339Nano, v.(string))
		}
	}
	if i, ok := f.Columns[DeviceGroupColumn]; ok {
		f.readDeviceGroup(&row, at(i), bad)
	}
	if i, ok := f.Columns[tenant.Column]; ok {
		f.readTenant(&row, at(i), bad)
	}
	if !given["displayName"] {
		// Also a row whose only values are right of the headers: every row
		// without a DisplayName has a problem on displayName (see Row).
		bad("displayName", "is empty; every profile needs a name")
	}
	f.crossCheck(&row, given, bad)
	return row
}

// crossCheck applies the rules that tie properties together, as the
// documentation pages give them (profile.Page*). A rule is only checked
// when the values it depends on are valid.
func (f *File) crossCheck(row *Row, given map[string]bool, bad func(column, msg string)) {
	mode, modeOK := row.Body["enrollmentMode"].(string)
	if !given["enrollmentMode"] {
		modeOK = true // an empty mode is taken as a dedicated device
	}
	shownMode := mode
	if shownMode == "" {
		shownMode = "an empty enrollmentMode (a dedicated device)"
	}
	if tt, ok := row.Body["enrollmentTokenType"].(string); ok && modeOK {
		if modes := profile.TokenTypeModes(tt); modes != nil && !slices.Contains(modes, profile.EffectiveMode(mode)) {
			bad("enrollmentTokenType", fmt.Sprintf("%s is only for enrollmentMode %s, not %s (%s)",
				tt, strings.Join(modes, " and "), shownMode, profile.PageTokenType))
		}
	}
	if teams, _ := row.Body["isTeamsDeviceProfile"].(bool); teams && modeOK && !profile.IsAOSP(mode) {
		bad("isTeamsDeviceProfile", fmt.Sprintf("is only for AOSP profiles (Android AOSP for Teams devices, %s); set enrollmentMode to %s, or leave this empty",
			profile.PageResource, profile.ModeAOSPAssociated))
	}
	if tmpl, ok := row.Body["deviceNameTemplate"].(string); ok {
		problem, notes := checkDeviceName(tmpl, mode)
		if problem != "" {
			bad("deviceNameTemplate", problem)
			delete(row.Body, "deviceNameTemplate")
		}
		for _, n := range notes {
			if modeOK {
				row.Notes = append(row.Notes, "deviceNameTemplate: "+n)
			}
		}
	}
	if !row.TokenExpiration.IsZero() && modeOK && (mode == profile.ModeFullyManaged || mode == profile.ModeWorkProfile) {
		if tt, _ := row.Body["enrollmentTokenType"].(string); tt != profile.TokenStaging {
			page := profile.PageFullyManaged
			if mode == profile.ModeWorkProfile {
				page = profile.PageWorkProfile
			}
			row.Notes = append(row.Notes, fmt.Sprintf("tokenExpirationDateTime: for %s the admin center sets an expiry only on deviceStaging tokens (%s); it is sent as given, and the service may not apply it", mode, page))
		}
	}
	if _, tokenOK := row.Body["enrollmentTokenType"]; row.DeviceGroup != "" && modeOK && (tokenOK || !given["enrollmentTokenType"]) {
		checkDeviceGroup(row, bad)
	}
	f.checkWifi(row, given, bad)
	if wifi, _ := row.Body["wifiSsid"].(string); wifi != "" && modeOK && !profile.IsAOSP(mode) {
		row.Notes = append(row.Notes, fmt.Sprintf("wifiSsid: the Intune pages offer Wi-Fi settings only for AOSP profiles (%s, %s); they are sent for %s as given",
			profile.PageAOSPUserless, profile.PageAOSPAssociate, profile.EffectiveMode(mode)))
	}
}

// checkWifi applies the Wi-Fi rules and makes configureWifi explicit. The
// service's default for configureWifi is true (profile.PageResource), so a
// row without Wi-Fi values is sent configureWifi false, and a row that
// names a network without saying configureWifi is sent true.
func (f *File) checkWifi(row *Row, given map[string]bool, bad func(column, msg string)) {
	wifi, wifiOK := row.Body["configureWifi"].(bool)
	if given["configureWifi"] && !wifiOK {
		return
	}
	values := []string{}
	for _, name := range []string{"wifiSsid", "wifiPassword", "wifiSecurityType", "wifiHidden"} {
		if given[name] {
			values = append(values, name)
		}
	}
	if !given["configureWifi"] {
		switch {
		case given["wifiSsid"]:
			wifi = true
		case len(values) > 0:
			bad("wifiSsid", fmt.Sprintf("is empty, but the row has %s; give the network name, or leave the Wi-Fi columns empty", strings.Join(values, ", ")))
			return
		}
		row.Body["configureWifi"] = wifi
		row.WifiOff = !wifi
	}
	if !wifi {
		for _, name := range values {
			bad(name, "is only used when configureWifi is true (the service ignores it otherwise); set configureWifi to true or leave this empty")
		}
		return
	}
	if !given["wifiSsid"] {
		bad("wifiSsid", "is required when configureWifi is true; give the network name")
	}
	if sec, _ := row.Body["wifiSecurityType"].(string); (sec == "wpa" || sec == "wep") && !given["wifiPassword"] {
		// The service never returns a password, so an exported sheet has
		// none: for a profile that exists, an empty cell keeps the one
		// set, as long as the row changes no Wi-Fi setting.
		row.Problems = append(row.Problems, Problem{File: f.Path, Row: row.Line, Column: "wifiPassword", ForNew: true,
			Message: fmt.Sprintf("is required when wifiSecurityType is %s: the pre-shared key (%s); for a profile that exists, leave it empty to keep the one set", sec, profile.PageAOSPUserless)})
	}
}

// shown quotes a value for a message, or hides it for a secret property.
func shown(p profile.Property, s string) string {
	if p.Secret {
		return "the value"
	}
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:77]) + "..."
	}
	return strconv.Quote(s)
}

// convert checks one non-empty cell against its property and returns the
// JSON-ready value, or a message saying what is wrong. A note says how an
// accepted value was read when that is not plain from the cell (a word
// the admin center uses, read as the value it stands for).
func convert(p profile.Property, c cell) (v any, msg, note string) {
	if c.typ == errorCell {
		return nil, fmt.Sprintf("the cell holds the spreadsheet error %s; fix the formula or type the value", shown(p, c.text)), ""
	}
	if !utf8.ValidString(c.text) {
		return nil, "is not valid UTF-8 text; save the file as \"CSV UTF-8\" or as .xlsx", ""
	}
	switch p.Kind {
	case profile.Enum:
		return convertEnum(p, c.text)
	case profile.DateTime:
		if t, withTime, ok := parseDotted(c.text); ok && withTime && c.typ == textCell {
			v := t.Format(time.RFC3339Nano)
			return v, "", fmt.Sprintf("%q has no time zone, so it was read as UTC, %s, as a date and time in a workbook is; for a time in another zone write it with its offset, e.g. %s",
				c.text, v, t.Format("2006-01-02T15:04:05")+"+01:00")
		}
	case profile.String:
		if p.Name == "displayName" {
			problem, note := checkName(c.text)
			if problem != "" {
				return nil, problem, ""
			}
			v, msg = convertValue(p, c)
			return v, msg, note
		}
	}
	v, msg = convertValue(p, c)
	return v, msg, ""
}

// convertValue is convert for the kinds whose values are read as they
// are written.
func convertValue(p profile.Property, c cell) (any, string) {
	switch p.Kind {
	case profile.DateTime:
		if c.typ == dateCell {
			t := c.date
			if t.Equal(t.Truncate(24 * time.Hour)) {
				t = profile.ThroughDay(t) // a date alone: valid through that day
			}
			return t.Format(time.RFC3339Nano), ""
		}
		if c.typ == numberCell {
			return nil, fmt.Sprintf("%s is a number, not a date; format the cell as a date or type the date as text %s", c.text, dateHint)
		}
		t, ok := parseDate(c.text)
		if !ok {
			return nil, fmt.Sprintf("%s is not a date %s", shown(p, c.text), dateHint)
		}
		return t.Format(time.RFC3339Nano), ""
	case profile.Int32:
		return convertInt(p, c)
	case profile.Bool:
		switch c.typ {
		case boolCell, numberCell:
			switch c.num {
			case 1:
				return true, ""
			case 0:
				return false, ""
			}
		default:
			if v, ok := parseBool(c.text); ok {
				return v, ""
			}
		}
		return nil, fmt.Sprintf("%s is not a boolean (use %s)", shown(p, c.text), boolForms)
	case profile.GUID:
		if !profile.IsGUID(c.text) {
			return nil, fmt.Sprintf("%s is not a GUID (use the form 00000000-0000-0000-0000-000000000000)", shown(p, c.text))
		}
		return c.text, ""
	case profile.StringList:
		var list []string
		for _, s := range strings.FieldsFunc(c.text, func(r rune) bool {
			return r == ',' || r == ';' || r == '\n' || r == '\r'
		}) {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		if len(list) == 0 {
			return nil, "holds only separators; give values separated by commas, semicolons or line breaks, or leave it empty"
		}
		for _, s := range list {
			if p.MaxLen > 0 && utf8.RuneCountInString(s) > p.MaxLen {
				return nil, fmt.Sprintf("%s is longer than %d characters", shown(p, s), p.MaxLen)
			}
		}
		return list, ""
	case profile.String:
		switch p.Name {
		case "wifiSsid":
			// IEEE 802.11: an SSID is at most 32 bytes.
			if n := len(c.text); n > 32 {
				return nil, fmt.Sprintf("is %d bytes long in UTF-8; a Wi-Fi network name is at most 32 bytes", n)
			}
		}
		if n := utf8.RuneCountInString(c.text); p.MaxLen > 0 && n > p.MaxLen {
			return nil, fmt.Sprintf("is %d characters long; at most %d are allowed", n, p.MaxLen)
		}
		return c.text, ""
	}
	return nil, fmt.Sprintf("cannot be given as a column (%s)", p.Kind)
}

// convertInt checks a whole number against the property's bounds.
func convertInt(p profile.Property, c cell) (any, string) {
	var n int64
	switch c.typ {
	case numberCell:
		if c.num != math.Trunc(c.num) || math.IsInf(c.num, 0) || math.IsNaN(c.num) || math.Abs(c.num) > 1<<53 {
			return nil, fmt.Sprintf("%s is not a whole number", shown(p, c.text))
		}
		n = int64(c.num)
	case textCell:
		v, err := strconv.ParseInt(c.text, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				n = math.MaxInt64
				break
			}
			return nil, fmt.Sprintf("%s is not a whole number", shown(p, c.text))
		}
		n = v
	default:
		return nil, fmt.Sprintf("%s is not a whole number", shown(p, c.text))
	}
	lo, hi := p.Min, p.Max
	if hi == 0 {
		hi = math.MaxInt32
	}
	lo = max(lo, math.MinInt32)
	if n < lo || n > hi {
		return nil, fmt.Sprintf("%s is out of range (use a whole number from %d to %d)", shown(p, c.text), lo, hi)
	}
	return int32(n), ""
}

// checkName refuses a name with a control character (profile.NameProblem)
// and notes the invisible format characters in it, such as a zero-width
// space (U+200B) or a direction mark: the tenant can hold such a name and
// export writes it as it is, so it must read back unchanged, and a person
// should know it is there.
func checkName(s string) (problem, note string) {
	var marks []string
	direction := false
	visible := s
	pos := 0
	for _, r := range s {
		pos++
		if unicode.Is(unicode.Cf, r) {
			marks = append(marks, fmt.Sprintf("%U at position %d", r, pos))
			direction = direction || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
		}
	}
	if len(marks) > 0 {
		visible = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Cf, r) {
				return -1
			}
			return r
		}, s)
	}
	if msg := profile.NameProblem(visible); msg != "" {
		return msg, ""
	}
	if len(marks) == 0 {
		return "", ""
	}
	what := "the invisible character " + marks[0]
	if len(marks) > 1 {
		what = "the invisible characters " + strings.Join(marks[:len(marks)-1], ", ") + " and " + marks[len(marks)-1]
	}
	note = "holds " + what + "; the name is kept exactly as given, as the tenant holds it, but it is not the same name as one that looks the same without it"
	if direction {
		note += ", and a direction control can make the printed label read differently from the name"
	}
	return "", note
}

// parseDate accepts RFC 3339 with an offset, YYYY-MM-DD as midnight UTC,
// and the day-first dates German Excel writes into CSV (see parseDotted).
func parseDate(s string) (time.Time, bool) {
	if t, withTime, ok := parseDotted(s); ok {
		if !withTime {
			t = profile.ThroughDay(t)
		}
		return t, true
	}
	if len(s) == len("2006-01-02") {
		t, err := time.Parse("2006-01-02", s)
		return profile.ThroughDay(t), err == nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// dottedDate is a day-first date with dots, as German (and Austrian, Swiss,
// Polish, Czech ...) Excel saves a date cell in CSV: 31.12.2027 or
// 1.2.2027, with a time after a space when the cell has one
// (31.12.2027 18:00, 31.12.2027 18:00:30). A dotted date is never
// month-first, so it is not ambiguous.
var dottedDate = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)

// parseDotted reads a dottedDate: a date alone as midnight UTC, as
// YYYY-MM-DD is read, and a date with a time in UTC, as a date cell of a
// workbook is read (neither has a time zone). withTime says a time was
// given. A day that does not exist (31.02.2027) is not a date.
func parseDotted(s string) (t time.Time, withTime, ok bool) {
	m := dottedDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false, false
	}
	n := make([]int, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.Atoi(m[i]) // "" for a missing part reads as 0
	}
	day, month, year, hour, minute, second := n[1], n[2], n[3], n[4], n[5], n[6]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false, false
	}
	return t, m[4] != "", true
}

// checkDeviceName allows only the documented {{...}} tokens, and notes
// literal text that is not letters, numbers and hyphens, which the Intune
// pages say device names are made of.
func checkDeviceName(s, mode string) (problem string, notes []string) {
	rest := s
	var literal strings.Builder
	for {
		open := strings.Index(rest, "{{")
		closing := strings.Index(rest, "}}")
		if open < 0 || closing >= 0 && closing < open {
			if closing >= 0 {
				return fmt.Sprintf("%q has }} without {{; the tokens are %s", s, strings.Join(profile.DeviceNameTokens, ", ")), nil
			}
			literal.WriteString(rest)
			break
		}
		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return fmt.Sprintf("%q has {{ without }}; the tokens are %s", s, strings.Join(profile.DeviceNameTokens, ", ")), nil
		}
		literal.WriteString(rest[:open])
		token := rest[open : open+2+end+2]
		problem, note := profile.DeviceNameToken(token, mode)
		if problem != "" {
			return problem, nil
		}
		if note != "" {
			notes = append(notes, note)
		}
		rest = rest[open+2+end+2:]
	}
	var odd []string
	for _, r := range literal.String() {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && !slices.Contains(odd, string(r)) {
			odd = append(odd, string(r))
		}
	}
	if len(odd) > 0 {
		notes = append(notes, fmt.Sprintf("%q has characters other than letters, numbers and hyphens (%s); the Intune enrollment pages say device names can contain letters, numbers and hyphens, so the service may change or refuse them",
			s, strings.Join(odd, " ")))
	}
	return "", notes
}

// shownExpiry is an expiry as a person gave it: a date alone for one
// valid through that day (profile.ThroughDay), else the moment.
func shownExpiry(t time.Time) string {
	if profile.IsThroughDay(t) {
		return t.UTC().Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}
