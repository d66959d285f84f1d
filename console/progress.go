// Package console is what a person watching the terminal sees: a progress
// display that says what the job is doing (listing the tenant, creating,
// paused because the service asked to wait, writing outputs) with the
// rate and the time left, log lines kept above it, and plain status lines
// instead of a bar when the output is not a terminal. It also keeps JSON
// logs pure: in JSON mode every line written is one JSON object.
package console

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Mode is how progress is shown.
type Mode int

// The modes of a progress display.
const (
	Off   Mode = iota // nothing is drawn
	Bar               // a bar redrawn in place on a terminal
	Lines             // one plain status line every Interval, for logs and pipes
)

// ProgressOptions tune a progress display.
type ProgressOptions struct {
	Mode     Mode
	Interval time.Duration // Lines mode: time between status lines; default 5 s
	// PausedUntil, when set, tells until when the service asked the job to
	// wait (Retry-After); the display counts the seconds down.
	PausedUntil func() time.Time
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ANSI says the terminal understands escape codes (colour, clearing
	// the line). Without them the bar is redrawn with carriage returns.
	ANSI bool
	// Width is the terminal's width in columns; 0 lets the bar find it.
	Width int
}

// Progress shows how far a job is. It is safe for concurrent use.
type Progress struct {
	opts ProgressOptions
	w    io.Writer

	mu       sync.Mutex
	state    string
	done     int
	total    int
	started  time.Time
	last     time.Time // Lines: when the last line was written
	bar      *progressbar.ProgressBar
	finished bool // Finish was called: writes go straight through
	stop     chan struct{}
	stopped  chan struct{}
}

// NewProgress returns a display writing to w. Call Finish when the job is
// done.
func NewProgress(w io.Writer, opts ProgressOptions) *Progress {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Progress{opts: opts, w: w, started: opts.Now()}
	p.last = p.started
	if opts.Mode == Bar {
		barOpts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionUseANSICodes(opts.ANSI),
			progressbar.OptionEnableColorCodes(false),
			progressbar.OptionSetTheme(progressbar.Theme{Saucer: "#", SaucerPadding: ".", BarStart: "[", BarEnd: "]"}),
		}
		if opts.Width > 0 {
			barOpts = append(barOpts, progressbar.OptionSetWidth(max(10, opts.Width/3)))
		} else {
			barOpts = append(barOpts, progressbar.OptionFullWidth())
		}
		p.bar = progressbar.NewOptions(-1, barOpts...)
	}
	if opts.Mode != Off {
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.refresh()
	}
	return p
}

// refresh redraws the state (the Retry-After countdown changes without any
// row finishing) and, in Lines mode, writes a status line every Interval.
func (p *Progress) refresh() {
	defer close(p.stopped)
	every := 250 * time.Millisecond
	if p.opts.Mode == Lines {
		every = min(every, p.opts.Interval)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick()
		}
	}
}

// tick is one refresh: a redraw of the bar's description, or in Lines mode
// a status line once Interval has passed since the last.
func (p *Progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	switch p.opts.Mode {
	case Bar:
		p.bar.Describe(p.describeLocked(now))
	case Lines:
		if now.Sub(p.last) >= p.opts.Interval {
			p.last = now
			fmt.Fprintln(p.w, p.lineLocked(now))
		}
	}
}

// SetState says what the job is doing now, e.g. "listing the tenant
// (page 3)", "creating" or "writing outputs".
func (p *Progress) SetState(s string) {
	if p.opts.Mode == Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
	if p.bar != nil {
		p.bar.Describe(p.describeLocked(p.opts.Now()))
	}
}

// Update records that done of total rows are finished.
func (p *Progress) Update(done, total int) {
	if p.opts.Mode == Off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	if p.bar != nil {
		if p.bar.GetMax() != total {
			p.bar.ChangeMax(total)
		}
		p.bar.Describe(p.describeLocked(p.opts.Now()))
		p.bar.Set(done)
	}
}

// describeLocked is the text before the bar: the state, or the
// Retry-After countdown when the job is paused.
func (p *Progress) describeLocked(now time.Time) string {
	if left := p.pausedLocked(now); left > 0 {
		return fmt.Sprintf("paused %d s: the service asked us to wait", int(left.Seconds()+0.999))
	}
	return p.state
}

func (p *Progress) pausedLocked(now time.Time) time.Duration {
	if p.opts.PausedUntil == nil {
		return 0
	}
	return p.opts.PausedUntil().Sub(now)
}

// lineLocked is one plain status line: state, count, rate and time left.
func (p *Progress) lineLocked(now time.Time) string {
	var b strings.Builder
	b.WriteString("progress: ")
	b.WriteString(p.describeLocked(now))
	elapsed := now.Sub(p.started)
	if p.total > 0 {
		fmt.Fprintf(&b, ", %d/%d rows (%d%%)", p.done, p.total, 100*p.done/p.total)
	}
	if secs := elapsed.Seconds(); secs > 0 && p.done > 0 {
		rate := float64(p.done) / secs
		fmt.Fprintf(&b, ", %.1f rows/s", rate)
		if p.total > p.done {
			eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", about %s left", eta.Round(time.Second))
		}
	}
	fmt.Fprintf(&b, ", %s elapsed", elapsed.Round(time.Second))
	return b.String()
}

// Writer returns a writer for log lines: in Bar mode each line is printed
// above the bar, which is then redrawn under it, so the two never mix.
func (p *Progress) Writer() io.Writer {
	if p.opts.Mode != Bar {
		return p.w
	}
	return &aboveBar{p: p}
}

type aboveBar struct {
	p   *Progress
	buf []byte
}

func (a *aboveBar) Write(b []byte) (int, error) {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	if a.p.finished {
		return a.p.w.Write(b)
	}
	a.buf = append(a.buf, b...)
	for {
		i := bytes.IndexByte(a.buf, '\n')
		if i < 0 {
			break
		}
		line := a.buf[:i+1]
		// Clear the bar's line, print the log line in its place, and draw
		// the bar again under it.
		a.p.bar.Clear()
		_, err := a.p.w.Write(line)
		a.buf = a.buf[i+1:]
		if err != nil {
			return len(b), err
		}
		a.p.bar.RenderBlank()
	}
	return len(b), nil
}

// Finish stops the display and clears the bar, so the summary that follows
// starts on a clean line. In Lines mode it writes a last status line.
func (p *Progress) Finish() {
	if p.opts.Mode == Off || p.stop == nil {
		return
	}
	close(p.stop)
	<-p.stopped
	p.stop = nil
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	switch p.opts.Mode {
	case Bar:
		p.bar.Exit()
		p.bar.Clear()
	case Lines:
		fmt.Fprintln(p.w, p.lineLocked(p.opts.Now()))
	}
}
