// Package profile describes the Microsoft Graph resource the job creates,
// androidDeviceOwnerEnrollmentProfile: its properties, their types, which of
// them a spreadsheet may fill, and the object the service returns.
//
// The input reader, the Graph client and the simulator all work from this
// one schema, so a column the reader accepts is a property the simulator
// knows, and the body sent has exactly the properties the schema allows.
package profile

import (
	"time"
)

// ODataType is the @odata.type every POST body carries.
const ODataType = "#microsoft.graph.androidDeviceOwnerEnrollmentProfile"

// CollectionPath is the collection, relative to the Graph base URL.
const CollectionPath = "/deviceManagement/androidDeviceOwnerEnrollmentProfiles"

// Kind is the type of a property, as it appears in JSON and as the input
// reader validates it.
type Kind int

// The kinds of property the resource has.
const (
	String     Kind = iota // a JSON string
	GUID                   // a JSON string holding a GUID
	DateTime               // a JSON string holding an RFC 3339 DateTimeOffset
	Int32                  // a JSON number, whole, within int32
	StringList             // a JSON array of strings
	Bool                   // a JSON boolean
	Enum                   // a JSON string from a fixed set of values
	Mime                   // a mimeContent object {type, value}
)

// String names the kind the way error messages do.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case GUID:
		return "GUID"
	case DateTime:
		return "date"
	case Int32:
		return "whole number"
	case StringList:
		return "list of strings"
	case Bool:
		return "boolean"
	case Enum:
		return "choice"
	case Mime:
		return "mimeContent"
	}
	return "unknown"
}

// Property is one property of the resource.
type Property struct {
	Name     string   // JSON name, e.g. "tokenExpirationDateTime"
	Kind     Kind     // JSON type
	ReadOnly bool     // assigned by the service; never sent
	Writable bool     // may be changed on an existing profile with PATCH
	Input    bool     // may be given as an input column
	Required bool     // must be present in the input
	Secret   bool     // never logged nor written to results
	Values   []string // allowed values of an Enum
	Min, Max int64    // bounds of an Int32 (Max 0 means the int32 range)
	MaxLen   int      // longest allowed string, 0 for no limit
	Help     string   // what goes in the column, for templates and messages
	Example  string   // an example value, for templates
}

// EnrollmentModes are the values of enrollmentMode in the beta schema.
var EnrollmentModes = []string{
	"corporateOwnedDedicatedDevice",
	"corporateOwnedFullyManaged",
	"corporateOwnedWorkProfile",
	"corporateOwnedAOSPUserlessDevice",
	"corporateOwnedAOSPUserAssociatedDevice",
}

// Properties lists every property of the resource, in the order a person
// fills them in a template.
var Properties = []Property{
	{Name: "displayName", Kind: String, Input: true, Writable: true, Required: true,
		Help: "Name of the profile, unique in the tenant. Printed under the QR code.", Example: "Site 12 Receiving Scanners"},
	{Name: "description", Kind: String, Input: true, Writable: true,
		Help: "Free text shown to administrators and printed on the label.", Example: "Zebra TC52 scanners at the Leeds warehouse"},
	{Name: "tokenExpirationDateTime", Kind: DateTime, Input: true, Writable: true,
		Help: "When the enrollment token expires: 2027-03-31 or 2027-03-31T18:00:00+01:00. At most 90 days ahead for AOSP userless, 65 years otherwise.", Example: "2027-03-31"},
	{Name: "roleScopeTagIds", Kind: StringList, Input: true, Writable: true,
		Help: "Scope tag ids separated by commas, semicolons or line breaks.", Example: "0"},
	{Name: "accountId", Kind: GUID, Input: true, Writable: true,
		Help: "Tenant GUID the profile belongs to; usually left empty.", Example: ""},
	{Name: "enrollmentMode", Kind: Enum, Input: true, Writable: true, Values: EnrollmentModes,
		Help: "How devices enroll; dedicated devices use corporateOwnedDedicatedDevice.", Example: "corporateOwnedDedicatedDevice"},
	{Name: "enrollmentTokenType", Kind: Enum, Input: true, Writable: true,
		Values: EnrollmentTokenTypes,
		Help:   "Token type: default; corporateOwnedDedicatedDeviceWithAzureADSharedMode (dedicated devices); deviceStaging (fully managed, work profile).", Example: "default"},
	{Name: "isTeamsDeviceProfile", Kind: Bool, Input: true, Writable: true,
		Help: "AOSP profiles for Microsoft Teams devices; at most one per tenant; true/false.", Example: ""},
	{Name: "configureWifi", Kind: Bool, Input: true, Writable: true,
		Help: "AOSP profiles: join a Wi-Fi network during setup; true/false. Empty: true when wifiSsid is given, else false.", Example: ""},
	{Name: "wifiSsid", Kind: String, Input: true, Writable: true, MaxLen: 32,
		Help: "Wi-Fi network name when configureWifi is true.", Example: ""},
	{Name: "wifiPassword", Kind: String, Input: true, Writable: true, Secret: true,
		Help: "Wi-Fi password; never written to logs or results.", Example: ""},
	{Name: "wifiSecurityType", Kind: Enum, Input: true, Writable: true, Values: []string{"none", "wpa", "wep"},
		Help: "Wi-Fi security: none, wpa or wep.", Example: ""},
	{Name: "wifiHidden", Kind: Bool, Input: true, Writable: true,
		Help: "true when the Wi-Fi network does not broadcast its name.", Example: ""},
	{Name: "deviceNameTemplate", Kind: String, Input: true, Writable: true, MaxLen: 63,
		Help: "Device name template, at most 63 characters, e.g. SCAN-{{SERIAL}}.", Example: ""},
	{Name: "tokenValue", Kind: String, ReadOnly: true, Secret: true},
	{Name: "tokenCreationDateTime", Kind: DateTime, ReadOnly: true},
	{Name: "enrolledDeviceCount", Kind: Int32, ReadOnly: true},
	{Name: "enrollmentTokenUsageCount", Kind: Int32, ReadOnly: true},
	{Name: "qrCodeContent", Kind: String, ReadOnly: true},
	{Name: "qrCodeImage", Kind: Mime, ReadOnly: true},
	{Name: "id", Kind: String, ReadOnly: true},
	{Name: "createdDateTime", Kind: DateTime, ReadOnly: true},
	{Name: "lastModifiedDateTime", Kind: DateTime, ReadOnly: true},
}

var byName = func() map[string]Property {
	m := make(map[string]Property, len(Properties))
	for _, p := range Properties {
		m[p.Name] = p
	}
	return m
}()

// Writable lists the properties a PATCH may change, in schema order:
// everything a person fills in except what the service sets (the token,
// its creation date, the device count and the QR content).
func Writable() []Property {
	var ps []Property
	for _, p := range Properties {
		if p.Writable {
			ps = append(ps, p)
		}
	}
	return ps
}

// Lookup returns the property with the exact JSON name.
func Lookup(name string) (Property, bool) {
	p, ok := byName[name]
	return p, ok
}

// MimeContent is Graph's mimeContent: a typed, base64-encoded blob.
type MimeContent struct {
	Type  string `json:"type,omitempty"`
	Value []byte `json:"value,omitempty"` // base64 in JSON
}

// Profile is the object the service returns. Fields the service did not
// send are zero.
type Profile struct {
	ID                      string       `json:"id,omitempty"`
	AccountID               string       `json:"accountId,omitempty"`
	DisplayName             string       `json:"displayName,omitempty"`
	Description             string       `json:"description,omitempty"`
	CreatedDateTime         time.Time    `json:"createdDateTime,omitzero"`
	LastModifiedDateTime    time.Time    `json:"lastModifiedDateTime,omitzero"`
	TokenValue              string       `json:"tokenValue,omitempty"`
	TokenCreationDateTime   time.Time    `json:"tokenCreationDateTime,omitzero"`
	TokenExpirationDateTime time.Time    `json:"tokenExpirationDateTime,omitzero"`
	EnrolledDeviceCount     int32        `json:"enrolledDeviceCount,omitempty"`
	QRCodeContent           string       `json:"qrCodeContent,omitempty"`
	QRCodeImage             *MimeContent `json:"qrCodeImage,omitempty"`
	RoleScopeTagIDs         []string     `json:"roleScopeTagIds,omitempty"`
	EnrollmentMode          string       `json:"enrollmentMode,omitempty"`
	EnrollmentTokenType     string       `json:"enrollmentTokenType,omitempty"`
	EnrollmentTokenUsageCnt int32        `json:"enrollmentTokenUsageCount,omitempty"`
	IsTeamsDeviceProfile    bool         `json:"isTeamsDeviceProfile,omitempty"`
	ConfigureWifi           bool         `json:"configureWifi,omitempty"`
	WifiSsid                string       `json:"wifiSsid,omitempty"`
	WifiSecurityType        string       `json:"wifiSecurityType,omitempty"`
	WifiHidden              bool         `json:"wifiHidden,omitempty"`
	DeviceNameTemplate      string       `json:"deviceNameTemplate,omitempty"`
	// Unreadable names the properties whose values could not be read
	// (the wrong JSON type), each with why; they are left zero.
	Unreadable []string `json:"-"`
}
