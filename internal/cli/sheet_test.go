package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/results"
)

// decodeSheets renders every page of the PDFs at 150 dpi and returns every
// code zbarimg reads.
func decodeSheets(t *testing.T, paths ...string) []string {
	t.Helper()
	var got []string
	for _, path := range paths {
		dir := t.TempDir()
		if out, err := toolCombined("pdftoppm", "-r", "150", "-png", path, filepath.Join(dir, "p")); err != nil {
			t.Fatalf("pdftoppm %s: %v\n%s", path, err, out)
		}
		pages, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
		for _, p := range pages {
			out, err := tool("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", p)
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 4 {
				continue
			}
			if err != nil {
				t.Fatalf("zbarimg %s: %v", p, err)
			}
			got = append(got, strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' })...)
		}
	}
	slices.Sort(got)
	return got
}

// tenantCodes returns the QR content of every profile in the simulator.
func tenantCodes(s *sim.Server) []string {
	var want []string
	for _, p := range s.Profiles() {
		want = append(want, p.QRCodeContent)
	}
	slices.Sort(want)
	return want
}

// TestInterruptThenRerunCompletesSheet interrupts the built binary with
// SIGINT mid-run, then reruns the same command into the same folder: the
// final sheet holds the code of every profile the two runs created, each
// once, and every one decodes.
func TestInterruptThenRerunCompletesSheet(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	s, url := simServer(t, sim.Options{Latency: 120 * time.Millisecond})
	const n = 24
	in := writeNames(t, n, "Dock %02d")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--concurrency", "2"}
	cmd, stderr := start(t, args...)
	waitUntil(t, cmd, stderr, "4 creates", func() bool { return s.Stats().Created >= 4 })
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit after SIGINT: %v, want 1\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "will hold every profile this folder's runs created") {
		t.Errorf("the interruption message does not say the rerun completes the sheet:\n%s", stderr)
	}
	first := len(s.Profiles())
	if first == 0 || first == n {
		t.Fatalf("%d of %d created before the signal; the test needs a run cut in the middle", first, n)
	}
	if got := decodeSheets(t, filepath.Join(out, "qr-codes.pdf")); len(got) != first {
		t.Errorf("the interrupted run's sheet holds %d codes, want %d", len(got), first)
	}

	code, _, serr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, args...)
	if code != 0 {
		t.Fatalf("rerun exit %d:\n%s", code, serr)
	}
	if !strings.Contains(serr, "carried over "+strconv.Itoa(first)+" QR code(s)") {
		t.Errorf("rerun does not say it carried the %d earlier codes over:\n%s", first, serr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if c := statuses(rs); c[results.Exists] != first || c[results.Created] != n-first {
		t.Errorf("rerun statuses %v after %d created", c, first)
	}
	got := decodeSheets(t, filepath.Join(out, "qr-codes.pdf"))
	if want := tenantCodes(s); len(want) != n || !slices.Equal(got, want) {
		t.Errorf("final sheet decodes %d codes, want the %d profiles in the tenant, each once\nfirst run:\n%s\nrerun:\n%s\ndecoded:\n%s",
			len(got), len(want), stderr, serr, strings.Join(got, "\n"))
	}
}

// TestSplitBySite writes one sheet per site, with names safe for any file
// system and page numbers of their own; qr --split-by does the same from
// the results, and an unknown column is a usage error before anything is
// posted.
func TestSplitBySite(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	s, url := simServer(t, sim.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "sites.csv")
	rows := "displayName,Site\n" +
		"North 1,Leeds DC\nNorth 2,Leeds DC\nSouth 1,\"Bristol: \"\"Temple\"\" / Quay\"\nCon 1,CON\nBlank 1,\nTokyo 1,東京 倉庫 \n"
	if err := os.WriteFile(in, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	env := []string{"GRAPH_ACCESS_TOKEN=t"}
	code, _, serr := run(t, env, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--split-by", "site")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, serr)
	}
	want := map[string]int{
		"qr-codes-Leeds DC.pdf":                 2,
		"qr-codes-Bristol_ _Temple_ _ Quay.pdf": 1,
		"qr-codes-CON_.pdf":                     1,
		"qr-codes-(blank).pdf":                  1,
		"qr-codes-東京 倉庫.pdf":                    1,
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.pdf"))
	if len(files) != len(want) {
		t.Errorf("files %v, want %d sheets", files, len(want))
	}
	total := 0
	for name, labels := range want {
		path := filepath.Join(out, name)
		got := decodeSheets(t, path)
		if len(got) != labels {
			t.Errorf("%s: %d codes, want %d", name, len(got), labels)
		}
		total += len(got)
		text, err := tool("pdftotext", path, "-")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "Page 1 of 1") {
			t.Errorf("%s is not numbered on its own", name)
		}
	}
	if want := tenantCodes(s); total != len(want) {
		t.Errorf("%d codes over the sheets, %d profiles", total, len(want))
	}

	// Reprint by site from the results.
	sheet := filepath.Join(dir, "reprint.pdf")
	code, _, serr = run(t, nil, "qr", "--results", filepath.Join(out, "results.xlsx"), "--out", sheet, "--split-by", "Site", "--no-check")
	if code != 0 {
		t.Fatalf("qr exit %d:\n%s", code, serr)
	}
	if got := decodeSheets(t, filepath.Join(dir, "reprint-Leeds DC.pdf")); len(got) != 2 {
		t.Errorf("reprint for Leeds DC decodes %d codes, want 2", len(got))
	}

	posts := s.Stats().Posts
	code, _, serr = run(t, env, "run", "--graph-url", url, "--input", in, "--out", filepath.Join(dir, "o2"), "--split-by", "Region")
	if code != 2 || !strings.Contains(serr, "--split-by") || !strings.Contains(serr, "Site") {
		t.Errorf("unknown --split-by column: exit %d, want 2 naming the columns:\n%s", code, serr)
	}
	if s.Stats().Posts != posts {
		t.Error("a run with an unknown --split-by column posted")
	}
}

// TestUndrawableCharacterIsNoted: a character no font has is named, with
// its row, in the log and in the row's notes, and the label still prints.
func TestUndrawableCharacterIsNoted(t *testing.T) {
	t.Parallel()
	requirePDFTools(t)
	_, url := simServer(t, sim.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "p.csv")
	if err := os.WriteFile(in, []byte("displayName,Site\nGate A,Leeds \U0010FFFD\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, serr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", url, "--input", in, "--out", out, "--rate", "0", "--label-columns", "Site")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, serr)
	}
	if !strings.Contains(serr, "row 2, Gate A: label caption: Site: character U+10FFFD") {
		t.Errorf("the log does not name the row and the character:\n%s", serr)
	}
	rs := readResults(t, filepath.Join(out, "results.xlsx"))
	if len(rs) != 1 || !strings.Contains(strings.Join(rs[0].Notes, "\n"), "U+10FFFD") {
		t.Errorf("notes %q lack the character", rs[0].Notes)
	}
	text, err := tool("pdftotext", filepath.Join(out, "qr-codes.pdf"), "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "[U+10FFFD]") {
		t.Errorf("the label shows no marker:\n%s", text)
	}
	if got := decodeSheets(t, filepath.Join(out, "qr-codes.pdf")); len(got) != 1 {
		t.Errorf("%d codes decoded, want 1", len(got))
	}
}
