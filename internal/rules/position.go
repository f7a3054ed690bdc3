package rules

import (
	"strings"
	"unicode/utf8"

	"yiwang/internal/catalog"
)

// position turns a place in a rule's expression (line and column, 1-based;
// 0 for the whole element) into a place in the item's file, so that a
// problem points at the character as an editor shows it. It understands
// the ways an expression is written in YAML: plain, quoted, and block
// scalars (> folds the lines into one, | keeps them). Where the mapping is
// not certain it points at the start of the value.
func position(src catalog.Source, ptr string, line, col int) (int, int) {
	baseLine, baseCol := src.At(ptr)
	if line == 0 || col == 0 {
		return baseLine, baseCol
	}
	lines := strings.Split(string(src.Raw), "\n")
	if baseLine < 1 || baseLine > len(lines) {
		return baseLine, baseCol
	}
	first := []rune(lines[baseLine-1])
	if baseCol < 1 || baseCol > len(first) {
		return baseLine, baseCol
	}
	switch first[baseCol-1] {
	case '"', '\'':
		if line == 1 {
			return baseLine, baseCol + col // skip the opening quote
		}
	case '>', '|':
		// Content starts on the next line, indented.
		var content []int // file line numbers of the content lines
		indent := -1
		for i := baseLine; i < len(lines); i++ {
			l := lines[i]
			trimmed := strings.TrimLeft(l, " ")
			if trimmed == "" {
				continue
			}
			ind := len(l) - len(trimmed)
			if indent < 0 {
				indent = ind
			}
			if ind < indent {
				break
			}
			content = append(content, i+1)
		}
		if len(content) == 0 {
			return baseLine, baseCol
		}
		if first[baseCol-1] == '|' {
			if line <= len(content) {
				return content[line-1], indent + col
			}
			return baseLine, baseCol
		}
		// Folded: the lines are joined by single spaces into line 1.
		if line != 1 {
			return baseLine, baseCol
		}
		rest := col
		for _, n := range content {
			text := strings.TrimSpace(lines[n-1])
			width := utf8.RuneCountInString(text)
			if rest <= width+1 {
				return n, indent + rest
			}
			rest -= width + 1
		}
		return baseLine, baseCol
	default:
		if line == 1 && col <= len(first)-baseCol+1 {
			return baseLine, baseCol + col - 1
		}
	}
	return baseLine, baseCol
}
