// Package output writes what a run leaves behind: the results workbook
// (results.xlsx), its CSV twin (results.csv) and the printable sheet of QR
// codes (qr-codes.pdf). It also reads a results workbook back so that a sheet
// can be reprinted. Every file is written atomically with mode 0600 through
// package atomicfile: the QR codes enroll devices into the tenant.
package output
