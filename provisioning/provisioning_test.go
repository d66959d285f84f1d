package provisioning

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/qr"
)

// doc is a provisioning payload like Intune's, with a token and a Wi-Fi
// password that needs every base64 alphabet difference: its encoding holds
// '+' and '/' in the standard alphabet.
const doc = `{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver",` +
	`"android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM":"I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg",` +
	`"android.app.extra.PROVISIONING_WIFI_SSID":"Café ÿ?>",` +
	`"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"ABCDEFGHIJKLMNOPQRST"}}`

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestDecode(t *testing.T) {
	std := base64.StdEncoding.EncodeToString([]byte(doc))
	if !strings.ContainsAny(std, "+/") {
		t.Fatalf("the test document's encoding has neither + nor /: %s", std)
	}
	tests := []struct {
		name    string
		content string
		want    string
		form    Form
	}{
		{"empty", "", "", None},
		{"blank", " \n", "", None},
		{"json", doc, doc, JSON},
		{"json with spaces around", "\n  " + doc + "\n", doc, JSON},
		{"std padded", std, doc, Base64},
		{"std raw", base64.RawStdEncoding.EncodeToString([]byte(doc)), doc, Base64},
		{"url padded", base64.URLEncoding.EncodeToString([]byte(doc)), doc, Base64},
		{"url raw", base64.RawURLEncoding.EncodeToString([]byte(doc)), doc, Base64},
		{"std wrapped at 76 with CRLF", wrap(std, 76), doc, Base64},
		{"std with trailing newline", std + "\n", doc, Base64},
		{"base64 of json with BOM and newline", base64.StdEncoding.EncodeToString([]byte("\ufeff" + doc + "\n")), doc, Base64},
		{"base64 of a JSON array", base64.StdEncoding.EncodeToString([]byte(`[1,2]`)), base64.StdEncoding.EncodeToString([]byte(`[1,2]`)), Text},
		{"base64 of a JSON string", base64.StdEncoding.EncodeToString([]byte(`"x"`)), base64.StdEncoding.EncodeToString([]byte(`"x"`)), Text},
		{"base64 of plain text", base64.StdEncoding.EncodeToString([]byte("hello world")), base64.StdEncoding.EncodeToString([]byte("hello world")), Text},
		{"base64 of truncated json", base64.StdEncoding.EncodeToString([]byte(doc[:40])), base64.StdEncoding.EncodeToString([]byte(doc[:40])), Text},
		{"broken json", doc[:len(doc)-1], doc[:len(doc)-1], Text},
		{"a token alone", "ABCDEFGHIJKLMNOPQRST", "ABCDEFGHIJKLMNOPQRST", Text},
		{"not a base64 character", "*" + std, "*" + std, Text},
		{"short", "e30", "{}", Base64},
		{"too short", "e3", "e3", Text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, form := Decode(tt.content)
			if got != tt.want || form != tt.form {
				t.Errorf("Decode(%.40q) = %.60q, %s; want %.60q, %s", tt.content, got, form, tt.want, tt.form)
			}
		})
	}
}

func pngOf(t *testing.T, content string) []byte {
	t.Helper()
	c, err := qr.Encode(content)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.PNG(4)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jpegOf draws content as a code on a larger grey page, off centre, as a
// photo or a scan would: only the full detector finds it.
func jpegOf(t *testing.T, content string) []byte {
	t.Helper()
	c, err := qr.Encode(content)
	if err != nil {
		t.Fatal(err)
	}
	code := c.Image(5)
	b := code.Bounds()
	page := image.NewGray(image.Rect(0, 0, b.Dx()+160, b.Dy()+100))
	for i := range page.Pix {
		page.Pix[i] = 230
	}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			page.Set(x+120, y+30, color.GrayModel.Convert(code.At(x, y)))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, page, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeImage(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"png as the service draws it", pngOf(t, doc)},
		{"jpeg scan off centre", jpegOf(t, doc)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeImage(tt.data)
			if err != nil || got != doc {
				t.Fatalf("DecodeImage = %.60q, %v; want the document", got, err)
			}
		})
	}
	if _, err := DecodeImage([]byte("not an image")); err == nil {
		t.Error("DecodeImage of garbage: no error")
	}
	blank := image.NewGray(image.Rect(0, 0, 64, 64))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, blank, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeImage(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "no QR code") {
		t.Errorf("DecodeImage of a blank image: %v, want no QR code found", err)
	}
}

func TestResolve(t *testing.T) {
	other := strings.Replace(doc, "ABCDEFGHIJKLMNOPQRST", "ZZZZZZZZZZZZZZZZZZZZ", 1)
	b64 := base64.StdEncoding.EncodeToString([]byte(doc))
	reordered := `{"android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE":{"com.google.android.apps.work.clouddpc.EXTRA_ENROLLMENT_TOKEN":"ABCDEFGHIJKLMNOPQRST"},` +
		`"android.app.extra.PROVISIONING_WIFI_SSID":"Café ÿ?>",` +
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_SIGNATURE_CHECKSUM":"I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg",` +
		`"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"com.google.android.apps.work.clouddpc/.receivers.CloudDeviceAdminReceiver"}`
	tests := []struct {
		name      string
		content   string
		image     []byte
		want      string
		form      Form
		fromImage bool
		keepImage bool
		notes     int
		warning   string // part of the one expected warning; "" for none
	}{
		{name: "json only", content: doc, want: doc, form: JSON},
		{name: "json and the same image", content: doc, image: pngOf(t, doc), want: doc, form: JSON},
		{name: "json and the same document reordered in the image", content: doc, image: pngOf(t, reordered), want: doc, form: JSON},
		{name: "base64 only", content: b64, want: doc, form: Base64, notes: 1},
		{name: "base64 and the json image", content: b64, image: pngOf(t, doc), want: doc, form: Base64, notes: 1},
		{name: "base64 and an image of the base64", content: b64, image: pngOf(t, b64), want: doc, form: Base64, notes: 1},
		{name: "json and a different image", content: doc, image: pngOf(t, other), want: other, form: JSON, fromImage: true, warning: "disagree"},
		{name: "base64 and a different image", content: b64, image: pngOf(t, other), want: other, form: Base64, fromImage: true, notes: 1, warning: "qrCodeContent (base64) and qrCodeImage disagree"},
		{name: "text and a json image", content: "ABCDEFGHIJKLMNOPQRST", image: pngOf(t, doc), want: doc, form: Text, fromImage: true, warning: "disagree"},
		{name: "text only", content: "ABCDEFGHIJKLMNOPQRST", want: "ABCDEFGHIJKLMNOPQRST", form: Text, warning: "neither provisioning JSON nor base64"},
		{name: "image only", image: pngOf(t, doc), want: doc, form: None, fromImage: true, notes: 1},
		{name: "unreadable image only", image: []byte("garbage"), want: "", form: None, keepImage: true, warning: "printed as drawn"},
		{name: "json and an unreadable image", content: doc, image: []byte("garbage"), want: doc, form: JSON, warning: "could not be read to cross-check"},
		{name: "nothing", want: "", form: None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Resolve(tt.content, tt.image)
			if p.Content != tt.want || p.Form != tt.form || p.FromImage != tt.fromImage {
				t.Errorf("Resolve = content %.60q form %s fromImage %v; want %.60q %s %v", p.Content, p.Form, p.FromImage, tt.want, tt.form, tt.fromImage)
			}
			if (len(p.Image) > 0) != tt.keepImage {
				t.Errorf("image kept: %v, want %v", len(p.Image) > 0, tt.keepImage)
			}
			if len(p.Notes) != tt.notes {
				t.Errorf("notes %q, want %d", p.Notes, tt.notes)
			}
			switch {
			case tt.warning == "" && len(p.Warnings) > 0:
				t.Errorf("warnings %q, want none", p.Warnings)
			case tt.warning != "" && (len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], tt.warning)):
				t.Errorf("warnings %q, want one saying %q", p.Warnings, tt.warning)
			}
		})
	}
}

// BenchmarkResolve measures the cost per row of reading the service's
// content, with and without an image to cross-check.
func BenchmarkResolve(b *testing.B) {
	long := strings.Repeat(`"android.app.extra.PROVISIONING_LOCALE":"en_GB",`, 8)
	payload := strings.Replace(doc, "{", "{"+long, 1) // about 700 bytes, like Intune's
	c, err := qr.Encode(payload)
	if err != nil {
		b.Fatal(err)
	}
	png, err := c.PNG(4)
	if err != nil {
		b.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(payload))
	b.Run("base64 content", func(b *testing.B) {
		for b.Loop() {
			Resolve(b64, nil)
		}
	})
	b.Run("json content and png image", func(b *testing.B) {
		for b.Loop() {
			if p := Resolve(payload, png); len(p.Warnings) > 0 {
				b.Fatal(p.Warnings)
			}
		}
	})
}

// TestDecodeImageWithoutQuietZone: images a second, independent fake of
// Graph drew edge to edge, or on a transparent background, read as a
// phone reads them.
func TestDecodeImageWithoutQuietZone(t *testing.T) {
	c, err := qr.Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := image.Decode(bytes.NewReader(pngOf(t, doc)))
	if err != nil {
		t.Fatal(err)
	}
	const scale = 4
	quiet := (full.Bounds().Dx()/scale - c.Size()) / 2 * scale
	inner := full.Bounds().Inset(quiet)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"no quiet zone", cropped(full, inner)},
		{"transparent background", transparent(cropped(full, inner))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := png.Encode(&b, tc.img); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeImage(b.Bytes())
			if err != nil || got != doc {
				t.Errorf("DecodeImage = %q, %v; want the payload", got, err)
			}
		})
	}
}

// cropped is the part r of img, starting at (0, 0).
func cropped(img image.Image, r image.Rectangle) image.Image {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// transparent is img with its light pixels made transparent.
func transparent(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r > 0x8000 {
				out.Set(x, y, color.NRGBA{})
				continue
			}
			out.Set(x, y, color.NRGBA{A: 0xff})
		}
	}
	return out
}
