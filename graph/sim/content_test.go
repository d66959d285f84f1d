package sim_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// TestBase64Content checks the switch that makes AOSP profiles' qrCodeContent
// base64 of the provisioning JSON, while qrCodeImage draws the JSON itself.
func TestBase64Content(t *testing.T) {
	tests := []struct {
		content, mode string
		base64        bool
	}{
		{sim.ContentBase64, "corporateOwnedAOSPUserlessDevice", true},
		{sim.ContentBase64, "corporateOwnedAOSPUserAssociatedDevice", true},
		{sim.ContentBase64, "corporateOwnedDedicatedDevice", false},
		{sim.ContentJSON, "corporateOwnedAOSPUserlessDevice", false},
		{"", "corporateOwnedAOSPUserlessDevice", false},
	}
	for _, tt := range tests {
		t.Run(tt.content+"/"+tt.mode, func(t *testing.T) {
			e := start(t, sim.Options{Content: tt.content})
			r := e.post(`{"displayName":"Kiosk 1","enrollmentMode":"` + tt.mode + `"}`)
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			var created profile.Profile
			if err := json.Unmarshal(r.body, &created); err != nil {
				t.Fatal(err)
			}
			r = e.get(e.coll + "/" + created.ID + "?$select=qrCodeContent,qrCodeImage")
			var got profile.Profile
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			for _, p := range []profile.Profile{created, got} {
				content := p.QRCodeContent
				if tt.base64 {
					dec, err := base64.StdEncoding.DecodeString(content)
					if err != nil {
						t.Fatalf("qrCodeContent is not base64: %v: %.60s", err, content)
					}
					content = string(dec)
				}
				if token(t, content) == "" {
					t.Errorf("no enrollment token in %s", content)
				}
				if p.QRCodeImage == nil || decodeQR(t, p.QRCodeImage.Value) != content {
					t.Errorf("qrCodeImage does not draw the provisioning JSON %.60s", content)
				}
			}
			if ps := e.sim.Profiles(); len(ps) != 1 || ps[0].QRCodeContent != created.QRCodeContent {
				t.Errorf("Profiles() content differs from the 201's")
			}
		})
	}
}
