package cli

import (
	"context"
	"fmt"
	"io"
	"time"
)

// longPause is the shortest pause of the shared pacer that text mode
// reports: shorter ones are routine throttling.
const longPause = 5 * time.Second

// pauser is the part of the pacer that tells how long every request waits.
type pauser interface {
	PausedUntil() time.Time
	Now() time.Time
}

// watchPauses writes one line to w for each long pause of p ("paused 300 s:
// the service asked us to wait"), looking every interval until ctx ends.
func watchPauses(ctx context.Context, p pauser, w io.Writer, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var told time.Time
	for {
		if line, ok := pauseNote(p.Now(), p.PausedUntil(), &told); ok {
			fmt.Fprintln(w, line)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pauseNote returns the line for a pause lasting until until, seen at now,
// unless it is short or already told (told is the end of the last pause
// told, and is updated). A pause that is extended by more than longPause is
// told again.
func pauseNote(now, until time.Time, told *time.Time) (string, bool) {
	left := until.Sub(now)
	if left < longPause || until.Sub(*told) < longPause {
		return "", false
	}
	*told = until
	return fmt.Sprintf("paused %d s: the service asked us to wait (until %s)", int((left+time.Second/2)/time.Second), until.Local().Format("15:04:05")), true
}
