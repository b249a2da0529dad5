package zset

import (
	"bytes"
	"errors"
	"math"
	"strconv"
)

// Errors returned by the parsers. Their texts are Redis 7.0's, without the
// "ERR " prefix that the reply adds.
var (
	// ErrNotFloat is ZADD/ZINCRBY's error for a bad score (shared.nofloaterr
	// in t_zset.c's callers, via getDoubleFromObjectOrReply).
	ErrNotFloat = errors.New("value is not a valid float")
	// ErrScoreRange is ZRANGEBYSCORE/ZCOUNT/...'s error for a bad bound.
	ErrScoreRange = errors.New("min or max is not a float")
	// ErrLexRange is ZRANGEBYLEX/ZLEXCOUNT/...'s error for a bad bound.
	ErrLexRange = errors.New("min or max not valid string range item")
)

// ScoreRange is a score interval as given to ZRANGEBYSCORE, ZCOUNT and
// friends: [Min, Max], with either end excluded when MinEx or MaxEx is set.
// Min > Max (or Min == Max with an exclusive end) is a valid, empty range.
// Neither end may be NaN.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// Contains reports whether score lies in r.
func (r ScoreRange) Contains(score float64) bool {
	lo := score > r.Min || (!r.MinEx && score == r.Min)
	hi := score < r.Max || (!r.MaxEx && score == r.Max)
	return lo && hi
}

// ParseScoreRange parses the min and max arguments of ZRANGEBYSCORE and
// friends as Redis 7.0's zslParseRange does: an optional "(" makes the bound
// exclusive, and the rest goes to C strtod, which must consume it all. So
// "1.5", "(1.5", "-inf", "+inf", "inf", "(-inf", "1e400" (= +inf) and
// "0x10" are accepted, as are leading white space (" 1", "( 1") and the
// empty string or a lone "(" (0, as strtod converts nothing and stops at the
// terminating NUL); trailing white space, "nan" and "[1" are not. Like the C
// code, parsing stops at an embedded NUL byte ("1\x00junk" is 1). The error
// is ErrScoreRange.
func ParseScoreRange(min, max []byte) (ScoreRange, error) {
	var r ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return ScoreRange{}, ErrScoreRange
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return ScoreRange{}, ErrScoreRange
	}
	return r, nil
}

func parseScoreBound(b []byte) (v float64, ex, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // C string
	}
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	v, n, _ := strtod(b)
	if n != len(b) || v != v {
		return 0, false, false
	}
	return v, ex, true
}

// LexBound is one end of a lexicographic range.
type LexBound struct {
	// Inf is -1 for "-" (below every member), +1 for "+" (above every
	// member) and 0 when Value is the bound.
	Inf int
	// Value is the bound's member bytes when Inf == 0.
	Value string
	// Exclusive is set for "(value"; it is false for "[value" and for the
	// infinite bounds.
	Exclusive bool
}

// LexRange is a member interval as given to ZRANGEBYLEX, ZLEXCOUNT and
// ZREMRANGEBYLEX. A range whose Min is above its Max is valid and empty.
type LexRange struct {
	Min, Max LexBound
}

// Contains reports whether member lies in r.
func (r LexRange) Contains(member string) bool {
	return r.Min.admitsFrom(member) && !r.Max.exceededBy(member)
}

// admitsFrom reports whether m is at or above the bound b used as a minimum.
func (b LexBound) admitsFrom(m string) bool {
	switch {
	case b.Inf < 0:
		return true
	case b.Inf > 0:
		return false
	case b.Exclusive:
		return m > b.Value
	default:
		return m >= b.Value
	}
}

// exceededBy reports whether m is beyond the bound b used as a maximum.
func (b LexBound) exceededBy(m string) bool {
	switch {
	case b.Inf > 0:
		return false
	case b.Inf < 0:
		return true
	case b.Exclusive:
		return m >= b.Value
	default:
		return m > b.Value
	}
}

// ParseLexRange parses the min and max arguments of ZRANGEBYLEX and friends
// as Redis 7.0's zslParseLexRangeItem does: "-" and "+" are the infinities,
// "[x" includes x, "(x" excludes it (x may be empty or hold any bytes).
// Anything else, including "" and "a", is ErrLexRange. Like the C code, which
// tests the byte after "+" or "-" for the terminating NUL, "+\x00..." and
// "-\x00..." count as "+" and "-".
func ParseLexRange(min, max []byte) (LexRange, error) {
	var r LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return LexRange{}, ErrLexRange
	}
	if r.Max, ok = parseLexBound(max); !ok {
		return LexRange{}, ErrLexRange
	}
	return r, nil
}

func parseLexBound(b []byte) (LexBound, bool) {
	if len(b) == 0 {
		return LexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return LexBound{}, false
		}
		if b[0] == '+' {
			return LexBound{Inf: 1}, true
		}
		return LexBound{Inf: -1}, true
	case '(':
		return LexBound{Value: string(b[1:]), Exclusive: true}, true
	case '[':
		return LexBound{Value: string(b[1:])}, true
	}
	return LexBound{}, false
}

// ParseScore parses a ZADD or ZINCRBY score as Redis 7.0 does
// (getDoubleFromObject: C strtod, checked). Accepted: anything strtod
// consumes whole, in decimal ("1", "+1.5", ".5", "5.", "1e3", "00012") or
// hexadecimal ("0x10", "0x1.8p1") notation, and "inf", "+inf", "-inf",
// "infinity" in any case. Rejected with ErrNotFloat: the empty string, a
// leading white space byte, trailing bytes (white space, "1e", "1_000",
// "1\x00"), NaN in any spelling, and finite values that overflow to ±inf
// ("1e400") or underflow to zero ("1e-400"); values that underflow to a
// subnormal ("3e-324") are accepted and rounded. -0 is returned as -0.
func ParseScore(b []byte) (float64, error) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, ErrNotFloat
	}
	v, n, erange := strtod(b)
	if n != len(b) || v != v || (erange && (v == 0 || math.IsInf(v, 0))) {
		return 0, ErrNotFloat
	}
	return v, nil
}

// strtod emulates glibc's strtod(3) in the C locale on b, up to the first
// byte that cannot continue the number (a NUL byte included). It returns the
// value, the number of bytes consumed (0 when nothing converts, and then v is
// 0) and erange, which is set when a finite input overflowed to ±Inf or a
// nonzero input underflowed to ±0 (the cases where strtod sets ERANGE and
// returns HUGE_VAL or 0).
//
// Grammar: white space* [+-] (inf[inity] | nan[(alnum_*)] | 0x hex-mantissa
// [p[+-]digits] | decimal-mantissa [e[+-]digits]), letters in any case; an
// exponent is consumed only if it has a digit, and "0x" with no hex digit
// converts just the "0".
func strtod(b []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	switch {
	case hasPrefixFold(b[i:], "inf"):
		i += 3
		if hasPrefixFold(b[i:], "inity") {
			i += 5
		}
		return sign(math.Inf(1)), i, false
	case hasPrefixFold(b[i:], "nan"):
		i += 3
		if i < len(b) && b[i] == '(' {
			j := i + 1
			for j < len(b) && (isAlnum(b[j]) || b[j] == '_') {
				j++
			}
			if j < len(b) && b[j] == ')' {
				i = j + 1
			}
		}
		return math.NaN(), i, false
	}
	start := i
	hex := i+1 < len(b) && b[i] == '0' && b[i+1]|0x20 == 'x'
	isDigit, expChar := isDec, byte('e')
	if hex {
		isDigit, expChar = isHexDigit, 'p'
		i += 2
	}
	digits, nonzero := 0, false
	for i < len(b) && isDigit(b[i]) {
		digits++
		nonzero = nonzero || b[i] != '0'
		i++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			digits++
			nonzero = nonzero || b[i] != '0'
			i++
		}
	}
	if digits == 0 {
		if hex {
			return sign(0), start + 1, false // just the "0" of "0x"
		}
		return 0, 0, false
	}
	mantEnd := i
	if i < len(b) && b[i]|0x20 == expChar {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && isDec(b[j]) {
			for j < len(b) && isDec(b[j]) {
				j++
			}
			i = j
		}
	}
	text := string(b[start:i])
	if hex && i == mantEnd {
		text += "p0" // Go requires the binary exponent
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		// Unreachable: text is valid Go float syntax by construction.
		return 0, 0, false
	}
	erange = math.IsInf(f, 0) || (f == 0 && nonzero)
	return sign(f), i, erange
}

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r') // C isspace: space \t \n \v \f \r
}

func isDec(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDec(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func isAlnum(c byte) bool {
	return isDec(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// hasPrefixFold reports whether b starts with the lower-case ASCII word p,
// ignoring case.
func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b[i]|0x20 != p[i] {
			return false
		}
	}
	return true
}
