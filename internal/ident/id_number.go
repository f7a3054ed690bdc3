package ident

import (
	"fmt"
	"strings"
	"time"
)

// idWeights are the GB 11643-1999 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// Person is what a resident ID number says about its holder.
type Person struct {
	Region    string    // the six-digit region code of first registration
	BirthDate time.Time // UTC midnight
	Sex       string    // "male" (odd sequence digit) or "female"
}

// IDNumberCheck returns the check character for the first 17 digits of a
// resident ID number.
func IDNumberCheck(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 digits, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("character %d (%q) must be a digit", i+1, c)
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], nil
}

// ParseIDNumber checks an 18-character resident ID number (GB 11643): its
// digits, its birth date and its check character, and returns what it
// encodes. A lower-case x is accepted and means X. The error says what is
// wrong, without repeating the number.
func ParseIDNumber(id string) (Person, error) {
	if len(id) != 18 {
		return Person{}, fmt.Errorf("a resident ID number has 18 characters, this has %d", len([]rune(id)))
	}
	want, err := IDNumberCheck(id[:17])
	if err != nil {
		return Person{}, err
	}
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil {
		return Person{}, fmt.Errorf("characters 7–14 are not a valid birth date")
	}
	if birth.Year() < 1900 || birth.After(time.Now()) {
		return Person{}, fmt.Errorf("the birth date it contains is not plausible")
	}
	if last != want {
		return Person{}, fmt.Errorf("the check character is wrong: the number is mistyped")
	}
	sex := "female"
	if (id[16]-'0')%2 == 1 {
		sex = "male"
	}
	return Person{Region: id[:6], BirthDate: birth, Sex: sex}, nil
}

// NormalizeIDNumber is the form of a resident ID number that is checked and
// stored: without surrounding spaces, full-width digits and X (which Chinese
// input methods type) made ASCII, and a lower-case x upper-cased.
func NormalizeIDNumber(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == 'x' || r == 'ｘ' || r == 'Ｘ':
			return 'X'
		}
		return r
	}, strings.TrimSpace(id))
}

// AgeOn returns the age in whole years on day.
func (p Person) AgeOn(day time.Time) int {
	age := day.Year() - p.BirthDate.Year()
	if day.Month() < p.BirthDate.Month() || (day.Month() == p.BirthDate.Month() && day.Day() < p.BirthDate.Day()) {
		age--
	}
	return age
}
