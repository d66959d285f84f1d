package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// page is one list page.
type page struct {
	Context  string           `json:"@odata.context"`
	NextLink string           `json:"@odata.nextLink"`
	Count    *int             `json:"@odata.count"`
	Value    []map[string]any `json:"value"`
}

// listAll follows nextLink from first to the end and returns the pages.
func (e *env) listAll(first string) []page {
	e.t.Helper()
	var pages []page
	for link := first; link != ""; {
		r := e.get(link)
		if r.status != http.StatusOK {
			e.t.Fatalf("GET %s: %d %s", link, r.status, r.body)
		}
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			e.t.Fatal(err)
		}
		if p.NextLink != "" && !strings.HasPrefix(p.NextLink, e.srv.URL+"/beta"+profile.CollectionPath+"?") {
			e.t.Fatalf("nextLink %q is not an absolute URL of the collection", p.NextLink)
		}
		pages = append(pages, p)
		link = p.NextLink
		if len(pages) > 1000 {
			e.t.Fatal("nextLink never ends")
		}
	}
	return pages
}

// ids returns the ids of the profiles on the pages, in order.
func ids(pages []page) []string {
	var out []string
	for _, p := range pages {
		for _, v := range p.Value {
			out = append(out, v["id"].(string))
		}
	}
	return out
}

func names(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func TestListPaging(t *testing.T) {
	tests := []struct {
		name     string
		profiles int
		pageSize int
		query    string
		perPage  int
	}{
		{"default page size", 250, 0, "", 100},
		{"configured page size", 45, 10, "", 10},
		{"top", 45, 0, "?$top=7", 7},
		{"exact multiple", 40, 20, "", 20},
		{"empty tenant", 0, 0, "", 100},
		{"select keeps to the end", 30, 8, "?$select=id,displayName", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, sim.Options{PageSize: tt.pageSize})
			seeded := e.sim.Seed(names(tt.profiles, "Site %03d")...)
			pages := e.listAll(e.coll + tt.query)
			wantPages := max(1, (tt.profiles+tt.perPage-1)/tt.perPage)
			if len(pages) != wantPages {
				t.Errorf("%d pages, want %d", len(pages), wantPages)
			}
			for i, p := range pages {
				for _, v := range p.Value {
					if _, has := v["tokenValue"]; has == strings.Contains(tt.query, "$select") {
						t.Errorf("page %d: tokenValue present %v with query %q", i, has, tt.query)
					}
				}
			}
			for i, p := range pages[:len(pages)-1] {
				if len(p.Value) != tt.perPage {
					t.Errorf("page %d has %d profiles, want %d", i, len(p.Value), tt.perPage)
				}
			}
			want := make([]string, len(seeded))
			for i, p := range seeded {
				want[i] = p.ID
			}
			if got := ids(pages); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("listed %d ids, want the %d seeded in creation order", len(got), len(want))
			}
			if st := e.sim.Stats(); st.Lists != len(pages) {
				t.Errorf("Stats.Lists %d, want %d", st.Lists, len(pages))
			}
		})
	}
}

func TestListSkipsDeletedAndSeesNew(t *testing.T) {
	e := start(t, sim.Options{PageSize: 5})
	seeded := e.sim.Seed(names(12, "Till %d")...)
	first := e.get(e.coll)
	var p page
	if err := json.Unmarshal(first.body, &p); err != nil {
		t.Fatal(err)
	}
	// Between pages one profile goes and one comes, as during a live run.
	if r := e.do(http.MethodDelete, e.coll+"/"+seeded[7].ID, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	e.post(`{"displayName":"Till late"}`)
	rest := e.listAll(p.NextLink)
	got := append(ids([]page{p}), ids(rest)...)
	if len(got) != 12 || slices.Contains(got, seeded[7].ID) {
		t.Errorf("listed %d profiles (deleted one listed: %v), want 12 without it", len(got), slices.Contains(got, seeded[7].ID))
	}
	if r := e.get(e.coll + "/" + seeded[7].ID); r.status != http.StatusNotFound {
		t.Errorf("GET deleted: %d", r.status)
	}
}

func TestListSelect(t *testing.T) {
	e := start(t, sim.Options{})
	e.sim.Seed("Scanner A", "Scanner B")
	tests := []struct {
		query      string
		wantFields []string // exactly these members besides @odata.type
		contentSet bool     // qrCodeContent carries the payload
	}{
		{"?$select=id,displayName", []string{"id", "displayName"}, false},
		{"?$select=displayName", []string{"id", "displayName"}, false},
		{"?$select=displayName,qrCodeContent,qrCodeImage", []string{"id", "displayName", "qrCodeContent", "qrCodeImage"}, true},
		{"?select=tokenExpirationDateTime", []string{"id", "tokenExpirationDateTime"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			pages := e.listAll(e.coll + tt.query)
			for _, v := range pages[0].Value {
				var keys []string
				for k := range v {
					if k != "@odata.type" {
						keys = append(keys, k)
					}
				}
				slices.Sort(keys)
				want := slices.Sorted(slices.Values(tt.wantFields))
				if !slices.Equal(keys, want) {
					t.Errorf("members %v, want %v", keys, want)
				}
				if v["qrCodeImage"] != nil {
					t.Errorf("a list returned qrCodeImage")
				}
				c, _ := v["qrCodeContent"].(string)
				if (c != "") != tt.contentSet {
					t.Errorf("qrCodeContent %q, want set %v", c, tt.contentSet)
				}
			}
			if !strings.Contains(pages[0].Context, "(id,") {
				t.Errorf("@odata.context %q does not name the selection", pages[0].Context)
			}
		})
	}
	t.Run("without select", func(t *testing.T) {
		v := e.listAll(e.coll)[0].Value[0]
		for _, prop := range profile.Properties {
			if _, ok := v[prop.Name]; !ok {
				t.Errorf("property %s missing from a list item", prop.Name)
			}
		}
		if v["qrCodeContent"] != nil || v["qrCodeImage"] != nil || v["tokenValue"] == nil {
			t.Errorf("list item: qrCodeContent %v, qrCodeImage %v, tokenValue %v", v["qrCodeContent"], v["qrCodeImage"] != nil, v["tokenValue"])
		}
	})
	t.Run("unknown property", func(t *testing.T) {
		r := e.get(e.coll + "?$select=id,colour")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d", r.status)
		}
		if _, msg := r.graphError(t); !strings.Contains(msg, "colour") {
			t.Errorf("message %q", msg)
		}
	})
}

func TestListFilter(t *testing.T) {
	e := start(t, sim.Options{PageSize: 3})
	e.sim.Seed("O'Brien Site", "Leeds", "o'brien site", "O'Brien Site 2")
	e.sim.Seed(slices.Repeat([]string{"Kiosk"}, 7)...) // one name seven times: paging within a filter
	e.sim.Seed("Kiosk 1")
	e.sim.Seed("İzmir Depo", "İSTANBUL Mağaza", "Θεσσαλονίκη Αποθήκη", "東京 倉庫", "Ärzte Haus")
	tests := []struct {
		name   string
		filter string
		want   string // the key every match has (filterEq), or the prefix (startswith)
		prefix bool
	}{
		{"doubled quote", "displayName eq 'O''Brien Site'", "O'Brien Site", false},
		{"case-insensitive", "displayName eq 'LEEDS'", "Leeds", false},
		{"no match", "displayName eq 'Nowhere'", "Nowhere", false},
		{"paged matches", "displayName eq 'Kiosk'", "Kiosk", false},
		{"spaces around", "  displayName  eq  'kiosk 1' ", "Kiosk 1", false},
		{"startswith", "startswith(displayName,'o''brien')", "o'brien", true},
		{"turkish dotted capital", "displayName eq 'İzmir Depo'", "İzmir Depo", false},
		{"turkish, keyword in capitals", "DISPLAYNAME EQ 'İSTANBUL Mağaza'", "İSTANBUL Mağaza", false},
		{"turkish startswith", "startswith(displayName,'İ')", "İ", true},
		{"greek other case", "displayName eq 'ΘΕΣΣΑΛΟΝΊΚΗ ΑΠΟΘΉΚΗ'", "Θεσσαλονίκη Αποθήκη", false},
		{"cjk", "displayName eq '東京 倉庫'", "東京 倉庫", false},
		{"umlaut startswith lower", "startswith(displayName,'ärzte')", "ärzte", true},
	}
	all := e.sim.Profiles()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := e.listAll(e.coll + "?$select=id,displayName&$count=true&$filter=" + url.QueryEscape(tt.filter))
			var want []string
			for _, p := range all {
				l, w := strings.ToLower(p.DisplayName), strings.ToLower(tt.want)
				if l == w || tt.prefix && strings.HasPrefix(l, w) {
					want = append(want, p.ID)
				}
			}
			got := ids(pages)
			if tt.name == "paged matches" && len(pages) < 3 {
				t.Errorf("%d matches came in %d pages of 3", len(got), len(pages))
			}
			if !slices.Equal(got, want) {
				t.Errorf("matched %d profiles %v, want %d %v", len(got), got, len(want), want)
			}
			if c := pages[0].Count; c == nil || *c != len(want) {
				t.Errorf("@odata.count %v, want %d", c, len(want))
			}
		})
	}
	for _, bad := range []string{"displayName ne 'x'", "description eq 'x'", "displayName eq 'unterminated", "displayName eq 'a' or displayName eq 'b'", "displayNameeq 'x'"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			r := e.get(e.coll + "?$filter=" + url.QueryEscape(bad))
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if _, msg := r.graphError(t); !strings.Contains(msg, "filter") {
				t.Errorf("message %q", msg)
			}
		})
	}
	t.Run("invalid skiptoken", func(t *testing.T) {
		if r := e.get(e.coll + "?$skiptoken=garbage"); r.status != http.StatusBadRequest {
			t.Errorf("status %d", r.status)
		}
	})
}

func TestGetByID(t *testing.T) {
	e := start(t, sim.Options{})
	p := e.sim.Seed("Warehouse Door")[0]
	tests := []struct {
		query     string
		withImage bool
		withQR    bool
		members   int // members besides annotations; 0 means every property
	}{
		{"", false, false, 0},
		{"?$select=qrCodeContent", false, true, 2},
		{"?$select=qrCodeContent,qrCodeImage", true, true, 3},
		{"?$select=tokenValue,tokenCreationDateTime,tokenExpirationDateTime,qrCodeContent,qrCodeImage", true, true, 6},
		{"?$select=displayName", false, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.get(e.coll + "/" + p.ID + tt.query)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			n := 0
			for k := range m {
				if !strings.HasPrefix(k, "@") {
					n++
				}
			}
			if want := tt.members; (want == 0 && n != len(profile.Properties)) || (want != 0 && n != want) {
				t.Errorf("%d members", n)
			}
			if m["id"] != p.ID {
				t.Errorf("id %v", m["id"])
			}
			c, _ := m["qrCodeContent"].(string)
			if (c == p.QRCodeContent) != tt.withQR || tt.withQR && c == "" {
				t.Errorf("qrCodeContent %q, want present %v", c, tt.withQR)
			}
			if tt.withImage {
				if got := decodeQR(t, image(t, m)); got != p.QRCodeContent {
					t.Errorf("image decodes to %q", got)
				}
			} else if m["qrCodeImage"] != nil {
				t.Errorf("qrCodeImage returned without $select")
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		r := e.get(e.coll + "/00000000-0000-4000-8000-000000000000")
		if r.status != http.StatusNotFound {
			t.Fatalf("status %d", r.status)
		}
		if code, _ := r.graphError(t); code != "ResourceNotFound" {
			t.Errorf("code %q", code)
		}
	})
}

func TestTokens(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("OmitToken=%v", omit), func(t *testing.T) {
			e := start(t, sim.Options{OmitToken: omit})
			r := e.post(`{"displayName":"Till 9"}`)
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			m := r.json(t)
			id := m["id"].(string)
			for _, k := range []string{"tokenValue", "qrCodeContent", "qrCodeImage"} {
				if (m[k] == nil) != omit {
					t.Errorf("201 %s = %v with OmitToken %v", k, m[k] != nil, omit)
				}
			}

			e.clock.Advance(time.Hour)
			const validity = 7 * 24 * 3600
			r = e.do(http.MethodPost, e.coll+"/"+id+"/createToken", "", []byte(fmt.Sprintf(`{"tokenValidityInSeconds": %d}`, validity)))
			if r.status != http.StatusNoContent || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
				t.Fatalf("createToken: %d %q (Content-Type %q), want 204 with no body", r.status, r.body, r.header.Get("Content-Type"))
			}
			r = e.get(e.coll + "/" + id + "?$select=tokenValue,tokenCreationDateTime,tokenExpirationDateTime,qrCodeContent,qrCodeImage")
			var p profile.Profile
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			now := e.clock.Now()
			if !tokenRE.MatchString(p.TokenValue) || p.TokenValue == m["tokenValue"] {
				t.Errorf("tokenValue after createToken %q (before %v)", p.TokenValue, m["tokenValue"])
			}
			if !p.TokenCreationDateTime.Equal(now) || !p.TokenExpirationDateTime.Equal(now.Add(validity*time.Second)) {
				t.Errorf("token times %v %v", p.TokenCreationDateTime, p.TokenExpirationDateTime)
			}
			if token(t, p.QRCodeContent) != p.TokenValue || p.QRCodeImage == nil || decodeQR(t, p.QRCodeImage.Value) != p.QRCodeContent {
				t.Errorf("qrCodeContent and image do not carry the new token")
			}

			r = e.do(http.MethodPost, e.coll+"/"+id+"/revokeToken", "", nil)
			if r.status != http.StatusNoContent || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
				t.Fatalf("revokeToken: %d %q (Content-Type %q), want 204 with no body", r.status, r.body, r.header.Get("Content-Type"))
			}
			got, _ := e.sim.Profile(id)
			if got.TokenValue != "" || got.QRCodeContent != "" {
				t.Errorf("after revokeToken: token %q content %q", got.TokenValue, got.QRCodeContent)
			}
			if st := e.sim.Stats(); st.CreateTokens != 1 || st.RevokeTokens != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		e := start(t, sim.Options{})
		id := e.sim.Seed("A")[0].ID
		tests := []struct {
			path, body string
			status     int
		}{
			{"/" + id + "/createToken", `{}`, 400},
			{"/" + id + "/createToken", `{"tokenValidityInSeconds":"a week"}`, 400},
			{"/" + id + "/createToken", `{"tokenValidityInSeconds":0}`, 400},
			{"/" + id + "/createToken", `{"tokenValidityInSeconds":60,"extra":1}`, 400},
			{"/00000000-0000-4000-8000-000000000000/createToken", `{"tokenValidityInSeconds":60}`, 404},
			{"/00000000-0000-4000-8000-000000000000/revokeToken", ``, 404},
			{"/" + id + "/revokeToken", `{}`, 400},
			{"/" + id + "/renewToken", `{}`, 400},
		}
		for _, tt := range tests {
			r := e.do(http.MethodPost, e.coll+tt.path, "", []byte(tt.body))
			if r.status != tt.status {
				t.Errorf("POST %s %s: %d, want %d", tt.path, tt.body, r.status, tt.status)
				continue
			}
			r.graphError(t)
		}
	})
}

func TestMethodsAndPaths(t *testing.T) {
	e := start(t, sim.Options{})
	id := e.sim.Seed("A")[0].ID
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodPut, e.coll, 405},
		{http.MethodDelete, e.coll, 405},
		{http.MethodPut, e.coll + "/" + id, 405},
		{http.MethodPatch, e.coll, 405},
		{http.MethodGet, e.coll + "/" + id + "/createToken", 405},
		{http.MethodGet, e.srv.URL + "/beta/me", 400},
		{http.MethodGet, e.srv.URL + "/v1.0/deviceManagement/androidDeviceOwnerEnrollmentProfiles", 200},
		{http.MethodGet, e.srv.URL + "/deviceManagement/androidDeviceOwnerEnrollmentProfiles/", 200},
		{http.MethodGet, e.coll + "('" + id + "')", 200},
		{http.MethodGet, e.coll + "Extra", 400},
		{http.MethodGet, e.coll + "/" + id + "/assignments/x", 400},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, "", nil)
		if r.status != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, r.status, tt.status)
		}
		if r.header.Get("request-id") == "" {
			t.Errorf("%s %s: no request-id", tt.method, tt.path)
		}
		if r.status >= 400 {
			r.graphError(t)
		}
	}
}
