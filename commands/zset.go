package commands

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"unsafe"

	"cairn/store"
	"cairn/zset"
)

// Sorted sets: ZADD, ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZCOUNT, ZLEXCOUNT,
// ZRANK, ZREVRANK, ZREM, ZRANDMEMBER and ZSCAN, as Redis 7.0's t_zset.c
// (plus ZRANK/ZREVRANK WITHSCORE from 7.2). The ZRANGE family, ZRANGESTORE
// and ZREMRANGEBY* are in zset_range.go.
//
// A handler reads the live index (Entry.Z) directly and writes only through
// the store's Tx.ZAdd, Tx.ZRem, Tx.Put and Tx.Delete, so Pebble and the
// index stay in step. Ranks and counts come from the index's
// order-statistic queries (O(log n)), never from walking members.
//
// Scores: -0 is stored as +0 (see package zset), which is what a small
// (listpack-encoded) Redis set does; a large Redis set keeps -0 and replies
// "-0" where Cairn replies "0". A score computed by ZINCRBY or ZADD INCR on
// a new member is replied as computed, so "ZINCRBY k -0 m" replies "-0" as
// Redis does.

// zsetAt returns key's entry when it is missing (nil) or a sorted set;
// otherwise it replies WRONGTYPE and returns ok == false.
func zsetAt(c *Ctx, key []byte) (e *store.Entry, ok bool) {
	e = c.Tx.Get(key)
	if e != nil && e.Type != store.TypeZSet {
		c.W.Error(errWrongType)
		return nil, false
	}
	return e, true
}

// memberString views an argument as a string without copying, for index
// lookups that do not keep it.
func memberString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// zaddOpts are ZADD's options (ZINCRBY is ZADD INCR).
type zaddOpts struct {
	nx, xx, gt, lt, ch, incr bool
}

func cmdZAdd(c *Ctx) {
	var o zaddOpts
	i := 2
options:
	for ; i < len(c.Args); i++ {
		switch a := c.Args[i]; {
		case eqFold(a, "nx"):
			o.nx = true
		case eqFold(a, "xx"):
			o.xx = true
		case eqFold(a, "ch"):
			o.ch = true
		case eqFold(a, "incr"):
			o.incr = true
		case eqFold(a, "gt"):
			o.gt = true
		case eqFold(a, "lt"):
			o.lt = true
		default:
			break options
		}
	}
	zaddGeneric(c, o, i)
}

func cmdZIncrBy(c *Ctx) { zaddGeneric(c, zaddOpts{incr: true}, 2) }

// zaddGeneric is zaddGenericCommand: the score-member pairs start at
// c.Args[first]. Checks, in Redis's order: pairs present and even, option
// conflicts, INCR with one pair, every score, then the key's type. Nothing
// is written unless all of them pass. A member is rewritten only when its
// score changes.
func zaddGeneric(c *Ctx, o zaddOpts, first int) {
	n := len(c.Args) - first
	if n == 0 || n%2 != 0 {
		c.W.Error(errSyntax)
		return
	}
	n /= 2
	switch {
	case o.nx && o.xx:
		c.W.Error(errZAddXXNX)
		return
	case (o.gt || o.lt) && o.nx, o.gt && o.lt:
		c.W.Error(errZAddGTLTNX)
		return
	case o.incr && n > 1:
		c.W.Error(errZAddIncrPair)
		return
	}
	var buf [8]float64
	scores := buf[:0]
	for j := range n {
		f, err := zset.ParseScore(c.Args[first+2*j])
		if err != nil {
			c.W.Error(errNotFloat)
			return
		}
		scores = append(scores, f)
	}
	key := c.Args[1]
	e, ok := zsetAt(c, key)
	if !ok {
		return
	}
	var added, updated, processed int64
	var score float64 // the last processed member's new score (INCR's reply)
	if e != nil || !o.xx {
		for j, s := range scores {
			member := c.Args[first+2*j+1]
			var cur float64
			exists := false
			if e != nil {
				cur, exists = e.Z.Score(memberString(member))
			}
			switch {
			case exists:
				if o.nx {
					continue
				}
				if o.incr {
					s += cur
					if s != s {
						c.W.Error(errZScoreNaN)
						return
					}
				}
				if (o.lt && s >= cur) || (o.gt && s <= cur) {
					continue
				}
				if s != cur {
					c.Tx.ZAdd(key, member, s)
					updated++
				}
			case o.xx:
				continue
			default:
				c.Tx.ZAdd(key, member, s)
				added++
				if e == nil {
					e = c.Tx.Get(key)
				}
			}
			processed++
			score = s
		}
	}
	if added+updated > 0 {
		if o.incr {
			c.notify(notifyZset, "zincr", key)
		} else {
			c.notify(notifyZset, "zadd", key)
		}
	}
	switch {
	case o.incr && processed > 0:
		c.W.Double(score)
	case o.incr:
		c.W.Null()
	case o.ch:
		c.W.Int(added + updated)
	default:
		c.W.Int(added)
	}
}

func cmdZScore(c *Ctx) {
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	if e == nil {
		c.W.Null()
		return
	}
	if f, found := e.Z.Score(memberString(c.Args[2])); found {
		c.W.Double(f)
	} else {
		c.W.Null()
	}
}

func cmdZMScore(c *Ctx) {
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if e == nil {
			c.W.Null()
			continue
		}
		if f, found := e.Z.Score(memberString(m)); found {
			c.W.Double(f)
		} else {
			c.W.Null()
		}
	}
}

func cmdZCard(c *Ctx) {
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(e.Z.Len()))
}

// cmdZCount parses the range before looking at the key, as Redis.
func cmdZCount(c *Ctx) {
	r, err := zset.ParseScoreRange(c.Args[2], c.Args[3])
	if err != nil {
		c.W.Error(errZScoreRange)
		return
	}
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(e.Z.CountInScoreRange(r)))
}

func cmdZLexCount(c *Ctx) {
	r, err := zset.ParseLexRange(c.Args[2], c.Args[3])
	if err != nil {
		c.W.Error(errZLexRange)
		return
	}
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	first, last := e.Z.LexRangeRanks(r)
	c.W.Int(int64(max(last-first+1, 0)))
}

func cmdZRank(c *Ctx)    { zrankGeneric(c, false) }
func cmdZRevRank(c *Ctx) { zrankGeneric(c, true) }

// zrankGeneric is ZRANK/ZREVRANK key member [WITHSCORE] (WITHSCORE and the
// -3 arity are Redis 7.2's): more than one option is an arity error and an
// unknown option a syntax error, both checked before the key; a missing
// key or member is a null, or a null array with WITHSCORE.
func zrankGeneric(c *Ctx, rev bool) {
	if len(c.Args) > 4 {
		c.W.Error(errArity(c.Spec.FullName()))
		return
	}
	withScore := false
	if len(c.Args) == 4 {
		if !eqFold(c.Args[3], "withscore") {
			c.W.Error(errSyntax)
			return
		}
		withScore = true
	}
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	var rank int
	found := false
	if e != nil {
		rank, found = e.Z.Rank(memberString(c.Args[2]))
	}
	switch {
	case !found && withScore:
		c.W.NullArray()
		return
	case !found:
		c.W.Null()
		return
	}
	if rev {
		rank = e.Z.Len() - 1 - rank
	}
	if !withScore {
		c.W.Int(int64(rank))
		return
	}
	score, _ := e.Z.Score(memberString(c.Args[2]))
	c.W.Array(2)
	c.W.Int(int64(rank))
	c.W.Double(score)
}

// cmdZRem removes members; the store deletes the key with its last member.
func cmdZRem(c *Ctx) {
	key := c.Args[1]
	e, ok := zsetAt(c, key)
	if !ok {
		return
	}
	var n int64
	if e != nil {
		for _, m := range c.Args[2:] {
			if c.Tx.ZRem(key, m) {
				n++
			}
		}
	}
	if n > 0 {
		c.notifyZsetRemoved("zrem", key)
	}
	c.W.Int(n)
}

// zrandMaxRepeat bounds the reply of ZRANDMEMBER with a negative count
// (members may repeat, so the set's size does not bound it). Redis 7.0 has
// no bound without WITHSCORES and would try to build the whole reply; Cairn
// answers a larger count with "ERR value is out of range" instead.
const zrandMaxRepeat = 1 << 24

// cmdZRandMember is zrandmemberCommand: the count is checked (an integer,
// not LONG_MIN), then the WITHSCORES option, then the key.
func cmdZRandMember(c *Ctx) {
	if len(c.Args) < 3 {
		e, ok := zsetAt(c, c.Args[1])
		if !ok {
			return
		}
		if e == nil {
			c.W.Null()
			return
		}
		m, _ := e.Z.ByRank(rand.IntN(e.Z.Len()))
		c.W.BulkString(m)
		return
	}
	count, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	if count == math.MinInt64 {
		c.W.Error(errZRandCount)
		return
	}
	withScores := false
	switch {
	case len(c.Args) > 4 || (len(c.Args) == 4 && !eqFold(c.Args[3], "withscores")):
		c.W.Error(errSyntax)
		return
	case len(c.Args) == 4:
		withScores = true
		if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
			c.W.Error(errZRandScores)
			return
		}
	}
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	if e == nil || count == 0 {
		c.W.Array(0)
		return
	}
	z := e.Z
	size := int64(z.Len())
	switch {
	case count < 0 || count == 1:
		// With repetition (or one member): count independent picks.
		n := count
		if n < 0 {
			n = -n
		}
		if n > zrandMaxRepeat {
			c.W.Error(errZRandScores)
			return
		}
		zrandHeader(c, int(n), withScores)
		for range n {
			m, s := z.ByRank(rand.IntN(int(size)))
			zrandEmit(c, m, s, withScores)
		}
	case count >= size:
		// The whole set, from the highest rank down, as Redis 7.0 replies
		// it whatever the encoding.
		writeZRange(c, z, 0, int(size)-1, true, withScores)
	default:
		// count distinct members: Floyd's sampling of count ranks out of
		// size, then a shuffle so the order is random too.
		k := int(count)
		picked := make(map[int]struct{}, k)
		ranks := make([]int, 0, k)
		for j := int(size) - k; j < int(size); j++ {
			r := rand.IntN(j + 1)
			if _, dup := picked[r]; dup {
				r = j
			}
			picked[r] = struct{}{}
			ranks = append(ranks, r)
		}
		rand.Shuffle(len(ranks), func(a, b int) { ranks[a], ranks[b] = ranks[b], ranks[a] })
		zrandHeader(c, k, withScores)
		for _, r := range ranks {
			m, s := z.ByRank(r)
			zrandEmit(c, m, s, withScores)
		}
	}
}

// zrandHeader writes the array header of n members: a flat array of
// member, score pairs in RESP2, an array of pairs in RESP3.
func zrandHeader(c *Ctx, n int, withScores bool) {
	if withScores && c.W.Proto() == 2 {
		c.W.Array(2 * n)
	} else {
		c.W.Array(n)
	}
}

func zrandEmit(c *Ctx, m string, s float64, withScores bool) {
	if withScores && c.W.Proto() == 3 {
		c.W.Array(2)
	}
	c.W.BulkString(m)
	if withScores {
		c.W.Double(s)
	}
}

// ZSCAN. Redis 7.0 replies a small (listpack-encoded) set whole in one call
// with cursor 0, whatever the cursor, and walks a large one through its hash
// table. Cairn does the first for sets of up to zscanWholeSet members, byte
// for byte (scores in the listpack's text: integers up to 2^62 without
// exponent). A larger set is walked in (score, member) order, COUNT members
// per call, with scores as %.17g; the cursor (from the server's cursor
// table, in a namespace apart from SCAN's) means "resume after this (score,
// member)", so every member present for the whole iteration with an
// unchanged score is returned exactly once, whatever else is added or
// removed. A member whose score changes during the iteration may be missed
// or returned twice (Redis's hash order does not depend on the score). A
// cursor this server did not issue for this key is "ERR invalid cursor" on
// a large set.

// zscanWholeSet is Redis's default zset-max-listpack-entries.
const zscanWholeSet = 128

// zscanDB is the cursor-table namespace of ZSCAN cursors of db, disjoint
// from SCAN's (which uses db itself).
func zscanDB(db int) int { return -1 - db }

// zscanPos encodes "resume after (score, member) of key".
func zscanPos(key []byte, score float64, member string) string {
	b := binary.AppendUvarint(make([]byte, 0, 10+len(key)+8+len(member)), uint64(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(score))
	b = append(b, member...)
	return string(b)
}

// zscanUnpos decodes zscanPos; ok is false if it was made for another key.
func zscanUnpos(pos string, key []byte) (score float64, member string, ok bool) {
	n, w := binary.Uvarint([]byte(pos))
	if w <= 0 || n != uint64(len(key)) || len(pos) < w+len(key)+8 || pos[w:w+len(key)] != string(key) {
		return 0, "", false
	}
	rest := pos[w+len(key):]
	return math.Float64frombits(binary.BigEndian.Uint64([]byte(rest[:8]))), rest[8:], true
}

// zrankAfter returns the rank of the first member above (score, member),
// which need not be in z.
func zrankAfter(z *zset.Set, score float64, member string) int {
	if s, ok := z.Score(member); ok && s == score {
		r, _ := z.Rank(member)
		return r + 1
	}
	lo, _ := z.ScoreRangeRanks(zset.ScoreRange{Min: score, Max: math.Inf(1)})
	hi, _ := z.ScoreRangeRanks(zset.ScoreRange{Min: score, MinEx: true, Max: math.Inf(1)})
	for lo < hi { // members with this score, by member
		mid := int(uint(lo+hi) >> 1)
		if m, _ := z.ByRank(mid); m <= member {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// appendListpackScore appends a score as a Redis listpack holds it
// (d2string): an integral value within ±2^62 without exponent, otherwise
// %.17g.
func appendListpackScore(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && f >= -(1<<62) && f <= 1<<62 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return zset.FormatScore(dst, f)
}

// cmdZScan is ZSCAN key cursor [MATCH pattern] [COUNT count]: the cursor
// is parsed first, then the key is looked up (a missing key replies an
// empty scan without looking at the options), then the options.
func cmdZScan(c *Ctx) {
	cursor, ok := parseScanCursor(c.Args[2])
	if !ok {
		c.W.Error(errInvalidCursor)
		return
	}
	key := c.Args[1]
	e, ok := zsetAt(c, key)
	if !ok {
		return
	}
	if e == nil {
		c.W.Array(2)
		c.W.BulkString("0")
		c.W.Array(0)
		return
	}
	opts, msg := parseScanOptions(c.Args[3:], false)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	count, pat, usePattern := opts.count, opts.pat, opts.usePattern
	z := e.Z
	whole := z.Len() <= zscanWholeSet
	db := zscanDB(c.Tx.DB())
	start, stop := 0, z.Len()-1
	if !whole {
		if cursor != 0 {
			p, ok := c.Srv.cursors.lookup(cursor, db)
			var score float64
			var member string
			if ok {
				score, member, ok = zscanUnpos(p.after, key)
			}
			if !ok {
				c.W.Error(errInvalidCursor)
				return
			}
			start = zrankAfter(z, score, member)
		}
		if int64(stop-start+1) > count {
			stop = start + int(count) - 1
		}
	}
	var next uint64
	if stop < z.Len()-1 {
		m, s := z.ByRank(stop)
		next = c.Srv.cursors.issue(cursorPos{db: db, after: zscanPos(key, s, m)})
	}
	matched := 0
	if usePattern {
		z.Range(start, stop, false, func(m string, _ float64) bool {
			if globMatch(pat, stringBytes(m), false) {
				matched++
			}
			return true
		})
	} else {
		matched = max(stop-start+1, 0)
	}
	var num [32]byte
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(num[:0], next, 10))
	c.W.Array(2 * matched)
	z.Range(start, stop, false, func(m string, s float64) bool {
		if usePattern && !globMatch(pat, stringBytes(m), false) {
			return true
		}
		c.W.BulkString(m)
		if whole {
			c.W.Bulk(appendListpackScore(num[:0], s))
		} else {
			c.W.Bulk(zset.FormatScore(num[:0], s))
		}
		return true
	})
}

var zsetCommands = []*Spec{
	{Name: "zadd", KeySpecs: []KeySpec{ksRange("RW update", 1, 0, 1, 0)}, Arity: -4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Add one or more members to a sorted set, or update its score if it already exists",
		Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.", Handler: cmdZAdd},
	{Name: "zincrby", KeySpecs: []KeySpec{ksRange("RW access update", 1, 0, 1, 0)}, Arity: 4, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Increment the score of a member in a sorted set",
		Complexity: "O(log(N)) where N is the number of elements in the sorted set.", Handler: cmdZIncrBy},
	{Name: "zscore", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Get the score associated with the given member in a sorted set",
		Complexity: "O(1)", Handler: cmdZScore},
	{Name: "zmscore", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Get the score associated with the given members in a sorted set",
		Complexity: "O(N) where N is the number of members being requested.", Handler: cmdZMScore},
	{Name: "zcard", KeySpecs: []KeySpec{ksRange("RO", 1, 0, 1, 0)}, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Get the number of members in a sorted set",
		Complexity: "O(1)", Handler: cmdZCard},
	{Name: "zcount", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 4, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.0.0", Summary: "Count the members in a sorted set with scores within the given values",
		Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Handler: cmdZCount},
	{Name: "zlexcount", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: 4, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.8.9", Summary: "Count the number of members in a sorted set between a given lexicographical range",
		Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Handler: cmdZLexCount},
	// ZRANK and ZREVRANK take Redis 7.2's WITHSCORE, hence arity -3 (7.0: 3).
	{Name: "zrank", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.0.0", Summary: "Determine the index of a member in a sorted set",
		Complexity: "O(log(N))", Handler: cmdZRank},
	{Name: "zrevrank", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -3, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.0.0", Summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
		Complexity: "O(log(N))", Handler: cmdZRevRank},
	{Name: "zrange", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Return a range of members in a sorted set",
		Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", Handler: cmdZRange},
	{Name: "zrevrange", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
		Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", Handler: cmdZRevRange},
	{Name: "zrangebyscore", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.0.5", Summary: "Return a range of members in a sorted set, by score",
		Complexity: zrangeByComplexity, Handler: cmdZRangeByScore},
	{Name: "zrevrangebyscore", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.2.0", Summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
		Complexity: zrangeByComplexity, Handler: cmdZRevRangeByScore},
	{Name: "zrangebylex", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.8.9", Summary: "Return a range of members in a sorted set, by lexicographical range",
		Complexity: zrangeByComplexity, Handler: cmdZRangeByLex},
	{Name: "zrevrangebylex", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Arity: -4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.8.9", Summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
		Complexity: zrangeByComplexity, Handler: cmdZRevRangeByLex},
	{Name: "zrangestore", KeySpecs: []KeySpec{
		ksRange("OW update", 1, 0, 1, 0),
		ksRange("RO access", 2, 0, 1, 0),
	}, Arity: -5, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Store a range of members from sorted set into another key",
		Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", Handler: cmdZRangeStore},
	{Name: "zrem", KeySpecs: []KeySpec{ksRange("RW delete", 1, 0, 1, 0)}, Arity: -3, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Remove one or more members from a sorted set",
		Complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", Handler: cmdZRem},
	{Name: "zremrangebyrank", KeySpecs: []KeySpec{ksRange("RW delete", 1, 0, 1, 0)}, Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.0.0", Summary: "Remove all members in a sorted set within the given indexes",
		Complexity: zremrangeComplexity, Handler: cmdZRemRangeByRank},
	{Name: "zremrangebyscore", KeySpecs: []KeySpec{ksRange("RW delete", 1, 0, 1, 0)}, Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "1.2.0", Summary: "Remove all members in a sorted set within the given scores",
		Complexity: zremrangeComplexity, Handler: cmdZRemRangeByScore},
	{Name: "zremrangebylex", KeySpecs: []KeySpec{ksRange("RW delete", 1, 0, 1, 0)}, Arity: 4, Flags: Write, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.8.9", Summary: "Remove all members in a sorted set between the given lexicographical range",
		Complexity: zremrangeComplexity, Handler: cmdZRemRangeByLex},
	{Name: "zrandmember", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Tips: []string{"nondeterministic_output"}, Arity: -2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "6.2.0", Summary: "Get one or multiple random elements from a sorted set",
		Complexity: "O(N) where N is the number of elements returned", Handler: cmdZRandMember},
	{Name: "zscan", KeySpecs: []KeySpec{ksRange("RO access", 1, 0, 1, 0)}, Tips: []string{"nondeterministic_output"}, Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, ACL: CatSortedSet,
		Group: "sorted-set", Since: "2.8.0", Summary: "Incrementally iterate sorted sets elements and associated scores",
		Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
		Handler:    cmdZScan},
}

const (
	zrangeByComplexity  = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."
	zremrangeComplexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."
)
