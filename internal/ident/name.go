package ident

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The longest names accepted, in characters. An ID card's name is far
// shorter; the bound keeps absurd input out of pages, licences and logs.
const (
	MaxPersonName     = 50
	MaxEnterpriseName = 100
)

// CheckName returns name without surrounding spaces if it can stand as a
// person's or an enterprise's name: valid UTF-8, at most max characters, with
// a letter, and no control, format or other invisible characters. Zero-width
// characters and direction overrides (U+200B–U+200F, U+202A–U+202E,
// U+2066–U+2069, U+FEFF) are format characters: in a name they only serve to
// hide it or make one name look like another.
func CheckName(name string, max int) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) {
		return "", errors.New("the name is not valid text")
	}
	if n := utf8.RuneCountInString(name); n == 0 || n > max {
		return "", fmt.Errorf("a name has 1 to %d characters, this has %d", max, n)
	}
	letter := false
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return "", fmt.Errorf("the name holds an invisible or control character (U+%04X)", r)
		}
		letter = letter || unicode.IsLetter(r)
	}
	if !letter {
		return "", errors.New("the name has no letter")
	}
	return name, nil
}
