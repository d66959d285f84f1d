package input

import (
	"fmt"
	"strings"

	"github.com/enrollbatch/enrollbatch/profile"
)

// convertEnum reads the value of an enumeration property: one of its
// values, in any case.
func convertEnum(p profile.Property, text string) (v any, msg, note string) {
	for _, v := range p.Values {
		if strings.EqualFold(v, text) {
			return v, "", ""
		}
	}
	return nil, fmt.Sprintf("%s is not one of %s", shown(p, text), strings.Join(p.Values, ", ")), ""
}
