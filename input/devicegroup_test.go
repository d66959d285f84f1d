package input

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestDeviceGroupColumn(t *testing.T) {
	f := readString(t, "Display Name,Device Group,roleScopeTagIds\n"+
		"Kiosk,Leeds Scanners,\"Leeds DC, 0\"\n"+
		"Plain,,\n"+
		"Clear, NONE ,\n"+
		"AOSP kiosk,Leeds Scanners,\n")
	if _, ok := f.Columns[DeviceGroupColumn]; !ok || len(f.ExtraHeaders) != 0 || len(f.Warnings) != 0 {
		t.Fatalf("columns %v, extras %q, warnings %q", f.Columns, f.ExtraHeaders, f.Warnings)
	}
	want := []string{"Leeds Scanners", "", "NONE", "Leeds Scanners"}
	for i, r := range f.Rows {
		if r.DeviceGroup != want[i] {
			t.Errorf("row %d: deviceGroup %q, want %q", r.Line, r.DeviceGroup, want[i])
		}
		if _, in := r.Body[DeviceGroupColumn]; in {
			t.Errorf("row %d: deviceGroup is in the body: %v", r.Line, r.Body)
		}
	}
	// Names in roleScopeTagIds are read as they are; the run resolves them.
	if got := f.Rows[0].Body["roleScopeTagIds"]; !slices.Equal(got.([]string), []string{"Leeds DC", "0"}) || !f.Rows[0].Valid() {
		t.Errorf("roleScopeTagIds %q, problems %v", got, f.Rows[0].Problems)
	}
}

func TestDeviceGroupNeedsAModeWithGrouping(t *testing.T) {
	f := readString(t, "displayName,enrollmentMode,enrollmentTokenType,deviceGroup\n"+
		"Dedicated,,,Leeds Scanners\n"+
		"Fully managed,corporateOwnedFullyManaged,default,Leeds Scanners\n"+
		"Work profile,corporateOwnedWorkProfile,,11111111-1111-4111-8111-111111111111\n"+
		"AOSP,corporateOwnedAOSPUserlessDevice,,Leeds Scanners\n"+
		"AOSP user,corporateOwnedAOSPUserAssociatedDevice,,Leeds Scanners\n"+
		"Staging,corporateOwnedWorkProfile,deviceStaging,Leeds Scanners\n"+
		"AOSP none,corporateOwnedAOSPUserlessDevice,,none\n"+
		"Bad mode,dedicated,,Leeds Scanners\n")
	want := map[string]string{
		"AOSP":      `device group "Leeds Scanners": enrollment-time device groups are available only for dedicated (corporateOwnedDedicatedDevice), fully managed (corporateOwnedFullyManaged) and corporate-owned work profile (corporateOwnedWorkProfile) profiles, not corporateOwnedAOSPUserlessDevice: leave deviceGroup empty for this row`,
		"AOSP user": "not corporateOwnedAOSPUserAssociatedDevice",
		"Staging":   "not available with the device staging token (enrollmentTokenType deviceStaging)",
	}
	for _, r := range f.Rows {
		var got []string
		for _, p := range r.Problems {
			if p.Column == DeviceGroupColumn {
				got = append(got, p.Message)
			}
		}
		w, bad := want[r.DisplayName]
		switch {
		case bad && (len(got) != 1 || !strings.Contains(got[0], w)):
			t.Errorf("%s: deviceGroup problems %q, want one with %q", r.DisplayName, got, w)
		case !bad && len(got) > 0:
			t.Errorf("%s: deviceGroup problems %q", r.DisplayName, got)
		}
	}
}

func TestDeviceGroupHeaders(t *testing.T) {
	f := readString(t, "displayName,deviceGrop\nA,x\n")
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], `column "deviceGrop" is not a property; did you mean deviceGroup?`) {
		t.Errorf("warnings %q", f.Warnings)
	}
	f = readString(t, "displayName,device_group,DeviceGroup\nA,x,y\n")
	if f.Rows[0].DeviceGroup != "x" || !slices.Equal(f.ExtraHeaders, []string{"DeviceGroup"}) ||
		len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "repeats deviceGroup") {
		t.Errorf("deviceGroup %q, extras %q, warnings %q", f.Rows[0].DeviceGroup, f.ExtraHeaders, f.Warnings)
	}
}

// In a workbook the cell reads as text, as Excel shows it: a group named
// with digits only keeps them.
func TestDeviceGroupXLSX(t *testing.T) {
	wb := excelize.NewFile()
	sh := wb.GetSheetName(0)
	wb.SetSheetRow(sh, "A1", &[]any{"displayName", "deviceGroup"})
	wb.SetSheetRow(sh, "A2", &[]any{"Kiosk", 2024})
	wb.SetSheetRow(sh, "A3", &[]any{"Till", "Leeds Tills"})
	p := filepath.Join(t.TempDir(), "groups.xlsx")
	if err := wb.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	f, err := Read(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows[0].DeviceGroup != "2024" || f.Rows[1].DeviceGroup != "Leeds Tills" || !f.Rows[0].Valid() {
		t.Errorf("rows %+v", f.Rows)
	}
}
