// Package provisioning finds the Android provisioning document that a
// profile's QR code must carry, in what the service returned.
//
// Intune's qrCodeContent is usually the provisioning JSON itself, but it may
// come base64-encoded (Microsoft's AOSP token sample decodes it before
// reading it as JSON), and the service may also return qrCodeImage, a PNG of
// the code it drew. Resolve decodes the content when it is base64 of a JSON
// object, reads the image, and cross-checks the two: the device's setup
// wizard reads the JSON, so that is what gets printed, and when the image
// and the content disagree the image's payload wins and a warning says so.
package provisioning

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // qrCodeImage may be any image type the service chooses
	_ "image/jpeg" // (it documents a mimeContent, PNG in practice)
	_ "image/png"
	"reflect"
	"strings"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Form is how the service gave qrCodeContent.
type Form string

// The forms of qrCodeContent.
const (
	None   Form = "none"   // empty
	JSON   Form = "json"   // the provisioning JSON object itself
	Base64 Form = "base64" // base64 (standard or URL alphabet, with or without padding) of a JSON object
	Text   Form = "text"   // neither: not a provisioning document enrollbatch recognises
)

// Decode returns the provisioning JSON that content carries and the form it
// came in. JSON content comes back trimmed; base64 content comes back
// decoded when the decoding is a JSON object; anything else comes back as
// given, with form Text.
func Decode(content string) (payload string, form Form) {
	s := strings.TrimSpace(content)
	if s == "" {
		return "", None
	}
	if isObject([]byte(s)) {
		return s, JSON
	}
	if dec, ok := decodeBase64(s); ok {
		return dec, Base64
	}
	return content, Text
}

// decodeBase64 decodes s as base64 in any of its four usual spellings and
// reports whether the result is a JSON object. Line breaks and spaces
// inside s (as MIME and PowerShell wrap long base64) are ignored.
func decodeBase64(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if len(s) < 3 { // the shortest object, {}, is e30
		return "", false
	}
	// Strict decoding refuses stray bits after the last character, so text
	// that merely looks like base64 rarely decodes to a JSON object.
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		b = bytes.TrimPrefix(b, []byte("\ufeff"))
		b = bytes.TrimSpace(b)
		if isObject(b) {
			return string(b), true
		}
	}
	return "", false
}

// isObject reports whether b is one JSON object.
func isObject(b []byte) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil
}

// DecodeImage reads the QR code in an image (PNG, JPEG or GIF) and returns
// its text.
func DecodeImage(data []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("decode image: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("read image: %w", err)
	}
	reader := zxqr.NewQRCodeReader()
	// A clean image of one code (what the service draws) reads fastest as
	// a pure barcode; anything else needs the full detector.
	res, err := reader.Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE: true, gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	})
	if err != nil {
		res, err = reader.Decode(bmp, map[gozxing.DecodeHintType]any{
			gozxing.DecodeHintType_TRY_HARDER: true, gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
		})
	}
	if err != nil {
		// An image drawn without the quiet zone the standard asks for
		// (four modules of white around the code), or on a transparent
		// background (which reads as black), is legible to a phone but
		// not to the detector: put it on white with a margin and look
		// again.
		if padded, perr := gozxing.NewBinaryBitmapFromImage(onWhite(img)); perr == nil {
			res, err = reader.Decode(padded, map[gozxing.DecodeHintType]any{
				gozxing.DecodeHintType_TRY_HARDER: true, gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
			})
		}
	}
	if err != nil {
		return "", fmt.Errorf("no QR code found in the image: %w", err)
	}
	return res.GetText(), nil
}

// onWhite is img drawn over an opaque white page with a margin of an
// eighth of its size on every side (at least 8 pixels): the quiet zone of
// a code drawn edge to edge, at any module size up to that.
func onWhite(img image.Image) image.Image {
	b := img.Bounds()
	pad := max(8, max(b.Dx(), b.Dy())/8)
	page := image.NewRGBA(image.Rect(0, 0, b.Dx()+2*pad, b.Dy()+2*pad))
	draw.Draw(page, page.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(page, image.Rect(pad, pad, pad+b.Dx(), pad+b.Dy()), img, b.Min, draw.Over)
	return page
}

// Payload is what to print for one profile.
type Payload struct {
	// Content is the text the printed code carries: the provisioning JSON
	// whenever it could be found. Empty when only Image can be printed.
	Content string
	// Image is the service's image, kept when Content is empty and the
	// image could not be read, so that it can be printed as drawn.
	Image []byte
	// Form is the form the service's qrCodeContent came in.
	Form Form
	// FromImage is true when Content is the payload read from the image.
	FromImage bool
	// Notes say what was done to the service's content (decoded from
	// base64), one sentence each.
	Notes []string
	// Warnings say what the person must know: content and image disagree,
	// content that is no provisioning document, an image that cannot be
	// read. They belong in the row's notes and the log.
	Warnings []string
}

// Resolve decides what to print from the service's qrCodeContent and
// qrCodeImage (either may be empty).
func Resolve(content string, img []byte) Payload {
	payload, form := Decode(content)
	p := Payload{Content: payload, Form: form}
	if form == Base64 {
		p.Notes = append(p.Notes, "qrCodeContent came base64-encoded; the code carries its decoded provisioning JSON")
	}
	if len(img) == 0 {
		if form == Text {
			p.Warnings = append(p.Warnings, "qrCodeContent is neither provisioning JSON nor base64 of it; the code carries it as the service gave it, which a device may not accept")
		}
		return p
	}
	fromImage, err := DecodeImage(img)
	switch {
	case err != nil && form == None:
		p.Image = img
		p.Warnings = append(p.Warnings, fmt.Sprintf("the service gave no qrCodeContent and its qrCodeImage could not be read (%v); the image is printed as drawn", err))
	case err != nil:
		p.Warnings = append(p.Warnings, fmt.Sprintf("qrCodeImage could not be read to cross-check qrCodeContent (%v); the code carries qrCodeContent", err))
		if form == Text {
			p.Warnings = append(p.Warnings, "qrCodeContent is neither provisioning JSON nor base64 of it; the code carries it as the service gave it, which a device may not accept")
		}
	case form == None:
		p.Content, p.FromImage = imagePayload(fromImage), true
		p.Notes = append(p.Notes, "the service gave no qrCodeContent; the code carries the payload of its qrCodeImage")
	case !samePayload(payload, imagePayload(fromImage)):
		p.Content, p.FromImage = imagePayload(fromImage), true
		p.Warnings = append(p.Warnings, fmt.Sprintf("qrCodeContent (%s) and qrCodeImage disagree; the code carries the image's payload, as the service drew it: check the profile in the Intune admin center", form))
	}
	return p
}

// imagePayload is the provisioning JSON an image's text carries: itself, or
// its base64 decoding.
func imagePayload(text string) string {
	payload, form := Decode(text)
	if form == None {
		return text
	}
	return payload
}

// samePayload reports whether a and b are the same provisioning document:
// equal text, or equal JSON values (key order and spacing aside).
func samePayload(a, b string) bool {
	if a == b {
		return true
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
