// Package output writes what a run leaves behind: the results workbook
// (results.xlsx), its CSV twin (results.csv) and the printable sheet of QR
// codes (qr-codes.pdf). It also reads a results workbook back so that a sheet
// can be reprinted. Every file is written atomically with mode 0600 through
// package atomicfile: the QR codes enroll devices into the tenant.
package output

import (
	"os"

	"github.com/enrollbatch/enrollbatch/atomicfile"
)

// Rename is where atomicfile's renames go while output is linked in, kept
// for the tests of package internal/cli, which replace it to fail the way
// Windows does when a file is open in Excel.
//
// Deprecated: tests replace atomicfile.Rename.
var Rename = os.Rename

func init() { atomicfile.Rename = func(src, dst string) error { return Rename(src, dst) } }
