package batch

import (
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/input"
)

// Census is what a first pass over the input found: a job that streams
// its rows needs it before the first row is sent (--strict holds every row
// back when one is invalid, and a file of invalid rows lists nothing).
type Census struct {
	Rows         int   // non-blank rows
	Invalid      int   // rows with problems
	Unsendable   int   // rows invalid whether or not their profile exists
	InvalidLines []int // the first ten invalid rows, for messages
	names        *nameNeeds
}

// NamesNeeded reports what the rows name that only the tenant can answer:
// tags, a roleScopeTagIds entry that is a name (reading the tenant's scope
// tags needs graph.PermissionScopeTags); groups, a deviceGroup cell that
// names a group by name or id (reading groups needs
// graph.PermissionGroups).
func (c *Census) NamesNeeded() (tags, groups bool) {
	if c.names == nil {
		return false, false
	}
	return c.names.tagNames, len(c.names.groups) > 0
}

// Count adds row to the census.
func (c *Census) Count(row *input.Row) {
	c.Rows++
	c.countNames(row)
	if row.Valid() {
		return
	}
	c.Invalid++
	if !input.OnlyForNew(row.Problems) {
		c.Unsendable++
	}
	if len(c.InvalidLines) < 10 {
		c.InvalidLines = append(c.InvalidLines, row.Line)
	}
}

// CensusOf counts rows.
func CensusOf(rows []input.Row) Census {
	var c Census
	for i := range rows {
		c.Count(&rows[i])
	}
	return c
}

// invalidRows names the invalid rows: "row 3 is" or "rows 3, 7 and 9 are",
// the first ten of them.
func invalidRows(c Census) string {
	nums := make([]string, len(c.InvalidLines))
	for i, l := range c.InvalidLines {
		nums[i] = fmt.Sprint(l)
	}
	switch {
	case c.Invalid == 1:
		return "row " + nums[0] + " is"
	case c.Invalid > len(nums):
		return fmt.Sprintf("rows %s and %d more are", strings.Join(nums, ", "), c.Invalid-len(nums))
	default:
		return "rows " + strings.Join(nums[:len(nums)-1], ", ") + " and " + nums[len(nums)-1] + " are"
	}
}
