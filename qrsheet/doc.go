// Package qrsheet writes the printable sheet of QR codes (qr-codes.pdf):
// labels made from results (LabelsFromResults, FromResults, Write), each a
// code drawn as vector paths with its caption in any script, laid out 1 to
// 6 to a page, written in parts of at most Options.MaxPages pages (Writer) and, with
// a split column, as one sheet per value (WriteSheets). It also holds how
// times are shown to people (Shown, FormatTime), which the results workbook
// shares.
//
// Every file is written atomically with mode 0600 through package
// atomicfile: the codes enroll devices into the tenant. The package knows
// nothing of the results workbook: package output imports it, never the
// other way round.
package qrsheet
