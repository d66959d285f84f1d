package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestJSONLines(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	j := &JSONLines{W: &out, Now: func() time.Time { return now }}
	for _, chunk := range []string{
		`{"level":"INFO","msg":"row","row":2}` + "\n",
		"wrote out/res", "ults.xlsx\nwarning: profiles.csv: column \"Sitee\" is not a property\n",
		"\n", // blank lines vanish
		"enrollbatch: --rate -1: use a number\n",
		"no newline at the end",
	} {
		if _, err := j.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []struct{ level, msg string }{
		{"INFO", "row"},
		{"INFO", "wrote out/results.xlsx"},
		{"WARN", `warning: profiles.csv: column "Sitee" is not a property`},
		{"ERROR", "enrollbatch: --rate -1: use a number"},
		{"INFO", "no newline at the end"},
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var ev struct{ Level, Msg, Time string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %q", i+1, line)
		}
		if ev.Level != want[i].level || ev.Msg != want[i].msg {
			t.Errorf("line %d = %s/%q, want %s/%q", i+1, ev.Level, ev.Msg, want[i].level, want[i].msg)
		}
		if i > 0 && ev.Time != "2026-12-01T09:00:00Z" {
			t.Errorf("line %d time %q", i+1, ev.Time)
		}
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestProgressLines(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	var pausedUntil time.Time
	var out bytes.Buffer
	p := &Progress{opts: ProgressOptions{Mode: Lines, Interval: 5 * time.Second, Now: clk.Now,
		PausedUntil: func() time.Time { return pausedUntil }}, w: &out, started: clk.t, last: clk.t}
	p.SetState("listing the tenant (page 2)")
	p.tick() // too early: nothing
	if out.Len() != 0 {
		t.Fatalf("a line before the interval: %q", out.String())
	}
	clk.t = clk.t.Add(5 * time.Second)
	p.tick()
	p.SetState("creating")
	p.Update(30, 120)
	clk.t = clk.t.Add(5 * time.Second)
	p.tick()
	clk.t = clk.t.Add(5 * time.Second)
	pausedUntil = clk.t.Add(12*time.Second + 300*time.Millisecond)
	p.tick()
	pausedUntil = time.Time{}
	p.Update(120, 120)
	p.SetState("writing outputs")
	clk.t = clk.t.Add(5 * time.Second)
	p.tick()
	want := []string{
		"progress: listing the tenant (page 2), 5s elapsed",
		"progress: creating, 30/120 rows (25%), 3.0 rows/s, about 30s left, 10s elapsed",
		"progress: paused 13 s: the service asked us to wait, 30/120 rows (25%), 2.0 rows/s, about 45s left, 15s elapsed",
		"progress: writing outputs, 120/120 rows (100%), 6.0 rows/s, 20s elapsed",
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestProgressBarKeepsLogLinesAbove(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(&out, ProgressOptions{Mode: Bar, Width: 90, ANSI: true})
	p.SetState("creating")
	p.Update(1, 4)
	if _, err := p.Writer().Write([]byte("level=WARN msg=row row=3 status=failed\n")); err != nil {
		t.Fatal(err)
	}
	p.Update(4, 4)
	p.Finish()
	s := out.String()
	i := strings.Index(s, "level=WARN msg=row row=3 status=failed\n")
	if i < 0 {
		t.Fatalf("log line missing or glued to the bar: %q", s)
	}
	// The line starts after the bar was cleared, never mid-bar.
	before := s[:i]
	if !strings.HasSuffix(before, "\r") && !strings.HasSuffix(before, "\x1b[K") && !strings.HasSuffix(before, "\n") && before != "" {
		t.Errorf("log line not on a line of its own: %q", s[max(0, i-40):i+10])
	}
	if !strings.Contains(s, "creating") || !strings.Contains(s, "4/4") {
		t.Errorf("bar shows no state or count: %q", s)
	}
}

// A tenant's JSONLines names the tenant on every line: on notices it
// wraps, and on events that pass through without one.
func TestJSONLinesTenant(t *testing.T) {
	var out bytes.Buffer
	j := &JSONLines{W: &out, Tenant: "contoso.onmicrosoft.com", Now: func() time.Time { return time.Unix(0, 0).UTC() }}
	fmt.Fprint(j, "wrote out/contoso.onmicrosoft.com/results.xlsx\n{\"msg\":\"row\",\"row\":2}\n{}\n{\"msg\":\"x\",\"tenant\":\"other\"}\n")
	for i, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %s", i, line)
		}
		want := "contoso.onmicrosoft.com"
		if i == 3 {
			want = "other" // never replaced
		}
		if m["tenant"] != want {
			t.Errorf("line %d: tenant %v; want %s: %s", i, m["tenant"], want, line)
		}
	}
}
