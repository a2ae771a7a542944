package locales

import (
	"regexp"
	"strconv"
	"strings"
)

// fieldsTemplate is a message text whose only actions are fields of the
// data, {{.Name}}: literal pieces with a field name between each two.
type fieldsTemplate struct {
	literals []string // one more than names
	names    []string
}

// fieldAction is the one action fieldsTemplate knows.
var fieldAction = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// compileFields makes the fieldsTemplate of src, if src has at least one
// action and all of its actions are fields; any other action (a function,
// a condition, a trim marker) leaves it to text/template.
func compileFields(src string) (fieldsTemplate, bool) {
	matches := fieldAction.FindAllStringSubmatchIndex(src, -1)
	if len(matches) == 0 {
		return fieldsTemplate{}, false
	}
	var f fieldsTemplate
	at := 0
	for _, m := range matches {
		f.literals = append(f.literals, src[at:m[0]])
		f.names = append(f.names, src[m[2]:m[3]])
		at = m[1]
	}
	f.literals = append(f.literals, src[at:])
	for _, lit := range f.literals {
		if strings.Contains(lit, "{{") || strings.Contains(lit, "}}") {
			return fieldsTemplate{}, false
		}
	}
	return f, true
}

// render writes the text with data's values, as text/template prints a
// string or an integer. ok is false when a field is missing or holds a
// value of any other type: the caller then asks text/template, which
// knows how to print it (or says "<no value>").
func (f fieldsTemplate) render(data Data) (string, bool) {
	var b strings.Builder
	n := 0
	for _, lit := range f.literals {
		n += len(lit)
	}
	b.Grow(n + 16*len(f.names))
	for i, name := range f.names {
		b.WriteString(f.literals[i])
		switch v := data[name].(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		default:
			return "", false
		}
	}
	b.WriteString(f.literals[len(f.literals)-1])
	return b.String(), true
}
