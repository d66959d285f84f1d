package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/results"
)

// requirePDFTools skips the test when pdftoppm or zbarimg is missing, or
// fails it when ENROLLBATCH_REQUIRE_TOOLS=1 (as in CI).
func requirePDFTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("ENROLLBATCH_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s not found: apt-get install poppler-utils zbar-tools (required because ENROLLBATCH_REQUIRE_TOOLS=1)", tool)
			}
			t.Skipf("%s not found: apt-get install poppler-utils zbar-tools", tool)
		}
	}
}

// sheetCodes renders every page of a PDF at 150 dpi and returns the text of
// every QR code zbarimg finds, sorted.
func sheetCodes(t *testing.T, pdf string) []string {
	t.Helper()
	dir := t.TempDir()
	if out, err := toolCombined("pdftoppm", "-r", "150", "-png", pdf, filepath.Join(dir, "page")); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(pages) == 0 {
		t.Fatal("pdftoppm wrote no pages")
	}
	var codes []string
	for _, p := range pages {
		out, err := tool("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary", p)
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 4 {
			continue // no symbol on the page
		}
		if err != nil {
			t.Fatalf("zbarimg %s: %v", p, err)
		}
		// With -Sbinary the symbols are joined without a separator; each
		// is one JSON object here, so split them with a JSON decoder.
		dec := json.NewDecoder(bytes.NewReader(out))
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatalf("a printed code is not JSON: %v: %q", err, out)
			}
			codes = append(codes, string(raw))
		}
	}
	slices.Sort(codes)
	return codes
}

// TestBase64ContentPrintsProvisioningJSON runs AOSP profiles against a
// tenant whose qrCodeContent comes base64-encoded, renders the QR sheet and
// decodes every printed code: each must be the provisioning JSON, never
// the base64 text. The same holds for a reprint from the tenant.
func TestBase64ContentPrintsProvisioningJSON(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	s, url := simServer(t, sim.Options{Content: sim.ContentBase64})
	dir := t.TempDir()
	in := filepath.Join(dir, "aosp.csv")
	os.WriteFile(in, []byte("displayName,enrollmentMode,configureWifi,wifiSsid,wifiPassword,wifiSecurityType\n"+
		"Glasses 1,corporateOwnedAOSPUserlessDevice,false,,,\n"+
		"Glasses 2,corporateOwnedAOSPUserlessDevice,true,Warehouse,Sup3r-Secret-Pw,wpa\n"+
		"Headset 3,corporateOwnedAOSPUserAssociatedDevice,false,,,\n"+
		"Kiosk 4,corporateOwnedDedicatedDevice,,,,\n"), 0o600)
	out := filepath.Join(dir, "out")
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}

	// What the devices need: the JSON behind each profile's base64.
	var want []string
	aosp := 0
	for _, p := range s.Profiles() {
		c := p.QRCodeContent
		if strings.HasPrefix(p.EnrollmentMode, "corporateOwnedAOSP") {
			aosp++
			b, err := base64.StdEncoding.DecodeString(c)
			if err != nil {
				t.Fatalf("the simulator's AOSP content is not base64: %v", err)
			}
			c = string(b)
		}
		want = append(want, c)
	}
	slices.Sort(want)
	if aosp != 3 || len(want) != 4 {
		t.Fatalf("%d profiles, %d AOSP; want 4 and 3", len(want), aosp)
	}

	got := sheetCodes(t, filepath.Join(out, "qr-codes.pdf"))
	if !slices.Equal(got, want) {
		t.Fatalf("printed codes:\n%s\nwant the provisioning JSON:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The results show the payload as printed (the Wi-Fi password
	// redacted) and say that it was decoded.
	for _, r := range readResults(t, filepath.Join(out, "results.xlsx")) {
		if r.Status != results.Created || !strings.HasPrefix(r.QRCodeContent, "{") {
			t.Errorf("row %d: %s, content %.40q; want created with JSON content", r.Row, r.Status, r.QRCodeContent)
		}
		decoded := strings.Contains(strings.Join(r.Notes, " "), "base64")
		if decoded != (r.DisplayName != "Kiosk 4") {
			t.Errorf("row %d %s: notes %q", r.Row, r.DisplayName, r.Notes)
		}
		if strings.Contains(r.QRCodeContent, "Sup3r-Secret-Pw") {
			t.Errorf("row %d: the Wi-Fi password is in the results", r.Row)
		}
	}

	// A reprint from the tenant prints the same JSON.
	again := filepath.Join(dir, "again.pdf")
	code, _, stderr = run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "qr", "--from-tenant", "--graph-url", url, "--out", again, "--rate", "0")
	if code != 0 {
		t.Fatalf("qr --from-tenant: exit %d: %s", code, stderr)
	}
	if got := sheetCodes(t, again); !slices.Equal(got, want) {
		t.Fatalf("reprinted codes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
