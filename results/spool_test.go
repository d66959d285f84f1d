package results

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestSpoolKeepsEveryResultExactly(t *testing.T) {
	zone := time.FixedZone("-05:00", -5*3600)
	rs := []Result{
		{Row: 2, DisplayName: "Till 1 — Kassa ✓", Description: "line one\nline two", Status: Created, ID: "0d9c8f5e-1111-4a3e-9c1b-2f0c3e9d7a10",
			HTTPStatus: 201, Attempts: 2, RequestID: "r-1", ClientRequestID: "c-1", TokenExpiration: time.Date(2027, 3, 31, 23, 30, 0, 0, zone),
			QRCodeContent: `{"android.app.extra.PROVISIONING_WIFI_PASSWORD":"s3cret \"q\""}`, Extras: []string{"Site 12", ""},
			Changes: []string{"description: a → b"}, Action: ActCreate, Replaces: true, Notes: []string{"token lifetime cut"}},
		{Row: 3, DisplayName: "Scanner", Status: Invalid, ErrorCode: "InvalidInput", ErrorMessage: "displayName: is empty", QRCodeImage: []byte{0x89, 'P', 'N', 'G', 0}},
		{Row: 4, Status: NotAttempted},
	}
	s, err := CreateSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	for i := range rs {
		if err := s.Add(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(s.Path()); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("spool mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
	// Every result is on disk once Add returned, as a killed run leaves it.
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != len(rs) {
		t.Fatalf("%d lines on disk for %d results", n, len(rs))
	}
	for pass := 1; pass <= 2; pass++ {
		i := 0
		for r, err := range s.Source() {
			if err != nil {
				t.Fatal(err)
			}
			want := rs[i]
			if !r.TokenExpiration.Equal(want.TokenExpiration) || r.TokenExpiration.Format(time.RFC3339) != want.TokenExpiration.Format(time.RFC3339) {
				t.Errorf("pass %d, row %d: expiry %v, want %v", pass, want.Row, r.TokenExpiration, want.TokenExpiration)
			}
			r.TokenExpiration, want.TokenExpiration = time.Time{}, time.Time{}
			if got, w := fmtResult(*r), fmtResult(want); got != w {
				t.Errorf("pass %d: got\n%s\nwant\n%s", pass, got, w)
			}
			i++
		}
		if i != len(rs) {
			t.Fatalf("pass %d: %d results, want %d", pass, i, len(rs))
		}
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("spool still there after Remove: %v", err)
	}
}

func TestSourceThen(t *testing.T) {
	var rows []int
	for r, err := range FromSlice([]Result{{Row: 2}, {Row: 3}}).Then([]Result{{Row: 9}}) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r.Row)
	}
	if len(rows) != 3 || rows[0] != 2 || rows[1] != 3 || rows[2] != 9 {
		t.Fatalf("rows %v", rows)
	}
}

func fmtResult(r Result) string { return fmt.Sprintf("%#v", r) }

// TestReadSpoolOfAKilledRun reads a spool whose last line was cut off as
// a kill leaves it: the whole lines are read, the torn one reported.
func TestReadSpoolOfAKilledRun(t *testing.T) {
	s, err := CreateSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{{Row: 2, DisplayName: "Belt 1", Status: Created, ID: "a"}, {Row: 3, DisplayName: "Belt 2", Status: Created, ID: "b"}} {
		if err := s.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	whole, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		rows int
		torn bool
	}{
		{"whole", whole, 2, false},
		{"torn", append(append([]byte(nil), whole...), `{"Row":4,"DisplayName":"Be`...), 2, true},
	} {
		p := s.Path() + "." + tc.name
		if err := os.WriteFile(p, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		rs, torn, err := ReadSpool(p)
		if err != nil || len(rs) != tc.rows || torn != tc.torn {
			t.Errorf("%s: %d rows, torn %v, %v; want %d, %v", tc.name, len(rs), torn, err, tc.rows, tc.torn)
		}
		if err == nil && len(rs) == 2 && (rs[1].ID != "b" || rs[1].Status != Created) {
			t.Errorf("%s: second row %+v", tc.name, rs[1])
		}
	}
	bad := s.Path() + ".bad"
	os.WriteFile(bad, append([]byte("{oops\n"), whole...), 0o600)
	if _, _, err := ReadSpool(bad); err == nil {
		t.Errorf("a damaged line before the last was read without an error")
	}
}
