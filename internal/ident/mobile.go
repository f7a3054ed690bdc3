package ident

// ValidMobile reports whether p is a mainland mobile number as people are
// asked for one: 11 digits starting with 1, with no spaces or country code.
func ValidMobile(p string) bool {
	if len(p) != 11 || p[0] != '1' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}
