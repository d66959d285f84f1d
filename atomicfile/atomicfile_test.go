package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// errInUse is what Windows says when a rename meets a file open in Excel.
var errInUse = errors.New("The process cannot access the file because it is being used by another process.")

func TestWrite(t *testing.T) {
	errWrite := errors.New("the source failed")
	tests := []struct {
		name    string
		old     string // the file before; "" for none
		oldMode os.FileMode
		write   func(w io.Writer) error
		rename  func(src, dst string) error // nil: os.Rename
		wantErr error                       // nil: success, the file holds "new"
	}{
		{name: "new file", write: writeString("new")},
		{name: "replaces a file", old: "old", oldMode: 0o600, write: writeString("new")},
		{name: "replaces a readable file, mode 0600", old: "old", oldMode: 0o644, write: writeString("new")},
		{name: "large file", write: writeString(strings.Repeat("x", 3*bufSize+17))},
		{name: "write fails", old: "old", oldMode: 0o600, write: func(w io.Writer) error {
			io.WriteString(w, "half of the new file")
			return errWrite
		}, wantErr: errWrite},
		{name: "write fails, no file before", write: func(io.Writer) error { return errWrite }, wantErr: errWrite},
		{name: "rename fails", old: "old", oldMode: 0o600, write: writeString("new"),
			rename:  func(src, dst string) error { return &os.LinkError{Op: "rename", Old: src, New: dst, Err: errInUse} },
			wantErr: errInUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rename != nil {
				real := Rename
				Rename = tc.rename
				t.Cleanup(func() { Rename = real })
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "results.xlsx")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), tc.oldMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.oldMode); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			err := Write(path, tc.write)
			want := wantContent(tc.write)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "write "+path+": ") {
					t.Errorf("err %q does not name %s", err, path)
				}
				want = tc.old
			} else if err != nil {
				t.Fatal(err)
			}
			got, rerr := os.ReadFile(path)
			switch {
			case want == "" && !os.IsNotExist(rerr):
				t.Errorf("a file was left at %s (%v)", path, rerr)
			case want != "" && string(got) != want:
				t.Errorf("file holds %d bytes %.20q, want %d bytes %.20q", len(got), got, len(want), want)
			}
			if tc.wantErr == nil {
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != Mode {
					t.Errorf("mode %v, want %v", st.Mode().Perm(), Mode)
				}
			}
			checkOnly(t, dir, want != "")
		})
	}
}

// writeString returns a write function that writes s.
func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// wantContent is what write writes when it succeeds.
func wantContent(write func(io.Writer) error) string {
	var b strings.Builder
	if write(&b) != nil {
		return ""
	}
	return b.String()
}

// checkOnly fails unless dir holds results.xlsx (when file) and nothing
// else: no temporary file is ever left behind.
func checkOnly(t *testing.T, dir string, file bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := map[bool]int{true: 1, false: 0}[file]; len(names) != want || file && names[0] != "results.xlsx" {
		t.Errorf("folder holds %q, want results.xlsx only: %v", names, file)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.xlsx")
	for _, data := range []string{"first", "second, longer than the first", ""} {
		if err := WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	checkOnly(t, dir, true)
}

func TestWriteFailsWithoutFolder(t *testing.T) {
	dir := t.TempDir()
	err := WriteFile(filepath.Join(dir, "missing", "results.xlsx"), []byte("x"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v, want one wrapping os.ErrNotExist", err)
	}
	checkOnly(t, dir, false)
}

func TestWritePanicLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.xlsx")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		_ = Write(path, func(w io.Writer) error {
			io.WriteString(w, "new")
			panic("the writer broke")
		})
	}()
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("file holds %q, want the old one", got)
	}
	checkOnly(t, dir, true)
}

// TestWriteTemp: the temporary file is complete, private and hidden next to
// its final name, and nothing is renamed until the caller does.
func TestWriteTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.xlsx")
	tmp, err := WriteTemp(path, writeString("new"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(tmp) != dir || !strings.HasPrefix(filepath.Base(tmp), ".results.xlsx.tmp-") {
		t.Errorf("temporary file %s, want .results.xlsx.tmp-* in %s", tmp, dir)
	}
	st, err := os.Stat(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != Mode {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), Mode)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the final name exists before the rename: %v", err)
	}
	if err := Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	SyncDir(dir)
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Errorf("file holds %q", got)
	}
	checkOnly(t, dir, true)
}
