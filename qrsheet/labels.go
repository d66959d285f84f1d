package qrsheet

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// labelFields are the result fields that --label-columns may name besides
// the input's extra columns.
var labelFields = map[string]func(r *results.Result) (string, string){
	"description": func(r *results.Result) (string, string) { return "Description", r.Description },
	"id":          func(r *results.Result) (string, string) { return "Profile id", r.ID },
	"row":         func(r *results.Result) (string, string) { return "Row", strconv.Itoa(r.Row) },
	"status":      func(r *results.Result) (string, string) { return "Status", string(r.Status) },
}

// headerKey normalises a column name the way input headers are matched:
// case-insensitive, ignoring spaces, underscores and hyphens.
func headerKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// LabelsFromResults builds the labels for the printable rows of a run (see
// results.Result.Printable), in input order. Rows whose token has expired by
// now are left out and listed in skipped, one sentence each, as are created
// or renewed rows for which the service returned no QR content. labelColumns
// names the extra input columns (extraHeaders, matched case-insensitively,
// ignoring spaces, underscores and hyphens) or the fields description, id,
// row and status whose values go on each label; an unknown name is an error.
func LabelsFromResults(rs []results.Result, extraHeaders, labelColumns []string, now time.Time) (labels []Label, skipped []string, err error) {
	m, err := newLabelMaker(extraHeaders, labelColumns)
	if err != nil {
		return nil, nil, err
	}
	for i := range rs {
		lb, skip, ok := m.label(&rs[i], now)
		switch {
		case ok:
			labels = append(labels, lb)
		case skip != "":
			skipped = append(skipped, skip)
		}
	}
	return labels, skipped, nil
}

// labelColumn is one --label-columns column: an extra input column or a
// result field.
type labelColumn struct {
	extra int // index into Extras, or -1
	field func(r *results.Result) (string, string)
	name  string
}

// labelMaker builds the label of one result with the chosen columns.
type labelMaker struct {
	cols []labelColumn
}

// newLabelMaker resolves labelColumns against the input's extra columns
// and the result fields (see LabelsFromResults).
func newLabelMaker(extraHeaders, labelColumns []string) (*labelMaker, error) {
	m := &labelMaker{}
	for _, want := range labelColumns {
		if strings.TrimSpace(want) == "" {
			continue
		}
		k := headerKey(want)
		c := labelColumn{extra: -1}
		for i, h := range extraHeaders {
			if headerKey(h) == k {
				c.extra, c.name = i, strings.TrimSpace(h)
				break
			}
		}
		if c.extra < 0 {
			f, ok := labelFields[k]
			if !ok {
				return nil, fmt.Errorf("label column %q is not a column of the input: use one of %s",
					want, strings.Join(append(append([]string(nil), extraHeaders...), "description", "id", "row", "status"), ", "))
			}
			c.field = f
		}
		m.cols = append(m.cols, c)
	}
	return m, nil
}

// label is r's label (ok) or, for a row that is not printed, the sentence
// saying why when the person needs to act (skip; empty for rows that have
// nothing to print, such as failed ones).
func (m *labelMaker) label(r *results.Result, now time.Time) (lb Label, skip string, ok bool) {
	if !r.Printable() {
		if (r.Status == results.Created || r.Status == results.Renewed) && r.QRCodeContent == "" && len(r.QRCodeImage) == 0 {
			skip = fmt.Sprintf("row %d, %s: the service returned no QR code; print it later with `enrollbatch qr --from-tenant`", r.Row, r.DisplayName)
		}
		return Label{}, skip, false
	}
	if results.IsRedacted(r.QRCodeContent) {
		return Label{}, fmt.Sprintf("row %d, %s: its QR code carries a Wi-Fi password, which results files never keep; print it with `enrollbatch qr --from-tenant`",
			r.Row, r.DisplayName), false
	}
	if Expired(r.TokenExpiration, now) {
		return Label{}, fmt.Sprintf("row %d, %s: token expired %s; renew it (enrollbatch run --renew-within) before printing",
			r.Row, r.DisplayName, FormatTime(r.TokenExpiration)), false
	}
	lb = Label{
		Row:         r.Row,
		DisplayName: r.DisplayName,
		Description: r.Description,
		Expires:     r.TokenExpiration,
		Content:     r.QRCodeContent,
		Image:       r.QRCodeImage,
		Replaces:    r.Replaces,
	}
	if r.QRCodeContent != "" {
		lb.Code = r.QR
	}
	if r.EnrollmentMode != "" {
		// GMS and AOSP codes look alike: the label says which it is.
		lb.Fields = append(lb.Fields, [2]string{"Mode", profile.ModeName(r.EnrollmentMode)})
	}
	for _, c := range m.cols {
		var name, val string
		if c.extra >= 0 {
			name = c.name
			if c.extra < len(r.Extras) {
				val = r.Extras[c.extra]
			}
		} else {
			name, val = c.field(r)
		}
		if strings.TrimSpace(val) != "" {
			lb.Fields = append(lb.Fields, [2]string{name, strings.TrimSpace(val)})
		}
	}
	return lb, "", true
}
