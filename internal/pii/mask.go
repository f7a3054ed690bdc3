package pii

import "strings"

// The mask functions hide most of a value for people who need to recognise
// it, not to know it. They work on runes, accept any string (empty, short,
// non-ASCII, invalid UTF-8, whose bad bytes count as one rune each and come
// out as U+FFFD if kept), never panic, and return as many runes as they get,
// so a masked value lines up with the real one. Every non-empty input has at
// least one rune masked, even where the kept parts would otherwise cover it
// all: a two-character "ID number" is shown as "*2", not as itself.

// maskRune replaces the hidden runes.
const maskRune = '*'

// MaskIDNumber keeps the first 4 runes (the province and city of first
// registration) and the last 4 of a resident ID number:
// "440301199001011234" → "4403**********1234". A value shorter than 9 runes
// is not a valid number and keeps only its last 2 (or last 1 if it has 2).
func MaskIDNumber(s string) string {
	r := []rune(s)
	if len(r) >= 9 {
		return mask(r, 4, 4)
	}
	return mask(r, 0, 2)
}

// MaskPhone keeps the first 3 runes (the carrier prefix) and the last 4 of a
// phone number of 11 runes or more: "13800138000" → "138****8000". Shorter
// values (local numbers, typos) keep only their last third.
func MaskPhone(s string) string {
	r := []rune(s)
	if len(r) >= 11 {
		return mask(r, 3, 4)
	}
	return mask(r, 0, len(r)/3)
}

// MaskName keeps the first rune of a name, usually the family name in
// Chinese: "张三" → "张*", "欧阳娜娜" → "欧***", "Alice Smith" → "A**********".
// A one-rune name is masked entirely.
func MaskName(s string) string {
	return mask([]rune(s), 1, 0)
}

// MaskAddress keeps the start of an address, up to the district or street
// ("示范市明德区"), and hides the house, building and room: a third of the
// runes, at most 6, are kept: "示范市明德区福安街道6号3栋502" →
// "示范市明德区**************".
func MaskAddress(s string) string {
	r := []rune(s)
	return mask(r, min(6, len(r)/2), 0)
}

// mask keeps head runes at the start and tail at the end of r and hides the
// rest, giving up kept runes (tail first) until at least one is hidden.
func mask(r []rune, head, tail int) string {
	for head+tail >= len(r) && head+tail > 0 {
		if tail > 0 {
			tail--
		} else {
			head--
		}
	}
	for i := head; i < len(r)-tail; i++ {
		r[i] = maskRune
	}
	return string(r)
}

// MaskEmail keeps the first rune of the mailbox and the whole domain, which
// tells a person which of their addresses it is: "wangwu@example.cn" →
// "w*****@example.cn". A value without an @ is masked as a name.
func MaskEmail(s string) string {
	local, domain, ok := cutLast(s, "@")
	if !ok {
		return MaskName(s)
	}
	return mask([]rune(local), 1, 0) + "@" + domain
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
