package qr

import (
	"fmt"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// provisioningJSON builds an Android provisioning payload like the one Intune
// returns in qrCodeContent, with token as the enrollment token.
func provisioningJSON(token string) string {
	return `{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver",` +
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM":"I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg",` +
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION":"https://play.google.com/managed/downloadManagingApp?identifier=setup",` +
		`"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"` + token + `"},` +
		`"android.app.extra.PROVISIONING_SKIP_ENCRYPTION":false,"android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED":true}`
}

func TestEncodeMatchesLibraryWithoutBorder(t *testing.T) {
	tests := []struct {
		name    string
		content string
		minVer  int
		maxVer  int
	}{
		{"short url", "https://example.com/enroll", 1, 4},
		{"utf-8 name", "Zażółć gęślą jaźń — Ελληνικά", 1, 6},
		{"provisioning json", provisioningJSON(strings.Repeat("ABCDEFGHJK", 6)[:60]), 18, 24},
		{"provisioning json other token", provisioningJSON("QWERTYUIOPASDFGHJKLZ"), 18, 24},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Encode(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "provisioning json" && (len(tc.content) < 550 || len(tc.content) > 700) {
				t.Fatalf("test payload is %d bytes, want about 600", len(tc.content))
			}
			if v := c.Version(); v < tc.minVer || v > tc.maxVer {
				t.Errorf("version %d, want %d-%d", v, tc.minVer, tc.maxVer)
			}
			if c.Size() != 17+4*c.Version() {
				t.Errorf("size %d is not a symbol size without quiet zone (version %d)", c.Size(), c.Version())
			}
			// The reference: the library with its default border. The border must
			// be exactly QuietZone light modules and the rest identical.
			ref, err := qrcode.New(tc.content, qrcode.Medium)
			if err != nil {
				t.Fatal(err)
			}
			if ref.Level != qrcode.Medium {
				t.Errorf("level %v, want Medium", ref.Level)
			}
			if ref.VersionNumber != c.Version() {
				t.Errorf("library says version %d, code says %d", ref.VersionNumber, c.Version())
			}
			bm := ref.Bitmap()
			if len(bm) != c.Size()+2*QuietZone {
				t.Fatalf("bordered bitmap is %d wide, want %d", len(bm), c.Size()+2*QuietZone)
			}
			for y := range bm {
				for x := range bm[y] {
					if got, want := c.Black(x-QuietZone, y-QuietZone), bm[y][x]; got != want {
						t.Fatalf("module (%d,%d): got %v, want %v", x-QuietZone, y-QuietZone, got, want)
					}
				}
			}
			// Finder patterns sit in the corners, so the symbol starts at (0,0).
			for _, p := range [][2]int{{0, 0}, {c.Size() - 7, 0}, {0, c.Size() - 7}} {
				if !c.Black(p[0], p[1]) || !c.Black(p[0]+6, p[1]+6) || c.Black(p[0]+1, p[1]+1) || !c.Black(p[0]+3, p[1]+3) {
					t.Errorf("no finder pattern at %v", p)
				}
			}
		})
	}
}

func TestEncodeRejectsOversizedContent(t *testing.T) {
	if _, err := Encode(strings.Repeat("x", 3000)); err == nil {
		t.Fatal("3000 bytes encoded, want an error (level M holds at most 2331 bytes)")
	}
	if _, err := Encode(""); err == nil {
		t.Fatal("empty content encoded, want an error")
	}
}

func ExampleEncode() {
	c, err := Encode("hello")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Version(), c.Size())
	// Output: 1 21
}
