package crisis

import (
	"unicode"
	"unicode/utf8"
)

// token is one normalised word: a byte range of scratch.buf.
type token struct {
	start, end int32
	num        int32 // value of a number token, -1 otherwise
	brk        bool  // a clause break (. , ! ? ; : newline) precedes it
}

// Marker tokens produced for some emoji and laughter; '_' never occurs in an
// ordinary token, so they cannot collide with words.
const (
	markLaugh = "_laugh"
	markMusic = "_music"
)

// censorable are the (squeezed) words that people write with an asterisk
// ("k*ll", "s*icide", "b*nuh"); a token with '*' is resolved against them.
var censorable = []string{
	"kil", "kiling", "kms", "suicide", "suicidal", "die", "dead", "self", "harm",
	"cut", "cuting", "bunuh", "mati", "bundir", "myself", "overdose", "hang",
}

// laughPrefixes turn laughter tokens ("wkwkwk", "hahaha", "lmaooo") into the
// laugh marker.
var laughPrefixes = []string{"wkwk", "haha", "hehe", "hihi", "awok", "kwkw", "xixi", "lmao", "lmfao", "lol", "rofl"}

// tokenize normalises text into sc.toks (see the package documentation for
// the steps). The work is linear in the input.
func (sc *scratch) tokenize(text string) {
	sc.buf = sc.buf[:0]
	sc.toks = sc.toks[:0]
	sc.cur = -1
	sc.pendingBrk = false
	prevLetter := false
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case r >= 'a' && r <= 'z':
			sc.addByte(byte(r))
			prevLetter = true
			continue
		case r >= 'A' && r <= 'Z':
			sc.addByte(byte(r) + 32)
			prevLetter = true
			continue
		case r >= '0' && r <= '9':
			sc.addByte(byte(r))
			prevLetter = true // digits inside words take part in leetspeak
			continue
		}
		nextLetter := i < len(text) && isWordByte(text[i])
		switch r {
		case '\'', '`', '\u2019', '\u2018', '\u02bc', '\u00b4':
			// "i'm" -> "im", "don't" -> "dont"
			if prevLetter && nextLetter {
				continue
			}
			sc.endToken()
		case '*':
			if sc.cur >= 0 || nextLetter {
				sc.addByte('*')
				prevLetter = true
				continue
			}
			sc.endToken()
		case '@', '$', '!', '|':
			if prevLetter && nextLetter {
				sc.addByte(leetSymbol(r))
				continue
			}
			sc.endToken()
			if r == '!' {
				sc.pendingBrk = true
			}
		case '.', ',', '?', ';', ':', '\n', '\r', '\u2026', '\u3002', '\uff01', '\uff1f', '(', ')', '[', ']':
			sc.endToken()
			sc.pendingBrk = true
		case '\u2764': // ❤ keeps nothing
			sc.endToken()
		default:
			if r >= utf8.RuneSelf && unicode.IsLetter(r) {
				r = foldRune(unicode.ToLower(r))
				if r < utf8.RuneSelf {
					sc.addByte(byte(r))
				} else {
					sc.addRune(r)
				}
				prevLetter = true
				continue
			}
			sc.endToken()
			if m := emojiWord(r); m != "" {
				sc.addMarker(m)
			}
		}
		prevLetter = false
	}
	sc.endToken()
	sc.joinSingles()
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= utf8.RuneSelf
}

func leetSymbol(r rune) byte {
	switch r {
	case '@':
		return 'a'
	case '$':
		return 's'
	default: // '!' and '|'
		return 'i'
	}
}

// emojiWord maps a few emoji to words or markers.
func emojiWord(r rune) string {
	switch r {
	case '\U0001F602', '\U0001F923', '\U0001F606', '\U0001F639', '\U0001F480', '\u2620': // 😂 🤣 😆 😹 💀 ☠
		return markLaugh
	case '\U0001F3B5', '\U0001F3B6', '\U0001F3BC', '\u266A', '\u266B', '\U0001F3A4': // 🎵 🎶 🎼 ♪ ♫ 🎤
		return markMusic
	case '\U0001F48A': // 💊
		return "pil"
	case '\U0001F52A': // 🔪
		return "pisau"
	case '\U0001FA78': // 🩸
		return "darah"
	case '\U0001FAA2': // 🪢
		return "tali"
	}
	return ""
}

func (sc *scratch) addByte(b byte) {
	if sc.cur < 0 {
		sc.cur = len(sc.buf)
	}
	sc.buf = append(sc.buf, b)
}

func (sc *scratch) addRune(r rune) {
	if sc.cur < 0 {
		sc.cur = len(sc.buf)
	}
	sc.buf = utf8.AppendRune(sc.buf, r)
}

func (sc *scratch) addMarker(m string) {
	start := len(sc.buf)
	sc.buf = append(sc.buf, m...)
	sc.push(start, len(sc.buf), -1)
}

// push appends a finished token, dropping an immediate repetition of the
// previous word ("bangun bangun", "ilang ilang": Indonesian reduplication).
func (sc *scratch) push(start, end int, num int32) {
	brk := sc.pendingBrk
	sc.pendingBrk = false
	if n := len(sc.toks); n > 0 && num < 0 && !brk {
		p := sc.toks[n-1]
		if p.num < 0 && string(sc.buf[p.start:p.end]) == string(sc.buf[start:end]) && end-start > 1 {
			sc.buf = sc.buf[:start]
			return
		}
	}
	sc.toks = append(sc.toks, token{start: int32(start), end: int32(end), num: num, brk: brk})
}

// endToken finishes the word being built, if any.
func (sc *scratch) endToken() {
	if sc.cur < 0 {
		return
	}
	start := sc.cur
	sc.cur = -1
	w := sc.buf[start:]
	letters, digits, star := 0, 0, false
	for _, c := range w {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '*':
			star = true
		default:
			letters++
		}
	}
	if letters == 0 && !star {
		if digits == 0 {
			sc.buf = sc.buf[:start]
			return
		}
		sc.push(start, len(sc.buf), parseNum(w))
		return
	}
	if digits > 0 {
		// "30pills", "10min", "3x": a number then a word.
		j := 0
		for j < len(w) && w[j] >= '0' && w[j] <= '9' {
			j++
		}
		if j > 0 {
			numEnd := start + j
			sc.push(start, numEnd, parseNum(w[:j]))
			// Move the word part to a fresh range and continue with it.
			rest := len(sc.buf)
			sc.buf = append(sc.buf, sc.buf[numEnd:rest]...)
			start = rest
			w = sc.buf[start:]
		}
		// Leetspeak: "m4ti", "su1c1de"; a '2' after a letter is the
		// Indonesian reduplication mark ("obat2", "mati2an").
		k := 0
		for i, c := range w {
			if c >= '0' && c <= '9' {
				if c == '2' && i > 0 {
					continue
				}
				c = leetDigit(c)
			}
			w[k] = c
			k++
		}
		sc.buf = sc.buf[:start+k]
		w = sc.buf[start:]
	}
	n := squeeze(w)
	sc.buf = sc.buf[:start+n]
	w = sc.buf[start:]
	if star {
		if c := resolveCensored(w); c != "" {
			sc.buf = append(sc.buf[:start], c...)
		} else {
			k := 0
			for _, c := range w {
				if c != '*' {
					w[k] = c
					k++
				}
			}
			sc.buf = sc.buf[:start+k]
		}
		w = sc.buf[start:]
	}
	if len(w) == 0 {
		return
	}
	for _, p := range laughPrefixes {
		if len(w) >= len(p) && string(w[:len(p)]) == p {
			sc.buf = append(sc.buf[:start], markLaugh...)
			break
		}
	}
	sc.push(start, len(sc.buf), -1)
}

func leetDigit(c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1':
		return 'i'
	case '3':
		return 'e'
	case '4':
		return 'a'
	case '5':
		return 's'
	case '6':
		return 'g'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	}
	return c
}

func parseNum(w []byte) int32 {
	var v int32
	for _, c := range w {
		if c < '0' || c > '9' {
			break
		}
		if v < 1_000_000 {
			v = v*10 + int32(c-'0')
		}
	}
	return v
}

// squeeze collapses runs of the same letter in place ("matiiii" -> "mati",
// "kill" -> "kil") and returns the new length. The lexicon is squeezed the
// same way, so "kill" and "kil" meet.
func squeeze(w []byte) int {
	if len(w) < 2 {
		return len(w)
	}
	k := 1
	for i := 1; i < len(w); i++ {
		c := w[i]
		if c == w[k-1] && c != '*' && (c < '0' || c > '9') && c < utf8.RuneSelf {
			continue
		}
		w[k] = c
		k++
	}
	return k
}

func resolveCensored(w []byte) string {
	for _, c := range censorable {
		if len(c) != len(w) {
			continue
		}
		ok := true
		for i := range len(w) {
			if w[i] != '*' && w[i] != c[i] {
				ok = false
				break
			}
		}
		if ok {
			return c
		}
	}
	return ""
}

// joinSingles merges runs of three or more one-letter tokens ("b u n d i r",
// "k.m.s") into one word.
func (sc *scratch) joinSingles() {
	toks := sc.toks
	out := toks[:0]
	for i := 0; i < len(toks); {
		j := i
		for j < len(toks) && toks[j].end-toks[j].start == 1 && toks[j].num < 0 && isASCIILetter(sc.buf[toks[j].start]) {
			j++
		}
		if j-i >= 3 {
			start := len(sc.buf)
			for k := i; k < j; k++ {
				sc.buf = append(sc.buf, sc.buf[toks[k].start])
			}
			n := squeeze(sc.buf[start:])
			sc.buf = sc.buf[:start+n]
			out = append(out, token{start: int32(start), end: int32(start + n), num: -1, brk: toks[i].brk})
			i = j
			continue
		}
		if j == i {
			j = i + 1
		}
		out = append(out, toks[i:j]...)
		i = j
	}
	sc.toks = out
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' }

// foldRune strips diacritics from Latin letters ("é" -> "e").
func foldRune(r rune) rune {
	if r < 0xC0 || r > 0x17F {
		return r
	}
	if f := foldTable[r-0xC0]; f != 0 {
		return rune(f)
	}
	return r
}

var foldTable = func() (t [0x17F - 0xC0 + 1]byte) {
	groups := []struct {
		to   byte
		from string
	}{
		{'a', "àáâãäåāăą"}, {'c', "çćĉċč"}, {'d', "ďđ"}, {'e', "èéêëēĕėęě"},
		{'g', "ĝğġģ"}, {'h', "ĥħ"}, {'i', "ìíîïĩīĭįı"}, {'j', "ĵ"}, {'k', "ķ"},
		{'l', "ĺļľŀł"}, {'n', "ñńņňŉ"}, {'o', "òóôõöøōŏő"}, {'r', "ŕŗř"},
		{'s', "śŝşšß"}, {'t', "ţťŧ"}, {'u', "ùúûüũūŭůűų"}, {'w', "ŵ"},
		{'y', "ýÿŷ"}, {'z', "źżž"},
	}
	for _, g := range groups {
		for _, r := range g.from {
			t[r-0xC0] = g.to
		}
	}
	return t
}()
