package output

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreflight(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	plenty := func(string) (uint64, error) { return 1 << 40, nil }
	tests := []struct {
		name string
		p    Preflight
		says string // "" when the check passes
	}{
		{"fits", Preflight{Dir: dir, Files: []string{"results.xlsx", "qr-codes.pdf"}, Extra: 3, Rows: 500, Free: plenty}, ""},
		{"every column Excel has", Preflight{Dir: dir, Extra: MaxColumns - len(Columns), Free: plenty}, ""},
		{"one column too many", Preflight{Dir: dir, Extra: MaxColumns - len(Columns) + 1, Free: plenty}, "more than Excel's 16384"},
		{"folder cannot take files", Preflight{Dir: notDir, Files: []string{"results.xlsx"}, Free: plenty}, "cannot take results.xlsx"},
		{"disk nearly full", Preflight{Dir: dir, Files: []string{"results.xlsx"}, Rows: 1000, Free: func(string) (uint64, error) { return 3 << 20, nil }}, "has 3.0 MiB free"},
		{"free space unknown", Preflight{Dir: dir, Rows: 1000, Free: func(string) (uint64, error) { return 0, errors.New("not supported") }}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Check()
			switch {
			case tc.says == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "nothing was sent")):
				t.Fatalf("got %v, want an error saying %q and that nothing was sent", err, tc.says)
			}
		})
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("the checks left files behind: %v", left)
	}
}

func TestFreeSpaceOfRealFolder(t *testing.T) {
	n, err := FreeSpace(t.TempDir())
	if err != nil || n == 0 {
		t.Fatalf("FreeSpace: %d, %v", n, err)
	}
}
