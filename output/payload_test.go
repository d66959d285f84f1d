package output

import (
	"time"

	"github.com/enrollbatch/enrollbatch/internal/testpayload"
)

// testPayload is a realistic provisioning payload for seed.
func testPayload(seed int) string { return testpayload.Seeded(seed) }

var (
	testNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	later   = time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC)
)
