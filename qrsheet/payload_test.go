package qrsheet

import "github.com/enrollbatch/enrollbatch/internal/testpayload"

// testPayload is a realistic provisioning payload for seed.
func testPayload(seed int) string { return testpayload.Seeded(seed) }
