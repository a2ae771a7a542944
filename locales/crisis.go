package locales

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"
)

// The word lists of the crisis detector: one pattern a line, in plain text,
// so that a bilingual editor can review them without reading Go. The format
// is explained at the top of each file.
//
//go:embed crisis/*.txt
var crisisFiles embed.FS

// maxGap is how many other words "..." in a pattern lets through.
const maxGap = 3

// Crisis tells whether a free-text message signals that the person may be in
// danger: suicide, self-harm, wanting to die, violence or abuse at home or at
// school, in Kazakh or Russian, written in Cyrillic, without the Kazakh
// letters, or in Latin letters, with common misspellings and word endings.
//
// It answers, it does not diagnose: a match only makes the bot show, kindly,
// where help is available right now. So it leans towards recall on real
// signals while ordinary chat ("убил время", "өліп қалдым күлгеннен", a phone
// that "died") stays clean; the tests hold both sides.
//
// A Crisis is immutable once loaded and safe for concurrent use. Signals
// keeps nothing of the text it is given: the caller must not store, log or
// forward a message that signals crisis either.
type Crisis struct {
	signals, idioms ruleSet
}

// LoadCrisis reads the embedded word lists. It fails on a malformed pattern,
// naming its file and line, so a broken list stops the program at start.
func LoadCrisis() (*Crisis, error) {
	c := &Crisis{}
	entries, err := fs.ReadDir(crisisFiles, "crisis")
	if err != nil {
		return nil, fmt.Errorf("read crisis lists: %w", err)
	}
	for _, e := range entries {
		name := path.Join("crisis", e.Name())
		data, err := crisisFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := c.parse(name, data); err != nil {
			return nil, err
		}
	}
	if len(c.signals.rules) == 0 {
		return nil, fmt.Errorf("crisis lists: no pattern")
	}
	return c, nil
}

// Signals reports whether text signals crisis.
func (c *Crisis) Signals(text string) bool {
	_, ok := c.match(text)
	return ok
}

// match returns the pattern that made text a signal, for tests and for
// reviewing the lists; it must never reach a log with the text.
func (c *Crisis) match(text string) (string, bool) {
	var n normText
	n.normalize(text)
	var covered []bool // words an idiom took, computed once a signal is found
	var took [maxTerms]int32
	for i := range n.len() {
		for _, r := range c.signals.candidates(n.word(i)) {
			words, ok := r.matchAt(&n, i, took[:0])
			if !ok {
				continue
			}
			// An idiom rules a signal out when it takes the signal's last
			// word, where the signal's meaning settles: "умираю" in "я
			// умираю со смеху", but not "мире" in "не хочу жить в этом
			// мире", which the idiom "не хочу жить в ..." stops short of.
			if covered == nil {
				covered = c.idioms.cover(&n)
			}
			if !covered[words[len(words)-1]] {
				return r.src, true
			}
		}
	}
	return "", false
}

// maxTerms bounds the words of one pattern, so a match fits in an array.
const maxTerms = 16

// A rule is one line of a list: a sequence of terms, each matching one
// word, or a gap of up to maxGap words.
type rule struct {
	src   string // file:line: pattern, for messages
	terms []term
}

type term struct {
	gap  bool
	alts []alt
}

// alt is one alternative of a term, normalised: a whole word, or a stem
// that matches any word it begins.
type alt struct {
	word string
	stem bool
}

func (t term) matches(w []byte) bool {
	for _, a := range t.alts {
		if a.stem {
			if len(w) >= len(a.word) && string(w[:len(a.word)]) == a.word {
				return true
			}
		} else if string(w) == a.word {
			return true
		}
	}
	return false
}

// matchAt matches r against the words of n from word i, within i's
// sentence, and appends to took the words its terms took (not those a gap
// let through).
func (r *rule) matchAt(n *normText, i int, took []int32) ([]int32, bool) {
	return r.matchFrom(n, 0, i, n.sentence[i], took)
}

func (r *rule) matchFrom(n *normText, t, at int, sentence int32, took []int32) ([]int32, bool) {
	if t == len(r.terms) {
		return took, true
	}
	if r.terms[t].gap {
		for skip := 0; skip <= maxGap; skip++ {
			if out, ok := r.matchFrom(n, t+1, at+skip, sentence, took); ok {
				return out, true
			}
		}
		return took, false
	}
	if at >= n.len() || n.sentence[at] != sentence || !r.terms[t].matches(n.word(at)) {
		return took, false
	}
	return r.matchFrom(n, t+1, at+1, sentence, append(took, int32(at)))
}

// ruleSet indexes rules by the first two sounds of every alternative of
// their first term (one-letter words by their only one), so a message's
// words meet only the rules that can start on them.
type ruleSet struct {
	rules []*rule
	byTwo [sounds * sounds][]*rule
	byOne [sounds][]*rule
}

// sounds is the size of the folded alphabet: normalize writes only a to z.
const sounds = 26

func (s *ruleSet) add(r *rule) {
	s.rules = append(s.rules, r)
	var seen [sounds * sounds]bool
	for _, a := range r.terms[0].alts {
		w := a.word
		if len(w) == 1 {
			s.byOne[w[0]-'a'] = append(s.byOne[w[0]-'a'], r)
			continue
		}
		if k := int(w[0]-'a')*sounds + int(w[1]-'a'); !seen[k] {
			seen[k] = true
			s.byTwo[k] = append(s.byTwo[k], r)
		}
	}
}

func (s *ruleSet) candidates(w []byte) []*rule {
	switch len(w) {
	case 0:
		return nil
	case 1:
		return s.byOne[w[0]-'a']
	}
	return s.byTwo[int(w[0]-'a')*sounds+int(w[1]-'a')]
}

// cover marks the words of n that the terms of some rule of s took.
func (s *ruleSet) cover(n *normText) []bool {
	covered := make([]bool, n.len())
	var took [maxTerms]int32
	for i := range n.len() {
		for _, r := range s.candidates(n.word(i)) {
			if words, ok := r.matchAt(n, i, took[:0]); ok {
				for _, w := range words {
					covered[w] = true
				}
			}
		}
	}
	return covered
}

// parse reads one list. A line is a pattern, "! pattern" for an idiom that
// must not count as a signal, or empty; "#" starts a comment.
func (c *Crisis) parse(name string, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		set := &c.signals
		if rest, ok := strings.CutPrefix(text, "!"); ok {
			set, text = &c.idioms, strings.TrimSpace(rest)
		}
		r, err := parseRule(text)
		if err != nil {
			return fmt.Errorf("%s:%d: %q: %w", name, line, text, err)
		}
		r.src = fmt.Sprintf("%s:%d: %s", name, line, text)
		set.add(r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// parseRule reads a pattern: words separated by spaces; "a|b" is either
// word, "stem*" any word that begins with stem, "..." up to maxGap other
// words.
func parseRule(text string) (*rule, error) {
	r := &rule{}
	for _, f := range strings.Fields(text) {
		if f == "..." {
			if len(r.terms) == 0 || r.terms[len(r.terms)-1].gap {
				return nil, fmt.Errorf(`"..." must stand between two words`)
			}
			r.terms = append(r.terms, term{gap: true})
			continue
		}
		var t term
		for _, a := range strings.Split(f, "|") {
			stem := strings.HasSuffix(a, "*")
			a = strings.TrimSuffix(a, "*")
			if a == "" || strings.Contains(a, "*") {
				return nil, fmt.Errorf("%q: a word, or a stem with one * at its end", f)
			}
			for _, v := range kazakhVariants(a) {
				var n normText
				n.normalize(v)
				if n.len() != 1 {
					return nil, fmt.Errorf("%q is not one word: write words apart, with spaces", a)
				}
				w := string(n.word(0))
				if stem && len(w) < 3 {
					return nil, fmt.Errorf("stem %q is too short: it would match too many words", a)
				}
				t.alts = append(t.alts, alt{word: w, stem: stem})
			}
		}
		r.terms = append(r.terms, t)
	}
	switch {
	case len(r.terms) == 0:
		return nil, fmt.Errorf("empty pattern")
	case len(r.terms) > maxTerms:
		return nil, fmt.Errorf("more than %d words: split the pattern", maxTerms)
	case r.terms[len(r.terms)-1].gap:
		return nil, fmt.Errorf(`"..." must stand between two words`)
	}
	return r, nil
}

// kazakhVariants spells a pattern word the ways Kazakh is typed on a Russian
// keyboard: ә becomes а, or е (әкем: акем, екем). The other Kazakh letters
// fold into one Russian letter each in normalize.
func kazakhVariants(w string) []string {
	out := []string{w}
	for {
		var next []string
		for _, v := range out {
			if !strings.ContainsAny(v, "әӘ") {
				next = append(next, v)
				continue
			}
			for _, r := range []string{"а", "е"} {
				next = append(next, strings.NewReplacer("ә", r, "Ә", r).Replace(v))
			}
		}
		if len(next) == len(out) {
			return out
		}
		out = next
	}
}

// normText is a message folded to a small alphabet of sounds: words of
// ASCII bytes, each numbered with its sentence.
//
// The folding makes one spelling of the many a word has in chat: lower case;
// ё as е; the Kazakh letters as the Russian ones people type for them (қ к,
// ғ г, ң н, ө о, ұ ү у, і и, һ х); Latin transliteration as Cyrillic
// (sh ш, zh and j ж, ch and 4 ч, kh and x х, q к, y ы or й); и, ы, і and й
// as one sound, as are ш and щ; ь and ъ and apostrophes dropped; a letter
// repeated ("умереееть") once. Anything else separates words, and . ! ? ;
// and a new line end a sentence, which a pattern never spans; "..." does not,
// as people pause with it mid-sentence.
type normText struct {
	buf      []byte
	bounds   []int32 // word i is buf[bounds[i]:bounds[i+1]], the last one up to len(buf)
	sentence []int32 // the sentence of word i
}

func (n *normText) len() int { return len(n.bounds) }

func (n *normText) word(i int) []byte {
	end := len(n.buf)
	if i+1 < len(n.bounds) {
		end = int(n.bounds[i+1])
	}
	return n.buf[n.bounds[i]:end]
}

func (n *normText) normalize(s string) {
	n.buf = make([]byte, 0, len(s))
	n.bounds = make([]int32, 0, len(s)/6+1)
	n.sentence = make([]int32, 0, len(s)/6+1)
	inWord, sentence := false, int32(0)
	var prev rune // previous rune of the text, for "..." and the 4 of "ho4u"
	emit := func(sounds string) {
		for i := 0; i < len(sounds); i++ {
			b := sounds[i]
			if !inWord {
				n.bounds = append(n.bounds, int32(len(n.buf)))
				n.sentence = append(n.sentence, sentence)
				inWord = true
			} else if n.buf[len(n.buf)-1] == b {
				continue // a letter repeated, or the same sound twice
			}
			n.buf = append(n.buf, b)
		}
	}
	// Each rune is decoded once: the one after it, needed for digraphs and
	// "...", becomes the next one to handle.
	r, size := decodeAt(s, 0)
	for i := 0; i < len(s); {
		next, nextSize := decodeAt(s, i+size)
		skip := 0 // bytes of a digraph's second letters, always ASCII
		if sounds, ok := cyrillicSound(r); ok {
			emit(sounds)
		} else if lr := lowerLatin(r); lr != 0 {
			var sounds string
			after, _ := decodeAt(s, i+size+nextSize)
			sounds, skip = latinSound(lr, lowerLatin(next), lowerLatin(after))
			emit(sounds)
		} else {
			switch {
			case r == '4' && isLetter(prev) && isLetter(next):
				emit("q")
			case r == 'ь' || r == 'ъ' || r == 'Ь' || r == 'Ъ' || r == '\'' || r == '’' || r == 'ʼ' || r == '`':
				// inside a word: a soft or hard sign, or "umeret'"
			case r == '!' || r == '?' || r == ';' || r == '\n' || (r == '.' && prev != '.' && next != '.'):
				if len(n.bounds) > 0 && n.sentence[len(n.sentence)-1] == sentence {
					sentence++
				}
				inWord = false
			default:
				inWord = false
			}
		}
		prev = r
		i += size
		if skip > 0 {
			i += skip
			prev = rune(s[i-1])
			r, size = decodeAt(s, i)
			continue
		}
		r, size = next, nextSize
	}
}

// decodeAt decodes the rune at s[i:]; 0 past the end.
func decodeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return 0, 0
	}
	b := s[i]
	if b < utf8.RuneSelf {
		return rune(b), 1
	}
	// Cyrillic, Kazakh letters included, is two bytes from 0xD0 to 0xD3:
	// decode it inline, as it is most of what the bot reads.
	if b >= 0xD0 && b <= 0xD3 && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
		return rune(b&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	}
	return utf8.DecodeRuneInString(s[i:])
}

func isLetter(r rune) bool {
	_, ok := cyrillicSound(r)
	return ok || lowerLatin(r) != 0
}

// cyrillicSound folds one Cyrillic letter, of either case, to its sounds.
func cyrillicSound(r rune) (string, bool) {
	if r >= 'А' && r <= 'Я' {
		r += 'а' - 'А'
	}
	switch r {
	case 'а', 'ә', 'Ә':
		return "a", true
	case 'б':
		return "b", true
	case 'в':
		return "v", true
	case 'г', 'ғ', 'Ғ':
		return "g", true
	case 'д':
		return "d", true
	case 'е', 'ё', 'Ё', 'э':
		return "e", true
	case 'ж':
		return "j", true
	case 'з':
		return "z", true
	case 'и', 'й', 'ы', 'і', 'І':
		return "i", true
	case 'к', 'қ', 'Қ':
		return "k", true
	case 'л':
		return "l", true
	case 'м':
		return "m", true
	case 'н', 'ң', 'Ң':
		return "n", true
	case 'о', 'ө', 'Ө':
		return "o", true
	case 'п':
		return "p", true
	case 'р':
		return "r", true
	case 'с':
		return "s", true
	case 'т':
		return "t", true
	case 'у', 'ү', 'Ү', 'ұ', 'Ұ':
		return "u", true
	case 'ф':
		return "f", true
	case 'х', 'һ', 'Һ':
		return "h", true
	case 'ц':
		return "ts", true
	case 'ч':
		return "q", true
	case 'ш', 'щ':
		return "w", true
	case 'ю':
		return "iu", true
	case 'я':
		return "ia", true
	}
	return "", false
}

// lowerLatin returns the lower-case Latin letter r stands for (diacritics of
// the Kazakh Latin alphabet and of Turkish keyboards kept apart), or 0.
func lowerLatin(r rune) rune {
	switch {
	case r >= 'a' && r <= 'z':
		return r
	case r >= 'A' && r <= 'Z':
		return r + 'a' - 'A'
	}
	switch r {
	case 'ä', 'Ä', 'á', 'Á', 'à':
		return 'ä'
	case 'ö', 'Ö', 'ó', 'Ó':
		return 'ö'
	case 'ü', 'Ü', 'ú', 'Ú', 'ū', 'Ū':
		return 'ü'
	case 'ı', 'İ', 'í', 'Í':
		return 'i'
	case 'é', 'É', 'è':
		return 'e'
	case 'ğ', 'Ğ':
		return 'g'
	case 'ñ', 'Ñ', 'ń', 'Ń':
		return 'n'
	case 'ş', 'Ş':
		return 'ş'
	case 'ç', 'Ç':
		return 'ç'
	}
	return 0
}

// latinSound folds a Latin letter r, followed by next and after, to the
// sounds of the Cyrillic it transliterates. digraph is how many bytes of the
// following letters it used up (sh, zh, ch, kh, gh; shch, sch).
func latinSound(r, next, after rune) (sounds string, digraph int) {
	switch r {
	case 's':
		switch {
		case next == 'h':
			return "w", 1
		case next == 'c' && after == 'h':
			return "w", 2 // "sch" for щ
		}
		return "s", 0
	case 'z':
		if next == 'h' {
			return "j", 1
		}
		return "z", 0
	case 'c':
		if next == 'h' {
			return "q", 1
		}
		return "ts", 0 // "otec"
	case 'k':
		if next == 'h' {
			return "h", 1
		}
		return "k", 0
	case 'g':
		if next == 'h' {
			return "g", 1
		}
		return "g", 0
	case 'a', 'ä':
		return "a", 0
	case 'o', 'ö':
		return "o", 0
	case 'u', 'ü':
		return "u", 0
	case 'e':
		return "e", 0
	case 'i', 'y':
		return "i", 0
	case 'q':
		return "k", 0
	case 'x', 'h':
		return "h", 0
	case 'w':
		return "v", 0
	case 'ş':
		return "w", 0
	case 'ç':
		return "q", 0
	}
	return string(r), 0 // b d f j l m n p r t v
}
