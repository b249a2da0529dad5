package commands

import (
	"math"
	"math/big"
	"strconv"

	"cairn/store"
)

// Counters: INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT (Redis 7.0 t_string.c).
//
// Every counter keeps the key's TTL (Redis overwrites the value in place).
// INCRBYFLOAT reproduces Redis's long double arithmetic exactly: see
// parseLongDouble, addLongDouble and formatLongDouble.

func cmdIncr(c *Ctx) { incrDecr(c, 1) }

func cmdDecr(c *Ctx) { incrDecr(c, -1) }

func cmdIncrBy(c *Ctx) {
	incr, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	incrDecr(c, incr)
}

func cmdDecrBy(c *Ctx) {
	decr, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	if decr == math.MinInt64 { // negating it overflows (Redis 7.0 decrbyCommand)
		c.W.Error(errDecrOverflow)
		return
	}
	incrDecr(c, -decr)
}

// incrDecr adds incr to the integer stored at the key (0 when missing),
// keeping its TTL, and replies with the new value.
func incrDecr(c *Ctx, incr int64) {
	key := c.Args[1]
	e := c.Tx.Get(key)
	var value, expireAt int64
	if e != nil {
		if e.Type != store.TypeString {
			c.W.Error(errWrongType)
			return
		}
		v, ok := parseInt(e.Str)
		if !ok {
			c.W.Error(errNotInt)
			return
		}
		value, expireAt = v, e.ExpireAt
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		c.W.Error(errOverflow)
		return
	}
	value += incr
	var buf [20]byte
	c.Tx.SetString(key, strconv.AppendInt(buf[:0], value, 10), expireAt)
	c.notify(notifyString, "incrby", key)
	c.W.Int(value)
}

// cmdIncrByFloat is Redis's incrbyfloatCommand: both operands are parsed as
// x87 long doubles, added, checked for NaN/Inf and printed with "%.17Lf"
// minus trailing zeros. The stored value's parse error is reported before
// the increment's (both have the same text).
func cmdIncrByFloat(c *Ctx) {
	key := c.Args[1]
	e := c.Tx.Get(key)
	value := new(big.Float).SetPrec(ldMantBits)
	var expireAt int64
	if e != nil {
		if e.Type != store.TypeString {
			c.W.Error(errWrongType)
			return
		}
		v, ok := parseLongDouble(e.Str)
		if !ok {
			c.W.Error(errNotFloat)
			return
		}
		value, expireAt = v, e.ExpireAt
	}
	incr, ok := parseLongDouble(c.Args[2])
	if !ok {
		c.W.Error(errNotFloat)
		return
	}
	sum := addLongDouble(value, incr)
	if sum == nil {
		c.W.Error(errNaNOrInf)
		return
	}
	text := formatLongDouble(sum)
	c.Tx.SetString(key, text, expireAt)
	c.notify(notifyString, "incrbyfloat", key)
	c.W.Bulk(text)
}

// The x87 80-bit extended format that Redis's long double is on x86-64
// Linux: a 64-bit significand with an explicit integer bit, exponents down to
// 2^-16382 for normal numbers and 2^-16445 for the smallest subnormal. In
// big.Float's MantExp terms (x = m·2^e, 0.5 <= m < 1) a finite value has
// e <= ldMaxExp; normal values have e >= ldMinNormExp.
const (
	ldMantBits    = 64
	ldMaxExp      = 16384
	ldMinNormExp  = -16381
	ldSubnormBias = 16445 // a value with exponent e < ldMinNormExp keeps e+ldSubnormBias bits
	// ldMaxChars is Redis's MAX_LONG_DOUBLE_CHARS: string2ld rejects
	// strings of this length or longer.
	ldMaxChars = 5 * 1024
)

// ldPrec is the number of significand bits a value whose exact MantExp
// exponent is e keeps in the long double format (<= 0: it rounds to zero
// or to the smallest subnormal).
func ldPrec(e int) int {
	if e >= ldMinNormExp {
		return ldMantBits
	}
	return e + ldSubnormBias
}

// ldRoundTiny rounds a positive value below the smallest subnormal's
// precision (ldPrec <= 0): to the smallest subnormal 2^-16445 when it is
// more than half of it, else to zero (a tie goes to the even zero).
func ldRoundTiny(moreThanHalf bool, neg bool) *big.Float {
	z := new(big.Float).SetPrec(ldMantBits)
	if moreThanHalf {
		z.SetMantExp(big.NewFloat(0.5), -ldSubnormBias+1)
	}
	if neg {
		z.Neg(z)
	}
	return z
}

// ldOverflow reports whether a rounded finite value exceeds the format.
func ldOverflow(z *big.Float) bool {
	return z.Sign() != 0 && z.MantExp(nil) > ldMaxExp
}

// roundLongDouble rounds the exact finite value x to the long double format
// with round-to-nearest-even, as the x87 unit does: 64 bits for normal
// numbers, fewer for subnormals. It returns ±Inf on overflow. x is not
// modified.
func roundLongDouble(x *big.Float) *big.Float {
	if x.Sign() == 0 {
		return new(big.Float).SetPrec(ldMantBits).Set(x)
	}
	e := x.MantExp(nil)
	if e > ldMaxExp {
		return new(big.Float).SetInf(x.Signbit())
	}
	var z *big.Float
	if p := ldPrec(e); p > 0 {
		z = new(big.Float).SetPrec(uint(p)).SetMode(big.ToNearestEven).Set(x)
	} else {
		half := new(big.Float).SetMantExp(big.NewFloat(0.5), -ldSubnormBias) // 2^-16446
		z = ldRoundTiny(p == 0 && new(big.Float).Abs(x).Cmp(half) > 0, x.Signbit())
	}
	if ldOverflow(z) {
		return new(big.Float).SetInf(x.Signbit())
	}
	return z.SetPrec(ldMantBits) // widening is exact
}

// roundRatLongDouble rounds num/den (both > 0) to the long double format
// with a single correct rounding, negated when neg. It returns ±Inf on
// overflow.
func roundRatLongDouble(num, den *big.Int, neg bool) *big.Float {
	// e is the exact exponent: num/den in [2^(e-1), 2^e).
	e := num.BitLen() - den.BitLen()
	var a, b big.Int
	if e >= 0 {
		a.Set(num)
		b.Lsh(den, uint(e))
	} else {
		a.Lsh(num, uint(-e))
		b.Set(den)
	}
	if a.Cmp(&b) >= 0 {
		e++
	}
	if e > ldMaxExp {
		return new(big.Float).SetInf(neg)
	}
	var z *big.Float
	if p := ldPrec(e); p > 0 {
		nf := new(big.Float).SetInt(num) // exact: the precision grows to fit
		df := new(big.Float).SetInt(den)
		z = new(big.Float).SetPrec(uint(p)).SetMode(big.ToNearestEven).Quo(nf, df)
		if neg {
			z.Neg(z)
		}
	} else {
		// Compare num/den with 2^-16446: num·2^16446 > den.
		var scaled big.Int
		scaled.Lsh(num, ldSubnormBias+1)
		z = ldRoundTiny(p == 0 && scaled.Cmp(den) > 0, neg)
	}
	if ldOverflow(z) {
		return new(big.Float).SetInf(neg)
	}
	return z.SetPrec(ldMantBits)
}

// parseLongDouble parses b as Redis 7.0's string2ld: glibc strtold syntax
// (optional sign; decimal with optional exponent; hexadecimal "0x" with
// optional binary "p" exponent; "inf" or "infinity", any case) covering the
// whole string, no leading space, shorter than 5120 bytes. NaN is refused,
// and so is a value that overflows or underflows to zero (strtold's
// ERANGE); subnormal results are accepted. The result is rounded exactly as
// strtold rounds to the x87 format, and may be ±Inf.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars || isSpace(b[0]) {
		return nil, false
	}
	i := 0
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i = 1
	}
	rest := b[i:]
	switch {
	case eqFold(rest, "inf") || eqFold(rest, "infinity"):
		return new(big.Float).SetInf(neg), true
	case len(rest) > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X'):
		return parseHexLongDouble(rest[2:], neg)
	}
	return parseDecLongDouble(rest, neg)
}

// parseDecLongDouble parses digits [. digits] [e [sign] digits] (at least
// one mantissa digit).
func parseDecLongDouble(b []byte, neg bool) (*big.Float, bool) {
	digits := make([]byte, 0, len(b)) // the mantissa without its point
	frac := 0                         // digits after the point
	i := 0
	for ; i < len(b) && ldIsDigit(b[i]); i++ {
		digits = append(digits, b[i])
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && ldIsDigit(b[i]); i++ {
			digits = append(digits, b[i])
			frac++
		}
	}
	if len(digits) == 0 {
		return nil, false
	}
	exp, j, ok := parseExponent(b[i:], 'e', 'E')
	if !ok || i+j != len(b) {
		return nil, false
	}
	// value = digits · 10^e10; drop leading and trailing zeros.
	e10 := exp - int64(frac)
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		e10++
	}
	if len(digits) == 0 {
		return signedZero(neg), true
	}
	// The value lies in [10^(top-1), 10^top).
	top := e10 + int64(len(digits))
	switch {
	case top-1 > 4933: // >= 10^4934 > the largest long double: ERANGE
		return nil, false
	case top < -4951: // < 10^-4951 < 2^-16446: rounds to zero, ERANGE
		return nil, false
	}
	num, _ := new(big.Int).SetString(string(digits), 10)
	den := big.NewInt(1)
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(ldAbs(e10)), nil)
	if e10 >= 0 {
		num.Mul(num, pow)
	} else {
		den = pow
	}
	z := roundRatLongDouble(num, den, neg)
	if z.IsInf() || z.Sign() == 0 {
		return nil, false
	}
	return z, true
}

// signedZero is a long double ±0.
func signedZero(neg bool) *big.Float {
	z := new(big.Float).SetPrec(ldMantBits)
	if neg {
		z.Neg(z)
	}
	return z
}

// parseHexLongDouble parses hexdigits [. hexdigits] [p [sign] digits] (at
// least one mantissa digit) after "0x".
func parseHexLongDouble(b []byte, neg bool) (*big.Float, bool) {
	var mant big.Int
	nd, frac := 0, 0
	i := 0
	for ; i < len(b) && ldHexVal(b[i]) >= 0; i++ {
		mant.Lsh(&mant, 4).Or(&mant, big.NewInt(int64(ldHexVal(b[i]))))
		nd++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && ldHexVal(b[i]) >= 0; i++ {
			mant.Lsh(&mant, 4).Or(&mant, big.NewInt(int64(ldHexVal(b[i]))))
			nd++
			frac++
		}
	}
	if nd == 0 {
		return nil, false // strtold reads "0" and stops at the 'x'
	}
	exp, j, ok := parseExponent(b[i:], 'p', 'P')
	if !ok || i+j != len(b) {
		return nil, false
	}
	if mant.Sign() == 0 {
		return signedZero(neg), true
	}
	e2 := exp - 4*int64(frac)
	top := e2 + int64(mant.BitLen()) // MantExp exponent of the exact value
	switch {
	case top > ldMaxExp+1:
		return nil, false
	case top < -ldSubnormBias-1:
		return nil, false
	}
	x := new(big.Float).SetInt(&mant)
	x.SetMantExp(x, int(e2))
	if neg {
		x.Neg(x)
	}
	z := roundLongDouble(x)
	if z.IsInf() || z.Sign() == 0 {
		return nil, false
	}
	return z, true
}

// parseExponent parses an optional exponent marker (lo or up), sign and
// decimal digits at the start of b. It returns the exponent (clamped far
// beyond any representable scale), the bytes consumed and false when a
// marker is present without digits (strtold would stop before it, leaving
// unparsed input).
func parseExponent(b []byte, lo, up byte) (int64, int, bool) {
	if len(b) == 0 || (b[0] != lo && b[0] != up) {
		return 0, 0, true
	}
	i := 1
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var v int64
	for ; i < len(b) && ldIsDigit(b[i]); i++ {
		if v < 1e9 {
			v = v*10 + int64(b[i]-'0')
		}
	}
	if i == start {
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

func ldIsDigit(c byte) bool { return '0' <= c && c <= '9' }

func ldHexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func ldAbs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// addLongDouble returns x+y rounded once to the long double format, or nil
// when the sum is NaN or infinite (either operand infinite, or overflow).
func addLongDouble(x, y *big.Float) *big.Float {
	if x.IsInf() || y.IsInf() {
		return nil
	}
	// The exact sum needs the span of both significands plus a carry bit.
	prec := uint(2 * ldMantBits)
	if x.Sign() != 0 && y.Sign() != 0 {
		ex, ey := x.MantExp(nil), y.MantExp(nil)
		d := ex - ey
		if d < 0 {
			d = -d
		}
		prec = uint(d) + 2*ldMantBits
	}
	exact := new(big.Float).SetPrec(prec).SetMode(big.ToNearestEven).Add(x, y)
	z := roundLongDouble(exact)
	if z.IsInf() {
		return nil
	}
	return z
}

// formatLongDouble prints a finite long double as Redis's ld2string in
// LD_STR_HUMAN mode: "%.17Lf" (exact decimal expansion, rounded half to
// even like glibc), trailing zeros and then a trailing '.' removed, and
// "-0" printed as "0".
func formatLongDouble(x *big.Float) []byte {
	b := x.Append(nil, 'f', 17)
	n := len(b)
	for b[n-1] == '0' {
		n--
	}
	if b[n-1] == '.' {
		n--
	}
	b = b[:n]
	if len(b) == 2 && b[0] == '-' && b[1] == '0' {
		b = b[1:]
	}
	return b
}

var counterCommands = []*Spec{
	{Name: "incr", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Increment the integer value of a key by one", Complexity: "O(1)", Handler: cmdIncr},
	{Name: "decr", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Decrement the integer value of a key by one", Complexity: "O(1)", Handler: cmdDecr},
	{Name: "incrby", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Increment the integer value of a key by the given amount", Complexity: "O(1)", Handler: cmdIncrBy},
	{Name: "decrby", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Decrement the integer value of a key by the given number", Complexity: "O(1)", Handler: cmdDecrBy},
	{Name: "incrbyfloat", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.6.0", Summary: "Increment the float value of a key by the given amount", Complexity: "O(1)", Handler: cmdIncrByFloat},
}
