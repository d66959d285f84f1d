package profile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// UnmarshalJSON reads a profile as the service returns it, and carries on
// with values this tool never produces: an enrollment mode or token type
// outside the documented lists (kept as written, a number such as 5 as
// "5"), a timestamp without an offset (taken as UTC), or a value of the
// wrong JSON type (left zero, and its property named in Unreadable). It
// fails only when data is not a JSON object. An entity wrapped in "value",
// as in the Get page's example, is unwrapped.
func (p *Profile) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if v, ok := m["value"]; ok && m["id"] == nil {
		if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '{' {
			var inner map[string]json.RawMessage
			if json.Unmarshal(t, &inner) == nil {
				m = inner
			}
		}
	}
	*p = Profile{}
	for name, raw := range m {
		if err := p.set(name, bytes.TrimSpace(raw)); err != nil {
			p.Unreadable = append(p.Unreadable, fmt.Sprintf("%s: %v", name, err))
		}
	}
	return nil
}

// Known reports whether the profile's mode and token type are ones this
// tool knows, and when not, says which value is unknown. An empty value
// (not returned, or not selected) counts as known.
func (p *Profile) Known() (bool, string) {
	if p.EnrollmentMode != "" && !KnownMode(p.EnrollmentMode) {
		return false, fmt.Sprintf("enrollmentMode %q is not one this tool knows (%s)", p.EnrollmentMode, "known: corporateOwnedDedicatedDevice, corporateOwnedFullyManaged, corporateOwnedWorkProfile, corporateOwnedAOSPUserlessDevice, corporateOwnedAOSPUserAssociatedDevice")
	}
	if p.EnrollmentTokenType != "" && !KnownTokenType(p.EnrollmentTokenType) {
		return false, fmt.Sprintf("enrollmentTokenType %q is not one this tool knows (known: default, corporateOwnedDedicatedDeviceWithAzureADSharedMode, deviceStaging)", p.EnrollmentTokenType)
	}
	return true, ""
}

func (p *Profile) set(name string, raw []byte) error {
	if string(raw) == "null" {
		return nil
	}
	var err error
	switch name {
	case "id":
		p.ID, err = text(raw)
	case "accountId":
		p.AccountID, err = text(raw)
	case "displayName":
		p.DisplayName, err = text(raw)
	case "description":
		p.Description, err = text(raw)
	case "createdDateTime":
		p.CreatedDateTime, err = timestamp(raw)
	case "lastModifiedDateTime":
		p.LastModifiedDateTime, err = timestamp(raw)
	case "tokenValue":
		p.TokenValue, err = text(raw)
	case "tokenCreationDateTime":
		p.TokenCreationDateTime, err = timestamp(raw)
	case "tokenExpirationDateTime":
		p.TokenExpirationDateTime, err = timestamp(raw)
	case "enrolledDeviceCount":
		p.EnrolledDeviceCount, err = int32Of(raw)
	case "qrCodeContent":
		p.QRCodeContent, err = text(raw)
	case "qrCodeImage":
		var v struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		}
		if err = json.Unmarshal(raw, &v); err != nil {
			return errors.New("not a mimeContent object")
		}
		b, derr := base64.StdEncoding.DecodeString(v.Value)
		if derr != nil {
			return errors.New("value is not base64")
		}
		p.QRCodeImage = &MimeContent{Type: v.Type, Value: b}
	case "roleScopeTagIds":
		var v []string
		if json.Unmarshal(raw, &v) != nil {
			return errors.New("not a list of strings")
		}
		p.RoleScopeTagIDs = v
	case "enrollmentMode":
		p.EnrollmentMode, err = text(raw)
	case "enrollmentTokenType":
		p.EnrollmentTokenType, err = text(raw)
	case "enrollmentTokenUsageCount":
		p.EnrollmentTokenUsageCnt, err = int32Of(raw)
	case "isTeamsDeviceProfile":
		p.IsTeamsDeviceProfile, err = boolean(raw)
	case "configureWifi":
		p.ConfigureWifi, err = boolean(raw)
	case "wifiSsid":
		p.WifiSsid, err = text(raw)
	case "wifiSecurityType":
		p.WifiSecurityType, err = text(raw)
	case "wifiHidden":
		p.WifiHidden, err = boolean(raw)
	case "deviceNameTemplate":
		p.DeviceNameTemplate, err = text(raw)
	}
	// Other members (annotations, wifiPassword, properties added later)
	// are not kept.
	return err
}

// text reads a JSON string, or a number as its literal (an enum the
// service sent by value).
func text(raw []byte) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
		return string(raw), nil
	}
	return "", errors.New("not a string")
}

// timestamp reads a DateTimeOffset; one without an offset is taken as UTC.
func timestamp(raw []byte) (time.Time, error) {
	s, err := text(raw)
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

func int32Of(raw []byte) (int32, error) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, errors.New("not a whole number within Int32")
	}
	return int32(f), nil
}

func boolean(raw []byte) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("not a boolean")
}
