package input

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWorkbookThatUnpacksTooFarIsRefused reads a small file whose sheet
// claims to unpack to 2 GiB: it is refused at once with a message that
// says what to do, instead of keeping the job busy inflating it.
func TestWorkbookThatUnpacksTooFarIsRefused(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	body := []byte("<worksheet/>")
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "xl/worksheets/sheet1.xml", Method: zip.Store,
		CRC32: crc32.ChecksumIEEE(body), CompressedSize64: uint64(len(body)), UncompressedSize64: 2 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bomb.xlsx")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Read(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "1 GiB") || !strings.Contains(err.Error(), "bomb.xlsx") {
		t.Fatalf("err %v, want a refusal naming the file and the limit", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("refusing took %v", took)
	}
}
