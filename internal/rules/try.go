package rules

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"yiwang/internal/workday"
)

// ReadInput reads an applicant file for yiwang rules try: a mapping with
// the keys of a tests file's input (applicant, answers, form, sources,
// licences, licences_last, materials, credit, unknown), in the same shape.
func ReadInput(data []byte) (Input, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Input{}, fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return Input{}, fmt.Errorf("the file is empty: write a mapping of %s", strings.Join(inputKeys, ", "))
	}
	m, err := inputMap(doc.Content[0])
	if err != nil {
		return Input{}, err
	}
	return toInput(m)
}

// DecisionTime is the moment a decision "on" a day is made: noon in China,
// so that the day is the day whatever the server's zone.
func DecisionTime(day workday.Date) time.Time {
	return time.Date(day.Year, day.Month, day.Day, 12, 0, 0, 0, workday.CST)
}
