package input

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// largeNow is the clock the generated large files are read against: their
// expiries lie within a year of it.
var largeNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// largeValues returns the cells of generated row i (0-based): a unique
// name, a description, an expiry, a mode, scope tags and an extra column.
// Every 1,000th row repeats an earlier name and every 500th has a mode the
// service does not know, so the large files carry problems too.
func largeValues(i int) (name, desc string, exp time.Time, mode, tags, site string) {
	name = fmt.Sprintf("Store %06d Scanners", i)
	if i%1000 == 999 {
		name = fmt.Sprintf("store %06d scanners", i-1)
	}
	mode = "corporateOwnedDedicatedDevice"
	switch {
	case i%500 == 250:
		mode = "kioskMode"
	case i%3 == 1:
		mode = "corporateOwnedAOSPUserlessDevice"
	}
	return name, fmt.Sprintf("Zebra TC52, aisle %d", i%40), largeNow.AddDate(0, 0, 30+i%60),
		mode, fmt.Sprintf("0, %d", 1+i%7), fmt.Sprintf("Site %d", i%250)
}

var largeHeaders = []string{"Display Name", "Description", "Token Expiration Date Time", "Enrollment Mode", "Role Scope Tag IDs", "Site"}

// writeLargeCSV writes a CSV file of n generated rows and returns its path.
func writeLargeCSV(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("large-%d.csv", n))
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(fh)
	fmt.Fprintln(w, "Display Name;Description;Token Expiration Date Time;Enrollment Mode;Role Scope Tag IDs;Site")
	for i := range n {
		name, desc, exp, mode, tags, site := largeValues(i)
		fmt.Fprintf(w, "%s;\"%s\";%s;%s;\"%s\";%s\n", name, desc, exp.Format("2006-01-02"), mode, tags, site)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// writeLargeXLSX writes a workbook of n generated rows, the expiries as
// date cells, and returns its path. The sheet is written as a stream, so a
// large file is made in seconds.
func writeLargeXLSX(tb testing.TB, n int) string {
	tb.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	dateStyle, err := wb.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		tb.Fatal(err)
	}
	sw, err := wb.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	head := make([]any, len(largeHeaders))
	for i, h := range largeHeaders {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		name, desc, exp, mode, tags, site := largeValues(i)
		vals := []any{name, desc, excelize.Cell{StyleID: dateStyle, Value: exp}, mode, tags, site}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), vals); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), fmt.Sprintf("large-%d.xlsx", n))
	if err := wb.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkRead reads 20,000 rows with Read, which holds them all.
func BenchmarkRead(b *testing.B) {
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			const n = 20000
			path := writeLargeCSV(b, n)
			if format == "xlsx" {
				path = writeLargeXLSX(b, n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				f, err := Read(path, Options{Now: func() time.Time { return largeNow }})
				if err != nil {
					b.Fatal(err)
				}
				if len(f.Rows) != n {
					b.Fatalf("%d rows, want %d", len(f.Rows), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}

// BenchmarkNext reads 20,000 rows with Open and Next, keeping none.
func BenchmarkNext(b *testing.B) {
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			const n = 20000
			path := writeLargeCSV(b, n)
			if format == "xlsx" {
				path = writeLargeXLSX(b, n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r, err := Open(path, Options{Now: func() time.Time { return largeNow }})
				if err != nil {
					b.Fatal(err)
				}
				count := 0
				for {
					_, err := r.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
				if count != n {
					b.Fatalf("%d rows, want %d", count, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
