package output

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/atomicfile"
	"github.com/enrollbatch/enrollbatch/qrsheet"
)

// TestRenameFailureLeavesOutputs: when a finished file cannot be put in
// place (Windows: the file is open in Excel), every writer fails, leaves
// the earlier file as it was and no temporary file.
func TestRenameFailureLeavesOutputs(t *testing.T) {
	inUse := errors.New("The process cannot access the file because it is being used by another process.")
	failing := func(src, dst string) error {
		return &os.LinkError{Op: "rename", Old: src, New: dst, Err: inUse}
	}
	writers := []struct {
		name  string
		write func(path string) error
	}{
		{"results.xlsx", func(path string) error { return WriteWorkbook(path, sampleRun(), sampleResults()) }},
		{"results.csv", func(path string) error { return WriteCSV(path, sampleRun(), sampleResults()) }},
		{"qr-codes.pdf", func(path string) error {
			labels := []qrsheet.Label{
				{DisplayName: "Site 000 kiosk", Expires: later, Content: testPayload(0)},
				{DisplayName: "Site 001 kiosk", Expires: later, Content: testPayload(1)},
			}
			return qrsheet.WritePDF(path, labels, qrsheet.Options{Date: testNow, Now: testNow})
		}},
	}
	hooks := []struct {
		name string
		hook *func(src, dst string) error
	}{
		{"atomicfile.Rename", &atomicfile.Rename},
	}
	for _, h := range hooks {
		for _, w := range writers {
			t.Run(h.name+"/"+w.name, func(t *testing.T) {
				real := *h.hook
				*h.hook = failing
				t.Cleanup(func() { *h.hook = real })
				dir := t.TempDir()
				path := filepath.Join(dir, w.name)
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				err := w.write(path)
				if !errors.Is(err, inUse) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err %v, want the rename's error naming %s", err, path)
				}
				if b, _ := os.ReadFile(path); string(b) != "old" {
					t.Errorf("%s was changed to %d bytes", w.name, len(b))
				}
				if left, _ := os.ReadDir(dir); len(left) != 1 {
					t.Errorf("files left: %v", left)
				}
			})
		}
	}
	// With the renames back, the writers put their files in place.
	dir := t.TempDir()
	for _, w := range writers {
		if err := w.write(filepath.Join(dir, w.name)); err != nil {
			t.Fatal(err)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != len(writers) {
		t.Errorf("files %v, want the %d outputs only", left, len(writers))
	}
}
