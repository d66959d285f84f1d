// Package testpayload makes Android provisioning payloads shaped like the
// qrCodeContent Intune returns (about 600 bytes of JSON naming Android
// Device Policy and an enrollment token), for the tests of the code that
// encodes, prints and records them. It is imported by tests only.
package testpayload

import "math/rand/v2"

// WithToken returns a payload whose enrollment token is token.
func WithToken(token string) string {
	return `{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver",` +
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM":"I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg",` +
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION":"https://play.google.com/managed/downloadManagingApp?identifier=setup",` +
		`"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"` + token + `"},` +
		`"android.app.extra.PROVISIONING_SKIP_ENCRYPTION":false,"android.app.extra.PROVISIONING_LEAVE_ALL_SYSTEM_APPS_ENABLED":true}`
}

// Seeded returns a payload whose token is 20 capital letters drawn from
// seed: the same seed, the same payload.
func Seeded(seed int) string {
	rng := rand.New(rand.NewPCG(uint64(seed), 42))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	tok := make([]byte, 20)
	for i := range tok {
		tok[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return WithToken(string(tok))
}
