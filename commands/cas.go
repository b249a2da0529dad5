package commands

import (
	"bytes"
	"strconv"

	"github.com/zeebo/xxh3"

	"cairn/store"
)

// Compare-and-swap commands, none of which Redis 7.0 has:
//
//   - Redis 8.4's SET conditions IFEQ/IFNE/IFDEQ/IFDNE (parsed with SET's
//     options in string.go, evaluated by setCond.holds), DELEX and DIGEST.
//     A digest is the XXH3-64 hash of the value, printed as 16 lowercase hex
//     digits (zero-padded); IFDEQ/IFDNE take exactly 16 characters and
//     compare them case-insensitively (redis/redis#14502).
//   - Valkey 9.0's DELIFEQ.
//   - Cairn's CAS and CAD, which tell a missing key (-1) from a mismatch (0).
//
// Each handler runs inside one store Update, so the comparison and the
// write are atomic per key.

// setCond is a value condition of SET or DELEX.
type setCond uint8

const (
	condNone  setCond = iota
	condIfEq          // the value equals the argument; a missing key fails
	condIfNe          // the value differs from the argument; a missing key passes
	condIfDEq         // the value's digest equals the argument; a missing key fails
	condIfDNe         // the value's digest differs; a missing key passes
)

// parseSetCond recognizes a condition keyword, any case.
func parseSetCond(b []byte) setCond {
	switch {
	case eqFold(b, "ifeq"):
		return condIfEq
	case eqFold(b, "ifne"):
		return condIfNe
	case eqFold(b, "ifdeq"):
		return condIfDEq
	case eqFold(b, "ifdne"):
		return condIfDNe
	}
	return condNone
}

func (c setCond) isDigest() bool { return c == condIfDEq || c == condIfDNe }

// holds evaluates the condition against e (nil: the key is missing), which
// must be a string when present. condNone always holds.
func (c setCond) holds(e *store.Entry, arg []byte) bool {
	if c == condNone {
		return true
	}
	if e == nil {
		return c == condIfNe || c == condIfDNe
	}
	switch c {
	case condIfEq:
		return bytes.Equal(e.Str, arg)
	case condIfNe:
		return !bytes.Equal(e.Str, arg)
	case condIfDEq:
		return bytes.EqualFold(appendDigest(nil, e.Str), arg)
	default: // condIfDNe
		return !bytes.EqualFold(appendDigest(nil, e.Str), arg)
	}
}

// validDigestArg reports whether b can be a digest: Redis 8.4 checks only
// the length (16); other characters simply never match.
func validDigestArg(b []byte) bool { return len(b) == 16 }

// appendDigest appends the XXH3-64 digest of v as 16 lowercase hex digits.
func appendDigest(dst, v []byte) []byte {
	h := xxh3.Hash(v)
	var tmp [16]byte
	hex := strconv.AppendUint(tmp[:0], h, 16)
	for range 16 - len(hex) {
		dst = append(dst, '0')
	}
	return append(dst, hex...)
}

// cmdDelex is DELEX key [IFEQ v | IFNE v | IFDEQ d | IFDNE d]. Without a
// condition it deletes a key of any type; with one the key must hold a
// string. Arguments are checked before the key is looked up (Redis 8.4
// after redis/redis#14529).
func cmdDelex(c *Ctx) {
	cond := condNone
	var arg []byte
	switch len(c.Args) {
	case 2:
	case 4:
		if cond = parseSetCond(c.Args[2]); cond == condNone {
			c.W.Error(errSyntax)
			return
		}
		arg = c.Args[3]
		if cond.isDigest() && !validDigestArg(arg) {
			c.W.Error(errDigestLen)
			return
		}
	default:
		c.W.Error(errSyntax)
		return
	}
	key := c.Args[1]
	e := c.Tx.Get(key)
	switch {
	case e == nil:
		c.W.Int(0)
	case cond == condNone:
		c.Tx.Delete(key)
		c.notify(notifyGeneric, "del", key)
		c.W.Int(1)
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	case cond.holds(e, arg):
		c.Tx.Delete(key)
		c.notify(notifyGeneric, "del", key)
		c.W.Int(1)
	default:
		c.W.Int(0)
	}
}

// cmdDigest replies with the digest of a string value, null for a missing
// key.
func cmdDigest(c *Ctx) {
	e := c.Tx.Get(c.Args[1])
	switch {
	case e == nil:
		c.W.Null()
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	default:
		var buf [16]byte
		c.W.Bulk(appendDigest(buf[:0], e.Str))
	}
}

// cmdDelIfEq is Valkey's DELIFEQ key value: 1 when the string value equaled
// value and the key was deleted, 0 otherwise.
func cmdDelIfEq(c *Ctx) {
	key := c.Args[1]
	e := c.Tx.Get(key)
	switch {
	case e == nil:
		c.W.Int(0)
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	case bytes.Equal(e.Str, c.Args[2]):
		c.Tx.Delete(key)
		c.notify(notifyGeneric, "del", key)
		c.W.Int(1)
	default:
		c.W.Int(0)
	}
}

// cmdCas is CAS key expected new [EX seconds | PX milliseconds]: when the
// string value equals expected it becomes new and the reply is 1; a
// mismatch is 0 and a missing key -1. Like SET, a successful swap replaces
// the TTL: the key keeps none unless EX or PX gives one (expiry values
// follow SET's rules and error texts).
func cmdCas(c *Ctx) {
	kind := setExpiryNone
	var expArg []byte
	for j := 4; j < len(c.Args); j += 2 {
		opt := c.Args[j]
		switch {
		case kind != setExpiryNone || j+1 >= len(c.Args):
			c.W.Error(errSyntax)
			return
		case eqFold(opt, "ex"):
			kind = setExpiryEX
		case eqFold(opt, "px"):
			kind = setExpiryPX
		default:
			c.W.Error(errSyntax)
			return
		}
		expArg = c.Args[j+1]
	}
	var at int64
	if kind != setExpiryNone {
		var msg string
		if at, msg = stringExpireAt(expArg, kind, c.Tx.Now(), c.Spec.FullName()); msg != "" {
			c.W.Error(msg)
			return
		}
	}
	key := c.Args[1]
	e := c.Tx.Get(key)
	switch {
	case e == nil:
		c.W.Int(-1)
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	case bytes.Equal(e.Str, c.Args[2]):
		c.Tx.SetString(key, c.Args[3], at)
		c.notify(notifyString, "set", key)
		if at != 0 {
			c.notify(notifyGeneric, "expire", key)
		}
		c.W.Int(1)
	default:
		c.W.Int(0)
	}
}

// cmdCad is CAD key expected: 1 when the string value equaled expected and
// the key was deleted, 0 on a mismatch, -1 for a missing key.
func cmdCad(c *Ctx) {
	key := c.Args[1]
	e := c.Tx.Get(key)
	switch {
	case e == nil:
		c.W.Int(-1)
	case e.Type != store.TypeString:
		c.W.Error(errWrongType)
	case bytes.Equal(e.Str, c.Args[2]):
		c.Tx.Delete(key)
		c.notify(notifyGeneric, "del", key)
		c.W.Int(1)
	default:
		c.W.Int(0)
	}
}

// cairnSince is the Since of Cairn's own commands: the first Cairn version.
const cairnSince = "0.1.0"

var casCommands = []*Spec{
	{Name: "delex", KeySpecs: []KeySpec{ksRange("RW access delete", 1, 0, 1, 0)}, Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "8.4.0", Summary: "Conditionally removes the specified key based on value or digest comparison.",
		Complexity: "O(1) for IFEQ/IFNE, O(N) for IFDEQ/IFDNE where N is the length of the string value.", Handler: cmdDelex},
	{Name: "digest", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "8.4.0", Summary: "Returns the XXH3 hash of a string value.",
		Complexity: "O(N) where N is the length of the string value.", Handler: cmdDigest},
	{Name: "delifeq", KeySpecs: []KeySpec{ksRange("RW access delete", 1, 0, 1, 0)}, Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: "9.0.0", Summary: "Deletes the key if its value matches the given string.",
		Complexity: "O(1)", Handler: cmdDelIfEq},
	{Name: "cas", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: cairnSince,
		Summary:    "Sets a string key to a new value if it holds the expected one (1 swapped, 0 mismatch, -1 missing); clears the TTL unless EX or PX is given.",
		Complexity: "O(N) where N is the length of the expected value.", Handler: cmdCas},
	{Name: "cad", KeySpecs: []KeySpec{ksRange("RW access delete", 1, 0, 1, 0)}, Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatString,
		Group: "string", Since: cairnSince,
		Summary:    "Deletes a string key if it holds the expected value (1 deleted, 0 mismatch, -1 missing).",
		Complexity: "O(N) where N is the length of the expected value.", Handler: cmdCad},
}
