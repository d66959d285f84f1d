package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// TestInputChangedBetweenPasses saves the input again after the first
// pass (as a person editing the sheet might): the second pass sends
// nothing and says why.
func TestInputChangedBetweenPasses(t *testing.T) {
	s, url := simServer(t, sim.Options{OmitImage: true})
	for _, tc := range []struct {
		name   string
		change func(path string) error
	}{
		{"a row added", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString("Till 99\n")
			return err
		}},
		{"edited, same size and time", func(p string) error {
			// As cp -p, or a share with coarse times, leaves it.
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			b, _ := os.ReadFile(p)
			if err := os.WriteFile(p, bytes.Replace(b, []byte("Till 03"), []byte("Till 33"), 1), 0o600); err != nil {
				return err
			}
			return os.Chtimes(p, fi.ModTime(), fi.ModTime())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := writeNames(t, 5, "Till %02d")
			scan, err := scanInput(in, "", false)
			if err != nil {
				t.Fatal(err)
			}
			if scan.census.Rows != 5 {
				t.Fatalf("first pass counted %d rows", scan.census.Rows)
			}
			if err := tc.change(in); err != nil {
				t.Fatal(err)
			}
			rec, err := output.OpenRecord(t.TempDir(), false, time.Now(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Remove(io.Discard)
			c := &graph.Client{BaseURL: url, HTTP: http.DefaultClient, Pacer: ratelimit.New(ratelimit.Config{}), MaxRetries: 1, RequestTimeout: 5 * time.Second}
			job := &batch.Job{Client: c, Options: batch.Options{Concurrency: 2}}
			err = (&Main{}).stream(context.Background(), job, in, "", scan, rec)
			if !errors.Is(err, errInputChanged) {
				t.Fatalf("error %v, want the input changed", err)
			}
			if n := len(s.Profiles()); n != 0 {
				t.Errorf("%d profiles created from a file that changed", n)
			}
			// Every row of the file ends in the record, not_attempted.
			var got []results.Result
			for r, err := range rec.Source() {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, *r)
			}
			if len(got) < 5 {
				t.Fatalf("%d rows recorded, want every row of the file", len(got))
			}
			for _, r := range got {
				if r.Status != results.NotAttempted || r.ErrorMessage != notSentChanged {
					t.Errorf("row %d: %s %q, want not_attempted", r.Row, r.Status, r.ErrorMessage)
				}
			}
		})
	}
}
