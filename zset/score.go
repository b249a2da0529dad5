package zset

import (
	"math"
	"strconv"
)

// FormatScore appends the text Redis 7.0 replies for a score and returns the
// extended buffer. It is C's printf("%.17g") (Redis 7.0's addReplyDouble), so
// 0.1 is "0.10000000000000001", 1e20 is "1e+20", 3.0 is "3", 1e16 is
// "10000000000000000" and 1e17 is "1e+17"; infinities are "inf" and "-inf",
// -0 is "-0" (Set never stores -0) and NaN, which never is a score, is "nan".
//
// The text is the same for both protocols, only the framing differs:
// RESP2 sends it as a bulk string ("$19\r\n0.10000000000000001\r\n") and
// RESP3 as a double (",0.10000000000000001\r\n", ",inf\r\n", ",-inf\r\n").
// (Redis 7.2 switched to the shortest round-trip form, "0.1"; 7.0 does not.)
func FormatScore(dst []byte, f float64) []byte {
	switch {
	case f != f:
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0 && math.Signbit(f):
		return append(dst, "-0"...)
	case f == math.Trunc(f) && f > -1e17 && f < 1e17:
		// Integers below 1e17 have at most 17 digits: %.17g prints them
		// exactly and without exponent.
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}
