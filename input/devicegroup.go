package input

import (
	"fmt"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/names"
)

// DeviceGroupColumn is the column that names a profile's enrollment-time
// device group: a group's display name or object id, "none" to clear it,
// or empty to leave it alone (see package names). It is not a property of
// the resource: its value is never part of the body posted, and it is not
// an extra column either. The run looks the group up and sets it with the
// profile's setEnrollmentTimeDeviceMembershipTarget action.
const DeviceGroupColumn = "deviceGroup"

// deviceGroupNorm is the header's comparison form (see normalize).
var deviceGroupNorm = normalize(DeviceGroupColumn)

// readDeviceGroup reads the row's deviceGroup cell into row.DeviceGroup,
// and applies the rule that needs no tenant: the row's enrollment mode
// and token type must allow enrollment-time grouping (names.CheckMode).
// Whether the group exists and may be used is up to the run.
func (f *File) readDeviceGroup(row *Row, c cell, bad func(column, msg string)) {
	switch {
	case c.unsaved && c.text == "":
		bad(DeviceGroupColumn, unsavedFormula)
		return
	case c.typ == errorCell:
		bad(DeviceGroupColumn, fmt.Sprintf("the cell holds the spreadsheet error %q; fix the formula or type the group's name or id", c.text))
		return
	case !utf8.ValidString(c.text):
		bad(DeviceGroupColumn, "is not valid UTF-8 text; save the file as \"CSV UTF-8\" or as .xlsx")
		return
	case c.text == "":
		return
	}
	row.DeviceGroup = c.text
}

// checkDeviceGroup refuses a group on a row whose mode or token type has
// no enrollment-time grouping (AOSP, or the deviceStaging token). It runs
// once the mode and token type are known to be valid.
func checkDeviceGroup(row *Row, bad func(column, msg string)) {
	ref := names.ParseGroupCell(row.DeviceGroup)
	if ref.Action != names.GroupByName && ref.Action != names.GroupByID {
		return
	}
	mode, _ := row.Body["enrollmentMode"].(string)
	token, _ := row.Body["enrollmentTokenType"].(string)
	if p := names.CheckMode(mode, token); p != nil {
		bad(DeviceGroupColumn, (&names.GroupError{Given: ref.Given, Problems: []names.Problem{*p}}).Error())
	}
}
