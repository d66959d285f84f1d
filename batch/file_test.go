package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/ratelimit"
	"github.com/enrollbatch/enrollbatch/results"
)

// TestInputChangedBetweenPasses edits the input after the first pass, in
// ways a size and a time would not show: the second pass sends nothing,
// says why, and records every row of the file not_attempted.
func TestInputChangedBetweenPasses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"a row added", func(b []byte) []byte { return append(b, "Till 99\n"...) }},
		{"edited, same size and time", func(b []byte) []byte {
			return bytes.Replace(b, []byte("Till 03"), []byte("Till 33"), 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Options{OmitImage: true})
			hs := httptest.NewServer(s)
			defer hs.Close()
			var names strings.Builder
			names.WriteString("displayName\n")
			for i := 1; i <= 5; i++ {
				fmt.Fprintf(&names, "Till %02d\n", i)
			}
			in := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(in, []byte(names.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			scan, err := ScanFile(in, "", false)
			if err != nil {
				t.Fatal(err)
			}
			if scan.Census.Rows != 5 {
				t.Fatalf("first pass counted %d rows", scan.Census.Rows)
			}
			// As cp -p, or a share with coarse times, leaves it.
			fi, _ := os.Stat(in)
			b, _ := os.ReadFile(in)
			if err := os.WriteFile(in, tc.change(b), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(in, fi.ModTime(), fi.ModTime())

			c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: http.DefaultClient, Pacer: ratelimit.New(ratelimit.Config{}), MaxRetries: 1, RequestTimeout: 5 * time.Second}
			job := &Job{Client: c, Options: Options{Concurrency: 2}}
			var got []results.Result
			err = job.StreamFile(context.Background(), in, "", scan, func(r *results.Result) error {
				got = append(got, *r)
				return nil
			})
			if !errors.Is(err, ErrInputChanged) {
				t.Fatalf("error %v, want the input changed", err)
			}
			if n := s.Stats().Requests; n != 0 {
				t.Errorf("%d requests sent for a file that changed", n)
			}
			if len(got) < 5 {
				t.Fatalf("%d rows recorded, want every row of the file", len(got))
			}
			for _, r := range got {
				if r.Status != results.NotAttempted || r.ErrorMessage != NotSentChanged {
					t.Errorf("row %d: %s %q, want not_attempted", r.Row, r.Status, r.ErrorMessage)
				}
			}
		})
	}
}

// A file with a tenant column is scanned into one scan per tenant, and the
// job over one tenant's scan sends that tenant's rows only, each once.
func TestScanAndStreamOneTenant(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.csv")
	content := "displayName,tenant\nTill 1,contoso.onmicrosoft.com\nTill 1,fabrikam.onmicrosoft.com\nTill 2,Contoso.onmicrosoft.com\nTill 3,\n"
	if err := os.WriteFile(in, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	scan, err := ScanFile(in, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := scan.TenantList(); fmt.Sprint(got) != "[contoso.onmicrosoft.com fabrikam.onmicrosoft.com]" {
		t.Fatalf("tenants %v", got)
	}
	if err := scan.NoTenantError(in); err == nil || !strings.Contains(err.Error(), "row(s) 5 in column \"tenant\"") {
		t.Errorf("NoTenantError = %v", err)
	}
	contoso := scan.Tenants["contoso.onmicrosoft.com"]
	if contoso.Census.Rows != 2 || len(contoso.Names) != 2 || scan.Tenants["fabrikam.onmicrosoft.com"].Census.Rows != 1 {
		t.Fatalf("contoso counted %d rows and %d names", contoso.Census.Rows, len(contoso.Names))
	}
	s, job := setup(t, sim.Options{OmitImage: true})
	var lines []int
	err = job.StreamFile(context.Background(), in, "", contoso, func(r *results.Result) error {
		lines = append(lines, r.Row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(lines) != "[2 4]" || s.Stats().Created != 2 {
		t.Errorf("recorded rows %v, created %d; want rows [2 4], 2 created", lines, s.Stats().Created)
	}
}

// Tenants whose rows SplitFile put aside read them from there: the job
// over each sends and records exactly what it would over the file, even
// when the file is changed after the split (the split is what the scan
// saw); FailFile reads them too; a file changed between the scan and the
// split is not split, and each tenant's pass then finds the change.
func TestSplitFileFeedsEachTenant(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.csv")
	content := "displayName,tenant,Site\n" +
		"Till 1,contoso.onmicrosoft.com,Leeds\n" +
		"Till 1,fabrikam.onmicrosoft.com,York\n" +
		"Till 2,Contoso.onmicrosoft.com,Leeds\n" +
		"Till 2,contoso.onmicrosoft.com,Leeds\n" + // a repeated name: invalid
		"Till 3,northwind.onmicrosoft.com,Hull\n"
	if err := os.WriteFile(in, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	scan, err := ScanFile(in, "", true)
	if err != nil {
		t.Fatal(err)
	}
	spoolDir := t.TempDir()
	tenants := []string{"contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com"}
	release, err := SplitFile(in, "", spoolDir, scan.Tenants, tenants)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Tenants["northwind.onmicrosoft.com"].split != nil {
		t.Error("a tenant not asked for was split")
	}
	// The file changes after the split: the tenants work from what the
	// scan saw.
	if err := os.WriteFile(in, []byte("displayName,tenant\nSomething else,contoso.onmicrosoft.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, job := setup(t, sim.Options{OmitImage: true})
	var got []string
	err = job.StreamFile(context.Background(), in, "", scan.Tenants["contoso.onmicrosoft.com"], func(r *results.Result) error {
		got = append(got, fmt.Sprintf("%d %s %s %v", r.Row, r.DisplayName, r.Status, r.Extras))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[2 Till 1 created [Leeds] 4 Till 2 created [Leeds] 5 Till 2 invalid [Leeds]]"; fmt.Sprint(got) != want {
		t.Errorf("contoso recorded %v\nwant %s", got, want)
	}
	if s.Stats().Created != 2 {
		t.Errorf("%d created, want 2", s.Stats().Created)
	}
	got = nil
	err = FailFile(in, "", scan.Tenants["fabrikam.onmicrosoft.com"], "no consent", func(r *results.Result) error {
		got = append(got, fmt.Sprintf("%d %s %s %s", r.Row, r.DisplayName, r.Status, r.ErrorMessage))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[3 Till 1 failed no consent]"; fmt.Sprint(got) != want {
		t.Errorf("fabrikam recorded %v, want %s", got, want)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if scan.Tenants["contoso.onmicrosoft.com"].split != nil {
		t.Error("the split is still handed out after release")
	}
	if left, _ := os.ReadDir(spoolDir); len(left) != 0 {
		t.Errorf("left after release: %v", left)
	}

	// Changed between the scan and the split: nothing is handed over.
	if _, err := SplitFile(in, "", spoolDir, scan.Tenants, tenants); !errors.Is(err, ErrInputChanged) {
		t.Fatalf("split of a changed file: %v, want the input changed", err)
	}
	if scan.Tenants["contoso.onmicrosoft.com"].split != nil {
		t.Fatal("a changed file was handed out")
	}
	err = job.StreamFile(context.Background(), in, "", scan.Tenants["contoso.onmicrosoft.com"], func(*results.Result) error { return nil })
	if !errors.Is(err, ErrInputChanged) {
		t.Errorf("the tenant's own pass: %v, want the input changed", err)
	}
}
