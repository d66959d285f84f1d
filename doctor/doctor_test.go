package doctor

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func jwt(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

func TestClaims(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name  string
		token string
		id    Identity
		has   *bool
	}{
		{"app with the role", jwt(map[string]any{"appid": "a1", "app_displayname": "Enroll", "tid": "t1", "idtyp": "app", "roles": []string{"DeviceManagementConfiguration.ReadWrite.All"}}),
			Identity{Kind: "app", AppID: "a1", AppName: "Enroll", TenantID: "t1", JWT: true}, &yes},
		{"app without idtyp (v1 token)", jwt(map[string]any{"appid": "a1", "roles": []string{"DeviceManagementApps.Read.All"}}),
			Identity{Kind: "app", AppID: "a1", JWT: true}, &no},
		{"user with the scope, v2 names", jwt(map[string]any{"azp": "a2", "preferred_username": "ann@contoso.example", "tid": "t1", "scp": "User.Read devicemanagementconfiguration.readwrite.all"}),
			Identity{Kind: "user", AppID: "a2", User: "ann@contoso.example", TenantID: "t1", JWT: true}, &yes},
		{"user without it", jwt(map[string]any{"upn": "bob@contoso.example", "scp": "DeviceManagementConfiguration.Read.All"}),
			Identity{Kind: "user", User: "bob@contoso.example", JWT: true}, &no},
		{"opaque token", "EwBwA8l6BAAU", Identity{Kind: "unknown"}, nil},
		{"three parts, not base64", "a.b$.c", Identity{Kind: "unknown"}, nil},
		{"three parts, not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", Identity{Kind: "unknown"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := readClaims(tt.token)
			if got := c.identity(""); !reflect.DeepEqual(got, tt.id) {
				t.Errorf("identity %+v, want %+v", got, tt.id)
			}
			got := c.permission().Has
			if (got == nil) != (tt.has == nil) || got != nil && *got != *tt.has {
				t.Errorf("has permission %v, want %v", got, tt.has)
			}
		})
	}
}

func TestRecorderKeepsThrottlingHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("x-ms-throttle-limit-percentage", "0.8")
		h.Set("x-ms-throttle-scope", "Tenant_Application/ReadWrite/72f988bf/1b730954")
		h.Set("RateLimit-Remaining", "12")
		h.Set("Retry-After", "2")
		h.Set("request-id", "r1")
		h.Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	rec := NewRecorder(srv.Client().Transport)
	res, err := (&http.Client{Transport: rec}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := map[string]string{
		"X-Ms-Throttle-Limit-Percentage": "0.8",
		"X-Ms-Throttle-Scope":            "Tenant_Application/ReadWrite/72f988bf/1b730954",
		"Ratelimit-Remaining":            "12",
		"Retry-After":                    "2",
	}
	if got := rec.Throttling(); !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
}
