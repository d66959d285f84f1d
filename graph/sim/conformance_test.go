package sim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// The conformance tests read Microsoft's Graph pages for the resource
// (copied verbatim into testdata/docs, each with its source on line 1),
// take every JSON example out of them, decode each with the project's
// client types, and check that the simulator answers the documented
// requests with documents of the same keys and JSON types.

// docExample is one code block of a documentation page.
type docExample struct {
	page   string // file name
	kind   string // "representation" (a json block), "request" or "response" (http blocks)
	status int    // a response's HTTP status
	method string // a request's method
	body   []byte // the JSON document; nil when the block has none
}

var fence = regexp.MustCompile("^```\\s*(json|http)\\s*$")

// docExamples reads every json and http code block of the pages in
// testdata/docs, except the request syntax blocks (no host, no body).
func docExamples(t *testing.T) []docExample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "docs", "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no documentation pages in testdata/docs: %v", err)
	}
	var out []docExample
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		var (
			in    bool
			lang  string
			lines []string
		)
		for sc.Scan() {
			line := sc.Text()
			if !in {
				if m := fence.FindStringSubmatch(line); m != nil {
					in, lang, lines = true, m[1], nil
				}
				continue
			}
			if strings.TrimSpace(line) != "```" {
				lines = append(lines, line)
				continue
			}
			in = false
			if ex, ok := parseBlock(filepath.Base(f), lang, lines); ok {
				out = append(out, ex)
			}
		}
	}
	return out
}

// parseBlock turns a code block into an example; ok is false for request
// syntax blocks.
func parseBlock(page, lang string, lines []string) (docExample, bool) {
	ex := docExample{page: page}
	if lang == "json" {
		ex.kind, ex.body = "representation", []byte(strings.Join(lines, "\n"))
		return ex, true
	}
	if len(lines) == 0 {
		return ex, false
	}
	first := strings.Fields(lines[0])
	switch {
	case len(first) >= 2 && first[0] == "HTTP/1.1":
		ex.kind = "response"
		ex.status, _ = strconv.Atoi(first[1])
	case len(first) == 2 && strings.HasPrefix(first[1], "https://"):
		ex.kind, ex.method = "request", first[0]
	default:
		return ex, false // the syntax block: "POST /deviceManagement/…"
	}
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "{") {
			ex.body = []byte(strings.Join(lines[i:], "\n"))
			break
		}
	}
	return ex, true
}

// find returns the one example of a page and kind.
func find(t *testing.T, exs []docExample, pageSuffix, kind string) docExample {
	t.Helper()
	var got []docExample
	for _, ex := range exs {
		if strings.HasSuffix(ex.page, pageSuffix+".md") && ex.kind == kind {
			got = append(got, ex)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d %s examples on the %s page, want 1", len(got), kind, pageSuffix)
	}
	return got[0]
}

// TestDocExamplesDecode decodes every JSON example of the pages with the
// client's types: profiles with profile.Profile (nothing unreadable except
// the placeholders of the type representation), a list page with the
// client's page shape, and the createToken body as the client sends it.
func TestDocExamplesDecode(t *testing.T) {
	exs := docExamples(t)
	n := 0
	for _, ex := range exs {
		if ex.body == nil {
			continue
		}
		n++
		name := fmt.Sprintf("%s/%s", strings.TrimPrefix(strings.TrimSuffix(ex.page, ".md"), "intune-androidforwork-androiddeviceownerenrollmentprofile"), ex.kind)
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(ex.body, &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, ex.body)
			}
			switch {
			case strings.HasSuffix(ex.page, "-setenrollmenttimedevicemembershiptarget.md") && ex.kind == "request":
				// The client's body must have the documented key paths
				// and JSON types, nested ones included.
				got, want := shapeOf(t, clientSetBody(t)), shapeOfValue(doc)
				if !maps.Equal(got, want) {
					t.Errorf("the client sends %v, the page shows %v", got, want)
				}
				return
			case strings.HasSuffix(ex.page, "-setenrollmenttimedevicemembershiptarget.md"),
				strings.HasSuffix(ex.page, "-retrieveenrollmenttimedevicemembershiptarget.md"):
				// The documented result, as the client reads it: it
				// succeeded (validationSucceeded true, the code that is
				// always there notwithstanding) for the one target.
				set := strings.Contains(ex.page, "-set")
				res, err := clientReadsResult(t, ex.body, set)
				if err != nil || !res.Succeeded || !slices.Equal(res.GroupIDs(), []string{"Target Id value"}) {
					t.Errorf("the client reads %+v, %v", res, err)
				}
				return
			case strings.HasSuffix(ex.page, "-createtoken.md"):
				// {"tokenValidityInSeconds": 6}: the client's body must
				// have the same keys and types.
				if got := shapeOf(t, clientCreateTokenBody(t)); !slices.Equal(sortedKeys(got), sortedKeys(shapeOfValue(doc))) {
					t.Errorf("the client sends %v, the page shows %v", got, shapeOfValue(doc))
				}
				return
			case strings.HasSuffix(ex.page, "-list.md"):
				var page struct {
					Value    []profile.Profile `json:"value"`
					NextLink string            `json:"@odata.nextLink"`
				}
				if err := json.Unmarshal(ex.body, &page); err != nil || len(page.Value) != 1 {
					t.Fatalf("list page: %v, %d profiles", err, len(page.Value))
				}
				checkDecoded(t, page.Value[0], ex.kind)
				return
			}
			var p profile.Profile
			if err := json.Unmarshal(ex.body, &p); err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, p, ex.kind)
		})
	}
	if n < 10 {
		t.Errorf("found %d JSON examples, want the representation, create and update requests and responses, get, list, createToken, "+
			"and the setEnrollmentTimeDeviceMembershipTarget request and response and the retrieve response", n)
	}
}

// clientSetBody is the body graph.Client.SetDeviceGroup sends.
func clientSetBody(t *testing.T) []byte {
	t.Helper()
	var (
		mu   sync.Mutex
		body []byte
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"value":{"validationSucceeded":true,"enrollmentTimeDeviceMembershipTargetValidationStatuses":[]}}`)
	}))
	defer hs.Close()
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client()}
	if err := c.SetDeviceGroup(context.Background(), "a8d0245e-245e-a8d0-5e24-d0a85e24d0a8", "Target Id value"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return body
}

// clientReadsResult serves a documented result to graph.Client's set (when
// set) or retrieve and returns what the client made of it.
func clientReadsResult(t *testing.T, doc []byte, set bool) (graph.TargetResult, error) {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	defer hs.Close()
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client()}
	const id = "a8d0245e-245e-a8d0-5e24-d0a85e24d0a8"
	if set {
		if err := c.SetDeviceGroup(context.Background(), id, "Target Id value"); err != nil {
			return graph.TargetResult{}, err
		}
	}
	return c.RetrieveDeviceGroup(context.Background(), id)
}

// checkDecoded checks a profile decoded from a documented example.
func checkDecoded(t *testing.T, p profile.Profile, kind string) {
	t.Helper()
	if p.DisplayName != "Display Name value" && p.DisplayName != "String" {
		t.Errorf("displayName %q", p.DisplayName)
	}
	if kind == "representation" {
		// Type placeholders: "String (timestamp)" and "binary" are not
		// values; everything else reads.
		sort.Strings(p.Unreadable)
		want := []string{"createdDateTime", "lastModifiedDateTime", "qrCodeImage", "tokenCreationDateTime", "tokenExpirationDateTime"}
		if len(p.Unreadable) != len(want) {
			t.Fatalf("unreadable %q, want the placeholders %q", p.Unreadable, want)
		}
		for i, w := range want {
			if !strings.HasPrefix(p.Unreadable[i], w+": ") {
				t.Errorf("unreadable %q, want %s", p.Unreadable[i], w)
			}
		}
		return
	}
	if len(p.Unreadable) > 0 {
		t.Errorf("unreadable: %q", p.Unreadable)
	}
	if !profile.KnownMode(p.EnrollmentMode) || !profile.KnownTokenType(p.EnrollmentTokenType) || p.EnrolledDeviceCount != 3 ||
		!p.ConfigureWifi || p.WifiSecurityType != "wpa" || len(p.RoleScopeTagIDs) != 1 || p.TokenExpirationDateTime.IsZero() ||
		p.QRCodeImage == nil || string(p.QRCodeImage.Value) != "value" {
		t.Errorf("decoded %+v", p)
	}
}

// clientCreateTokenBody is the body graph.Client.CreateToken sends.
func clientCreateTokenBody(t *testing.T) []byte {
	t.Helper()
	var (
		mu   sync.Mutex
		body []byte
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hs.Close()
	c := &graph.Client{BaseURL: hs.URL + "/beta", HTTP: hs.Client()}
	if err := c.CreateToken(context.Background(), "a8d0245e-245e-a8d0-5e24-d0a85e24d0a8", 6*time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return body
}

// shapeOf returns the key paths of a JSON document with their JSON types.
func shapeOf(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, data)
	}
	return shapeOfValue(v)
}

func shapeOfValue(v any) map[string]string {
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if path != "" {
				out[path] = "object"
			}
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, e)
			}
		case []any:
			out[path] = "array"
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			out[path] = "string"
		case float64:
			out[path] = "number"
		case bool:
			out[path] = "boolean"
		case nil:
			out[path] = "null"
		}
	}
	walk("", v)
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// nullable are the properties the simulator answers null where the pages
// show a value, each with the reason; annotations are what it adds.
var (
	nullable = map[string]string{
		"wifiPassword": "a secret: the simulator never returns it",
	}
	nullableInList = map[string]string{
		"qrCodeContent": "not returned in a list, only when selected on one profile",
		"qrCodeImage":   "not returned in a list, only when selected on one profile",
	}
	annotations = []string{"@odata.context"}
)

// compareShape checks that got (a simulator answer) has the keys and JSON
// types of want (a documented example). Keys of the resource that the
// example leaves out are allowed when extra allows them.
func compareShape(t *testing.T, got, want map[string]string, extra map[string]string, nulls ...map[string]string) {
	t.Helper()
	for k, wt := range want {
		gt, ok := got[k]
		switch {
		case !ok:
			if top := strings.SplitN(k, ".", 2)[0]; got[top] == "null" && reasonFor(top, nulls) != "" {
				continue
			}
			t.Errorf("%s: documented (%s), missing from the simulator's answer", k, wt)
		case gt == "null" && wt != "null":
			if reasonFor(k, nulls) == "" {
				t.Errorf("%s: documented %s, the simulator answers null", k, wt)
			}
		case gt != wt:
			t.Errorf("%s: documented %s, the simulator answers %s", k, wt, gt)
		}
	}
	for k, gt := range got {
		if _, ok := want[k]; ok || slices.Contains(annotations, k) {
			continue
		}
		if et, ok := extra[k]; ok && (et == gt || gt == "null") {
			continue
		}
		t.Errorf("%s (%s): in the simulator's answer, not in the documented example", k, gt)
	}
}

func reasonFor(k string, nulls []map[string]string) string {
	for _, m := range append(nulls, nullable) {
		if r := m[k]; r != "" {
			return r
		}
	}
	return ""
}

// docBody makes a documented request body acceptable: the examples use
// placeholders ("Account Id value") where the simulator checks a GUID.
func docBody(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["accountId"]; ok {
		m["accountId"] = "8e1b5d2a-0000-4000-8000-00000000000a"
	}
	b, _ := json.Marshal(m)
	return b
}

// TestSimulatorAnswersAsDocumented sends the documented requests to the
// simulator and compares its answers with the documented responses.
func TestSimulatorAnswersAsDocumented(t *testing.T) {
	exs := docExamples(t)
	rep := shapeOfValue(mustJSON(t, find(t, exs, "enrollmentprofile", "representation").body))
	e := start(t, sim.Options{})

	// Create: 201 and the documented object.
	createReq := find(t, exs, "-create", "request")
	createResp := find(t, exs, "-create", "response")
	r := e.do(http.MethodPost, e.coll, "", docBody(t, createReq.body))
	if r.status != createResp.status {
		t.Fatalf("create: status %d, documented %d: %s", r.status, createResp.status, r.body)
	}
	compareShape(t, shapeOf(t, r.body), shapeOf(t, createResp.body), nil)
	id := r.json(t)["id"].(string)

	// Get: the documented object (the page wraps it in "value"; the
	// simulator answers the entity itself, as Graph does for every other
	// entity and as the create and update pages show).
	getResp := find(t, exs, "-get", "response")
	inner, _ := json.Marshal(mustJSON(t, getResp.body)["value"])
	var sel []string
	for _, p := range profile.Properties {
		sel = append(sel, p.Name)
	}
	r = e.get(e.coll + "/" + id + "?$select=" + strings.Join(sel, ","))
	if r.status != getResp.status {
		t.Fatalf("get: status %d, documented %d", r.status, getResp.status)
	}
	compareShape(t, shapeOf(t, r.body), shapeOf(t, inner), nil)

	// List: each item has the documented keys; deviceNameTemplate, which
	// this stored page predates, is in the resource representation.
	listResp := find(t, exs, "-list", "response")
	r = e.get(e.coll)
	if r.status != listResp.status {
		t.Fatalf("list: status %d, documented %d", r.status, listResp.status)
	}
	var page struct{ Value []json.RawMessage }
	var docPage struct{ Value []json.RawMessage }
	if json.Unmarshal(r.body, &page) != nil || json.Unmarshal(listResp.body, &docPage) != nil || len(page.Value) != 1 || len(docPage.Value) != 1 {
		t.Fatalf("list pages: %s", r.body)
	}
	compareShape(t, shapeOf(t, page.Value[0]), shapeOf(t, docPage.Value[0]), rep, nullableInList)

	// Update: 200 and the updated object.
	updReq := find(t, exs, "-update", "request")
	updResp := find(t, exs, "-update", "response")
	r = e.do(http.MethodPatch, e.coll+"/"+id, "", docBody(t, updReq.body))
	if r.status != updResp.status {
		t.Fatalf("update: status %d, documented %d: %s", r.status, updResp.status, r.body)
	}
	compareShape(t, shapeOf(t, r.body), shapeOf(t, updResp.body), nil)

	// The enrollment-time device group: set answers the documented result
	// (the page's placeholder targetId replaced by a group that passes),
	// retrieve reads it back in the same shape, clear answers 204.
	group := e.sim.SeedGroups(sim.Group{DisplayName: "Kiosks", SecurityEnabled: true, Owners: []sim.Owner{sim.IntuneProvisioningClient()}})[0]
	setReq := find(t, exs, "-setenrollmenttimedevicemembershiptarget", "request")
	setResp := find(t, exs, "-setenrollmenttimedevicemembershiptarget", "response")
	if setReq.method != http.MethodPost {
		t.Errorf("set: documented method %s", setReq.method)
	}
	body := bytes.ReplaceAll(setReq.body, []byte("Target Id value"), []byte(group.ID))
	r = e.do(http.MethodPost, e.coll+"/"+id+"/setEnrollmentTimeDeviceMembershipTarget", "", body)
	if r.status != setResp.status {
		t.Fatalf("set: status %d, documented %d: %s", r.status, setResp.status, r.body)
	}
	compareShape(t, shapeOf(t, r.body), shapeOf(t, setResp.body), nil)
	if groups, _ := e.sim.DeviceGroups(id); !slices.Equal(groups, []string{group.ID}) {
		t.Errorf("set: the profile's groups are %v", groups)
	}
	retrReq := find(t, exs, "-retrieveenrollmenttimedevicemembershiptarget", "request")
	retrResp := find(t, exs, "-retrieveenrollmenttimedevicemembershiptarget", "response")
	if retrReq.method != http.MethodPost || retrReq.body != nil {
		t.Errorf("retrieve: documented %s with %d bytes", retrReq.method, len(retrReq.body))
	}
	r = e.do(http.MethodPost, e.coll+"/"+id+"/retrieveEnrollmentTimeDeviceMembershipTarget", "", nil)
	if r.status != retrResp.status {
		t.Fatalf("retrieve: status %d, documented %d: %s", r.status, retrResp.status, r.body)
	}
	compareShape(t, shapeOf(t, r.body), shapeOf(t, retrResp.body), nil)
	if !strings.Contains(string(r.body), group.ID) {
		t.Errorf("retrieve does not name the group: %s", r.body)
	}
	clearReq := find(t, exs, "-clearenrollmenttimedevicemembershiptarget", "request")
	clearResp := find(t, exs, "-clearenrollmenttimedevicemembershiptarget", "response")
	r = e.do(clearReq.method, e.coll+"/"+id+"/clearEnrollmentTimeDeviceMembershipTarget", "", clearReq.body)
	if r.status != clearResp.status || len(r.body) != 0 || clearResp.body != nil {
		t.Errorf("clear: status %d with %d bytes, documented %d with no body", r.status, len(r.body), clearResp.status)
	}
	if groups, _ := e.sim.DeviceGroups(id); len(groups) != 0 {
		t.Errorf("clear left %v", groups)
	}

	// createToken, revokeToken and delete: the documented status, no body.
	for _, c := range []struct {
		page, method, url string
		body              []byte
	}{
		{"-createtoken", http.MethodPost, e.coll + "/" + id + "/createToken", find(t, exs, "-createtoken", "request").body},
		{"-revoketoken", http.MethodPost, e.coll + "/" + id + "/revokeToken", nil},
		{"-delete", http.MethodDelete, e.coll + "/" + id, nil},
	} {
		want := find(t, exs, c.page, "response")
		r := e.do(c.method, c.url, "", c.body)
		if r.status != want.status || len(r.body) != 0 || want.body != nil {
			t.Errorf("%s: status %d with %d bytes, documented %d with no body", c.page, r.status, len(r.body), want.status)
		}
	}
}

func mustJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

// TestSimulatorDocumentedDefaults checks what the pages say the service
// does with a create: configureWifi defaults to true, tokens have the
// documented shape per mode, and the service-set values a body carries
// (as the documented example does) are replaced by the service's own.
func TestSimulatorDocumentedDefaults(t *testing.T) {
	tests := []struct {
		body      string
		wifi      bool
		tokenLen  int
		wantCount float64
	}{
		{`{"displayName":"A"}`, true, 20, 0},
		{`{"displayName":"B","configureWifi":null}`, true, 20, 0},
		{`{"displayName":"C","configureWifi":false}`, false, 20, 0},
		{`{"displayName":"D","enrollmentMode":"corporateOwnedWorkProfile"}`, true, 8, 0},
		{`{"displayName":"E","enrollmentMode":"corporateOwnedAOSPUserlessDevice","configureWifi":true,"wifiSsid":"S"}`, true, 20, 0},
		{`{"displayName":"F","tokenValue":"Token Value value","enrolledDeviceCount":3,"enrollmentTokenUsageCount":9,"qrCodeContent":"x"}`, true, 20, 0},
	}
	e := start(t, sim.Options{})
	digits := regexp.MustCompile(`^[0-9]+$`)
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			r := e.post(tt.body)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			if m["configureWifi"] != tt.wifi {
				t.Errorf("configureWifi %v, want %v", m["configureWifi"], tt.wifi)
			}
			tok, _ := m["tokenValue"].(string)
			if len(tok) != tt.tokenLen || !digits.MatchString(tok) {
				t.Errorf("tokenValue %q, want %d digits", tok, tt.tokenLen)
			}
			if m["enrolledDeviceCount"] != tt.wantCount || m["enrollmentTokenUsageCount"] != tt.wantCount {
				t.Errorf("counts %v %v, want the service's %v", m["enrolledDeviceCount"], m["enrollmentTokenUsageCount"], tt.wantCount)
			}
			if c, _ := m["qrCodeContent"].(string); !strings.Contains(c, tok) {
				t.Errorf("qrCodeContent %q does not carry the token", c)
			}
		})
	}
}
