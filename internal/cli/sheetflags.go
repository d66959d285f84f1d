package cli

import (
	"cmp"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/cliflag"
	"github.com/enrollbatch/enrollbatch/qrsheet"
	"github.com/enrollbatch/enrollbatch/typeset"
)

// sheetFlags shape the QR sheet.
type sheetFlags struct {
	paper         string
	labelsPerPage int
	labelColumns  string
	splitBy       string
	fontFile      string
	pagesPerFile  int
	title         string         // --title: the tenant's name in each page's header
	fonts         *typeset.Fonts // the embedded fonts after --font's, set by check
	// tenant is the tenant's name for the header when --title gives
	// none, and simulated marks a sheet of the simulator's codes.
	tenant    string
	simulated bool
}

func (s *sheetFlags) register(fs *flag.FlagSet) {
	cliflag.ChoiceVar(fs, &s.paper, "paper", "a4", "paper size of the QR sheet: a4 or letter", "a4", "letter")
	fs.IntVar(&s.labelsPerPage, "labels-per-page", 6, "labels per page: 1, 2, 4 or 6")
	fs.StringVar(&s.labelColumns, "label-columns", "", "input columns to print on each label, e.g. Site,Technician")
	fs.StringVar(&s.splitBy, "split-by", "", "write one QR sheet per value of this column, e.g. Site (qr-codes-<value>.pdf)")
	fs.StringVar(&s.fontFile, "font", "", "font file (.ttf, .otf, .ttc) tried first for label captions")
	fs.IntVar(&s.pagesPerFile, "pages-per-file", qrsheet.DefaultMaxPages, "pages per QR sheet file; a longer sheet is written in numbered parts")
	fs.StringVar(&s.title, "title", "", "the name in each QR sheet page's header after the title (default the tenant's name, from Microsoft Entra ID, else its id)")
}

func (s *sheetFlags) check() error {
	switch s.labelsPerPage {
	case 1, 2, 4, 6:
	default:
		return usagef("--labels-per-page %d: use 1, 2, 4 or 6", s.labelsPerPage)
	}
	if s.pagesPerFile < 1 {
		return usagef("--pages-per-file %d: use 1 or more", s.pagesPerFile)
	}
	var files []string
	if s.fontFile != "" {
		files = append(files, s.fontFile)
	}
	fonts, err := typeset.NewFonts(files...)
	if err != nil {
		return usagef("--font: %w", err)
	}
	s.fonts = fonts
	return nil
}

// checkColumns refuses --label-columns that name no column of the input:
// the same usage error (exit 2) in every command that prints.
func (s *sheetFlags) checkColumns(extra []string) error {
	if _, _, err := qrsheet.LabelsFromResults(nil, extra, s.columns(), time.Now()); err != nil {
		return &usageError{fmt.Errorf("--label-columns: %w", err)}
	}
	if s.splitBy != "" {
		if _, err := qrsheet.ColumnValues(nil, nil, extra, s.splitBy); err != nil {
			return &usageError{fmt.Errorf("--split-by: %w", err)}
		}
	}
	return nil
}

func (s *sheetFlags) columns() []string {
	var cols []string
	for _, c := range strings.Split(s.labelColumns, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}

// spec is the sheet the flags ask for, dated start.
func (s *sheetFlags) spec(start time.Time) qrsheet.Spec {
	return qrsheet.Spec{
		Options: qrsheet.Options{
			Paper: s.paper, LabelsPerPage: s.labelsPerPage,
			Title: qrsheet.DefaultTitle, Date: start, Now: time.Now(),
			Fonts: s.fonts, MaxPages: s.pagesPerFile,
			Tenant: cmp.Or(s.title, s.tenant), Simulated: s.simulated,
		},
		Columns: s.columns(), SplitBy: s.splitBy,
	}
}
