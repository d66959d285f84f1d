package qrsheet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeFileName(t *testing.T) {
	long := strings.Repeat("Ł", 80) // 160 bytes
	tests := []struct{ in, want string }{
		{"Leeds DC", "Leeds DC"},
		{`a<b>c:d"e/f\g|h?i*j`, "a_b_c_d_e_f_g_h_i_j"},
		{"tab\there\nnewline", "tab_here_newline"},
		{"  trailing dots... ", "trailing dots"},
		{"CON", "CON_"},
		{"nul", "nul_"},
		{"com1.txt", "com1.txt_"},
		{"CONSOLE", "CONSOLE"},
		{"", "_"},
		{"...", "_"},
		{"東京 倉庫", "東京 倉庫"},
		{"a\xffb", "a_b"},
	}
	for _, tc := range tests {
		if got := SafeFileName(tc.in); got != tc.want {
			t.Errorf("SafeFileName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	a, b := SafeFileName(long+"a"), SafeFileName(long+"b")
	if a == b || len(a) > maxNameValue || !utf8.ValidString(a) {
		t.Errorf("long values: %q and %q (%d bytes): want distinct, valid UTF-8, at most %d bytes", a, b, len(a), maxNameValue)
	}
}

// TestSplitPathsKeepSheetsApart: values that differ only by case or by
// characters made safe still get files of their own, which every file
// system can create.
func TestSplitPathsKeepSheetsApart(t *testing.T) {
	dir := t.TempDir()
	values := []string{"Leeds", "leeds", "A/B", "A_B", "CON", "東京", strings.Repeat("x", 300)}
	paths := SplitPaths(filepath.Join(dir, "qr-codes.pdf"), values)
	seen := map[string]string{}
	for _, v := range values {
		p := paths[v]
		if !strings.HasPrefix(filepath.Base(p), "qr-codes-") || filepath.Ext(p) != ".pdf" {
			t.Errorf("%q: path %q", v, p)
		}
		k := strings.ToLower(p)
		if other, ok := seen[k]; ok {
			t.Errorf("%q and %q share %q", v, other, p)
		}
		seen[k] = v
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if got := filepath.Base(paths["Leeds"]); !strings.HasPrefix(got, "qr-codes-Leeds-") {
		t.Errorf("Leeds: %q, want a hash after the name as leeds shares it on case-insensitive systems", got)
	}
	if got := filepath.Base(paths["東京"]); got != "qr-codes-東京.pdf" {
		t.Errorf("東京: %q", got)
	}
}
