package batch

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"

	"github.com/enrollbatch/enrollbatch/results"
)

// ordered hands settled rows to emit in input order. Rows settle out of
// order (workers finish when they finish); a row waits here until every
// row before it is emitted, and the reader waits before it reads a row
// that would put more than window rows between the first one not emitted
// and the newest, so the rows held stay bounded whatever the input's size.
type ordered struct {
	job     *Job
	emit    func(*results.Result) error
	window  int
	total   int // rows in the input, for Progress
	mu      sync.Mutex
	room    *sync.Cond
	next    int           // index of the next row to emit
	pending map[int]*item // settled, waiting for an earlier row
	settled int
	err     error            // emit's first error; later rows go to unsaved
	unsaved []results.Result // rows emit did not take
	ids     map[idKey]int32  // the line of the first row that got each profile id
}

// idKey stands for a profile id in the map of ids seen: its 128-bit FNV-1a
// hash, 16 bytes, so that the map of a 100,000-row run stays small. Two
// ids share a hash with a probability near 10^-29 for such a run.
type idKey [16]byte

func keyOfID(id string) idKey {
	h := fnv.New128a()
	h.Write([]byte(id))
	var k idKey
	h.Sum(k[:0])
	return k
}

func newOrdered(j *Job, emit func(*results.Result) error, total, window int) *ordered {
	o := &ordered{job: j, emit: emit, window: window, total: total, pending: map[int]*item{}, ids: map[idKey]int32{}}
	o.room = sync.NewCond(&o.mu)
	return o
}

// reserve waits until the row at idx is within the window of the first
// row not emitted, or emit failed. The reader calls it before it reads
// each row.
func (o *ordered) reserve(idx int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for idx-o.next >= o.window && o.err == nil {
		o.room.Wait()
	}
}

// put settles it. The reader calls it for rows no worker takes, workers
// for the rows they finished. It returns emit's error once emit failed.
func (o *ordered) put(it *item) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !it.logged {
		o.job.logRow(&it.r)
	}
	o.settled++
	if o.job.Progress != nil {
		o.job.Progress(o.settled, o.total)
	}
	o.pending[it.idx] = it
	for {
		p, ok := o.pending[o.next]
		if !ok {
			break
		}
		delete(o.pending, o.next)
		o.next++
		o.noteShared(&p.r)
		if o.err == nil {
			if o.err = o.emit(&p.r); o.err == nil {
				continue
			}
		}
		o.unsaved = append(o.unsaved, p.r)
	}
	o.room.Broadcast()
	return o.err
}

// failed reports whether emit failed.
func (o *ordered) failed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err != nil
}

// wait is called once no row is in flight: rows still pending (after
// emit failed, or rows skipped when the input broke off) are added to the
// unsaved ones in order, and emit's failure is returned as an *EmitError.
func (o *ordered) wait() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		return nil
	}
	for len(o.pending) > 0 {
		if p, ok := o.pending[o.next]; ok {
			delete(o.pending, o.next)
			o.unsaved = append(o.unsaved, p.r)
		}
		o.next++
	}
	return &EmitError{Err: o.err, Unsaved: o.unsaved}
}

// noteShared warns on a row that got the profile id of an earlier row:
// one of them may have no profile of its own. The earlier row is already
// emitted; Run, which holds every result, warns on it too.
func (o *ordered) noteShared(r *results.Result) {
	if r.ID == "" {
		return
	}
	k := keyOfID(r.ID)
	first, seen := o.ids[k]
	if !seen {
		o.ids[k] = int32(r.Row)
		return
	}
	warnShared(o.job.Log, r, int(first))
}

// warnShared adds to r the note that it shares its id with row line.
func warnShared(log *slog.Logger, r *results.Result, line int) {
	note := fmt.Sprintf("warning: the service gave this row the same profile id %s as row %d; check the tenant: one of them may have no profile of its own", r.ID, line)
	r.Notes = append(r.Notes, note)
	if log != nil {
		log.Warn("row", "row", r.Row, "displayName", r.DisplayName, "id", r.ID, "warning", note)
	}
}

// noteEarlierSharedIDs gives the first row of each profile id that later
// rows share the warnings the later rows got as they were emitted.
func noteEarlierSharedIDs(rs []results.Result, log *slog.Logger) {
	first := map[string]int{}
	for i := range rs {
		id := rs[i].ID
		if id == "" {
			continue
		}
		j, seen := first[id]
		if !seen {
			first[id] = i
			continue
		}
		warnShared(log, &rs[j], rs[i].Row)
	}
}
