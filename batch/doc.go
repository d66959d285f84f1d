// Package batch runs the job: it checks which rows already exist in the
// tenant, fans the rest out to a bounded group of workers that share one
// pacer, retries what the service failed in a transient way without ever
// creating a profile twice, and records the outcome of every row.
//
// A row's failure is that row's result, never the group's error: only a
// fatal condition (the token rejected twice, a missing permission) cancels
// the run. When the job is asked to stop, no further rows are handed out,
// requests in flight finish, and rows never sent stay not_attempted.
//
// The job goes by stages, a file each:
//
//   - file.go: the way in from an input file: a first pass (ScanFile) that
//     validates and counts every row and keeps the names prune protects,
//     then the job over a second pass (StreamFile); the two passes compare
//     the file's content, and rows of a file that changed between them are
//     recorded not_attempted. In a run over several tenants, SplitFile
//     reads the file once more, putting each tenant's rows aside, and each
//     tenant's second pass reads its own rows from there.
//   - job.go: Job, its Options and the errors it returns; Run and Stream,
//     which read the rows one by one, classify each, and fan the rows that
//     need work out to a group of at most Concurrency goroutines; an item
//     is one row on its way, and a row never sent is settled by notSent.
//   - census.go: the Census, a first pass over the input that Stream needs
//     before it sends anything (--strict holds every row back when one is
//     invalid, and a file of invalid rows lists nothing).
//   - names.go: the sheet's names, looked up once before anything is
//     posted: the tenant's scope tags (only when a roleScopeTagIds entry is
//     a name) and each deviceGroup's group with its owners; the rows they
//     make invalid count for --strict, and each row of the second pass is
//     resolved from the answers (tag names become ids).
//   - tenant.go: listing the tenant once, before any row is sent: the
//     profiles by name, the ids there before the run, and the rule of one
//     Teams device profile per tenant.
//   - classify.go: deciding each row's work from what the tenant holds and
//     --on-exists: create, update, renew, read its QR content, or none
//     with the result settled (exists, failed, invalid, or planned under
//     --dry-run).
//   - create.go: posting a row, resending after transient failures as
//     graph.Retries counts them, and looking the name up before any resend
//     (and after giving up), so that a lost answer never makes a second
//     profile.
//   - update.go: patching what differs from the tenant's profile, and
//     renewing the tokens that expire within --renew-within.
//   - group.go: a profile's enrollment-time device group: set after the
//     create; with --on-exists update read back, then set or cleared when
//     it is not the row's (also in a plan, which only reads).
//   - content.go: reading a profile's token expiry and QR content back,
//     creating a token first when the service made none.
//   - token.go: token lifetimes (the row's expiry or --token-validity, cut
//     to what the mode allows) and token actions the service refused for
//     one profile.
//   - record.go: what goes into a row's result and its log event: errors,
//     notes, expiries in the zone the row gave.
//   - ordered.go: emitting results in input order while holding only the
//     rows in flight, and warning on rows that got the same profile id.
package batch
