package hub

// Project keeps the asked fields of all, checked and converted to the types
// src declares, so that connectors outside this package type their records
// exactly as the built-in one does. Absent and null fields are left out; a
// value of the wrong type gives an error wrapping ErrMalformed, an unknown
// field one wrapping ErrNotFound.
func Project(src Source, all Record, fields []string) (Record, error) {
	return project(src, all, fields)
}
