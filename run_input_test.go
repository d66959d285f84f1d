package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/batch"
	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/ratelimit"
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
		{"saved again, same size", func(p string) error {
			return os.Chtimes(p, time.Now(), time.Now().Add(time.Hour))
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
			rec, err := newRecord(t.TempDir(), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rec.spool.Remove()
			c := &graph.Client{BaseURL: url, HTTP: http.DefaultClient, Pacer: ratelimit.New(ratelimit.Config{}), MaxRetries: 1, RequestTimeout: 5 * time.Second}
			job := &batch.Job{Client: c, Options: batch.Options{Concurrency: 2}}
			err = (&Main{}).stream(context.Background(), job, in, "", scan, rec)
			if !errors.Is(err, errInputChanged) {
				t.Fatalf("error %v, want the input changed", err)
			}
			if n := len(s.Profiles()); n != 0 {
				t.Errorf("%d profiles created from a file that changed", n)
			}
		})
	}
}
