// Package ident checks the identifiers Chinese administration runs on: the
// unified social credit code of organisations (GB 32100-2015).
package ident

import (
	"fmt"
	"strings"
)

// creditCodeChars are the 31 characters of GB 32100, in value order; I, O, S,
// V and Z are left out so that codes cannot be misread.
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCodeCheck returns the check character for the first 17 characters of
// a unified social credit code.
func CreditCodeCheck(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 characters, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeChars, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("character %d (%q) is not allowed in a credit code", i+1, first17[i])
		}
		sum += v * creditCodeWeights[i]
	}
	return creditCodeChars[(31-sum%31)%31], nil
}

// ValidateCreditCode checks an 18-character unified social credit code: its
// alphabet, its registration-authority and region parts, and its check
// character. The error says which part is wrong.
func ValidateCreditCode(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("a unified social credit code has 18 characters, this has %d", len([]rune(code)))
	}
	if code != strings.ToUpper(code) {
		return fmt.Errorf("a unified social credit code uses upper-case letters only")
	}
	want, err := CreditCodeCheck(code[:17])
	if err != nil {
		return err
	}
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("characters 3–8 must be the digits of a region code, found %q", code[2:8])
		}
	}
	if code[17] != want {
		return fmt.Errorf("check character is %q but should be %q: the code is mistyped", code[17], want)
	}
	return nil
}

// orgCodeWeights are the weights of the organisation code (GB 11714-1997),
// whose nine characters make up characters 9–17 of a credit code.
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// OrgCodeCheck returns the check character of an organisation code (GB
// 11714) for its first eight characters: digits and upper-case letters, a
// letter counting as 10 (A) to 35 (Z); 10 is written X and 11 as 0.
func OrgCodeCheck(first8 string) (byte, error) {
	if len(first8) != 8 {
		return 0, fmt.Errorf("need 8 characters, got %d", len(first8))
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := first8[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0, fmt.Errorf("character %d (%q) is not allowed in an organisation code", i+1, c)
		}
		sum += v * orgCodeWeights[i]
	}
	switch r := 11 - sum%11; r {
	case 10:
		return 'X', nil
	case 11:
		return '0', nil
	default:
		return byte('0' + r), nil
	}
}

// NewCreditCode makes the unified social credit code of a newly registered
// subject: authority and kind (e.g. "92" for an individual business
// registered by market regulation), the six-digit region, and an
// organisation code built from seq (unique per authority, kind and region).
func NewCreditCode(authorityKind, region string, seq int64) (string, error) {
	if len(authorityKind) != 2 || len(region) != 6 || seq < 0 || seq >= 10_000_000 {
		return "", fmt.Errorf("cannot make a credit code from %q, %q, %d", authorityKind, region, seq)
	}
	org8 := fmt.Sprintf("MA%06d", seq)
	if seq >= 1_000_000 {
		org8 = fmt.Sprintf("M%07d", seq)
	}
	c9, err := OrgCodeCheck(org8)
	if err != nil {
		return "", err
	}
	first17 := authorityKind + region + org8 + string(c9)
	c18, err := CreditCodeCheck(first17)
	if err != nil {
		return "", err
	}
	return first17 + string(c18), nil
}
