package ratelimit

// This file keeps the cross-run record: what the runs of one tenant sent in
// the last budget window, so that a run started right after another does not
// spend the budget the first still holds in the service's window.
//
// The record is a small JSON file (RecordPath: next to the tenant's lock).
// Each process writes its own entry, under an id of its own, and keeps the
// entries of the others that still count:
//
//	{"version":1,"writers":[{"id":"4242-1733430000000000000","saved":1733430012345,
//	  "writes":[1733430031000,...],"reads":[1733430030950,...]}]}
//
// writes and reads hold, in Unix milliseconds, the moment each request of
// that process stops counting against the budgets (its send time plus the
// budget window plus its margin). A save reads the file, drops the entries
// that no longer count and the writer's own old entry, adds the writer's
// current one and replaces the file by renaming a complete temporary file
// over it, so a reader never sees half a file. Two processes saving at once
// take turns through a lock file beside it (taken over when older than a few
// seconds); a save that loses a race is made whole by that writer's next
// save, since each save writes every send of the writer that still counts.
//
// Reading never fails the job: a missing, unreadable, damaged or
// other-version file counts as empty (and is replaced at the next save);
// moments already past are dropped, and moments further ahead than a budget
// window plus its margin (a damaged file, or a clock set back) are cut to
// that, so a record can hold a job back by one window at the most.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/enrollbatch/enrollbatch/atomicfile"
)

// recordEvery is how often a job saves its record while it sends.
const recordEvery = time.Second

// recordVersion is the format of the record file.
const recordVersion = 1

// maxRecordFile bounds what is read of a record file.
const maxRecordFile = 4 << 20

// earlierRuns is what the record said earlier runs sent, and the record the
// job keeps.
type earlierRuns struct {
	earlier []earlierSend
	rec     atomic.Pointer[record]
}

// earlierSend is a request of an earlier run that still counts against the
// budgets until until.
type earlierSend struct {
	until time.Time
	write bool
}

// record is the record file a job keeps.
type record struct {
	path string
	id   string
	mu   sync.Mutex   // one save at a time
	next atomic.Int64 // Unix nanoseconds of the next periodic save
}

type recordFile struct {
	Version int            `json:"version"`
	Writers []recordWriter `json:"writers"`
}

type recordWriter struct {
	ID     string  `json:"id"`
	Saved  int64   `json:"saved"`
	Writes []int64 `json:"writes,omitempty"`
	Reads  []int64 `json:"reads,omitempty"`
}

// RecordPath returns the record file kept beside the lock file lockPath:
// the same name with ".window" for ".lock".
func RecordPath(lockPath string) string {
	return strings.TrimSuffix(lockPath, ".lock") + ".window"
}

// Remember makes the job's budgets count what earlier runs of the tenant,
// as recorded at path, sent in the last budget window, and keeps the record
// of what this job sends there: it is saved about every second while
// requests leave, and by the returned function, which the job calls once
// after its last request (later calls do nothing). Call Remember before the
// first request. It never fails: without a usable record the job starts as
// if the window were empty.
func (p *Pacer) Remember(path string) (save func()) {
	now := p.clock.Now()
	f := readRecord(path)
	r := &record{path: path, id: fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())}
	p.mu.Lock()
	latest := now.Add(p.budgetSpan)
	for _, w := range f.Writers {
		for _, list := range []struct {
			ms    []int64
			write bool
		}{{w.Writes, true}, {w.Reads, false}} {
			for _, ms := range list.ms {
				until := time.UnixMilli(ms)
				if !until.After(now) || len(p.earlier) >= maxLog {
					continue
				}
				if until.After(latest) {
					until = latest
				}
				p.earlier = append(p.earlier, earlierSend{until: until, write: list.write})
			}
		}
	}
	if n := len(p.earlier); n > 0 {
		p.log.Debug("pacer remembers earlier runs", "requests", n, "record", path)
	}
	p.mu.Unlock()
	r.next.Store(now.Add(recordEvery).UnixNano())
	p.rec.Store(r)
	var once sync.Once
	return func() {
		once.Do(func() {
			p.rec.Store(nil)
			r.mu.Lock()
			defer r.mu.Unlock()
			r.save(p.ownSends())
		})
	}
}

// saveRecordIfDue saves the record when a second has passed since the last
// save and no other save is under way.
func (p *Pacer) saveRecordIfDue() {
	r := p.rec.Load()
	if r == nil {
		return
	}
	now := p.clock.Now()
	if now.UnixNano() < r.next.Load() || !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	if p.rec.Load() != r {
		return // the final save has run
	}
	r.next.Store(now.Add(recordEvery).UnixNano())
	r.save(p.ownSends())
}

// ownSends returns the job's sends that still count against the budgets, as
// a record entry, and the pacer's time.
func (p *Pacer) ownSends() (recordWriter, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	var w recordWriter
	for _, s := range p.sends {
		end := s.at.Add(s.span)
		if !end.After(now) {
			continue
		}
		if s.write {
			w.Writes = append(w.Writes, end.UnixMilli())
		} else {
			w.Reads = append(w.Reads, end.UnixMilli())
		}
	}
	// Earlier runs' sends drop out of the budgets once they stop counting.
	keep := p.earlier[:0]
	for _, e := range p.earlier {
		if e.until.After(now) {
			keep = append(keep, e)
		}
	}
	clear(p.earlier[len(keep):])
	p.earlier = keep
	return w, now
}

// save writes own, the writer's current entry, into the record file,
// keeping the other writers' entries that still count at now. Errors are
// dropped: the record only spares a later run some throttling.
func (r *record) save(own recordWriter, now time.Time) {
	unlock := lockRecord(r.path + ".lk")
	defer unlock()
	old := readRecord(r.path)
	f := recordFile{Version: recordVersion}
	nowMS := now.UnixMilli()
	live := func(ms []int64) []int64 {
		var out []int64
		for _, v := range ms {
			if v > nowMS {
				out = append(out, v)
			}
		}
		return out
	}
	for _, w := range old.Writers {
		if w.ID == r.id {
			continue
		}
		w.Writes, w.Reads = live(w.Writes), live(w.Reads)
		if len(w.Writes)+len(w.Reads) > 0 {
			f.Writers = append(f.Writers, w)
		}
	}
	if len(own.Writes)+len(own.Reads) > 0 {
		own.ID, own.Saved = r.id, nowMS
		f.Writers = append(f.Writers, own)
	}
	if len(f.Writers) == 0 && len(old.Writers) == 0 {
		if _, err := os.Stat(r.path); errors.Is(err, os.ErrNotExist) {
			return // nothing to keep, and no file to clear
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	_ = atomicfile.WriteFile(r.path, b)
}

// readRecord reads the record file at path; a missing, unreadable or
// damaged file, or one of another version, reads as empty.
func readRecord(path string) recordFile {
	fh, err := os.Open(path)
	if err != nil {
		return recordFile{}
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxRecordFile))
	if err != nil {
		return recordFile{}
	}
	var f recordFile
	if json.Unmarshal(b, &f) != nil || f.Version != recordVersion {
		return recordFile{}
	}
	return f
}

// Timing of the record's lock file.
const (
	recordLockWait  = 200 * time.Millisecond // longest wait for another saver
	recordLockStale = 5 * time.Second        // a lock file this old was left behind
)

// lockRecord takes the lock file path, waiting up to recordLockWait for
// another process's save; a lock file older than recordLockStale is taken
// over. Without the lock the save goes ahead anyway (the rename keeps the
// file whole). It returns the function that releases the lock.
func lockRecord(path string) (unlock func()) {
	deadline := time.Now().Add(recordLockWait)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }
		}
		if !errors.Is(err, os.ErrExist) {
			return func() {}
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > recordLockStale {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return func() {}
		}
		time.Sleep(5 * time.Millisecond)
	}
}
