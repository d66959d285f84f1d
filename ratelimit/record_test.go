package ratelimit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRecordBackToBackRuns(t *testing.T) {
	// A run of 80 writes, then right after it a run of the 300-row sheet
	// that holds them (220 to create), against one window of 100 writes
	// per 20 s. The second run knows from the record what the first still
	// holds in the window: it is never throttled, and ends within 10% of
	// the ideal.
	path := filepath.Join(t.TempDir(), "host_tenant.window")
	g := &gateway{limit: 100, window: 20 * time.Second}
	fc := NewFakeClock(epoch0)
	first := New(Config{WriteBudget: 100, RequestBudget: 1000, Adaptive: true, Clock: fc})
	save := first.Remember(path)
	runJobOn(t, fc, first, g, 80, 16, 50*time.Millisecond)
	save()
	save() // a second call does nothing

	fc.Advance(time.Second)
	prior := slices.Clone(g.log)
	accepted := len(g.accepted)
	second := New(Config{WriteBudget: 100, RequestBudget: 1000, Adaptive: true, Clock: fc})
	defer second.Remember(path)()
	start := fc.Now()
	res := runJobOn(t, fc, second, g, 220, 16, 50*time.Millisecond)
	span := res.accepted[len(res.accepted)-1].Add(50 * time.Millisecond).Sub(start)
	ideal := IdealSpan(prior, 100, 20*time.Second, time.Time{}, 0, 220, start, 50*time.Millisecond)
	t.Logf("second run: 220 writes in %v, ideal %v (%.3f); %d throttled", span, ideal, span.Seconds()/ideal.Seconds(), res.throttled)
	if res.throttled != 0 || res.early != 0 {
		t.Errorf("%d throttled, %d inside a Retry-After; want none", res.throttled, res.early)
	}
	if len(res.accepted)-accepted != 220 {
		t.Fatalf("%d accepted in the second run", len(res.accepted)-accepted)
	}
	if span > ideal+ideal/10 {
		t.Errorf("220 writes took %v, want within 10%% of the ideal %v", span, ideal)
	}
}

func readRecordFile(t *testing.T, path string) recordFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f recordFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("record is not JSON: %v: %q", err, b)
	}
	return f
}

// sendWrites lets n writes go on p, answered at once.
func sendWrites(t *testing.T, fc *FakeClock, p *Pacer, n int) {
	t.Helper()
	for range n {
		tk, err := p.WaitWrite(guard(t))
		if err != nil {
			t.Fatal(err)
		}
		p.Succeeded(tk)
		fc.Advance(10 * time.Millisecond)
	}
}

func TestRecordMissingDamagedOrOld(t *testing.T) {
	dir := t.TempDir()
	fc := NewFakeClock(epoch0)
	now := epoch0.UnixMilli()
	tests := []struct {
		name    string
		content string // "" for no file
		want    int    // write budget room taken at the start
	}{
		{"missing", "", 0},
		{"damaged", `{"version":1,"writers":[{"id":"x","writes":[1,2,`, 0},
		{"not JSON", "\x00\x01garbage", 0},
		{"another version", `{"version":9,"writers":[{"id":"x","writes":[` + itoa(now+5000) + `]}]}`, 0},
		{"all past", `{"version":1,"writers":[{"id":"x","writes":[` + itoa(now-1) + `,` + itoa(now-20000) + `]}]}`, 0},
		{"live", `{"version":1,"writers":[{"id":"x","writes":[` + itoa(now+5000) + `,` + itoa(now+19000) + `],"reads":[` + itoa(now+3000) + `]}]}`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".window")
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p := New(Config{WriteBudget: 3, RequestBudget: 10, Adaptive: true, Clock: fc})
			save := p.Remember(path)
			p.mu.Lock()
			room := p.roomAtLocked(fc.Now(), true, 3, 0)
			full := fc.Now()
			if tc.want > 0 {
				full = p.roomAtLocked(fc.Now(), true, tc.want, 0)
			}
			got := 0
			for _, e := range p.earlier {
				if e.write {
					got++
				}
			}
			p.mu.Unlock()
			if got != tc.want || !room.Equal(fc.Now()) || (tc.want > 0 && !full.After(fc.Now())) {
				t.Errorf("%d earlier writes (room for the third at %v, for the %dth at %v), want %d",
					got, room.Sub(fc.Now()), tc.want, full.Sub(fc.Now()), tc.want)
			}
			sendWrites(t, fc, p, 1)
			save()
			f := readRecordFile(t, path)
			if f.Version != recordVersion {
				t.Errorf("version %d after saving", f.Version)
			}
			own := 0
			for _, w := range f.Writers {
				if w.ID != "x" {
					own += len(w.Writes)
				}
			}
			if own != 1 {
				t.Errorf("the record holds %d writes of this job, want 1: %+v", own, f)
			}
		})
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestRecordFromTheFutureHoldsAWindowAtMost(t *testing.T) {
	// A damaged record, or a clock set back, names moments an hour ahead:
	// they count for a budget window and its margin at the most.
	path := filepath.Join(t.TempDir(), "r.window")
	fc := NewFakeClock(epoch0)
	far := epoch0.Add(time.Hour).UnixMilli()
	os.WriteFile(path, []byte(`{"version":1,"writers":[{"id":"x","writes":[`+itoa(far)+`]}]}`), 0o600)
	p := New(Config{WriteBudget: 1, Adaptive: true, Clock: fc})
	defer p.Remember(path)()
	p.mu.Lock()
	room := p.roomAtLocked(fc.Now(), true, 1, 0)
	p.mu.Unlock()
	if want := DefaultBudgetWindow + DefaultBudgetMargin; room.Sub(epoch0) != want {
		t.Errorf("room after %v, want %v", room.Sub(epoch0), want)
	}
}

func TestRecordKeepsEveryWriter(t *testing.T) {
	// Two processes save the same record: each keeps its own entry and the
	// other's; entries that stopped counting go.
	path := filepath.Join(t.TempDir(), "r.window")
	fc := NewFakeClock(epoch0)
	a := New(Config{WriteBudget: 100, Adaptive: true, Clock: fc})
	b := New(Config{WriteBudget: 100, Adaptive: true, Clock: fc})
	saveA, saveB := a.Remember(path), b.Remember(path)
	sendWrites(t, fc, a, 3)
	sendWrites(t, fc, b, 2)
	saveA()
	saveB()
	f := readRecordFile(t, path)
	var counts []int
	for _, w := range f.Writers {
		counts = append(counts, len(w.Writes))
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{2, 3}) {
		t.Fatalf("writers' writes %v, want [2 3]", counts)
	}
	// A window later a third run saves: the old entries are gone.
	fc.Advance(time.Minute)
	c := New(Config{WriteBudget: 100, Adaptive: true, Clock: fc})
	saveC := c.Remember(path)
	if len(c.earlier) != 0 {
		t.Errorf("%d earlier sends a minute later, want none", len(c.earlier))
	}
	sendWrites(t, fc, c, 1)
	saveC()
	if f := readRecordFile(t, path); len(f.Writers) != 1 || len(f.Writers[0].Writes) != 1 {
		t.Errorf("record %+v, want only the third run's write", f)
	}
}

func TestRecordSavedWhileSending(t *testing.T) {
	// The record is saved about every second while requests leave, so a
	// run that is killed leaves most of its window behind.
	path := filepath.Join(t.TempDir(), "r.window")
	fc := NewFakeClock(epoch0)
	p := New(Config{WriteBudget: 1000, Adaptive: true, Clock: fc})
	p.Remember(path)
	sendWrites(t, fc, p, 150) // 1.5 s
	if f := readRecordFile(t, path); len(f.Writers) != 1 || len(f.Writers[0].Writes) < 90 {
		t.Errorf("record while sending: %+v, want the writes of the first second", f)
	}
}

func TestRecordSavedByTwoAtOnceStaysWhole(t *testing.T) {
	// Two writers save the same record over and over while a reader reads
	// it: every read is a whole record, and in the end both entries are
	// there.
	path := filepath.Join(t.TempDir(), "r.window")
	now := epoch0
	until := now.Add(10 * time.Second).UnixMilli()
	writers := []*record{{path: path, id: "a"}, {path: path, id: "b"}}
	done := make(chan struct{})
	var reads, bad int
	go func() {
		defer close(done)
		for range 300 {
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			reads++
			var f recordFile
			if json.Unmarshal(b, &f) != nil || f.Version != recordVersion {
				bad++
			}
		}
	}()
	var wg sync.WaitGroup
	for i, r := range writers {
		wg.Go(func() {
			for j := range 100 {
				w := recordWriter{Writes: make([]int64, 1+(i+j)%5)}
				for k := range w.Writes {
					w.Writes[k] = until
				}
				r.save(w, now)
			}
		})
	}
	wg.Wait()
	<-done
	if bad != 0 {
		t.Errorf("%d of %d reads were not a whole record", bad, reads)
	}
	for _, r := range writers { // a last save each, one after the other
		r.save(recordWriter{Writes: []int64{until}}, now)
	}
	if f := readRecordFile(t, path); len(f.Writers) != 2 {
		t.Errorf("record %+v, want both writers", f)
	}
	if _, err := os.Stat(path + ".lk"); !os.IsNotExist(err) {
		t.Errorf("the lock file is left behind: %v", err)
	}
}
