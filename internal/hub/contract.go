package hub

import (
	"fmt"
	"slices"
	"strings"
)

// Check reports how v, a value as a department's system sends it (decoded
// from JSON, numbers as int64 or float64), breaks the field's contract: its
// type, the date form, or the field's list of values. Connectors accept a
// value outside the list (rules then see it as it is); `yiwang hub check`
// reports it, so that a department's words are mapped before go-live.
func (fd Field) Check(v any) error {
	cv, err := convert(fd.Type, v)
	if err != nil {
		return err
	}
	if s, ok := cv.(string); ok && len(fd.Values) > 0 && !slices.Contains(fd.Values, s) {
		return fmt.Errorf("%q is not one of %s", s, strings.Join(fd.Values, ", "))
	}
	return nil
}
