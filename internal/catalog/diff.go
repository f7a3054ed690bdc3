package catalog

import (
	"encoding/json"
	"slices"
	"strconv"
)

// Change is one element that differs between two versions of an item.
type Change struct {
	Path string `json:"path"`          // e.g. time_limit.promised_days, form[2].label.zh
	Old  any    `json:"old,omitempty"` // absent when the element was added
	New  any    `json:"new,omitempty"` // absent when the element was removed
}

// Diff lists the elements that differ between two items, in path order.
func Diff(a, b Item) ([]Change, error) {
	fa, err := flatten(a)
	if err != nil {
		return nil, err
	}
	fb, err := flatten(b)
	if err != nil {
		return nil, err
	}
	var out []Change
	for p, va := range fa {
		vb, ok := fb[p]
		switch {
		case !ok:
			out = append(out, Change{Path: p, Old: va})
		case !equalJSON(va, vb):
			out = append(out, Change{Path: p, Old: va, New: vb})
		}
	}
	for p, vb := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, Change{Path: p, New: vb})
		}
	}
	slices.SortFunc(out, func(x, y Change) int { return comparePaths(x.Path, y.Path) })
	return out, nil
}

// flatten maps every leaf of the item's JSON form to its path.
func flatten(it Item) (map[string]any, error) {
	b, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		case []any:
			for i, c := range x {
				walk(prefix+"["+strconv.Itoa(i)+"]", c)
			}
		default:
			out[prefix] = v
		}
	}
	walk("", v)
	return out, nil
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// comparePaths orders paths so that form[2] comes before form[10].
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		ra, rb := a[0], b[0]
		if isDigit(ra) && isDigit(rb) {
			na, ia := leadingNumber(a)
			nb, ib := leadingNumber(b)
			if na != nb {
				return na - nb
			}
			a, b = a[ia:], b[ib:]
			continue
		}
		if ra != rb {
			return int(ra) - int(rb)
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingNumber(s string) (int, int) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n, i
}
