package commands

import (
	"strconv"

	"cairn/store"
)

// OBJECT introspects a key without counting as an access to it (Redis's
// LOOKUP_NOTOUCH). A missing key answers a null reply.

const (
	errNoLFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errLFU = "ERR An LFU maxmemory policy is selected, idle time not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

// Redis 7.0 encodings: a string of an integer that fits in a long is
// "int", a string up to 44 bytes "embstr", longer "raw"; a sorted set of at
// most zset-max-listpack-entries (128) members of at most
// zset-max-listpack-value (64) bytes is "listpack", else "skiplist".
// Cairn derives the name from the value (Redis also remembers how the
// object was made: APPEND makes a short string "raw").
const (
	embstrMaxLen      = 44
	listpackEntries   = 128
	listpackValue     = 64
	sharedIntegers    = 10000      // Redis OBJ_SHARED_INTEGERS
	sharedRefcount    = 2147483647 // Redis OBJ_SHARED_REFCOUNT
	maxIntEncodingLen = 20
)

func objectEntry(c *Ctx) *store.Entry {
	e := c.Tx.Peek(c.Args[2])
	if e == nil {
		c.W.Null()
	}
	return e
}

func cmdObjectEncoding(c *Ctx) {
	if e := objectEntry(c); e != nil {
		c.W.Bulk([]byte(encoding(e)))
	}
}

func encoding(e *store.Entry) string {
	if e.Type == store.TypeZSet {
		if e.Z.Len() > listpackEntries {
			return "skiplist"
		}
		long := false
		e.Z.Members(func(m string, _ float64) bool { long = len(m) > listpackValue; return !long })
		if long {
			return "skiplist"
		}
		return "listpack"
	}
	if _, ok := intValue(e.Str); ok {
		return "int"
	}
	if len(e.Str) <= embstrMaxLen {
		return "embstr"
	}
	return "raw"
}

// intValue reports whether s is a string Redis stores as an integer
// (string2l: canonical decimal of a long, at most 20 bytes).
func intValue(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > maxIntEncodingLen {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(s) {
		return 0, false
	}
	return n, true
}

func cmdObjectFreq(c *Ctx) {
	e := objectEntry(c)
	if e == nil {
		return
	}
	if !c.Tx.Memory().Policy.LFU() {
		c.W.Error(errNoLFU)
		return
	}
	c.W.Int(int64(c.Tx.Freq(e)))
}

func cmdObjectIdletime(c *Ctx) {
	e := objectEntry(c)
	if e == nil {
		return
	}
	if c.Tx.Memory().Policy.LFU() {
		c.W.Error(errLFU)
		return
	}
	c.W.Int(c.Tx.IdleMillis(e) / 1000)
}

// cmdObjectRefcount answers 1, or Redis's shared-object count for the
// small integers Redis shares (0..9999, unless an LRU or LFU policy with a
// limit makes every key its own object).
func cmdObjectRefcount(c *Ctx) {
	e := objectEntry(c)
	if e == nil {
		return
	}
	if e.Type == store.TypeString {
		m := c.Tx.Memory()
		lruOrLFU := m.Policy != store.NoEviction && m.Policy != store.AllKeysRandom &&
			m.Policy != store.VolatileRandom && m.Policy != store.VolatileTTL
		if n, ok := intValue(e.Str); ok && n >= 0 && n < sharedIntegers && (m.MaxMemory == 0 || !lruOrLFU) {
			c.W.Int(sharedRefcount)
			return
		}
	}
	c.W.Int(1)
}

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

func cmdObjectHelp(c *Ctx) { writeHelp(c.W, "OBJECT", objectHelp) }

var objectKeySpecs = []KeySpec{ksRange("RO", 2, 0, 1, 0)}

var objectCommands = []*Spec{
	{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands",
		Complexity: "Depends on subcommand.", Sub: []*Spec{
			{Name: "help", Arity: 2, Flags: Loading | Stale, ACL: CatKeyspace, Group: "generic", Since: "6.2.0",
				Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: cmdObjectHelp},
			{Name: "encoding", KeySpecs: objectKeySpecs, Tips: []string{"nondeterministic_output"}, Arity: 3, Flags: ReadOnly,
				FirstKey: 2, LastKey: 2, Step: 1, ACL: CatKeyspace, Group: "generic", Since: "2.2.3",
				Summary: "Inspect the internal encoding of a Redis object", Complexity: "O(1)", Handler: cmdObjectEncoding},
			{Name: "freq", KeySpecs: objectKeySpecs, Tips: []string{"nondeterministic_output"}, Arity: 3, Flags: ReadOnly,
				FirstKey: 2, LastKey: 2, Step: 1, ACL: CatKeyspace, Group: "generic", Since: "4.0.0",
				Summary: "Get the logarithmic access frequency counter of a Redis object", Complexity: "O(1)", Handler: cmdObjectFreq},
			{Name: "idletime", KeySpecs: objectKeySpecs, Tips: []string{"nondeterministic_output"}, Arity: 3, Flags: ReadOnly,
				FirstKey: 2, LastKey: 2, Step: 1, ACL: CatKeyspace, Group: "generic", Since: "2.2.3",
				Summary: "Get the time since a Redis object was last accessed", Complexity: "O(1)", Handler: cmdObjectIdletime},
			{Name: "refcount", KeySpecs: objectKeySpecs, Tips: []string{"nondeterministic_output"}, Arity: 3, Flags: ReadOnly,
				FirstKey: 2, LastKey: 2, Step: 1, ACL: CatKeyspace, Group: "generic", Since: "2.2.3",
				Summary: "Get the number of references to the value of the key", Complexity: "O(1)", Handler: cmdObjectRefcount},
		}},
}
