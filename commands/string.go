package commands

import (
	"math"

	"cairn/store"
)

// Strings: GET, SET and the rest of the string family, as Redis 7.0's
// t_string.c. SET also takes Redis 8.4's IFEQ/IFNE/IFDEQ/IFDNE conditions
// (see cas.go).
//
// Every handler runs inside one store Update, so a read-modify-write (GETSET,
// APPEND, SETRANGE, SET with a condition) is atomic per key. Values are
// replaced, never modified in place: APPEND and SETRANGE build a new value
// and keep the key's TTL, as Redis's in-place update does.

// setExpiry is the form of an EX/PX/EXAT/PXAT option.
type setExpiry uint8

const (
	setExpiryNone setExpiry = iota
	setExpiryEX             // relative seconds
	setExpiryPX             // relative milliseconds
	setExpiryEXAT           // absolute unix seconds
	setExpiryPXAT           // absolute unix milliseconds
)

// stringOpts are the options of SET (from the fourth argument) and GETEX
// (from the third), parsed as Redis's parseExtendedStringArgumentsOrReply.
type stringOpts struct {
	nx, xx, get, keepTTL, persist bool
	expire                        setExpiry
	expireArg                     []byte
	cond                          setCond // IFEQ family (SET only; Redis 8.4)
	condArg                       []byte
}

// parseStringOpts parses opts for SET (isSet) or GETEX. It returns the
// error to reply with, or "". The accept rules are Redis 7.0's, option by
// option and in order: an option is refused (syntax error) when a
// conflicting one came before it, so "NX NX" and "EX 1 EX 2" are accepted
// (the last expiry wins) while "NX XX", "EX 1 PX 2" and "KEEPTTL EX 1" are
// not. The IF* conditions conflict with NX, XX and each other in any order;
// a digest is checked as it is read.
func parseStringOpts(opts [][]byte, isSet bool) (stringOpts, string) {
	var o stringOpts
	anyExpire := func() bool { return o.expire != setExpiryNone }
	for j := 0; j < len(opts); j++ {
		opt := opts[j]
		var next []byte
		hasNext := j+1 < len(opts)
		if hasNext {
			next = opts[j+1]
		}
		switch {
		case isSet && eqFold(opt, "nx") && !o.xx && o.cond == condNone:
			o.nx = true
		case isSet && eqFold(opt, "xx") && !o.nx && o.cond == condNone:
			o.xx = true
		case isSet && eqFold(opt, "get"):
			o.get = true
		case isSet && eqFold(opt, "keepttl") && !o.persist && !anyExpire():
			o.keepTTL = true
		case !isSet && eqFold(opt, "persist") && !anyExpire() && !o.keepTTL:
			o.persist = true
		case eqFold(opt, "ex") && !o.keepTTL && !o.persist && (o.expire == setExpiryNone || o.expire == setExpiryEX) && hasNext:
			o.expire, o.expireArg = setExpiryEX, next
			j++
		case eqFold(opt, "px") && !o.keepTTL && !o.persist && (o.expire == setExpiryNone || o.expire == setExpiryPX) && hasNext:
			o.expire, o.expireArg = setExpiryPX, next
			j++
		case eqFold(opt, "exat") && !o.keepTTL && !o.persist && (o.expire == setExpiryNone || o.expire == setExpiryEXAT) && hasNext:
			o.expire, o.expireArg = setExpiryEXAT, next
			j++
		case eqFold(opt, "pxat") && !o.keepTTL && !o.persist && (o.expire == setExpiryNone || o.expire == setExpiryPXAT) && hasNext:
			o.expire, o.expireArg = setExpiryPXAT, next
			j++
		default:
			cond := parseSetCond(opt)
			if !isSet || cond == condNone || o.nx || o.xx || o.cond != condNone || !hasNext {
				return o, errSyntax
			}
			if cond.isDigest() && !validDigestArg(next) {
				return o, errDigestLen
			}
			o.cond, o.condArg = cond, next
			j++
		}
	}
	return o, ""
}

// stringExpireAt converts an EX/PX/EXAT/PXAT argument to an absolute unix time in
// milliseconds as Redis 7.0's getExpireMillisecondsOrReply: the value must
// be a positive integer, seconds must not overflow when turned into
// milliseconds, and a relative time must not overflow when added to now (the
// sum wraps as in C and is then refused). It returns the error text, or "".
func stringExpireAt(arg []byte, kind setExpiry, now int64, cmd string) (int64, string) {
	v, ok := parseInt(arg)
	if !ok {
		return 0, errNotInt
	}
	seconds := kind == setExpiryEX || kind == setExpiryEXAT
	if v <= 0 || (seconds && v > math.MaxInt64/1000) {
		return 0, errInvalidExpire(cmd)
	}
	if seconds {
		v *= 1000
	}
	if kind == setExpiryEX || kind == setExpiryPX {
		v += now
	}
	if v <= 0 {
		return 0, errInvalidExpire(cmd)
	}
	return v, ""
}

func cmdGet(c *Ctx) {
	e := c.Tx.Get(c.Args[1])
	switch {
	case e == nil:
		c.W.Null()
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	default:
		c.W.Bulk(e.Str)
	}
}

func cmdSet(c *Ctx) {
	o, msg := parseStringOpts(c.Args[3:], true)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	var at int64
	if o.expire != setExpiryNone {
		if at, msg = stringExpireAt(o.expireArg, o.expire, c.Tx.Now(), c.Spec.FullName()); msg != "" {
			c.W.Error(msg)
			return
		}
	}
	setGeneric(c, o, at, false)
}

// setGeneric is Redis's setGenericCommand for the key and value in Args[1]
// and Args[2]: with GET it first replies with the old value (WRONGTYPE on a
// non-string aborts), then checks NX/XX or the IF* condition, then stores
// the value with expiry at (0: none; KEEPTTL keeps the old one). Without
// GET it replies OK, or null when a condition stopped the write; intReply
// (SETNX) replies 1 or 0 instead.
func setGeneric(c *Ctx, o stringOpts, at int64, intReply bool) {
	key := c.Args[1]
	e := c.Tx.Get(key)
	if o.get {
		switch {
		case e == nil:
			c.W.Null()
		case e.Type != store.TypeString:
			c.W.Error(errWrongType)
			return
		default:
			c.W.Bulk(e.Str)
		}
	}
	if o.cond != condNone && e != nil && e.Type != store.TypeString {
		c.W.Error(errWrongType)
		return
	}
	if (o.nx && e != nil) || (o.xx && e == nil) || !o.cond.holds(e, o.condArg) {
		switch {
		case o.get:
		case intReply:
			c.W.Int(0)
		default:
			c.W.Null()
		}
		return
	}
	if o.keepTTL && e != nil {
		at = e.ExpireAt
	}
	c.Tx.SetString(key, c.Args[2], at)
	c.notify(notifyString, "set", key)
	if at != 0 && !o.keepTTL {
		c.notify(notifyGeneric, "expire", key)
	}
	switch {
	case o.get:
	case intReply:
		c.W.Int(1)
	default:
		c.W.OK()
	}
}

func cmdSetNX(c *Ctx) { setGeneric(c, stringOpts{nx: true}, 0, true) }

// cmdSetEX serves SETEX (seconds) and PSETEX (milliseconds): key, expiry,
// value.
func cmdSetEX(c *Ctx) {
	kind := setExpiryEX
	if c.Spec.FullName() == "psetex" {
		kind = setExpiryPX
	}
	at, msg := stringExpireAt(c.Args[2], kind, c.Tx.Now(), c.Spec.FullName())
	if msg != "" {
		c.W.Error(msg)
		return
	}
	key, val := c.Args[1], c.Args[3]
	c.Tx.SetString(key, val, at)
	c.notify(notifyString, "set", key)
	c.notify(notifyGeneric, "expire", key)
	c.W.OK()
}

func cmdGetEx(c *Ctx) {
	o, msg := parseStringOpts(c.Args[2:], false)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	key := c.Args[1]
	e := c.Tx.Get(key)
	if e == nil {
		c.W.Null()
		return
	}
	if e.Type != store.TypeString {
		c.W.Error(errWrongType)
		return
	}
	var at int64
	if o.expire != setExpiryNone {
		if at, msg = stringExpireAt(o.expireArg, o.expire, c.Tx.Now(), c.Spec.FullName()); msg != "" {
			c.W.Error(msg)
			return
		}
	}
	c.W.Bulk(e.Str)
	switch {
	case o.expire != setExpiryNone:
		// An EXAT/PXAT already past deletes the key (SetExpire does).
		c.Tx.SetExpire(key, at)
		if at <= c.Tx.Now() {
			c.notify(notifyGeneric, "del", key)
		} else {
			c.notify(notifyGeneric, "expire", key)
		}
	case o.persist && e.ExpireAt != 0:
		c.Tx.SetExpire(key, 0)
		c.notify(notifyGeneric, "persist", key)
	}
}

func cmdGetDel(c *Ctx) {
	key := c.Args[1]
	e := c.Tx.Get(key)
	switch {
	case e == nil:
		c.W.Null()
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	default:
		c.W.Bulk(e.Str)
		c.Tx.Delete(key)
		c.notify(notifyGeneric, "del", key)
	}
}

func cmdGetSet(c *Ctx) { setGeneric(c, stringOpts{get: true}, 0, false) }

func cmdMGet(c *Ctx) {
	keys := c.Args[1:]
	c.W.Array(len(keys))
	for _, k := range keys {
		if e := c.Tx.Get(k); e != nil && e.Type == store.TypeString {
			c.W.Bulk(e.Str)
		} else {
			c.W.Null()
		}
	}
}

// cmdMSet serves MSET and MSETNX: every key loses its TTL; MSETNX sets
// nothing (and replies 0) when any key exists.
func cmdMSet(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.W.Error(errArity(c.Spec.FullName()))
		return
	}
	nx := c.Spec.FullName() == "msetnx"
	if nx {
		for j := 1; j < len(c.Args); j += 2 {
			if c.Tx.Exists(c.Args[j]) {
				c.W.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(c.Args); j += 2 {
		c.Tx.SetString(c.Args[j], c.Args[j+1], 0)
		c.notify(notifyString, "set", c.Args[j])
	}
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// maxStringLen is proto-max-bulk-len, the largest string APPEND and
// SETRANGE may build.
func maxStringLen(c *Ctx) int64 { return c.Srv.config.Int("proto-max-bulk-len") }

// fitsString reports whether a string of size+extra bytes is allowed
// (Redis checkStringLength, overflow included).
func fitsString(c *Ctx, size, extra int64) bool {
	limit := maxStringLen(c)
	return size <= limit && extra <= limit-size
}

func cmdAppend(c *Ctx) {
	key, tail := c.Args[1], c.Args[2]
	e := c.Tx.Get(key)
	if e == nil {
		c.Tx.SetString(key, tail, 0)
		c.notify(notifyString, "append", key)
		c.W.Int(int64(len(tail)))
		return
	}
	if e.Type != store.TypeString {
		c.W.Error(errWrongType)
		return
	}
	if !fitsString(c, int64(len(e.Str)), int64(len(tail))) {
		c.W.Error(errStringTooLong)
		return
	}
	val := make([]byte, 0, len(e.Str)+len(tail))
	val = append(append(val, e.Str...), tail...)
	c.Tx.Put(key, &store.Entry{Type: store.TypeString, ExpireAt: e.ExpireAt, Str: val})
	c.notify(notifyString, "append", key)
	c.W.Int(int64(len(val)))
}

func cmdStrlen(c *Ctx) {
	e := c.Tx.Get(c.Args[1])
	switch {
	case e == nil:
		c.W.Int(0)
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	default:
		c.W.Int(int64(len(e.Str)))
	}
}

// cmdGetRange serves GETRANGE and SUBSTR with Redis 7.0's index rules:
// negative indexes count from the end, two negative indexes with start >
// end give "", then both are clamped into the string (so "0 -100" on
// "hello" gives "h").
func cmdGetRange(c *Ctx) {
	start, ok1 := parseInt(c.Args[2])
	end, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(errNotInt)
		return
	}
	e := c.Tx.Get(c.Args[1])
	if e == nil {
		c.W.Bulk(nil)
		return
	}
	if e.Type != store.TypeString {
		c.W.Error(errWrongType)
		return
	}
	n := int64(len(e.Str))
	if start < 0 && end < 0 && start > end {
		c.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.Bulk(nil)
		return
	}
	c.W.Bulk(e.Str[start : end+1])
}

// cmdSetRange overwrites part of the string at offset, padding with zero
// bytes. An empty value changes nothing (and creates no key); the result
// must fit proto-max-bulk-len.
func cmdSetRange(c *Ctx) {
	offset, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	if offset < 0 {
		c.W.Error(errOffsetRange)
		return
	}
	key, val := c.Args[1], c.Args[3]
	e := c.Tx.Get(key)
	var old []byte
	var at int64
	if e != nil {
		if e.Type != store.TypeString {
			c.W.Error(errWrongType)
			return
		}
		old, at = e.Str, e.ExpireAt
	}
	if len(val) == 0 {
		c.W.Int(int64(len(old)))
		return
	}
	if !fitsString(c, offset, int64(len(val))) {
		c.W.Error(errStringTooLong)
		return
	}
	size := max(int64(len(old)), offset+int64(len(val)))
	buf := make([]byte, size)
	copy(buf, old)
	copy(buf[offset:], val)
	c.Tx.Put(key, &store.Entry{Type: store.TypeString, ExpireAt: at, Str: buf})
	c.notify(notifyString, "setrange", key)
	c.W.Int(size)
}

var stringCommands = []*Spec{
	{Name: "get", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Get the value of a key", Complexity: "O(1)", Handler: cmdGet},
	{Name: "set", KeySpecs: []KeySpec{ksRange("RW access update variable_flags", 1, 0, 1, 0).withNotes("RW and ACCESS due to the optional `GET` argument")}, Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Set the string value of a key", Complexity: "O(1)", Handler: cmdSet},
	{Name: "setnx", KeySpecs: []KeySpec{ksRange("OW insert", 1, 0, 1, 0)}, Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Set the value of a key, only if the key does not exist", Complexity: "O(1)", Handler: cmdSetNX},
	{Name: "setex", KeySpecs: []KeySpec{ksRange("OW update", 1, 0, 1, 0)}, Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.0.0", Summary: "Set the value and expiration of a key", Complexity: "O(1)", Handler: cmdSetEX},
	{Name: "psetex", KeySpecs: []KeySpec{ksRange("OW update", 1, 0, 1, 0)}, Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.6.0", Summary: "Set the value and expiration in milliseconds of a key", Complexity: "O(1)", Handler: cmdSetEX},
	{Name: "getex", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0).withNotes("RW and UPDATE because it changes the TTL")}, Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "6.2.0", Summary: "Get the value of a key and optionally set its expiration", Complexity: "O(1)", Handler: cmdGetEx},
	{Name: "getdel", KeySpecs: []KeySpec{ksRange("RW access delete", 1, 0, 1, 0)}, Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "6.2.0", Summary: "Get the value of a key and delete the key", Complexity: "O(1)", Handler: cmdGetDel},
	{Name: "getset", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Set the string value of a key and return its old value", Complexity: "O(1)", Handler: cmdGetSet},
	{Name: "mget", KeySpecs: []KeySpec{ksRange("RO access", 1, -1, 1, 0)}, Tips: []string{"request_policy:multi_shard"}, Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Get the values of all the given keys", Complexity: "O(N) where N is the number of keys to retrieve.", Handler: cmdMGet},
	{Name: "mset", KeySpecs: []KeySpec{ksRange("OW update", 1, -1, 2, 0)}, Tips: []string{"request_policy:multi_shard", "response_policy:all_succeeded"}, Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, ACL: CatString,
		Group: "string", Since: "1.0.1", Summary: "Set multiple keys to multiple values", Complexity: "O(N) where N is the number of keys to set.", Handler: cmdMSet},
	{Name: "msetnx", KeySpecs: []KeySpec{ksRange("OW insert", 1, -1, 2, 0)}, Tips: []string{"request_policy:multi_shard", "response_policy:agg_min"}, Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, ACL: CatString,
		Group: "string", Since: "1.0.1", Summary: "Set multiple keys to multiple values, only if none of the keys exist", Complexity: "O(N) where N is the number of keys to set.", Handler: cmdMSet},
	{Name: "append", KeySpecs: []KeySpec{ksRange("RW insert", 1, 0, 1, 0)}, Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.0.0", Summary: "Append a value to a key",
		Complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
		Handler:    cmdAppend},
	{Name: "strlen", KeySpecs: []KeySpec{ksRange("RO", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.2.0", Summary: "Get the length of the value stored in a key", Complexity: "O(1)", Handler: cmdStrlen},
	{Name: "getrange", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.4.0", Summary: "Get a substring of the string stored at a key",
		Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
		Handler:    cmdGetRange},
	{Name: "substr", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "1.0.0", Summary: "Get a substring of the string stored at a key",
		Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
		Handler:    cmdGetRange},
	{Name: "setrange", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "2.2.0", Summary: "Overwrite part of a string at key starting at the specified offset",
		Complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
		Handler:    cmdSetRange},
}
