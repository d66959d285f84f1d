package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/enrollbatch/enrollbatch/profile"
)

// entityType is the OData type name in error messages.
const entityType = "microsoft.graph.androidDeviceOwnerEnrollmentProfile"

// edmType names a kind the way OData error messages do.
func edmType(k profile.Kind) string {
	switch k {
	case profile.GUID:
		return "Edm.Guid"
	case profile.DateTime:
		return "Edm.DateTimeOffset"
	case profile.Int32:
		return "Edm.Int32"
	case profile.StringList:
		return "Collection(Edm.String)"
	case profile.Bool:
		return "Edm.Boolean"
	case profile.Mime:
		return "microsoft.graph.mimeContent"
	}
	return "Edm.String"
}

// parseObject decodes a request body that must be one JSON object.
func parseObject(body []byte) (map[string]json.RawMessage, *apiError) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return nil, errorf(http.StatusBadRequest, "BadRequest", "Empty Payload. JSON content expected.")
	}
	if t[0] != '{' {
		return nil, errorf(http.StatusBadRequest, "BadRequest",
			"An unexpected '%s' node was found when reading from the JSON reader. A 'StartObject' node was expected.", nodeName(t[0]))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, errorf(http.StatusBadRequest, "BadRequest", "Invalid JSON. The request body could not be read: %v", err)
	}
	return m, nil
}

// nodeName names the JSON node that starts with c, as the OData reader does.
func nodeName(c byte) string {
	switch c {
	case '[':
		return "StartArray"
	case '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "PrimitiveValue"
	}
	return "Unknown"
}

// parseCreate validates a create body and returns the profile it asks for
// (without the fields the service assigns). Errors are Graph's: unknown
// property, wrong type, wrong @odata.type, read-only property, missing
// displayName.
func parseCreate(body []byte, url string) (record, *apiError) {
	m, aerr := parseObject(body)
	if aerr != nil {
		return record{}, aerr
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var r record
	p := &r.p
	given := map[string]bool{}
	for _, k := range keys {
		raw := m[k]
		if k == "@odata.type" {
			if err := checkODataType(raw); err != nil {
				return record{}, err
			}
			continue
		}
		if strings.Contains(k, "@") {
			continue // other instance or property annotations are ignored
		}
		prop, ok := profile.Lookup(k)
		if !ok {
			return record{}, errorf(http.StatusBadRequest, "BadRequest",
				"The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, entityType)
		}
		if prop.ReadOnly && !ignoredOnCreate[k] {
			return record{}, intuneError(http.StatusBadRequest, "BadRequest", url,
				"Property '"+k+"' is read-only and cannot be set.")
		}
		given[k] = true
		if string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		if aerr := setProperty(&r, prop, raw); aerr != nil {
			return record{}, aerr
		}
	}
	if strings.TrimSpace(p.DisplayName) == "" {
		return record{}, intuneError(http.StatusBadRequest, "BadRequest", url,
			"The displayName property is required.")
	}
	if !given["configureWifi"] || string(bytes.TrimSpace(m["configureWifi"])) == "null" {
		// "Default value is TRUE" (the resource page).
		p.ConfigureWifi = true
	}
	return r, nil
}

// ignoredOnCreate are the service-set properties that the documented create
// and update examples send (tokenValue, tokenCreationDateTime, enrolledDeviceCount,
// enrollmentTokenUsageCount, qrCodeContent, qrCodeImage): the service
// accepts them in a body and keeps its own values. The other service-set
// properties (id, createdDateTime, lastModifiedDateTime), which the example
// leaves out, are refused as read-only.
var ignoredOnCreate = map[string]bool{
	"tokenValue": true, "tokenCreationDateTime": true, "enrolledDeviceCount": true,
	"enrollmentTokenUsageCount": true, "qrCodeContent": true, "qrCodeImage": true,
}

// typeError is Graph's answer to a value of the wrong JSON type.
func typeError(prop profile.Property, raw json.RawMessage) *apiError {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && (t[0] == '[' || t[0] == '{') {
		want := "PrimitiveValue"
		if prop.Kind == profile.StringList {
			want = "StartArray"
		} else if prop.Kind == profile.Mime {
			want = "StartObject"
		}
		got := "StartObject"
		if t[0] == '[' {
			got = "StartArray"
		}
		return errorf(http.StatusBadRequest, "BadRequest",
			"An unexpected '%s' node was found when reading from the JSON reader. A '%s' node was expected. (property '%s')", got, want, prop.Name)
	}
	lit := strings.Trim(string(t), `"`)
	if len(lit) > 64 {
		lit = lit[:64] + "…"
	}
	return errorf(http.StatusBadRequest, "BadRequest",
		"Cannot convert the literal '%s' to the expected type '%s'. (property '%s')", lit, edmType(prop.Kind), prop.Name)
}

// setProperty checks raw against the property's kind and stores it.
func setProperty(r *record, prop profile.Property, raw json.RawMessage) *apiError {
	p := &r.p
	switch prop.Kind {
	case profile.String, profile.GUID, profile.DateTime, profile.Enum:
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return typeError(prop, raw)
		}
		switch prop.Kind {
		case profile.GUID:
			if !profile.IsGUID(v) {
				return typeError(prop, raw)
			}
		case profile.DateTime:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return typeError(prop, raw)
			}
			if prop.Name == "tokenExpirationDateTime" {
				p.TokenExpirationDateTime = t
			}
			return nil // tokenCreationDateTime is the service's to set
		case profile.Enum:
			if !slices.Contains(prop.Values, v) {
				return errorf(http.StatusBadRequest, "BadRequest",
					"Requested value '%s' was not found. (property '%s')", v, prop.Name)
			}
		}
		setString(r, prop.Name, v)
	case profile.Int32:
		if _, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 32); err != nil {
			return typeError(prop, raw)
		}
		// enrolledDeviceCount and enrollmentTokenUsageCount are the
		// service's counts; a sent value is ignored.
	case profile.Bool:
		var v bool
		if json.Unmarshal(raw, &v) != nil {
			return typeError(prop, raw)
		}
		switch prop.Name {
		case "isTeamsDeviceProfile":
			p.IsTeamsDeviceProfile = v
		case "configureWifi":
			p.ConfigureWifi = v
		case "wifiHidden":
			p.WifiHidden = v
		}
	case profile.StringList:
		var items []json.RawMessage
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] != '[' || json.Unmarshal(t, &items) != nil {
			return typeError(prop, raw)
		}
		v := make([]string, len(items))
		for i, it := range items {
			if json.Unmarshal(it, &v[i]) != nil || string(bytes.TrimSpace(it)) == "null" {
				return typeError(prop, it)
			}
		}
		if prop.Name == "roleScopeTagIds" {
			p.RoleScopeTagIDs = v
		}
	case profile.Mime:
		var v struct {
			Type  *string `json:"type"`
			Value []byte  `json:"value"`
		}
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &v) != nil {
			return typeError(prop, raw)
		}
		// qrCodeImage is the service's to render; a sent value is ignored.
	}
	return nil
}

// setString stores a string property of the record.
func setString(r *record, name, v string) {
	p := &r.p
	switch name {
	case "displayName":
		p.DisplayName = v
	case "description":
		p.Description = v
	case "accountId":
		p.AccountID = v
	case "enrollmentMode":
		p.EnrollmentMode = v
	case "enrollmentTokenType":
		p.EnrollmentTokenType = v
	case "wifiSsid":
		p.WifiSsid = v
	case "wifiPassword":
		r.wifiPassword = v
	case "wifiSecurityType":
		p.WifiSecurityType = v
	case "deviceNameTemplate":
		p.DeviceNameTemplate = v
	}
	// tokenValue and qrCodeContent are the service's to set; sent values are ignored.
}

// parseTokenValidity validates the createToken body.
func parseTokenValidity(body []byte) (time.Duration, *apiError) {
	m, aerr := parseObject(body)
	if aerr != nil {
		return 0, aerr
	}
	var secs int64 = -1
	for k, raw := range m {
		if k != "tokenValidityInSeconds" {
			return 0, errorf(http.StatusBadRequest, "BadRequest",
				"The parameter '%s' in the request payload is not a valid parameter for the operation 'createToken'.", k)
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 32)
		if err != nil {
			return 0, errorf(http.StatusBadRequest, "BadRequest",
				"Cannot convert the literal '%s' to the expected type 'Edm.Int32'.", strings.Trim(string(raw), `"`))
		}
		secs = n
	}
	if secs < 0 {
		return 0, errorf(http.StatusBadRequest, "BadRequest",
			"Missing parameter tokenValidityInSeconds: send {\"tokenValidityInSeconds\": N}.")
	}
	if secs == 0 {
		return 0, errorf(http.StatusBadRequest, "BadRequest",
			"tokenValidityInSeconds must be a positive number of seconds.")
	}
	return time.Duration(secs) * time.Second, nil
}

// applyPatch validates a PATCH body and applies it to a copy of r, which it
// returns. Only writable properties may be sent (read-only and
// service-assigned ones are refused, as is an unknown property or a wrong
// type); properties left out keep their values; null leaves a property as
// it is.
func applyPatch(r record, body []byte, url string) (record, *apiError) {
	m, aerr := parseObject(body)
	if aerr != nil {
		return record{}, aerr
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.p.RoleScopeTagIDs = append([]string(nil), r.p.RoleScopeTagIDs...)
	for _, k := range keys {
		raw := m[k]
		if k == "@odata.type" {
			if err := checkODataType(raw); err != nil {
				return record{}, err
			}
			continue
		}
		if strings.Contains(k, "@") {
			continue
		}
		prop, ok := profile.Lookup(k)
		if !ok {
			return record{}, errorf(http.StatusBadRequest, "BadRequest",
				"The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, entityType)
		}
		if !prop.Writable && !ignoredOnCreate[k] {
			return record{}, intuneError(http.StatusBadRequest, "BadRequest", url,
				"Property '"+k+"' is read-only and cannot be set.")
		}
		if string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		if ignoredOnCreate[k] {
			// Sent in the documented update example too; the service
			// keeps its own values. Only the type is checked.
			var scratch record
			if aerr := setProperty(&scratch, prop, raw); aerr != nil {
				return record{}, aerr
			}
			continue
		}
		if aerr := setProperty(&r, prop, raw); aerr != nil {
			return record{}, aerr
		}
	}
	if strings.TrimSpace(r.p.DisplayName) == "" {
		return record{}, intuneError(http.StatusBadRequest, "BadRequest", url,
			"The displayName property is required.")
	}
	return r, nil
}

// checkODataType refuses an @odata.type that is not this resource's, as
// Graph does.
func checkODataType(raw json.RawMessage) *apiError {
	var t string
	if json.Unmarshal(raw, &t) != nil || strings.TrimPrefix(t, "#") != entityType {
		return errorf(http.StatusBadRequest, "BadRequest",
			"A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.Trim(string(raw), `"`))
	}
	return nil
}
