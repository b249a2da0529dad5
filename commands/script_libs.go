package commands

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The cjson and bit libraries Redis 7.0 gives scripts (deps/lua/src
// lua_cjson.c 2.1.0 and lua_bit.c, LuaBitOp 1.0.2), as read-only globals.
//
// cjson keeps Redis's defaults: numbers encode as "%.14g", NaN and Inf
// are refused, tables nest at most 1000 deep both ways, excessively sparse
// arrays are refused, and decoding accepts what strtod accepts (hex, inf,
// nan). Only encode_keep_buffer of the configuration functions exists; it
// changes nothing but the value it reports, as the buffer it names is an
// allocation detail. Its setting belongs to the interpreter (luaVM) and
// outlives the script that set it, as in Redis.

const (
	cjsonMaxDepth    = 1000 // encode_max_depth and decode_max_depth
	cjsonSparseRatio = 2    // encode_sparse_ratio
	cjsonSparseSafe  = 10   // encode_sparse_safe
)

// openScriptLibs adds the read-only cjson and bit tables to globals.
// It also gives tostring, tonumber and math.huge Lua 5.1's behaviour
// where gopher-lua's differs (numbers print as "%.14g"; tonumber accepts
// what strtod does). Numbers that other functions turn into strings (..,
// string.format's %s, table.concat) keep gopher-lua's shortest form.
func (vm *luaVM) openScriptLibs(globals *lua.LTable) {
	globals.RawSetString("cjson", vm.readonlyView(vm.cjsonLib()))
	globals.RawSetString("bit", vm.readonlyView(bitLib(vm.L)))
	globals.RawSetString("tostring", vm.L.NewFunction(luaToString))
	globals.RawSetString("tonumber", vm.L.NewFunction(luaToNumber))
	if m, ok := globals.RawGetString("math").(*lua.LTable); ok {
		m.RawSetString("huge", lua.LNumber(math.Inf(1)))
	}
}

// luaNumberString formats n as Lua 5.1 does (LUAI_NUMFFORMAT "%.14g",
// with glibc's spelling of infinities and NaNs).
func luaNumberString(n float64) string {
	switch {
	case math.IsNaN(n) && math.Signbit(n):
		return "-nan"
	case math.IsNaN(n):
		return "nan"
	case math.IsInf(n, 1):
		return "inf"
	case math.IsInf(n, -1):
		return "-inf"
	}
	return strconv.FormatFloat(n, 'g', 14, 64)
}

// luaToString is Lua 5.1's tostring.
func luaToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(luaNumberString(float64(n))))
		return 1
	}
	L.Push(L.ToStringMeta(v))
	return 1
}

// luaToNumber is Lua 5.1's tonumber (luaB_tonumber): base 10 reads what
// strtod reads, with surrounding spaces; other bases what strtoul reads.
func luaToNumber(L *lua.LState) int {
	v := L.CheckAny(1)
	base := 10
	if L.Get(2) != lua.LNil {
		base = L.CheckInt(2)
	}
	if base == 10 {
		switch x := v.(type) {
		case lua.LNumber:
			L.Push(x)
			return 1
		case lua.LString:
			if n, ok := luaStr2Number(string(x)); ok {
				L.Push(lua.LNumber(n))
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}
	if base < 2 || base > 36 {
		argError(L, 2, "tonumber", "base out of range")
	}
	s := strings.TrimLeft(L.CheckString(1), luaSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if base == 16 && len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x' {
		s = s[2:]
	}
	digits := strings.TrimRight(s, luaSpace)
	n, err := strconv.ParseUint(digits, base, 64)
	if digits == "" || err != nil {
		L.Push(lua.LNil)
		return 1
	}
	if neg {
		n = -n // strtoul negates in unsigned arithmetic
	}
	L.Push(lua.LNumber(n))
	return 1
}

// luaSpace is C's isspace set.
const luaSpace = " \t\n\v\f\r"

// luaStr2Number is Lua 5.1's luaO_str2d.
func luaStr2Number(s string) (float64, bool) {
	s = strings.TrimLeft(s, luaSpace)
	n, size := strtod(s)
	if size == 0 || strings.TrimLeft(s[size:], luaSpace) != "" {
		return 0, false
	}
	return n, true
}

// cjsonState is the state of one interpreter's cjson table.
type cjsonState struct {
	null       *lua.LUserData // cjson.null, Redis's NULL light userdata
	keepBuffer bool           // encode_keep_buffer's setting
}

func (vm *luaVM) cjsonLib() *lua.LTable {
	L := vm.L
	st := &cjsonState{null: L.NewUserData(), keepBuffer: true}
	t := L.NewTable()
	t.RawSetString("encode", L.NewFunction(st.encode))
	t.RawSetString("decode", L.NewFunction(st.decode))
	t.RawSetString("encode_keep_buffer", L.NewFunction(st.encodeKeepBuffer))
	t.RawSetString("null", st.null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// argError raises Lua's "bad argument" error as luaL_argerror words it.
func argError(L *lua.LState, n int, fn, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fn, msg)
}

func (st *cjsonState) encodeKeepBuffer(L *lua.LState) int {
	if L.GetTop() > 1 {
		argError(L, 2, "encode_keep_buffer", "found too many arguments")
	}
	if L.GetTop() == 1 {
		switch v := L.Get(1).(type) {
		case lua.LBool:
			st.keepBuffer = bool(v)
		case lua.LString:
			switch v {
			case "on":
				st.keepBuffer = true
			case "off":
				st.keepBuffer = false
			default:
				argError(L, 1, "encode_keep_buffer", "invalid option '"+string(v)+"'")
			}
		default:
			argError(L, 1, "encode_keep_buffer", "invalid option '"+lua.LVAsString(v)+"'")
		}
	}
	L.Push(lua.LBool(st.keepBuffer))
	return 1
}

func (st *cjsonState) encode(L *lua.LState) int {
	if L.GetTop() != 1 {
		argError(L, 1, "encode", "expected 1 argument")
	}
	var b strings.Builder
	st.encodeValue(L, &b, L.Get(1), 0)
	L.Push(lua.LString(b.String()))
	return 1
}

// encodeFail raises lua_cjson's json_encode_exception for a value of v's
// type.
func encodeFail(L *lua.LState, v lua.LValue, reason string) {
	L.RaiseError("Cannot serialise %s: %s", v.Type().String(), reason)
}

func (st *cjsonState) encodeValue(L *lua.LState, b *strings.Builder, v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		cjsonQuote(b, string(x))
	case lua.LNumber:
		cjsonNumber(L, b, x)
	case lua.LBool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LNilType:
		b.WriteString("null")
	case *lua.LTable:
		depth++
		if depth > cjsonMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		if n := cjsonArrayLength(L, x); n > 0 {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				st.encodeValue(L, b, x.RawGetInt(i), depth)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('{')
		first := true
		x.ForEach(func(k, val lua.LValue) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch key := k.(type) {
			case lua.LNumber:
				b.WriteByte('"')
				cjsonNumber(L, b, key)
				b.WriteString(`":`)
			case lua.LString:
				cjsonQuote(b, string(key))
				b.WriteByte(':')
			default:
				encodeFail(L, k, "table key must be a number or string")
			}
			st.encodeValue(L, b, val, depth)
		})
		b.WriteByte('}')
	default:
		if x == st.null {
			b.WriteString("null")
			return
		}
		encodeFail(L, v, "type not supported")
	}
}

// cjsonArrayLength is lua_array_length: the largest key of a table whose
// keys are all integers >= 1, else -1 (an object). An empty table is 0
// and encodes as an object. The largest key is kept in a C int, as
// Redis's does, so a key past 2^31 (inf included) wraps to the minimum
// and the table encodes as an object.
func cjsonArrayLength(L *lua.LState, t *lua.LTable) int {
	var maxKey int32
	items, array := 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || math.Floor(float64(n)) != float64(n) || n < 1 {
			array = false
			return
		}
		if float64(n) > float64(maxKey) {
			maxKey = math.MinInt32 // x86-64's result for an out-of-range conversion
			if n < math.MaxInt32+1 {
				maxKey = int32(n)
			}
		}
		items++
	})
	if !array {
		return -1
	}
	if int(maxKey) > items*cjsonSparseRatio && maxKey > cjsonSparseSafe {
		L.RaiseError("Cannot serialise table: excessively sparse array")
	}
	return int(maxKey)
}

// cjsonNumber appends n as "%.14g", refusing NaN and Inf.
func cjsonNumber(L *lua.LState, b *strings.Builder, n lua.LNumber) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		L.RaiseError("Cannot serialise number: must not be NaN or Inf")
	}
	b.WriteString(strconv.FormatFloat(f, 'g', 14, 64))
}

// cjsonQuote appends s as a JSON string the way lua_cjson escapes it:
// control characters, '"', '\\', '/' and DEL are escaped, other bytes
// (UTF-8 included) are copied as they are.
func cjsonQuote(b *strings.Builder, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\', '/':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

func (st *cjsonState) decode(L *lua.LState) int {
	if L.GetTop() != 1 {
		argError(L, 1, "decode", "expected 1 argument")
	}
	var text string
	switch v := L.Get(1).(type) {
	case lua.LString:
		text = string(v)
	case lua.LNumber:
		text = lua.LVAsString(v)
	default:
		argError(L, 1, "decode", "string expected, got "+v.Type().String())
	}
	d := &cjsonDecoder{L: L, null: st.null, data: text}
	tok := d.next()
	v := d.value(tok)
	if tok = d.next(); tok.kind != tokEnd {
		d.fail("the end", tok)
	}
	L.Push(v)
	return 1
}

// cjsonToken kinds, named in errors as lua_cjson names them.
type cjsonTokenKind int

const (
	tokObjBegin cjsonTokenKind = iota
	tokObjEnd
	tokArrBegin
	tokArrEnd
	tokString
	tokNumber
	tokBoolean
	tokNull
	tokColon
	tokComma
	tokEnd
	tokError
)

var cjsonTokenNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_ERROR"}

// cjsonSingleTokens are the one-character tokens.
var cjsonSingleTokens = map[byte]cjsonTokenKind{'{': tokObjBegin, '}': tokObjEnd, '[': tokArrBegin,
	']': tokArrEnd, ':': tokColon, ',': tokComma}

// cjsonToken is one token; index is its 0-based offset (an error's is
// where the scan stopped), errText a tokError's description.
type cjsonToken struct {
	kind    cjsonTokenKind
	index   int
	str     string
	num     float64
	boolean bool
	errText string
}

// cjsonDecoder is one decode: data is the text, pos the next byte, depth
// the open arrays and objects. A NUL byte ends the text, as in C.
type cjsonDecoder struct {
	L     *lua.LState
	null  *lua.LUserData
	data  string
	pos   int
	depth int
}

func (d *cjsonDecoder) at(i int) byte {
	if i < len(d.data) {
		return d.data[i]
	}
	return 0
}

func (d *cjsonDecoder) fail(expected string, tok cjsonToken) {
	found := cjsonTokenNames[tok.kind]
	if tok.kind == tokError {
		found = tok.errText
	}
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, tok.index+1)
}

func (d *cjsonDecoder) errorToken(text string) cjsonToken {
	return cjsonToken{kind: tokError, index: d.pos, errText: text}
}

func (d *cjsonDecoder) next() cjsonToken {
	for {
		switch d.at(d.pos) {
		case ' ', '\t', '\n', '\r':
			d.pos++
			continue
		}
		break
	}
	start := d.pos
	c := d.at(start)
	if kind, ok := cjsonSingleTokens[c]; ok {
		d.pos++
		return cjsonToken{kind: kind, index: start}
	}
	rest := d.data[start:]
	switch {
	case c == 0:
		return cjsonToken{kind: tokEnd, index: start}
	case c == '"':
		return d.stringToken()
	case c == '-' || ('0' <= c && c <= '9'):
		return d.numberToken()
	case strings.HasPrefix(rest, "true"):
		d.pos += 4
		return cjsonToken{kind: tokBoolean, index: start, boolean: true}
	case strings.HasPrefix(rest, "false"):
		d.pos += 5
		return cjsonToken{kind: tokBoolean, index: start}
	case strings.HasPrefix(rest, "null"):
		d.pos += 4
		return cjsonToken{kind: tokNull, index: start}
	case cjsonInvalidNumber(rest):
		return d.numberToken()
	}
	return d.errorToken("invalid token")
}

// cjsonInvalidNumber is json_is_invalid_number for a text that does not
// start with a digit or '-': a signed inf or nan (any case).
func cjsonInvalidNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	lower := strings.ToLower(s)
	return strings.HasPrefix(lower, "inf") || strings.HasPrefix(lower, "nan")
}

func (d *cjsonDecoder) numberToken() cjsonToken {
	start := d.pos
	n, size := strtod(d.data[start:])
	if size == 0 {
		return d.errorToken("invalid number")
	}
	d.pos += size
	return cjsonToken{kind: tokNumber, index: start, num: n}
}

func (d *cjsonDecoder) stringToken() cjsonToken {
	start := d.pos
	d.pos++ // the opening quote
	var b strings.Builder
	for {
		c := d.at(d.pos)
		switch {
		case c == '"':
			d.pos++
			return cjsonToken{kind: tokString, index: start, str: b.String()}
		case c == 0:
			return d.errorToken("unexpected end of string")
		case c != '\\':
			b.WriteByte(c)
			d.pos++
			continue
		}
		switch e := d.at(d.pos + 1); e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if !d.unicodeEscape(&b) {
				return d.errorToken("invalid unicode escape code")
			}
			continue
		default:
			return d.errorToken("invalid escape code")
		}
		d.pos += 2
	}
}

// unicodeEscape appends the UTF-8 of the \uXXXX escape (or surrogate
// pair) at pos and moves past it.
func (d *cjsonDecoder) unicodeEscape(b *strings.Builder) bool {
	cp := d.hex4(d.pos + 2)
	if cp < 0 {
		return false
	}
	size := 6
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 || d.at(d.pos+6) != '\\' || d.at(d.pos+7) != 'u' {
			return false
		}
		low := d.hex4(d.pos + 8)
		if low < 0 || low&0xFC00 != 0xDC00 {
			return false
		}
		cp = ((cp&0x3FF)<<10 | low&0x3FF) + 0x10000
		size = 12
	}
	var buf [4]byte
	switch {
	case cp <= 0x7F:
		b.WriteByte(byte(cp))
	case cp <= 0x7FF:
		buf[0], buf[1] = byte(cp>>6|0xC0), byte(cp&0x3F|0x80)
		b.Write(buf[:2])
	case cp <= 0xFFFF:
		buf[0], buf[1], buf[2] = byte(cp>>12|0xE0), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80)
		b.Write(buf[:3])
	default:
		buf[0], buf[1], buf[2], buf[3] = byte(cp>>18|0xF0), byte(cp>>12&0x3F|0x80), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80)
		b.Write(buf[:4])
	}
	d.pos += size
	return true
}

// hex4 is the value of the four hex digits at i, or -1.
func (d *cjsonDecoder) hex4(i int) int {
	v := 0
	for j := i; j < i+4; j++ {
		c := d.at(j)
		var digit int
		switch {
		case '0' <= c && c <= '9':
			digit = int(c - '0')
		case 'a' <= c|0x20 && c|0x20 <= 'f':
			digit = int(c|0x20-'a') + 10
		default:
			return -1
		}
		v = v<<4 | digit
	}
	return v
}

// value converts the value starting with tok.
func (d *cjsonDecoder) value(tok cjsonToken) lua.LValue {
	switch tok.kind {
	case tokString:
		return lua.LString(tok.str)
	case tokNumber:
		return lua.LNumber(tok.num)
	case tokBoolean:
		return lua.LBool(tok.boolean)
	case tokNull:
		return d.null
	case tokObjBegin:
		return d.object(tok)
	case tokArrBegin:
		return d.array(tok)
	}
	d.fail("value", tok)
	return nil
}

func (d *cjsonDecoder) descend(tok cjsonToken) {
	d.depth++
	if d.depth > cjsonMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, tok.index+1)
	}
}

func (d *cjsonDecoder) object(open cjsonToken) lua.LValue {
	d.descend(open)
	t := d.L.CreateTable(0, 4)
	tok := d.next()
	if tok.kind == tokObjEnd {
		d.depth--
		return t
	}
	for {
		if tok.kind != tokString {
			d.fail("object key string", tok)
		}
		key := tok.str
		if tok = d.next(); tok.kind != tokColon {
			d.fail("colon", tok)
		}
		t.RawSetString(key, d.value(d.next()))
		switch tok = d.next(); tok.kind {
		case tokObjEnd:
			d.depth--
			return t
		case tokComma:
			tok = d.next()
		default:
			d.fail("comma or object end", tok)
		}
	}
}

func (d *cjsonDecoder) array(open cjsonToken) lua.LValue {
	d.descend(open)
	t := d.L.CreateTable(4, 0)
	tok := d.next()
	if tok.kind == tokArrEnd {
		d.depth--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(tok))
		switch tok = d.next(); tok.kind {
		case tokArrEnd:
			d.depth--
			return t
		case tokComma:
			tok = d.next()
		default:
			d.fail("comma or array end", tok)
		}
	}
}

// strtod parses the longest prefix of s that C's strtod accepts (leading
// whitespace aside): a decimal or hex number, inf, infinity or nan, with
// an optional sign. size is 0 when there is none.
func strtod(s string) (n float64, size int) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	neg := i > 0 && s[0] == '-'
	lower := strings.ToLower(s[i:])
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(lower, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(lower, "nan"):
		return math.NaN(), i + 3
	case strings.HasPrefix(lower, "0x") && len(lower) > 2 && isHexDigit(lower[2]):
		j := i + 2
		v := 0.0
		for j < len(s) && isHexDigit(s[j]) {
			digit, _ := strconv.ParseUint(s[j:j+1], 16, 8)
			v = v*16 + float64(digit)
			j++
		}
		return sign(v), j
	}
	j, digits := i, 0
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		j, digits = j+1, digits+1
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && '0' <= s[k] && s[k] <= '9' {
			for k < len(s) && '0' <= s[k] && s[k] <= '9' {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[:j], 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, 0
	}
	return f, j
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// bitLib builds the bit table: LuaBitOp's operations on 32-bit integers,
// whose results are signed.
func bitLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fold := func(name string, op func(a, b uint32) uint32) {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			v := bitArg(L, 1, name)
			for i := L.GetTop(); i > 1; i-- {
				v = op(v, bitArg(L, i, name))
			}
			return bitReturn(L, v)
		}))
	}
	fold("band", func(a, b uint32) uint32 { return a & b })
	fold("bor", func(a, b uint32) uint32 { return a | b })
	fold("bxor", func(a, b uint32) uint32 { return a ^ b })
	unary := map[string]func(uint32) uint32{
		"tobit": func(v uint32) uint32 { return v },
		"bnot":  func(v uint32) uint32 { return ^v },
		"bswap": func(v uint32) uint32 { return v>>24 | v>>8&0xff00 | v&0xff00<<8 | v<<24 },
	}
	for name, op := range unary {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int { return bitReturn(L, op(bitArg(L, 1, name))) }))
	}
	shifts := map[string]func(v, n uint32) uint32{
		"lshift":  func(v, n uint32) uint32 { return v << n },
		"rshift":  func(v, n uint32) uint32 { return v >> n },
		"arshift": func(v, n uint32) uint32 { return uint32(int32(v) >> n) },
		"rol":     func(v, n uint32) uint32 { return v<<n | v>>(32-n) },
		"ror":     func(v, n uint32) uint32 { return v>>n | v<<(32-n) },
	}
	for name, op := range shifts {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			v := bitArg(L, 1, name)
			return bitReturn(L, op(v, bitArg(L, 2, name)&31))
		}))
	}
	t.RawSetString("tohex", L.NewFunction(bitToHex))
	return t
}

// bitArg is LuaBitOp's barg: the number at n (a numeric string too) taken
// to 32 bits by adding 2^52+2^51 and keeping the low word, which rounds
// to nearest and wraps modulo 2^32.
func bitArg(L *lua.LState, n int, fn string) uint32 {
	var f float64
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		f = float64(v)
	case lua.LString:
		num, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
		if err != nil {
			argError(L, n, fn, "number expected, got string")
		}
		f = num
	default:
		got := v.Type().String()
		if n > L.GetTop() {
			got = "no value"
		}
		argError(L, n, fn, "number expected, got "+got)
	}
	return uint32(math.Float64bits(f + 6755399441055744.0))
}

func bitReturn(L *lua.LState, v uint32) int {
	L.Push(lua.LNumber(int32(v)))
	return 1
}

// bitToHex is bit.tohex(x [, n]): the low n hex digits of x (8 by
// default, at most 8), upper case when n is negative.
func bitToHex(L *lua.LState) int {
	v := bitArg(L, 1, "tohex")
	n := int32(8)
	if L.GetTop() >= 2 {
		n = int32(bitArg(L, 2, "tohex"))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n, digits = -n, "0123456789ABCDEF"
	}
	n = max(min(n, 8), 0) // -(-2^31) stays negative; C would misbehave
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[v&15]
		v >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
