package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The files a run, delete or revoke leaves in its output folder.
const (
	ResultsFile = "results.xlsx" // what a real run did
	PlanFile    = "plan.xlsx"    // what a dry run would do; never replaces ResultsFile
	CSVFile     = "results.csv"  // results.xlsx's twin, with --results-csv
	SheetFile   = "qr-codes.pdf" // the printable QR codes
)

// CheckReplace says whether path may be written: never when it is one of
// the command's inputs, and, when a file is there already, only if
// enrollbatch wrote it (Written) or force is given. The error says what to
// do.
func CheckReplace(path string, force bool, inputs ...string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // nothing there (an unreadable folder fails the write)
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if ii, err := os.Stat(in); err == nil && os.SameFile(fi, ii) {
			return fmt.Errorf("%s is this command's input %s: enrollbatch never writes over its input; choose another output", path, in)
		}
	}
	if force || Written(path) {
		return nil
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a folder: choose another output", path)
	}
	return fmt.Errorf("%s is there already and enrollbatch did not write it: enrollbatch never replaces a file it did not write; move it away or choose another output", path)
}

// Written reports whether the file at path is one enrollbatch writes: a
// results or plan workbook (its Results and Summary sheets), a summary of
// tenants (its one Tenants sheet), a results CSV
// (its header), or a QR sheet (the PDF's creator).
func Written(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx":
		f, err := excelize.OpenFile(path)
		if err != nil {
			return false
		}
		defer f.Close()
		sheets := f.GetSheetList()
		return slices.Contains(sheets, ResultsSheet) && slices.Contains(sheets, SummarySheet) ||
			len(sheets) == 1 && sheets[0] == TenantsSheet // a run's summary over several tenants
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return false
		}
		defer f.Close()
		br := bufio.NewReader(f)
		if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
			br.Discard(3)
		}
		head, err := csv.NewReader(br).Read()
		// Earlier versions wrote fewer columns after these.
		return err == nil && len(head) >= 3 && slices.Equal(head[:3], Columns[:3])
	case ".pdf":
		return pdfCreatedHere(path)
	}
	return false
}

// pdfCreatedHere reports whether the PDF's information dictionary names
// enrollbatch as its creator (gofpdf writes it near the end of the file).
func pdfCreatedHere(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	const tail = 64 << 10
	off := max(fi.Size()-tail, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, tail))
	if err != nil {
		return false
	}
	// SetCreator(..., true) writes UTF-16BE with a byte order mark.
	utf16 := []byte{0xFE, 0xFF}
	for _, c := range "enrollbatch" {
		utf16 = append(utf16, 0, byte(c))
	}
	return bytes.Contains(b, []byte("/Creator")) && (bytes.Contains(b, utf16) || bytes.Contains(b, []byte("(enrollbatch)")))
}
