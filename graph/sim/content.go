package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/qr"
)

// Android provisioning values of Microsoft Intune's device policy
// controller (Android Device Policy, "CloudDPC").
const (
	dpcComponent = "com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver"
	dpcChecksum  = "I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg"
	dpcDownload  = "https://play.google.com/managed/downloadManagingApp?identifier=setup"
)

// newGUID returns a random (version 4) GUID in its usual lower-case form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// tokenLength is the length of an enrollment token for a mode, as the
// Intune pages describe it: "a 20-digit string" for dedicated devices
// (android-kiosk-enroll), "an eight-digit string" for corporate-owned work
// profiles (android-corporate-owned-work-profile-enroll). The other pages
// do not say; they get the dedicated form.
func tokenLength(mode string) int {
	if mode == profile.ModeWorkProfile {
		return 8
	}
	return 20
}

// newToken returns a random enrollment token of the documented shape for
// the mode: decimal digits, tokenLength(mode) of them.
func newToken(mode string) string {
	b := make([]byte, tokenLength(mode))
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// lower is the case folding of $filter comparisons.
func lower(s string) string { return strings.ToLower(s) }

// provisioning is the Android provisioning document a device reads from
// the QR code during setup, in the order Intune writes its keys.
type provisioning struct {
	Component    string `json:"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME"`
	Checksum     string `json:"android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM"`
	Download     string `json:"android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION"`
	SkipEncrypt  bool   `json:"android.app.extra.PROVISIONING_SKIP_ENCRYPTION"`
	LeaveApps    *bool  `json:"android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED,omitempty"`
	WifiSSID     string `json:"android.app.extra.PROVISIONING_WIFI_SSID,omitempty"`
	WifiHidden   *bool  `json:"android.app.extra.PROVISIONING_WIFI_HIDDEN,omitempty"`
	WifiSecurity string `json:"android.app.extra.PROVISIONING_WIFI_SECURITY_TYPE,omitempty"`
	WifiPassword string `json:"android.app.extra.PROVISIONING_WIFI_PASSWORD,omitempty"`
	Extras       extras `json:"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE"`
}

type extras struct {
	Token string `json:"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN"`
}

// provisioningContent builds the qrCodeContent of a profile from its token
// and settings. It is derived on demand rather than stored: 20,000 profiles
// would otherwise hold 12 MB of near-identical JSON.
func provisioningContent(r *record) string {
	p := &r.p
	doc := provisioning{
		Component: dpcComponent,
		Checksum:  dpcChecksum,
		Download:  dpcDownload,
		Extras:    extras{Token: p.TokenValue},
	}
	if p.EnrollmentMode == "corporateOwnedDedicatedDevice" || p.EnrollmentMode == "" {
		t := true
		doc.LeaveApps = &t
	}
	if p.ConfigureWifi && p.WifiSsid != "" {
		doc.WifiSSID = p.WifiSsid
		h := p.WifiHidden
		doc.WifiHidden = &h
		doc.WifiSecurity = strings.ToUpper(p.WifiSecurityType)
		if doc.WifiSecurity == "" {
			doc.WifiSecurity = "NONE"
		}
		doc.WifiPassword = r.wifiPassword
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc) // cannot fail: strings and booleans only
	return strings.TrimSuffix(b.String(), "\n")
}

// qrPNG renders content as a QR code PNG: 4 pixels per module with the
// 4-module quiet zone, black on white, as a decoder expects.
func qrPNG(content string) ([]byte, error) {
	c, err := qr.Encode(content)
	if err != nil {
		return nil, fmt.Errorf("render qr code image: %w", err)
	}
	return c.PNG(4)
}
