// Package output writes what a run leaves behind in its folder: the results
// workbook (results.xlsx, read back for reprints), its CSV twin
// (results.csv), a dry run's plan.xlsx, the summary.xlsx of a run over
// several tenants, and the run's record (the spool each result goes to as
// it is settled, codes carried over from earlier runs in the folder). It
// checks before a run that its files can be written (Preflight) and never
// replaces a file enrollbatch did not write (CheckReplace). WriteRun writes
// a run's files in one call, the QR sheet through package qrsheet.
//
// Every file is written atomically with mode 0600 through package
// atomicfile: the QR codes it holds enroll devices into the tenant.
package output
