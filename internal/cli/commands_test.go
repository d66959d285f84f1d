package cli

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// TestTemplateFilledInRunsUnchanged writes both templates, runs them, and
// gets one created profile from each.
func TestTemplateFilledInRunsUnchanged(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".xlsx", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, sim.Options{OmitImage: true})
			dir := t.TempDir()
			tmpl := filepath.Join(dir, "profiles"+ext)
			if code, _, stderr := run(t, nil, "template", "--out", tmpl); code != 0 {
				t.Fatalf("template exit %d: %s", code, stderr)
			}
			out := filepath.Join(dir, "out")
			code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", tmpl, "--out", out, "--rate", "0", "--label-columns", "Site,Technician", "--results-csv")
			if code != 0 {
				t.Fatalf("run exit %d: %s", code, stderr)
			}
			if len(s.Profiles()) != 1 {
				t.Fatalf("%d profiles created from the template, want 1", len(s.Profiles()))
			}
			csv, err := os.ReadFile(filepath.Join(out, "results.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(csv), "\ufeffrow,displayName,status,id,") || !strings.Contains(string(csv), ",created,") {
				t.Errorf("results.csv:\n%s", csv)
			}
		})
	}
}

func TestReprintFromResultsAndTenant(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	if code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0"); code != 0 {
		t.Fatalf("run exit %d: %s", code, stderr)
	}
	names := []string{}
	for _, p := range s.Profiles() {
		names = append(names, p.DisplayName)
	}
	sheet := filepath.Join(dir, "again.pdf")
	code, _, stderr := run(t, nil, "qr", "--results", filepath.Join(out, "results.xlsx"), "--out", sheet, "--only", names[0]+","+names[1], "--paper", "letter", "--labels-per-page", "1", "--no-check")
	if code != 0 || !strings.Contains(stderr, "(2 label(s))") {
		t.Fatalf("reprint exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(sheet); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("reprint file: %v", err)
	}

	// From the tenant: one profile with an expired token is skipped and
	// reported.
	s.SeedProfiles(profile.Profile{DisplayName: "Kraków Old Kiosk", TokenExpirationDateTime: time.Now().Add(-48 * time.Hour)})
	tenantSheet := filepath.Join(dir, "tenant.pdf")
	code, _, stderr = run(t, env, "qr", "--from-tenant", "--name-prefix", "kraków", "--graph-url", url, "--out", tenantSheet)
	if code != 1 || !strings.Contains(stderr, "Kraków Old Kiosk") || !strings.Contains(stderr, "label(s))") {
		t.Fatalf("from-tenant exit %d, want 1 with the expired one reported: %s", code, stderr)
	}
	if _, err := os.Stat(tenantSheet); err != nil {
		t.Fatal(err)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	s.Seed("Site 12 Scanners", "Site 12 Tills", "Site 13 Tills")
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	code, stdout, _ := run(t, env, "revoke", "--name-prefix", "Site 12 ", "--dry-run", "--graph-url", url, "--out", t.TempDir())
	if code != 0 || strings.Count(stdout, "would revoke") != 2 || s.Stats().RevokeTokens != 0 {
		t.Fatalf("dry run exit %d, %d revokes:\n%s", code, s.Stats().RevokeTokens, stdout)
	}
	// Off a terminal it lists what it would touch and refuses without --yes.
	code, stdout, stderr := run(t, env, "revoke", "--name-prefix", "Site 12 ", "--graph-url", url, "--out", t.TempDir())
	if code != 2 || strings.Count(stdout, "will revoke") != 2 || !strings.Contains(stderr, "pass --yes") || s.Stats().RevokeTokens != 0 {
		t.Fatalf("revoke without --yes exit %d, %d revokes:\n%s%s", code, s.Stats().RevokeTokens, stdout, stderr)
	}
	out := t.TempDir()
	code, stdout, _ = run(t, env, "revoke", "--name-prefix", "Site 12 ", "--graph-url", url, "--yes", "--out", out)
	if code != 0 || strings.Count(stdout, "revoked") != 2 || s.Stats().RevokeTokens != 2 {
		t.Fatalf("revoke exit %d, %d revokes:\n%s", code, s.Stats().RevokeTokens, stdout)
	}
	for _, p := range s.Named("Site 12 Tills") {
		if p.TokenValue != "" {
			t.Errorf("token of %s still there", p.DisplayName)
		}
	}
	if got := statuses(readResults(t, filepath.Join(out, "results.xlsx"))); got[results.Revoked] != 2 {
		t.Errorf("revoke results %v", got)
	}

	// From a file: a name not in the tenant is reported and exits 1.
	in := filepath.Join(t.TempDir(), "lost.csv")
	os.WriteFile(in, []byte("displayName\nsite 13 tills\nNever Created\n"), 0o600)
	code, stdout, _ = run(t, env, "revoke", "--input", in, "--graph-url", url, "--yes", "--out", t.TempDir())
	if code != 1 || !strings.Contains(stdout, "revoked Site 13 Tills") || !strings.Contains(stdout, "not in the tenant: Never Created") || s.Stats().RevokeTokens != 3 {
		t.Fatalf("revoke --input exit %d, %d revokes:\n%s", code, s.Stats().RevokeTokens, stdout)
	}
}

// TestJSONLogsCarryNoSecrets runs with JSON logs and a Wi-Fi password and
// checks each row event, and that the password is nowhere in the output.
func TestJSONLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	_, url := simServer(t, sim.Options{OmitImage: true})
	dir := t.TempDir()
	in := filepath.Join(dir, "wifi.csv")
	os.WriteFile(in, []byte("displayName,enrollmentMode,configureWifi,wifiSsid,wifiPassword,wifiSecurityType\n"+
		"AOSP Glasses,corporateOwnedAOSPUserlessDevice,true,Warehouse,Sup3r-Secret-Pw,wpa\n"), 0o600)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=secret-bearer-token"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--log-format", "json", "--verbose", "--results-csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := 0
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if ev["msg"] == "row" {
			rows++
			for _, k := range []string{"row", "displayName", "status", "request-id", "client-request-id", "attempt"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("row event lacks %s: %s", k, line)
				}
			}
		}
	}
	if rows != 1 {
		t.Errorf("%d row events, want 1:\n%s", rows, stderr)
	}
	outputs := stdout + stderr
	for _, f := range []string{"results.csv"} {
		data, _ := os.ReadFile(filepath.Join(out, f))
		outputs += string(data)
	}
	for _, secret := range []string{"Sup3r-Secret-Pw", "secret-bearer-token"} {
		if strings.Contains(outputs, secret) {
			t.Errorf("%q appears in the logs or results", secret)
		}
	}
	// A reprint from the results cannot carry the password: it says where
	// to print from instead.
	code, _, stderr = run(t, nil, "qr", "--results", filepath.Join(out, "results.xlsx"), "--out", filepath.Join(dir, "again.pdf"))
	if code != 1 || !strings.Contains(stderr, "--from-tenant") {
		t.Errorf("reprint of a Wi-Fi profile: exit %d: %s", code, stderr)
	}
	// The workbook is a zip of XML parts: look through every part.
	zr, err := zip.OpenReader(filepath.Join(out, "results.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(data), "Sup3r-Secret-Pw") {
			t.Errorf("the Wi-Fi password is in results.xlsx (%s)", f.Name)
		}
	}
}

func TestDryRunAndRenewWithin(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	out := t.TempDir()
	code, _, stderr := run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--dry-run", "--rate", "0")
	if code != 0 || s.Stats().Posts != 0 {
		t.Fatalf("dry run exit %d, %d posts: %s", code, s.Stats().Posts, stderr)
	}
	rs := readResults(t, filepath.Join(out, "plan.xlsx"))
	if statuses(rs)[results.Planned] != len(rs) {
		t.Fatalf("dry run statuses %v", statuses(rs))
	}
	if _, err := os.Stat(filepath.Join(out, "qr-codes.pdf")); !os.IsNotExist(err) {
		t.Errorf("a dry run left a QR sheet")
	}

	// Profiles whose tokens expire in 3 days get fresh ones.
	for _, r := range rs[:3] {
		s.SeedProfiles(profile.Profile{DisplayName: r.DisplayName, TokenExpirationDateTime: time.Now().Add(72 * time.Hour)})
	}
	code, _, stderr = run(t, env, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--renew-within", "14d", "--rate", "0")
	if code != 0 {
		t.Fatalf("renew exit %d: %s", code, stderr)
	}
	rs = readResults(t, filepath.Join(out, "results.xlsx"))
	if c := statuses(rs); c[results.Renewed] != 3 || c[results.Created] != len(rs)-3 || s.Stats().CreateTokens != 3 {
		t.Fatalf("statuses %v, %d createToken calls", c, s.Stats().CreateTokens)
	}
}

func TestBadLabelColumnStopsBeforePosting(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", t.TempDir(), "--label-columns", "Sitee")
	if code != 2 || s.Stats().Requests != 0 || !strings.Contains(stderr, "Sitee") {
		t.Fatalf("exit %d, %d requests: %s", code, s.Stats().Requests, stderr)
	}
}

// TestSimCommandServesGraph starts `enrollbatch sim`, runs the job against
// it, and stops it with SIGINT.
func TestSimCommandServesGraph(t *testing.T) {
	t.Parallel()
	// A listener on every interface is announced with a loopback address,
	// the only plain-http Graph URL the client accepts.
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(listen, func(t *testing.T) {
			t.Parallel()
			testSimCommand(t, listen)
		})
	}
}

func testSimCommand(t *testing.T, listen string) {
	cmd := exec.Command(binary, "sim", "--listen", listen, "--existing", "2")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	url := ""
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "Graph simulator on "); ok {
			url, _, _ = strings.Cut(rest, ";")
			break
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("no address announced (got %q)", url)
	}
	go io.Copy(io.Discard, stderr)
	out := t.TempDir()
	code, _, serr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", "samples/profiles.csv", "--out", out, "--rate", "0")
	if code != 0 {
		t.Fatalf("run against sim: exit %d: %s", code, serr)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sim did not stop cleanly: %v", err)
	}
}

// TestTenantWithUnknownModes checks that profiles of modes or token types
// this tool does not produce (a tenant can hold them) are skipped for
// printing with a reason, and never make a command fail.
func TestTenantWithUnknownModes(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	s.SeedProfiles(
		profile.Profile{DisplayName: "Site 9 Known"},
		profile.Profile{DisplayName: "Site 9 Mode Five", EnrollmentMode: "5"},
		profile.Profile{DisplayName: "Site 9 Future", EnrollmentMode: "corporateOwnedFutureDevice"},
		profile.Profile{DisplayName: "Site 9 New Token", EnrollmentTokenType: "futureTokenType"},
	)
	env := []string{"GRAPH_ACCESS_TOKEN=t"}

	sheet := filepath.Join(t.TempDir(), "site9.pdf")
	code, _, stderr := run(t, env, "qr", "--from-tenant", "--name-prefix", "Site 9", "--graph-url", url, "--out", sheet)
	if code != 0 || !strings.Contains(stderr, "(1 label(s))") {
		t.Fatalf("qr --from-tenant exit %d, want 0 with one label: %s", code, stderr)
	}
	for _, want := range []string{
		`not printed: Site 9 Mode Five (`, `enrollmentMode "5" is not one this tool knows`,
		`not printed: Site 9 Future (`, `enrollmentMode "corporateOwnedFutureDevice" is not one this tool knows`,
		`not printed: Site 9 New Token (`, `enrollmentTokenType "futureTokenType" is not one this tool knows`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	in := filepath.Join(t.TempDir(), "site9.csv")
	os.WriteFile(in, []byte("displayName\nSite 9 Known\nSite 9 Mode Five\n"), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr = run(t, env, "run", "--input", in, "--graph-url", url, "--out", out, "--qr-existing", "--renew-within", "3650d", "--rate", "0")
	if code != 0 {
		t.Fatalf("run exit %d: %s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if len(rs) != 2 || rs[0].Status != results.Renewed || rs[1].Status != results.Exists ||
		len(rs[1].Notes) != 1 || !strings.Contains(rs[1].Notes[0], `not renewed nor printed: the tenant's profile has enrollmentMode "5"`) {
		t.Fatalf("results %+v", rs)
	}
	if st := s.Stats(); st.CreateTokens != 1 {
		t.Errorf("%d createToken calls, want 1 (the known profile only)", st.CreateTokens)
	}

	code, stdout, stderr := run(t, env, "revoke", "--name-prefix", "Site 9", "--graph-url", url, "--yes", "--out", t.TempDir())
	if code != 0 || strings.Count(stdout, "revoked") != 4 {
		t.Fatalf("revoke exit %d: %s%s", code, stdout, stderr)
	}
}

// TestServiceSetAndSecretLookingColumns runs a file with a tokenValue
// column, a header one typo from wifiPassword and an id column (as an
// export has), and checks that none of their values reaches the results,
// the logs or the requests, and that each column is warned about once.
func TestServiceSetAndSecretLookingColumns(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	in := filepath.Join(t.TempDir(), "in.csv")
	const tok, pw, id = "tok-7f3e9a1c", "pw-Hunter2-x", "9a8b7c6d-0000-4000-8000-000000000001"
	var b strings.Builder
	b.WriteString("displayName,tokenValue,wifiPasword,id,Site\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "Dock %d,%s,%s,%s,Leeds\n", i, tok, pw, id)
	}
	os.WriteFile(in, []byte(b.String()), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	for _, format := range []string{"text", "json"} {
		code, stdout, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out,
			"--rate", "0", "--results-csv", "--log-format", format, "--verbose", "--on-exists", "skip")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		files := []string{stdout, stderr}
		for _, f := range []string{"results.csv", "results.xlsx"} {
			data, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, string(data))
		}
		for i, text := range files {
			for _, secret := range []string{tok, pw} {
				if strings.Contains(text, secret) {
					t.Errorf("%s: output %d carries %q", format, i, secret)
				}
			}
		}
		for _, want := range []string{`column \"tokenValue\" is ignored`, `column \"wifiPasword\" is not a property but looks like wifiPassword, a secret`} {
			if format == "text" {
				want = strings.ReplaceAll(want, `\"`, `"`)
			}
			if n := strings.Count(stderr, want); n != 1 {
				t.Errorf("%s: %q appears %d times, want once:\n%s", format, want, n, stderr)
			}
		}
	}
	for _, body := range s.Bodies() {
		for k, v := range body {
			if k == "tokenValue" || k == "id" || v == pw {
				t.Errorf("posted %s=%v", k, v)
			}
		}
	}
	if rs := readResults(t, filepath.Join(out, "results.xlsx")); len(rs) != 3 || len(rs[0].Extras) != 1 || rs[0].Extras[0] != "Leeds" {
		t.Errorf("results %+v, want only the Site extra column", rs)
	}
}

// TestPastExpiryStopsBeforePosting checks that validate and --dry-run
// report a token expiry in the past, and that run posts nothing for it.
func TestPastExpiryStopsBeforePosting(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	in := filepath.Join(t.TempDir(), "in.csv")
	past := time.Now().Add(-48 * time.Hour).UTC().Format("2006-01-02")
	os.WriteFile(in, []byte("displayName,tokenExpirationDateTime\nOld Kiosk,"+past+"\nNew Kiosk,\n"), 0o600)
	want := "row 2, tokenExpirationDateTime: " + past + " is in the past"
	code, stdout, _ := run(t, nil, "validate", "--input", in)
	if code != 1 || !strings.Contains(stdout, want) {
		t.Errorf("validate exit %d, want 1 naming the date:\n%s", code, stdout)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--dry-run", "--rate", "0")
	rs := readResults(t, filepath.Join(out, "plan.xlsx"))
	if code != 1 || len(rs) != 2 || rs[0].Status != results.Invalid || !strings.Contains(rs[0].ErrorMessage, "is in the past") || rs[1].Status != results.Planned {
		t.Errorf("dry run exit %d, results %+v: %s", code, rs, stderr)
	}
	code, _, _ = run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0")
	if code != 1 || len(s.Named("Old Kiosk")) != 0 || len(s.Named("New Kiosk")) != 1 {
		t.Errorf("run exit %d; Old Kiosk posted %d times", code, len(s.Named("Old Kiosk")))
	}
}

// TestValidatePrintsNotes checks that validate shows the notes a valid row
// carries (values accepted with a caveat from the pages).
func TestValidatePrintsNotes(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(in, []byte("displayName,enrollmentMode,deviceNameTemplate\nTills,corporateOwnedAOSPUserlessDevice,TILL_{{ENROLLEDDATETIME}}\n"), 0o600)
	code, stdout, _ := run(t, nil, "validate", "--input", in)
	for _, want := range []string{
		"note: " + in + ": row 2, deviceNameTemplate: {{ENROLLEDDATETIME}} is spelled so only on Intune docs, android-aosp-corporate-owned-userless-enroll",
		"note: " + in + ": row 2, deviceNameTemplate: \"TILL_{{ENROLLEDDATETIME}}\" has characters other than letters, numbers and hyphens (_)",
		"1 valid, 0 invalid",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestPastExpiryOfAnExistingProfileIsNotAProblem checks that a daily run
// over an old sheet, whose expiry dates have passed for profiles created
// long ago, reports those rows exists (nothing is sent for them) with a
// note, instead of invalid.
func TestPastExpiryOfAnExistingProfileIsNotAProblem(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	s.Seed("Old Kiosk")
	in := filepath.Join(t.TempDir(), "in.csv")
	past := time.Now().Add(-48 * time.Hour).UTC().Format("2006-01-02")
	os.WriteFile(in, []byte("displayName,tokenExpirationDateTime\nOld Kiosk,"+past+"\nGone Kiosk,"+past+"\n"), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0")
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if code != 1 || len(rs) != 2 {
		t.Fatalf("exit %d (want 1: Gone Kiosk is invalid), %d results: %s", code, len(rs), stderr)
	}
	if rs[0].Status != results.Exists || rs[0].ID == "" || !strings.Contains(strings.Join(rs[0].Notes, " "), "is in the past") {
		t.Errorf("Old Kiosk: %s id %q notes %q, want exists with a note on the past expiry", rs[0].Status, rs[0].ID, rs[0].Notes)
	}
	if rs[1].Status != results.Invalid || len(s.Named("Gone Kiosk")) != 0 {
		t.Errorf("Gone Kiosk: %s, posted %d times; want invalid and never posted", rs[1].Status, len(s.Named("Gone Kiosk")))
	}
}
