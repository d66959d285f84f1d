package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/results"
)

// editSample writes a copy of the sample CSV with the description of its
// second data row changed and the scope tags of its fourth.
func editSample(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile("samples/profiles.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	lines[2] = strings.Replace(lines[2], "Zebra MC33 handhelds for pick and pack", "Zebra MC3300x handhelds for pick and pack", 1)
	lines[4] = strings.Replace(lines[4], `"0, 14"`, `"14; 0; 21"`, 1)
	p := filepath.Join(dir, "edited.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonEvents returns the JSON log lines with the given msg.
func jsonEvents(t *testing.T, stderr, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestEditedSheetPlanThenUpdate(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	dir := t.TempDir()
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", filepath.Join(dir, "first"), "--rate", "0"); code != 0 {
		t.Fatalf("first run exit %d: %s", code, stderr)
	}
	total := len(s.Profiles())
	edited := editSample(t, dir)

	// The plan: two rows to update, nothing sent.
	out := filepath.Join(dir, "plan")
	code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", edited, "--out", out, "--rate", "0", "--on-exists", "update", "--dry-run", "--log-format", "json")
	if code != 0 {
		t.Fatalf("plan exit %d: %s", code, stderr)
	}
	if st := s.Stats(); st.Patches != 0 || st.Creates != total {
		t.Fatalf("the plan changed the tenant: %d patches, %d creates", st.Patches, st.Creates)
	}
	rs := readResults(t, filepath.Join(out, "plan.xlsx"))
	var planned []results.Result
	for _, r := range rs {
		if r.Status == results.Planned {
			planned = append(planned, r)
		}
	}
	if len(planned) != 2 || statuses(rs)[results.Exists] != total-2 {
		t.Fatalf("plan statuses %v", statuses(rs))
	}
	if !slices.Equal(planned[0].Changes, []string{"description: Zebra MC33 handhelds for pick and pack → Zebra MC3300x handhelds for pick and pack"}) ||
		!slices.Equal(planned[1].Changes, []string{"roleScopeTagIds: 0, 14 → 14, 0, 21"}) {
		t.Errorf("planned changes %q / %q", planned[0].Changes, planned[1].Changes)
	}
	want := "0 to create, 2 to update, " + itoa(total-2) + " unchanged, 0 invalid"
	ev := jsonEvents(t, stderr, "plan")
	if len(ev) != 1 || ev[0]["update"] != float64(2) || ev[0]["create"] != float64(0) || ev[0]["summary"] != want {
		t.Errorf("plan event %v, want %q", ev, want)
	}

	if got := summaryFact(t, filepath.Join(out, "plan.xlsx"), "plan"); got != want {
		t.Errorf("Summary sheet plan %q, want %q", got, want)
	}

	// Apply it: exactly the two rows, exactly their properties.
	out = filepath.Join(dir, "apply")
	code, _, stderr = run(t, env, "run", "--graph-url", url, "--input", edited, "--out", out, "--rate", "0", "--on-exists", "update")
	if code != 0 || !strings.Contains(stderr, itoa(total)+" row(s): updated 2, exists "+itoa(total-2)+"\n") {
		t.Fatalf("apply exit %d: %s", code, stderr)
	}
	ps := s.Patches()
	if len(ps) != 2 {
		t.Fatalf("%d patches, want 2", len(ps))
	}
	if len(ps[0].Body)+len(ps[1].Body) != 4 { // @odata.type and one property each
		t.Errorf("patch bodies %v / %v", ps[0].Body, ps[1].Body)
	}
	rs = readResults(t, filepath.Join(out, "results.xlsx"))
	if statuses(rs)[results.Updated] != 2 {
		t.Errorf("apply statuses %v", statuses(rs))
	}
	// Nothing changed the QR payload, so nothing is printed.
	if _, err := os.Stat(filepath.Join(out, "qr-codes.pdf")); !os.IsNotExist(err) {
		t.Errorf("an update without payload changes printed a sheet")
	}
	// And again: nothing left to do.
	code, _, stderr = run(t, env, "run", "--graph-url", url, "--input", edited, "--out", filepath.Join(dir, "again"), "--rate", "0", "--on-exists", "update")
	if code != 0 || len(s.Patches()) != 2 || s.Stats().Creates != total {
		t.Errorf("second apply exit %d, %d patches: %s", code, len(s.Patches()), stderr)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestReprintRefusesCodesTheTenantRevokedOrReplaced(t *testing.T) {
	t.Parallel()
	_, url := simServer(t, sim.Options{OmitImage: true})
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	dir := t.TempDir()
	in := filepath.Join(dir, "three.csv")
	os.WriteFile(in, []byte("displayName\nDock A\nDock B\nDock C\nDock D\n"), 0o600)
	out := filepath.Join(dir, "out")
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("run exit %d: %s", code, stderr)
	}
	book := filepath.Join(out, "results.xlsx")
	// Dock A's token is revoked, Dock B's replaced, Dock C deleted.
	lost := filepath.Join(dir, "a.csv")
	os.WriteFile(lost, []byte("displayName\nDock A\n"), 0o600)
	if code, _, stderr := run(t, env, "revoke", "--graph-url", url, "--input", lost, "--yes", "--out", t.TempDir()); code != 0 {
		t.Fatalf("revoke exit %d: %s", code, stderr)
	}
	renew := filepath.Join(dir, "b.csv")
	os.WriteFile(renew, []byte("displayName\nDock B\n"), 0o600)
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", renew, "--out", filepath.Join(dir, "renew"), "--renew-within", "3650d", "--rate", "0"); code != 0 {
		t.Fatalf("renew exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, env, "delete", "--graph-url", url, "--name-prefix", "Dock C", "--yes", "--out", filepath.Join(dir, "del")); code != 0 {
		t.Fatalf("delete exit %d: %s", code, stderr)
	}

	sheet := filepath.Join(dir, "again.pdf")
	code, _, stderr := run(t, env, "qr", "--results", book, "--out", sheet, "--graph-url", url)
	if code != 1 || !strings.Contains(stderr, "(1 label(s))") || !strings.Contains(stderr, "checked 4 code(s) against the tenant: 3 stale") {
		t.Fatalf("qr --results exit %d: %s", code, stderr)
	}
	for _, w := range []string{"Dock A", "revoked", "Dock B", "replaced", "Dock C", "no longer in the tenant"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, stderr)
		}
	}
	if text := pdfText(t, sheet); !strings.Contains(text, "Dock D") || strings.Contains(text, "Dock A") {
		t.Errorf("sheet text: %s", text)
	}

	// Without a way to sign in it prints all, says once that they were not
	// checked, and exits 1; --no-check prints them without the check.
	code, _, stderr = run(t, nil, "qr", "--results", book, "--out", sheet)
	if code != 1 || strings.Count(stderr, "not checked against the tenant") != 1 || !strings.Contains(stderr, "(4 label(s))") {
		t.Errorf("unchecked reprint exit %d: %s", code, stderr)
	}
	code, _, stderr = run(t, nil, "qr", "--results", book, "--out", sheet, "--no-check")
	if code != 0 || strings.Contains(stderr, "not checked") || !strings.Contains(stderr, "(4 label(s))") {
		t.Errorf("reprint with --no-check exit %d: %s", code, stderr)
	}
}

// pdfText extracts a PDF's text with pdftotext.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("ENROLLBATCH_REQUIRE_TOOLS") != "" {
			t.Fatal("pdftotext is missing: apt-get install poppler-utils")
		}
		t.Skip("pdftotext is missing: apt-get install poppler-utils")
	}
	b, err := tool("pdftotext", "-layout", path, "-")
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(b)
}

func TestUpdateThatChangesThePayloadPrintsAReplacement(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	dir := t.TempDir()
	in := filepath.Join(dir, "aosp.csv")
	const header = "displayName,enrollmentMode,configureWifi,wifiSsid,wifiSecurityType\n"
	os.WriteFile(in, []byte(header+"Yard Scanners,corporateOwnedAOSPUserlessDevice,true,YARD,none\nYard Tablets,corporateOwnedAOSPUserlessDevice,true,YARD,none\n"), 0o600)
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", in, "--out", filepath.Join(dir, "first"), "--rate", "0"); code != 0 {
		t.Fatalf("first run exit %d: %s", code, stderr)
	}
	os.WriteFile(in, []byte(header+"Yard Scanners,corporateOwnedAOSPUserlessDevice,true,YARD-2,none\nYard Tablets,corporateOwnedAOSPUserlessDevice,true,YARD,none\n"), 0o600)
	out := filepath.Join(dir, "update")
	code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--on-exists", "update")
	if code != 0 || !strings.Contains(stderr, "(1 label(s))") {
		t.Fatalf("update exit %d: %s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if rs[0].Status != results.Updated || len(rs[0].Changes) != 2 || !strings.Contains(rs[0].Changes[1], "stale") ||
		!strings.Contains(rs[0].QRCodeContent, `"YARD-2"`) || rs[1].Status != results.Exists {
		t.Fatalf("results: %s %q %q / %s", rs[0].Status, rs[0].Changes, rs[0].QRCodeContent, rs[1].Status)
	}
	if p := s.Named("Yard Scanners")[0]; p.QRCodeContent != rs[0].QRCodeContent {
		t.Errorf("printed content differs from the tenant's")
	}
	text := strings.Join(strings.Fields(pdfText(t, filepath.Join(out, "qr-codes.pdf"))), " ")
	if !strings.Contains(text, "Yard Scanners") || !strings.Contains(text, "REPLACES EARLIER CODES") || strings.Contains(text, "Yard Tablets") {
		t.Errorf("replacement sheet text: %s", text)
	}
}

func TestNewCommandsHaveHelp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"export", "--help"}, []string{"enrollbatch export", "-name-prefix", "-sheet", "-out"}},
		{[]string{"delete", "--help"}, []string{"enrollbatch delete", "-dry-run", "-yes", "-force", "-input", "-name-prefix"}},
		{[]string{"run", "--help"}, []string{"-prune", "-update-secrets", "update (patch what differs)"}},
		{[]string{"revoke", "--help"}, []string{"-yes"}},
	}
	for _, tc := range cases {
		code, stdout, stderr := run(t, nil, tc.args...)
		if code != 0 {
			t.Errorf("%v exit %d: %s", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, stdout)
			}
		}
	}
	for _, args := range [][]string{
		{"export"}, {"export", "--out", "x.pdf"}, {"delete"}, {"delete", "--input", "a.csv", "--name-prefix", "b"},
		{"run", "--input", "samples/profiles.csv", "--prune"}, {"run", "--input", "samples/profiles.csv", "--yes"},
		{"run", "--input", "samples/profiles.csv", "--update-secrets"},
	} {
		if code, _, stderr := run(t, nil, args...); code != 2 {
			t.Errorf("%v exit %d, want 2: %s", args, code, stderr)
		}
	}
}

// summaryFact returns the value next to a fact's name on the Summary sheet.
func summaryFact(t *testing.T, path, name string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(output.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if len(r) > 1 && r[0] == name {
			return r[1]
		}
	}
	return ""
}
