package catalog

import (
	"slices"
	"strings"
)

// The TOML decoder keeps the line of every key to itself, and reports one
// only for a syntax error. An editor needs a line for every problem, so
// indexSource reads the lines once more, just enough to know which key sits
// on which line of which [[table]] element. It is best effort: for anything
// it does not understand, a problem keeps its id and field and loses only
// its line.

// srcEntry is a table header or a key on one line.
type srcEntry struct {
	path string // dotted table path: "" at the root, "centers", "centers.schedules"
	item []int  // element of each enclosing array of tables, e.g. [3 1]
	key  string // dotted key within the table; "" for the header line itself
	line int
}

// full returns the dotted path of the key from the root, as toml.Key.String
// writes it for bare keys.
func (e srcEntry) full() string {
	switch {
	case e.key == "":
		return e.path
	case e.path == "":
		return e.key
	}
	return e.path + "." + e.key
}

type srcIndex struct {
	lines   []string
	entries []srcEntry
}

func indexSource(data string) *srcIndex {
	x := &srcIndex{lines: strings.Split(data, "\n")}
	count := make(map[string]int) // elements seen of each array of tables
	path, item := "", []int(nil)
	closing := "" // the quotes that end the multi-line string we are in
	for n, raw := range x.lines {
		s := strings.TrimSpace(raw)
		if closing != "" {
			if strings.Count(s, closing)%2 == 1 {
				closing = ""
			}
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			array := strings.HasPrefix(s, "[[")
			end := strings.Index(s, "]")
			if end < 0 {
				continue
			}
			name := normKey(strings.TrimLeft(s[:end], "["))
			if array {
				count[name]++
				for k := range count {
					if strings.HasPrefix(k, name+".") {
						delete(count, k)
					}
				}
			}
			path, item = name, itemOf(name, count)
			x.entries = append(x.entries, srcEntry{path: path, item: item, line: n + 1})
			continue
		}
		eq := strings.Index(s, "=")
		if eq <= 0 || !isKeyStart(s[0]) {
			continue // a line of a multi-line array, or not TOML at all
		}
		x.entries = append(x.entries, srcEntry{path: path, item: item, key: normKey(s[:eq]), line: n + 1})
		value := s[eq+1:]
		for _, q := range []string{`"""`, `'''`} {
			if strings.Count(value, q)%2 == 1 {
				closing = q
				break
			}
		}
	}
	return x
}

func isKeyStart(b byte) bool {
	return b == '"' || b == '\'' || b == '_' || b == '-' ||
		('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || ('0' <= b && b <= '9')
}

// normKey turns ` "centers" . schedules ` into "centers.schedules".
func normKey(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// itemOf lists the current element of every array of tables on the way to
// path, so "centers.schedules" inside the fourth center's second schedule is
// [3 1].
func itemOf(path string, count map[string]int) []int {
	var item []int
	parts := strings.Split(path, ".")
	for i := range parts {
		if c := count[strings.Join(parts[:i+1], ".")]; c > 0 {
			item = append(item, c-1)
		}
	}
	return item
}

// line returns the line of key in the table element at path and item: the
// key's own line, else the line of a [path.key] sub-table, else the element's
// header line, else 0.
func (x *srcIndex) line(path string, item []int, key string) int {
	header := 0
	for _, e := range x.entries {
		if !slices.Equal(e.item, item) {
			continue
		}
		switch {
		case key != "" && e.path == path && (e.key == key || strings.HasPrefix(e.key, key+".")):
			return e.line
		case key != "" && e.path == path+"."+key && e.key == "":
			return e.line
		case e.path == path && e.key == "" && header == 0:
			header = e.line
		}
	}
	return header
}

// valueLine returns the first line from the line of key at path onwards that
// holds the quoted value, for a problem with one element of an array such as
// holidays; the key's line when it is not found.
func (x *srcIndex) valueLine(path string, item []int, key, value string) int {
	from := x.line(path, item, key)
	if from == 0 {
		return 0
	}
	quoted := `"` + value + `"`
	for n := from - 1; n < len(x.lines); n++ {
		if strings.Contains(x.lines[n], quoted) {
			return n + 1
		}
		if n > from-1 && strings.HasPrefix(strings.TrimSpace(x.lines[n]), "[") {
			break
		}
	}
	return from
}
