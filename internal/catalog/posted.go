package catalog

import (
	"strconv"
	"strings"

	"yiwang/internal/apperr"
)

// ParsePosted turns what a person typed into a page's field into the value
// the field holds: a number, yes or no (a ticked box, "true" or "yes"),
// table rows (one a line, cells by commas, Chinese or Latin), or the text.
// ok is false for an empty value, which leaves the field as it was; a
// value that cannot be read is a problem naming the field, in words. The
// citizen site, the window intake and the kiosk all read fields with it.
func (f Field) ParsePosted(s string) (v any, ok bool, problem *apperr.Detail) {
	s = strings.TrimSpace(s)
	if f.Type == "bool" {
		return s == "true" || s == "yes", true, nil
	}
	if s == "" {
		return nil, false, nil
	}
	switch f.Type {
	case "number":
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false, &apperr.Detail{Subject: f.ID, Words: apperr.Words{Zh: f.Label.Zh + "：请填写数字。", En: f.Label.In("en") + ": enter a number."}}
		}
		return n, true, nil
	case "table":
		var rows []any
		for _, line := range strings.Split(s, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			cells := strings.Split(strings.ReplaceAll(line, "，", ","), ",")
			row := map[string]any{}
			for i, c := range f.Columns {
				if i >= len(cells) {
					break
				}
				cv, ok, problem := c.ParsePosted(cells[i])
				if problem != nil {
					problem.Subject = f.ID
					problem.Words = apperr.Words{Zh: f.Label.Zh + "（" + c.Label.Zh + "）：请填写数字。", En: f.Label.In("en") + " (" + c.Label.In("en") + "): enter a number."}
					return nil, false, problem
				}
				if ok {
					row[c.ID] = cv
				}
			}
			rows = append(rows, row)
		}
		return rows, true, nil
	}
	return s, true, nil
}
