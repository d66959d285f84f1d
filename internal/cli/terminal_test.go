package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// TestFlagMistakes runs the binary with the mistakes people make and checks
// each is named as typed, with what to do, and exits 2 in every command.
func TestFlagMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"typo", []string{"run", "--inptu", "samples/profiles.csv"}, "--inptu: unknown flag; did you mean --input?"},
		{"typo in validate", []string{"validate", "--inptu", "samples/profiles.csv"}, "--inptu: unknown flag; did you mean --input?"},
		{"bool with a separate value", []string{"run", "samples/profiles.csv", "--simulate", "--adaptive", "false"},
			`use --adaptive=false`},
		{"two input files", []string{"run", "a.csv", "b.csv"}, `unexpected argument "b.csv": give one input file`},
		{"bad choice", []string{"run", "samples/profiles.csv", "--simulate", "--paper", "A5"}, `--paper: invalid value "A5": use a4 or letter; did you mean a4?`},
		{"unknown label column in run", []string{"run", "samples/profiles.csv", "--simulate", "--label-columns", "Nope"}, "--label-columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, nil, append(tt.args, "--out", t.TempDir())...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestHelpCommandShowsFlags(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, nil, "help", "run")
	if code != 0 || !strings.Contains(stdout, "-on-exists") || !strings.Contains(stdout, "Usage: enrollbatch run") {
		t.Errorf("help run: exit %d, stdout:\n%s", code, stdout)
	}
}

func TestInputAsArgumentAndChoicesIgnoreCase(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, _, stderr := run(t, nil, "run", "samples/profiles.csv", "--simulate", "--rate", "0", "--paper", "A4",
		"--progress", "Never", "--on-exists", "Skip", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if c := statuses(readResults(t, filepath.Join(out, "results.xlsx"))); c[results.Created] != 15 {
		t.Errorf("statuses %v, want 15 created", c)
	}
}

func TestQRLabelColumnsIsAUsageError(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if code, _, stderr := run(t, nil, "run", "samples/profiles.csv", "--simulate", "--rate", "0", "--out", out); code != 0 {
		t.Fatalf("run: exit %d:\n%s", code, stderr)
	}
	code, _, stderr := run(t, nil, "qr", "--results", filepath.Join(out, "results.xlsx"), "--label-columns", "Nope",
		"--out", filepath.Join(t.TempDir(), "s.pdf"))
	if code != 2 || !strings.Contains(stderr, "--label-columns") {
		t.Errorf("qr with a wrong --label-columns: exit %d, stderr:\n%s\nwant exit 2 as in run", code, stderr)
	}
}

func TestNoRowsToProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(path, []byte("displayName,description\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"validate", path},
		{"run", path, "--simulate", "--out", t.TempDir()},
	} {
		code, stdout, stderr := run(t, nil, args...)
		if code != 1 || !strings.Contains(stdout+stderr, "no rows to process") {
			t.Errorf("%s: exit %d, output:\n%s%s\nwant exit 1 and \"no rows to process\"", args[0], code, stdout, stderr)
		}
	}
}

func TestStrictNamesTheRows(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.csv")
	csv := "displayName,tokenExpirationDateTime\nA,2030-01-01\nB,31.02.2030\nC,2030-01-01\nD,soon\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := run(t, nil, "run", path, "--simulate", "--strict", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if !strings.Contains(rs[0].ErrorMessage, "rows 3 and 5 are invalid") {
		t.Errorf("held-back row says %q, want it to name rows 3 and 5", rs[0].ErrorMessage)
	}
	// Text logs list the invalid rows with their problems.
	for _, want := range []string{"row 3, B: invalid", `31.02.2030`, "row 5, D: invalid", "soon"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not show %q:\n%s", want, stderr)
		}
	}
}

func TestTemplateRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "profiles.xlsx")
	if err := os.WriteFile(path, []byte("my work"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, nil, "template", "--out", path)
	if code != 2 || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 naming --force", code, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != "my work" {
		t.Fatal("the existing file was changed")
	}
	if code, _, stderr := run(t, nil, "template", "--out", path, "--force"); code != 0 {
		t.Fatalf("with --force: exit %d:\n%s", code, stderr)
	}
}

// TestJSONLogsEveryLine checks that in JSON mode every line on stdout and
// stderr is a JSON object, every input row has an event, and the summary is
// an object.
func TestJSONLogsEveryLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.csv")
	csv := "displayName,tokenExpirationDateTime\nA,2030-01-01\nB,31.02.2030\nC,2030-01-01\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		args := []string{"run", path, "--simulate", "--log-format", "json", "--progress", "always", "--out", t.TempDir()}
		if dry {
			args = append(args, "--dry-run")
		}
		code, stdout, stderr := run(t, nil, args...)
		if code != 1 {
			t.Fatalf("dry %v: exit %d, want 1 (one invalid row):\n%s", dry, code, stderr)
		}
		rows := map[float64]string{}
		var summary map[string]any
		for _, line := range strings.Split(strings.TrimSpace(stdout+stderr), "\n") {
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("dry %v: a line is not JSON: %q", dry, line)
			}
			switch ev["msg"] {
			case "row":
				rows[ev["row"].(float64)] = ev["status"].(string)
			case "summary":
				summary = ev
			}
		}
		wantStatus := "created"
		if dry {
			wantStatus = "planned"
		}
		if rows[2] != wantStatus || rows[3] != "invalid" || rows[4] != wantStatus || len(rows) != 3 {
			t.Errorf("dry %v: row events %v, want rows 2 and 4 %s and row 3 invalid", dry, rows, wantStatus)
		}
		if summary == nil {
			t.Fatalf("dry %v: no summary event", dry)
		}
		st, _ := summary["status"].(map[string]any)
		if st["invalid"] != 1.0 || st[wantStatus] != 2.0 || summary["rows"] != 3.0 {
			t.Errorf("dry %v: summary %v", dry, summary)
		}
	}
}

// TestJSONErrorsAreObjects checks that a usage error is a JSON object too.
func TestJSONErrorsAreObjects(t *testing.T) {
	t.Parallel()
	code, _, stderr := run(t, nil, "run", "--log-format", "json", "--inptu", "x")
	if code != 2 {
		t.Fatalf("exit %d", code)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(stderr)), &ev); err != nil || ev["level"] != "ERROR" ||
		!strings.Contains(ev["msg"].(string), "did you mean --input?") {
		t.Errorf("stderr %q, want one JSON error object", stderr)
	}
}

// TestExpiryShownInTheInputsZone checks that a token that expires at 23:30
// on 31 March in New York is printed as valid until 31 March, with the
// offset, and that the Summary sheet's times carry their offset.
func TestExpiryShownInTheInputsZone(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	path := filepath.Join(t.TempDir(), "p.csv")
	if err := os.WriteFile(path, []byte("displayName,tokenExpirationDateTime\nNY Till,2027-03-31T23:30:00-05:00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := run(t, []string{"TZ=Europe/Berlin"}, "run", path, "--simulate", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	text, err := tool("pdftotext", "-layout", filepath.Join(out, "qr-codes.pdf"), "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "2027-03-31 23:30 -05:00") {
		t.Errorf("label text does not show the expiry in the input's zone:\n%s", text)
	}
	f, err := excelize.OpenFile(filepath.Join(out, "results.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(output.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	var start string
	for _, r := range rows {
		if len(r) > 1 && r[0] == "start" {
			start = r[1]
		}
	}
	if ok, _ := regexp.MatchString(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]0[12]:00$`, start); !ok {
		t.Errorf("Summary start %q, want local time with its offset (Berlin: +01:00 or +02:00)", start)
	}
}
