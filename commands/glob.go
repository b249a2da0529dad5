package commands

// globMatch reports whether str matches the glob pattern, with the exact
// rules of Redis's stringmatchlen: '*', '?', '[...]' with ranges and '^'
// negation, and '\' escapes.
func globMatch(pattern, str []byte, nocase bool) bool {
	skip := false
	return globMatchDepth(pattern, str, nocase, &skip, 0)
}

// skipLonger is Redis's skipLongerMatches: once the rest of a pattern after
// a '*' matched nowhere in the string, earlier '*'s need not try longer
// matches, which keeps the match polynomial.
func globMatchDepth(pattern, str []byte, nocase bool, skipLonger *bool, depth int) bool {
	// Redis limits recursion (nesting of '*') to protect the stack.
	if depth > 1000 {
		return false
	}
	for len(pattern) > 0 && len(str) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 1 && pattern[1] == '*' {
				pattern = pattern[1:]
			}
			if len(pattern) == 1 {
				return true
			}
			for len(str) > 0 {
				if globMatchDepth(pattern[1:], str, nocase, skipLonger, depth+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				str = str[1:]
			}
			*skipLonger = true
			return false
		case '?':
			str = str[1:]
		case '[':
			pattern = pattern[1:]
			not := len(pattern) > 0 && pattern[0] == '^'
			if not {
				pattern = pattern[1:]
			}
			match := false
			for {
				if len(pattern) == 0 {
					break
				}
				if pattern[0] == '\\' && len(pattern) >= 2 {
					pattern = pattern[1:]
					if pattern[0] == str[0] {
						match = true
					}
				} else if pattern[0] == ']' {
					break
				} else if len(pattern) >= 3 && pattern[1] == '-' {
					start, end := pattern[0], pattern[2]
					c := str[0]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					pattern = pattern[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if eqByte(pattern[0], str[0], nocase) {
					match = true
				}
				pattern = pattern[1:]
			}
			if len(pattern) == 0 { // no closing ']': Redis treats the end as the close
				pattern = []byte{']'}
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			str = str[1:]
		case '\\':
			if len(pattern) >= 2 {
				pattern = pattern[1:]
			}
			fallthrough
		default:
			if !eqByte(pattern[0], str[0], nocase) {
				return false
			}
			str = str[1:]
		}
		pattern = pattern[1:]
		if len(str) == 0 {
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			break
		}
	}
	return len(pattern) == 0 && len(str) == 0
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func eqByte(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

// globPrefix returns the literal prefix of pattern: every key matching
// pattern starts with it, so a scan can seek there and stop after it.
func globPrefix(pattern []byte) []byte {
	var out []byte
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?', '[':
			return out
		case '\\':
			if i+1 < len(pattern) {
				i++
				out = append(out, pattern[i])
				continue
			}
			return out
		default:
			out = append(out, c)
		}
	}
	return out
}
