package commands

import (
	"bytes"
	"math"
)

// TTL commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with Redis 7.0's NX,
// XX, GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST. Expiry times
// are absolute unix milliseconds in the store (0 = none); the store hides
// expired keys from every command and removes them in the background.

// Options of the EXPIRE family (expire.c EXPIRE_NX ...).
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

func cmdExpire(c *Ctx)    { expireGeneric(c, "expire", c.Tx.Now(), true) }
func cmdPExpire(c *Ctx)   { expireGeneric(c, "pexpire", c.Tx.Now(), false) }
func cmdExpireAt(c *Ctx)  { expireGeneric(c, "expireat", 0, true) }
func cmdPExpireAt(c *Ctx) { expireGeneric(c, "pexpireat", 0, false) }

// expireGeneric is expire.c expireGenericCommand: options first, then the
// number, then overflow of the unit conversion and of the base time, then
// the key. A time at or before now deletes the key and answers 1.
func expireGeneric(c *Ctx, name string, base int64, seconds bool) {
	flags, errMsg := parseExpireFlags(c.Args[3:])
	if errMsg != "" {
		c.W.Error(errMsg)
		return
	}
	when, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.W.Error(errInvalidExpire(name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.W.Error(errInvalidExpire(name))
		return
	}
	when += base

	key := c.Tx.Get(c.Args[1])
	if key == nil {
		c.W.Int(0)
		return
	}
	cur := key.ExpireAt // 0: no TTL, which GT and LT treat as infinite
	switch {
	case flags&expireNX != 0 && cur != 0,
		flags&expireXX != 0 && cur == 0,
		flags&expireGT != 0 && (cur == 0 || when <= cur),
		flags&expireLT != 0 && cur != 0 && when >= cur:
		c.W.Int(0)
		return
	}
	if when <= c.Tx.Now() {
		c.Tx.Delete(c.Args[1])
		c.notify(notifyGeneric, "del", c.Args[1])
	} else {
		c.Tx.SetExpire(c.Args[1], when)
		c.notify(notifyGeneric, "expire", c.Args[1])
	}
	c.W.Int(1)
}

// parseExpireFlags parses NX XX GT LT (any case, repeats allowed) and
// returns the error reply for an unknown option or a bad combination.
func parseExpireFlags(args [][]byte) (flags int, errMsg string) {
	for _, a := range args {
		switch {
		case eqFold(a, "nx"):
			flags |= expireNX
		case eqFold(a, "xx"):
			flags |= expireXX
		case eqFold(a, "gt"):
			flags |= expireGT
		case eqFold(a, "lt"):
			flags |= expireLT
		default:
			// Redis formats the option with %s: it ends at a NUL byte.
			if i := bytes.IndexByte(a, 0); i >= 0 {
				a = a[:i]
			}
			return 0, errExpireOptPref + oneLine(string(a))
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		return 0, errExpireNXOpts
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		return 0, errExpireGTLT
	}
	return flags, ""
}

func cmdTTL(c *Ctx)         { ttlGeneric(c, false, false) }
func cmdPTTL(c *Ctx)        { ttlGeneric(c, true, false) }
func cmdExpireTime(c *Ctx)  { ttlGeneric(c, false, true) }
func cmdPExpireTime(c *Ctx) { ttlGeneric(c, true, true) }

// ttlGeneric is expire.c ttlGenericCommand: -2 for a missing key, -1 for
// no TTL, else the remaining time (or the absolute time), never negative,
// in seconds rounded to nearest as (ms+500)/1000.
func ttlGeneric(c *Ctx, ms, abs bool) {
	e := c.Tx.Get(c.Args[1])
	if e == nil {
		c.W.Int(-2)
		return
	}
	if e.ExpireAt == 0 {
		c.W.Int(-1)
		return
	}
	ttl := e.ExpireAt
	if !abs {
		ttl -= c.Tx.Now()
	}
	if ttl < 0 {
		ttl = 0
	}
	if !ms {
		// (ttl+500)/1000 without overflowing at PEXPIREAT 2^63-1, where
		// Redis answers 9223372036854776.
		ttl = ttl/1000 + (ttl%1000+500)/1000
	}
	c.W.Int(ttl)
}

func cmdPersist(c *Ctx) {
	e := c.Tx.Get(c.Args[1])
	if e == nil || e.ExpireAt == 0 {
		c.W.Int(0)
		return
	}
	c.Tx.SetExpire(c.Args[1], 0)
	c.notify(notifyGeneric, "persist", c.Args[1])
	c.W.Int(1)
}

var expireCommands = []*Spec{
	{Name: "expire", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Set a key's time to live in seconds", Complexity: "O(1)", Handler: cmdExpire},
	{Name: "pexpire", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "2.6.0", Summary: "Set a key's time to live in milliseconds", Complexity: "O(1)", Handler: cmdPExpire},
	{Name: "expireat", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.2.0", Summary: "Set the expiration for a key as a UNIX timestamp", Complexity: "O(1)", Handler: cmdExpireAt},
	{Name: "pexpireat", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "2.6.0", Summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", Complexity: "O(1)", Handler: cmdPExpireAt},
	{Name: "ttl", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "1.0.0", Summary: "Get the time to live for a key in seconds", Complexity: "O(1)", Handler: cmdTTL},
	{Name: "pttl", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "2.6.0", Summary: "Get the time to live for a key in milliseconds", Complexity: "O(1)", Handler: cmdPTTL},
	{Name: "expiretime", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key", Complexity: "O(1)", Handler: cmdExpireTime},
	{Name: "pexpiretime", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key in milliseconds", Complexity: "O(1)", Handler: cmdPExpireTime},
	{Name: "persist", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatKeyspace,
		Group: "generic", Since: "2.2.0", Summary: "Remove the expiration from a key", Complexity: "O(1)", Handler: cmdPersist},
}
