package results

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStoredContentRedactsTheWifiPassword(t *testing.T) {
	cases := []struct {
		name, in   string
		redacted   bool
		mustNotSee string
	}{
		{"no wifi", `{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"x/.y"}`, false, ""},
		{"password", `{"android.app.extra.PROVISIONING_WIFI_SSID":"Dock","android.app.extra.PROVISIONING_WIFI_PASSWORD":"Sup3r-Secret","z":1}`, true, "Sup3r-Secret"},
		{"escaped quote", `{"android.app.extra.PROVISIONING_WIFI_PASSWORD" : "a\"b-Secret","z":1}`, true, "b-Secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := StoredContent(c.in)
			if IsRedacted(got) != c.redacted {
				t.Fatalf("IsRedacted(%q) = %v", got, !c.redacted)
			}
			if !c.redacted && got != c.in {
				t.Fatalf("changed content without a password: %q", got)
			}
			if c.mustNotSee != "" && strings.Contains(got, c.mustNotSee) {
				t.Fatalf("password still in %q", got)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("stored content is no longer JSON: %v: %q", err, got)
			}
		})
	}
}
