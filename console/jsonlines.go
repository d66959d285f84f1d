package console

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// JSONLines is a writer for --log-format json: every line that reaches the
// underlying writer is one JSON object. Lines that already are JSON objects
// (the logger's events) pass through; any other line (a notice such as
// "wrote out/results.xlsx") is wrapped as {"time":…,"level":…,"msg":…}, with
// the level read from its prefix ("warning:" is WARN, "enrollbatch:" is
// ERROR). It is safe for concurrent use.
type JSONLines struct {
	W   io.Writer
	Now func() time.Time // default time.Now
	// Tenant, when set, is added to every line it wraps ("tenant":…), and
	// to the events that pass through without one: in a run over several
	// tenants, each tenant's lines go through a JSONLines of its own.
	Tenant string

	mu  sync.Mutex
	buf []byte
}

// Write writes the complete lines in b; a partial line waits for its end
// or for Flush.
func (j *JSONLines) Write(b []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, b...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := j.buf[:i]
		err := j.writeLine(line)
		j.buf = j.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}

// Flush writes a last line that had no newline.
func (j *JSONLines) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.buf) == 0 {
		return nil
	}
	err := j.writeLine(j.buf)
	j.buf = j.buf[:0]
	return err
}

func (j *JSONLines) writeLine(line []byte) error {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] == '{' && json.Valid(trimmed) {
		if j.Tenant != "" && !bytes.Contains(trimmed, []byte(`"tenant":`)) {
			t, _ := json.Marshal(j.Tenant)
			sep := ","
			if len(bytes.TrimSpace(trimmed[1:len(trimmed)-1])) == 0 {
				sep = "" // {}
			}
			trimmed = append(append(append(append([]byte(nil), trimmed[:len(trimmed)-1]...), sep+`"tenant":`...), t...), '}')
		}
		_, err := j.W.Write(append(append([]byte(nil), trimmed...), '\n'))
		return err
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	msg := strings.TrimRight(string(trimmed), "\r")
	level := "INFO"
	switch {
	case strings.HasPrefix(msg, "warning:"):
		level = "WARN"
	case strings.HasPrefix(msg, "enrollbatch:"):
		level = "ERROR"
	}
	out, err := json.Marshal(struct {
		Time   string `json:"time"`
		Level  string `json:"level"`
		Msg    string `json:"msg"`
		Tenant string `json:"tenant,omitempty"`
	}{now().Format(time.RFC3339Nano), level, msg, j.Tenant})
	if err != nil {
		return err
	}
	_, err = j.W.Write(append(out, '\n'))
	return err
}
