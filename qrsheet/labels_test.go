package qrsheet

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/qr"
	"github.com/enrollbatch/enrollbatch/results"
)

func TestLabelsFromResults(t *testing.T) {
	code, err := qr.Encode(testPayload(1))
	if err != nil {
		t.Fatal(err)
	}
	png := []byte{0x89, 'P', 'N', 'G'}
	rs := []results.Result{
		{Row: 2, DisplayName: "Leeds kiosks", Description: "Kiosks", Status: results.Created, TokenExpiration: later,
			QRCodeContent: testPayload(1), QR: code, Extras: []string{"Leeds", "A. Nowak"}},
		{Row: 3, DisplayName: "Old one", Status: results.Exists, TokenExpiration: testNow.Add(-time.Hour),
			QRCodeContent: testPayload(2), Extras: []string{"York", ""}},
		{Row: 4, DisplayName: "Listed only", Status: results.Exists, ID: "x"},
		{Row: 5, DisplayName: "No content", Status: results.Created, ID: "y"},
		{Row: 6, DisplayName: "Failed", Status: results.Failed, QRCodeContent: "never"},
		{Row: 7, DisplayName: "Image", Status: results.Renewed, TokenExpiration: later, QRCodeImage: png, Extras: []string{" Hull "}},
	}
	labels, skipped, err := LabelsFromResults(rs, []string{"Site", "Technician"}, []string{"site", "TECHNICIAN", "row", ""}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []Label{
		{Row: 2, DisplayName: "Leeds kiosks", Description: "Kiosks", Expires: later, Content: testPayload(1), Code: code,
			Fields: [][2]string{{"Site", "Leeds"}, {"Technician", "A. Nowak"}, {"Row", "2"}}},
		{Row: 7, DisplayName: "Image", Expires: later, Image: png, Fields: [][2]string{{"Site", "Hull"}, {"Row", "7"}}},
	}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("labels\n got %+v\nwant %+v", labels, want)
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0], "row 3, Old one: token expired") ||
		!strings.Contains(skipped[1], "row 5, No content") {
		t.Errorf("skipped %q, want the expired row 3 and the content-less row 5", skipped)
	}
}

func TestLabelsFromResultsUnknownColumn(t *testing.T) {
	tests := []struct {
		name    string
		columns []string
		wantErr bool
	}{
		{"extra column with other spelling", []string{"Site_Name"}, false},
		{"known field", []string{"Description", "status", "id"}, false},
		{"typo", []string{"Stie"}, true},
	}
	rs := []results.Result{{Row: 2, DisplayName: "a", Status: results.Created, QRCodeContent: "a", Extras: []string{"Leeds"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LabelsFromResults(rs, []string{"Site name"}, tc.columns, testNow)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "Site name") {
				t.Errorf("error %q does not list the columns to choose from", err)
			}
		})
	}
}
