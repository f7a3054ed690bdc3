package licence

import (
	"fmt"
	"strings"

	"yiwang/internal/apperr"
)

// The licence number (证照标识), in the spirit of GB/T 36904-2018: the issuing
// department's unified social credit code (18), the licence type code (4),
// the year of issue (4), a sequence number within issuer, type and year (6)
// and one check character, joined by hyphens for reading, e.g.
// 11910102MB0001111L-1001-2025-000001-K. The check character is ISO/IEC 7064
// MOD 37,36 (the hybrid system over 0-9A-Z) computed over the 32 characters
// without the hyphens; we could not obtain the standard's own algorithm, and
// MOD 37,36 catches every single substitution and adjacent transposition.

const alphabet36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Mod3736 returns the ISO 7064 MOD 37,36 check character of s (0-9, A-Z).
func Mod3736(s string) (byte, error) {
	p := 36
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(alphabet36, s[i])
		if v < 0 {
			return 0, fmt.Errorf("character %q at %d is not 0-9 or A-Z", s[i], i+1)
		}
		sum := (p + v) % 36
		if sum == 0 {
			sum = 36
		}
		p = (sum * 2) % 37
	}
	return alphabet36[(37-p)%36], nil
}

// Number makes a licence number.
func Number(issuerCreditCode, typeCode string, year, seq int) (string, error) {
	if seq < 1 || seq > 999999 {
		return "", apperr.New(apperr.Conflict, apperr.LicenceSequenceExhausted, "licence type %s of %s has used all 999999 numbers of %d", typeCode, issuerCreditCode, year)
	}
	body := fmt.Sprintf("%s%s%04d%06d", issuerCreditCode, typeCode, year, seq)
	c, err := Mod3736(body)
	if err != nil {
		return "", apperr.New(apperr.Invalid, apperr.BadLicenceNumberPart, "cannot make a licence number: %v", err)
	}
	return fmt.Sprintf("%s-%s-%04d-%06d-%c", issuerCreditCode, typeCode, year, seq, c), nil
}

// ValidNumber reports whether number has the form and check character of a
// licence number, so a mistyped one is told apart from an unknown one.
func ValidNumber(number string) bool {
	parts := strings.Split(number, "-")
	if len(parts) != 5 || len(parts[0]) != 18 || len(parts[1]) != 4 || len(parts[2]) != 4 || len(parts[3]) != 6 || len(parts[4]) != 1 {
		return false
	}
	// The year and the sequence are numbers (the check character alone
	// would accept letters there too).
	if !digits(parts[2]) || !digits(parts[3]) || parts[3] == "000000" {
		return false
	}
	c, err := Mod3736(strings.Join(parts[:4], ""))
	return err == nil && c == parts[4][0]
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
