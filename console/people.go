package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// PeopleHandler is the slog handler of text mode: each event is one line
// written for a person reading a terminal, the way validate writes its
// problems ("row 6, Kasse 1: invalid: enrollmentMode: …"), not logfmt.
// JSON mode keeps slog's JSON handler, for collectors.
type PeopleHandler struct {
	w     io.Writer
	level slog.Leveler
	mu    *sync.Mutex
	attrs []slog.Attr
}

// NewPeopleHandler returns a handler that writes events at level or above
// to w.
func NewPeopleHandler(w io.Writer, level slog.Leveler) *PeopleHandler {
	return &PeopleHandler{w: w, level: level, mu: &sync.Mutex{}}
}

// Enabled reports whether events at l are written.
func (h *PeopleHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// WithAttrs returns a handler that adds attrs to every event.
func (h *PeopleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup is not used by enrollbatch's events; the group's attributes are
// written without their group name.
func (h *PeopleHandler) WithGroup(string) slog.Handler { return h }

// Handle writes r as one line.
func (h *PeopleHandler) Handle(_ context.Context, r slog.Record) error {
	vals := map[string]string{}
	var order []string
	add := func(a slog.Attr) {
		if a.Key == "" {
			return
		}
		if _, seen := vals[a.Key]; !seen {
			order = append(order, a.Key)
		}
		vals[a.Key] = attrText(a.Value)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	var line string
	switch r.Message {
	case "row":
		line = rowLine(vals)
	case "note", "qr code", "stale code":
		what := vals["note"] + vals["warning"] + vals["reason"]
		line = subject(vals) + ": " + what
	default:
		var b strings.Builder
		b.WriteString(r.Message)
		sep := ": "
		for _, k := range order {
			if k == "error" {
				fmt.Fprintf(&b, "%s%s", sep, vals[k]) // the error says itself what it is
			} else {
				fmt.Fprintf(&b, "%s%s %s", sep, k, vals[k])
			}
			sep = ", "
		}
		line = b.String()
	}
	if r.Level >= slog.LevelWarn && r.Message != "row" {
		line = "warning: " + line
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line+"\n")
	return err
}

// subject names the row an event is about: "row 6, Kasse 1", or the
// profile's name and id when there is no row.
func subject(v map[string]string) string {
	switch {
	case v["row"] != "" && v["row"] != "0":
		return "row " + v["row"] + ", " + v["displayName"]
	case v["id"] != "":
		return v["displayName"] + " (" + v["id"] + ")"
	}
	return v["displayName"]
}

// rowLine words a row's outcome: "row 6, Kasse 1: invalid: …".
func rowLine(v map[string]string) string {
	line := subject(v) + ": " + v["status"]
	if e := v["error"]; e != "" {
		line += ": " + e
	}
	if n := v["notes"]; n != "" {
		line += " (" + n + ")"
	}
	return line
}

// attrText is an attribute's value as a person reads it: lists joined with
// "; ".
func attrText(v slog.Value) string {
	v = v.Resolve()
	if v.Kind() == slog.KindAny {
		if ss, ok := v.Any().([]string); ok {
			return strings.Join(ss, "; ")
		}
	}
	return v.String()
}
