//go:build linux || darwin

package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

// screen interprets what a terminal is sent the way the terminal shows it:
// a carriage return goes back to the start of the line, ESC[K and ESC[2K
// clear it, a newline starts the next one. frames are the line's contents
// each time it was redrawn.
type screen struct {
	lines  []string
	cur    []rune
	col    int
	frames []string
}

func (s *screen) feed(b []byte) {
	rs := []rune(string(b))
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			s.frames = append(s.frames, string(s.cur))
			s.col = 0
		case '\n':
			s.lines = append(s.lines, strings.TrimRight(string(s.cur), " "))
			s.cur, s.col = nil, 0
		case 0x1b:
			// CSI: ESC [ params final
			j := i + 1
			if j < len(rs) && rs[j] == '[' {
				j++
				start := j
				for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
					j++
				}
				if j < len(rs) && rs[j] == 'K' {
					switch string(rs[start:j]) {
					case "", "0":
						s.cur = s.cur[:min(s.col, len(s.cur))]
					case "2":
						s.cur = nil
					}
				}
				i = j
			}
		default:
			if s.col < len(s.cur) {
				s.cur[s.col] = r
			} else {
				s.cur = append(s.cur, r)
			}
			s.col++
		}
	}
}

// TestProgressUnderTerminal runs the job under a pseudo-terminal against a
// throttling simulator and checks what a person watching sees: the state,
// the count, the rate and the time left on the bar, the Retry-After pause
// counted down, log lines on lines of their own above the bar, and a clean
// summary at the end.
func TestProgressUnderTerminal(t *testing.T) {
	t.Parallel()
	_, url := simServer(t, sim.Options{Latency: 30 * time.Millisecond, Limit: 6, Window: time.Second})
	var b strings.Builder
	b.WriteString("displayName,tokenExpirationDateTime\n")
	for i := 1; i <= 24; i++ {
		b.WriteString("Till " + string(rune('A'+i-1)) + ",2030-01-01\n")
	}
	b.WriteString("Broken,31.02.2030\n")
	path := filepath.Join(t.TempDir(), "p.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "run", path, "--graph-url", url, "--rate", "0", "--concurrency", "4", "--out", t.TempDir())
	cmd.Env = []string{"GRAPH_ACCESS_TOKEN=t", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer f.Close()
	var raw bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&raw, f) // ends with EIO when the process exits
		close(done)
	}()
	err = cmd.Wait()
	<-done
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %d, want 1 (one invalid row); output:\n%q", cmd.ProcessState.ExitCode(), raw.String())
	}
	var s screen
	s.feed(raw.Bytes())
	var sawCreating, sawRate, sawPaused bool
	for _, fr := range s.frames {
		// The bar counts every row of the sheet as it is settled, the
		// invalid one too.
		if strings.Contains(fr, "creating") && strings.Contains(fr, "/25") {
			sawCreating = true
		}
		if strings.Contains(fr, "rows/s") || strings.Contains(fr, "rows/min") {
			sawRate = true
		}
		if strings.Contains(fr, "paused") && strings.Contains(fr, "the service asked us to wait") {
			sawPaused = true
		}
		if strings.Contains(fr, "rows") && strings.Contains(fr, "[") && !strings.Contains(fr, "msg=") && len([]rune(fr)) > 100 {
			t.Errorf("a bar frame is wider than the 100-column terminal: %q", fr)
		}
	}
	if !sawCreating || !sawRate || !sawPaused {
		t.Errorf("bar frames: creating with count %v, rate %v, Retry-After pause %v; frames:\n%s",
			sawCreating, sawRate, sawPaused, strings.Join(s.frames, "\n"))
	}
	text := strings.Join(s.lines, "\n")
	var logLine, summary bool
	for _, l := range s.lines {
		if strings.Contains(l, "row 26, Broken: invalid") && strings.Contains(l, "31.02.2030") {
			logLine = true
			if strings.Contains(l, "[#") || strings.Contains(l, "rows/s") {
				t.Errorf("log line glued to the bar: %q", l)
			}
		}
		if strings.HasPrefix(l, "25 row(s):") {
			summary = true
		}
	}
	if !logLine || !summary {
		t.Errorf("screen lacks the invalid row's log line (%v) or the summary (%v):\n%s", logLine, summary, text)
	}
}
