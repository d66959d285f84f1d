package main

// The scenarios of a window that others share: back-to-back runs of one
// tenant, another app's one-off burst, and a lower limit that lifts. Each
// runs the binary as a process against the documented window and compares
// its span with the ideal: the least time the service's window allows,
// computed from the writes it had already counted when the run started.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enrollbatch/enrollbatch/ratelimit"
)

// limitGate is a lower write limit in front of the simulator, as another
// app that takes part of the window would leave: at most limit writes per
// sliding window, until it lifts (lift after the first request). It
// answers over-limit writes as the simulator does: 429 after the latency,
// Retry-After in whole seconds, rounded up; every write counts, refused or
// not. It counts requests that arrive inside a Retry-After it announced.
type limitGate struct {
	limit   int
	window  time.Duration
	latency time.Duration
	lift    time.Duration

	mu        sync.Mutex
	start     time.Time
	log       []time.Time
	announced []announcement
	inside    int
	refused   int
}

type announcement struct{ from, until time.Time }

// liftAt is when the gate lifts; zero before the first request.
func (g *limitGate) liftAt() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.start.IsZero() {
		return time.Time{}
	}
	return g.start.Add(g.lift)
}

// refuse answers r with 429 and reports true when the gate's window is
// full; otherwise r goes on to the simulator.
func (g *limitGate) refuse(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	g.mu.Lock()
	if g.start.IsZero() {
		g.start = now
	}
	for _, a := range g.announced {
		if now.After(a.from) && now.Before(a.until) {
			g.inside++
			break
		}
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if !write || !now.Before(g.start.Add(g.lift)) {
		g.mu.Unlock()
		return false
	}
	from := now.Add(-g.window)
	i := 0
	for i < len(g.log) && !g.log[i].After(from) {
		i++
	}
	g.log = append(g.log[i:], now)
	n := len(g.log)
	if n <= g.limit {
		g.mu.Unlock()
		return false
	}
	free := g.log[n-g.limit].Add(g.window)
	g.refused++
	g.mu.Unlock()

	time.Sleep(g.latency)
	deliver := time.Now()
	secs := max(int64(math.Ceil(free.Sub(deliver).Seconds())), 1)
	g.mu.Lock()
	g.announced = append(g.announced, announcement{deliver.Add(2 * time.Millisecond), deliver.Add(time.Duration(secs) * time.Second)})
	g.mu.Unlock()
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Too many requests."}}`)
	return true
}

func (g *limitGate) insideCount() int  { g.mu.Lock(); defer g.mu.Unlock(); return g.inside }
func (g *limitGate) refusedCount() int { g.mu.Lock(); defer g.mu.Unlock(); return g.refused }

// idealSpan is ratelimit.IdealSpan against Intune's window and the
// bench's latency.
func idealSpan(prior []time.Time, limit int, liftAt time.Time, lifted, n int, start time.Time) time.Duration {
	return ratelimit.IdealSpan(prior, limit, intuneWindow, liftAt, lifted, n, start, latency)
}

// writesBefore returns the arrival times of the writes the service counted
// before t.
func (rc *recorder) writesBefore(t time.Time) []time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []time.Time
	for _, a := range rc.writes {
		if a.at.Before(t) {
			out = append(out, a.at)
		}
	}
	return out
}

// fullWindowAfter returns how long after from the writes the service
// accepted first fill want of a window.
func (rc *recorder) fullWindowAfter(from time.Time, want int) (time.Duration, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var ok []time.Time
	for _, a := range rc.writes {
		if a.status == http.StatusCreated {
			ok = append(ok, a.at)
		}
	}
	for i, a := range ok {
		if a.Before(from) {
			continue
		}
		n := 0
		for j := i; j >= 0 && ok[j].After(a.Add(-intuneWindow)); j-- {
			n++
		}
		if n >= want {
			return a.Sub(from), true
		}
	}
	return 0, false
}

// otherApp sends n creates straight to the simulator at url, 8 at a time,
// as another app's one-off burst, and returns when all are answered.
func otherApp(url string, n int) error {
	coll := url + "/deviceManagement/androidDeviceOwnerEnrollmentProfiles"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 8 {
		wg.Go(func() {
			for i := range next {
				body := fmt.Sprintf(`{"displayName":"Other app %06d","tokenExpirationDateTime":"2027-06-30T00:00:00Z"}`, i)
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, coll, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer other")
				resp, err := hc.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("other app: status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := 1; i <= n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// checkRun checks a run that had created new rows of rows, the tenant
// holding tenant profiles afterwards.
func checkRun(r simRun, created, tenant int) error {
	if r.exit != 0 {
		return fmt.Errorf("exit %d (stderr: %s)", r.exit, tail(r.stderr))
	}
	if r.created != created || r.tenant != tenant || r.stats.Duplicates != 0 {
		return fmt.Errorf("%d created, %d profiles in the tenant, %d duplicates; want %d, %d, 0 (stderr: %s)",
			r.created, r.tenant, r.stats.Duplicates, created, tenant, tail(r.stderr))
	}
	return nil
}

// sharedWindow runs the scenarios of a shared window that want selects.
func sharedWindow(bin, tmp string, repeat int, want func(string) bool, t *table) error {
	verdict := func(span, ideal time.Duration, r simRun, extra ...string) error {
		missed := extra
		if ideal > 0 && span > ideal+ideal/10 {
			missed = append(missed, "more than 10% over ideal")
		}
		if r.stats.InsideRetryAfter > 0 || r.stats.Duplicates > 0 {
			missed = append(missed, "requests inside Retry-After or duplicates")
		}
		if len(missed) == 0 {
			return nil
		}
		return errors.New(strings.Join(missed, ", "))
	}
	for _, name := range []string{"backtoback", "backtoback-norecord"} {
		if !want(name) {
			continue
		}
		fresh := name == "backtoback-norecord"
		home := "one HOME (the tenant's lock and window record)"
		if fresh {
			home = "a HOME of its own for each run, so the second finds no window record (as when it is missing or damaged)"
		}
		fmt.Printf("\n**%s**: the simulator allows %d writes and %d requests per sliding %v, %v latency, whole-second Retry-After; `enrollbatch run` with default flags over 80 rows, then at once over the 300-row sheet that holds them (220 to create), %s, one simulator. Span of the second run: its first request to its last profile created; ideal: the least time the window allows, from the writes it held when the second run started.\n", name, intuneWrites, intuneRequests, intuneWindow, latency, home)
		t.header("run", "first run wall", "second run wall", "second span", "ideal", "span / ideal", "requests", "429s", "inside Retry-After", "duplicates", "result")
		for i := 1; i <= repeat; i++ {
			dir, err := os.MkdirTemp(tmp, name)
			if err != nil {
				return err
			}
			rc, url, stop, err := serve(intune())
			if err != nil {
				return err
			}
			first, err := runOn(bin, dir, dir, "sheet", 80, rc, url)
			if err == nil {
				err = checkRun(first, 80, 80)
			}
			if err != nil {
				stop()
				return fmt.Errorf("%s, first run: %w", name, err)
			}
			home2 := dir
			if fresh {
				if home2, err = os.MkdirTemp(dir, "home"); err != nil {
					stop()
					return err
				}
			}
			second, err := runOn(bin, dir, home2, "sheet", 300, rc, url)
			if err == nil {
				err = checkRun(second, 220, 300)
			}
			if err != nil {
				stop()
				return fmt.Errorf("%s, second run: %w", name, err)
			}
			ideal := idealSpan(rc.writesBefore(second.firstReq), intuneWrites, time.Time{}, 0, 220, second.firstReq)
			stop()
			os.RemoveAll(dir)
			span := second.createSpan()
			t.row(verdict(span, ideal, second), strconv.Itoa(i), secs(first.wall), secs(second.wall), secs(span), secs(ideal),
				fmt.Sprintf("%.2f", span.Seconds()/ideal.Seconds()), strconv.Itoa(second.stats.Requests), strconv.Itoa(second.stats.Throttled),
				strconv.Itoa(second.stats.InsideRetryAfter), strconv.Itoa(second.stats.Duplicates),
				fmt.Sprintf("first run: %d requests, %d 429s", first.stats.Requests, first.stats.Throttled))
		}
	}
	if want("burst") {
		fmt.Printf("\n**burst**: the same window; another client sends 70 creates (8 at a time) and stops; right after, `enrollbatch run` with default flags over 150 rows. Span: the run's first request to its last profile created; ideal: the least time the window allows with the other client's 70 in it.\n")
		t.header("run", "wall", "span", "ideal", "span / ideal", "requests", "429s", "inside Retry-After", "duplicates", "result")
		for i := 1; i <= repeat; i++ {
			dir, err := os.MkdirTemp(tmp, "burst")
			if err != nil {
				return err
			}
			rc, url, stop, err := serve(intune())
			if err != nil {
				return err
			}
			if err := otherApp(url, 70); err != nil {
				stop()
				return fmt.Errorf("burst: %w", err)
			}
			r, err := runOn(bin, dir, dir, "burst", 150, rc, url)
			if err == nil {
				err = checkRun(r, 150, 220)
			}
			if err != nil {
				stop()
				return fmt.Errorf("burst: %w", err)
			}
			ideal := idealSpan(rc.writesBefore(r.firstReq), intuneWrites, time.Time{}, 0, 150, r.firstReq)
			stop()
			os.RemoveAll(dir)
			span := r.createSpan()
			t.row(verdict(span, ideal, r), strconv.Itoa(i), secs(r.wall), secs(span), secs(ideal),
				fmt.Sprintf("%.2f", span.Seconds()/ideal.Seconds()), strconv.Itoa(r.stats.Requests), strconv.Itoa(r.stats.Throttled),
				strconv.Itoa(r.stats.InsideRetryAfter), strconv.Itoa(r.stats.Duplicates), "70 writes of another client in the window at the start")
		}
	}
	if want("lift") {
		const rows, lower = 500, 20
		lift := 2 * time.Minute
		fmt.Printf("\n**lift**: the same window, and in front of it another app's share: %d writes per sliding %v for %v from the run's first request, then the full %d; `enrollbatch run` with default flags over %d rows. Full again: from the lift to the first moment the run's accepted creates fill %d of a window. Span: first request to last profile created; ideal: the least time the two limits allow.\n", lower, intuneWindow, lift, intuneWrites, rows, intuneWrites*95/100)
		t.header("run", "wall", "full again after the lift", "span", "ideal", "span / ideal", "requests", "429s", "inside Retry-After", "duplicates", "result")
		for i := 1; i <= repeat; i++ {
			dir, err := os.MkdirTemp(tmp, "lift")
			if err != nil {
				return err
			}
			rc, url, stop, err := serve(intune())
			if err != nil {
				return err
			}
			rc.gate = &limitGate{limit: lower, window: intuneWindow, latency: latency, lift: lift}
			r, err := runOn(bin, dir, dir, "lift", rows, rc, url)
			if err == nil {
				err = checkRun(r, rows, rows)
			}
			if err != nil {
				stop()
				return fmt.Errorf("lift: %w", err)
			}
			liftAt := rc.gate.liftAt()
			full, ok := rc.fullWindowAfter(liftAt, intuneWrites*95/100)
			ideal := idealSpan(nil, lower, liftAt, intuneWrites, rows, r.firstReq)
			stop()
			os.RemoveAll(dir)
			span := r.createSpan()
			var extra []string
			if !ok || full > 3*intuneWindow {
				extra = append(extra, "not full again within 3 windows of the lift")
			}
			fullCell := "never"
			if ok {
				fullCell = fmt.Sprintf("%s (%.2f windows)", secs(full), full.Seconds()/intuneWindow.Seconds())
			}
			t.row(verdict(span, 0, r, extra...), strconv.Itoa(i), secs(r.wall), fullCell, secs(span), secs(ideal),
				fmt.Sprintf("%.2f", span.Seconds()/ideal.Seconds()), strconv.Itoa(r.stats.Requests), strconv.Itoa(r.stats.Throttled),
				strconv.Itoa(r.stats.InsideRetryAfter), strconv.Itoa(r.stats.Duplicates), "")
		}
	}
	return nil
}
