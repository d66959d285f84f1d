package output

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// testPayload returns a realistic Android provisioning payload (about 600
// bytes, like Intune's qrCodeContent) with an enrollment token derived from seed.
func testPayload(seed int) string {
	rng := rand.New(rand.NewPCG(uint64(seed), 42))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	tok := make([]byte, 20)
	for i := range tok {
		tok[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return fmt.Sprintf(`{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver",`+
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM":"I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg",`+
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION":"https://play.google.com/managed/downloadManagingApp?identifier=setup",`+
		`"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"%s"},`+
		`"android.app.extra.PROVISIONING_SKIP_ENCRYPTION":false,"android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED":true}`, tok)
}

var (
	testNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	later   = time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC)
)
