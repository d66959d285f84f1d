package sim_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator behind a real loopback HTTP server.
type env struct {
	t     *testing.T
	sim   *sim.Server
	srv   *httptest.Server
	clock *clock
	coll  string // collection URL
}

// start serves a simulator with opts (Now defaults to a fake clock).
func start(t *testing.T, opts sim.Options) *env {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, sim: s, srv: srv, clock: c, coll: srv.URL + "/beta" + profile.CollectionPath}
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as an object.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// graphError returns error.code and error.message, failing the test when
// the body is not Graph's error JSON with its innerError.
func (r response) graphError(t *testing.T) (code, message string) {
	t.Helper()
	var doc struct {
		Error struct {
			Code       string            `json:"code"`
			Message    string            `json:"message"`
			InnerError map[string]string `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	e := doc.Error
	if e.Code == "" || e.Message == "" {
		t.Fatalf("error body lacks code or message: %s", r.body)
	}
	for _, k := range []string{"request-id", "date", "client-request-id"} {
		if e.InnerError[k] == "" {
			t.Errorf("error body lacks innerError.%s: %s", k, r.body)
		}
	}
	if got := e.InnerError["request-id"]; got != r.header.Get("request-id") {
		t.Errorf("innerError.request-id %q, header %q", got, r.header.Get("request-id"))
	}
	return e.Code, e.Message
}

// do sends a request with an optional bearer token and body.
func (e *env) do(method, url, token string, body []byte) response {
	e.t.Helper()
	r, err := e.try(method, url, token, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// try sends a request and returns transport errors instead of failing.
func (e *env) try(method, url, token string, body []byte) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("client-request-id", "c0ffee00-0000-4000-8000-"+strings.Repeat("0", 12))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// post creates a profile from a JSON body.
func (e *env) post(body string) response {
	e.t.Helper()
	return e.do(http.MethodPost, e.coll, "", []byte(body))
}

// get reads a URL.
func (e *env) get(url string) response {
	e.t.Helper()
	return e.do(http.MethodGet, url, "", nil)
}

// readFile reads a test file.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeQR decodes a PNG holding one QR code.
func decodeQR(t *testing.T, pngData []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("qrCodeImage is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("qrCodeImage does not decode: %v", err)
	}
	return res.GetText()
}

// image returns the decoded bytes of a qrCodeImage member, checking its type.
func image(t *testing.T, m map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(m["qrCodeImage"])
	if err != nil {
		t.Fatal(err)
	}
	var mc profile.MimeContent
	if err := json.Unmarshal(raw, &mc); err != nil || mc.Type != "image/png" || len(mc.Value) == 0 {
		t.Fatalf("qrCodeImage is not a PNG mimeContent: %s (%v)", raw, err)
	}
	return mc.Value
}

// token reads the enrollment token from a qrCodeContent.
func token(t *testing.T, content string) string {
	t.Helper()
	var doc struct {
		Extras map[string]string `json:"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE"`
	}
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		t.Fatalf("qrCodeContent is not JSON: %v: %s", err, content)
	}
	return doc.Extras["com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN"]
}
