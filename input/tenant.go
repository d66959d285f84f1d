package input

import (
	"fmt"
	"unicode/utf8"

	"github.com/enrollbatch/enrollbatch/tenant"
)

// The tenant column (tenant.Column) sends each row to its customer
// tenant: a tenant id or a verified domain. Like deviceGroup it is neither
// a property nor an extra column: never sent, it picks where the row goes.
// Names are unique per tenant, and the one-Teams-profile rule is per
// tenant, so the file's checks that look back at earlier rows count each
// tenant apart.

// tenantNorm is the header's comparison form (see normalize).
var tenantNorm = normalize(tenant.Column)

// readTenant reads the row's tenant cell into row.Tenant, in the form
// tenant.Parse gives (lower case), or marks the row invalid.
func (f *File) readTenant(row *Row, c cell, bad func(column, msg string)) {
	switch {
	case c.unsaved && c.text == "":
		bad(tenant.Column, unsavedFormula)
		return
	case c.typ == errorCell:
		bad(tenant.Column, fmt.Sprintf("the cell holds the spreadsheet error %q; fix the formula or type the tenant's id or domain", c.text))
		return
	case !utf8.ValidString(c.text):
		bad(tenant.Column, "is not valid UTF-8 text; save the file as \"CSV UTF-8\" or as .xlsx")
		return
	}
	t, err := tenant.Parse(c.text)
	if err != nil {
		bad(tenant.Column, err.Error())
		return
	}
	row.Tenant = t
}

// HasTenants reports whether the file has a tenant column.
func (f *File) HasTenants() bool {
	_, ok := f.Columns[tenant.Column]
	return ok
}
