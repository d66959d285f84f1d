package output

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gocarina/gocsv"

	"github.com/enrollbatch/enrollbatch/results"
)

// csvRecord is one line of results.csv; the tags are the Columns.
type csvRecord struct {
	Row                     string `csv:"row"`
	DisplayName             string `csv:"displayName"`
	Status                  string `csv:"status"`
	ID                      string `csv:"id"`
	HTTPStatus              string `csv:"httpStatus"`
	Attempts                string `csv:"attempts"`
	ErrorCode               string `csv:"errorCode"`
	ErrorMessage            string `csv:"errorMessage"`
	RequestID               string `csv:"requestId"`
	TokenExpirationDateTime string `csv:"tokenExpirationDateTime"`
	QRCodeContent           string `csv:"qrCodeContent"`
	Description             string `csv:"description"`
	ErrorRaw                string `csv:"errorRaw"`
	ClientRequestID         string `csv:"clientRequestId"`
	Changes                 string `csv:"changes"`
	Notes                   string `csv:"notes"`
}

// extrasWriter appends the input's extra columns to each line gocsv writes:
// the headers to the first line, then each result's values in order.
type extrasWriter struct {
	*gocsv.SafeCSVWriter
	headers []string
	rs      []results.Result
	line    int
	buf     []string
}

func (w *extrasWriter) Write(row []string) error {
	w.buf = append(w.buf[:0], row...)
	if w.line == 0 {
		w.buf = append(w.buf, w.headers...)
	} else {
		ex := w.rs[w.line-1].Extras
		for j := range w.headers {
			v := ""
			if j < len(ex) {
				v = ex[j]
			}
			w.buf = append(w.buf, v)
		}
	}
	w.line++
	return w.SafeCSVWriter.Write(w.buf)
}

// WriteCSV writes results.csv to path (atomically, mode 0600): UTF-8, comma
// separated, a header line with the Results sheet's columns and the input's
// extra columns, dates in RFC 3339 (UTC), one line per result.
func WriteCSV(path string, run results.Run, rs []results.Result) error {
	recs := make([]csvRecord, len(rs))
	for i := range rs {
		r := &rs[i]
		rec := csvRecord{
			Row: strconv.Itoa(r.Row), DisplayName: r.DisplayName, Status: string(r.Status), ID: r.ID,
			Attempts: strconv.Itoa(r.Attempts), ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
			RequestID: r.RequestID, QRCodeContent: results.StoredContent(r.QRCodeContent), Description: r.Description,
			ErrorRaw: r.ErrorRaw, ClientRequestID: r.ClientRequestID,
			Changes: strings.Join(r.Changes, "\n"), Notes: strings.Join(r.Notes, "\n"),
		}
		if r.HTTPStatus != 0 {
			rec.HTTPStatus = strconv.Itoa(r.HTTPStatus)
		}
		if !r.TokenExpiration.IsZero() {
			rec.TokenExpirationDateTime = r.TokenExpiration.UTC().Format(time.RFC3339)
		}
		recs[i] = rec
	}
	return WriteFileAtomic(path, func(out io.Writer) error {
		w := &extrasWriter{SafeCSVWriter: gocsv.NewSafeCSVWriter(csv.NewWriter(out)), headers: run.ExtraHeaders, rs: rs}
		return gocsv.MarshalCSV(recs, w)
	})
}
