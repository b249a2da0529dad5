package commands

import (
	"cairn/store"
	"cairn/zset"
)

// Range queries over sorted sets: ZRANGE (with BYSCORE, BYLEX, REV, LIMIT,
// WITHSCORES), ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX, ZRANGESTORE
// and ZREMRANGEBYRANK/SCORE/LEX, as Redis 7.0's zrangeGenericCommand and
// zremrangeGenericCommand. Every query is turned into a span of ascending
// ranks in O(log n) (ScoreRangeRanks, LexRangeRanks, LIMIT arithmetic) and
// the members in it are then visited in O(k).

// zrangeBy is what a range is given by.
type zrangeBy uint8

const (
	zrangeByAuto zrangeBy = iota // ZRANGE/ZRANGESTORE: BYSCORE or BYLEX may follow
	zrangeByRank
	zrangeByScore
	zrangeByLex
)

// zrangeDir is the direction of a range.
type zrangeDir uint8

const (
	zrangeDirAuto zrangeDir = iota // ZRANGE/ZRANGESTORE: REV may follow
	zrangeDirForward
	zrangeDirReverse
)

// zrangeReq is a parsed range request.
type zrangeReq struct {
	by          zrangeBy // never zrangeByAuto after parsing
	rev         bool
	withScores  bool
	start, stop int64 // by rank
	score       zset.ScoreRange
	lex         zset.LexRange
	offset      int64
	limit       int64 // -1: no limit (also when given as -1, as Redis)
}

// parseZRange parses a ZRANGE-family command whose source key is
// c.Args[src], followed by min and max and the options, as Redis 7.0's
// zrangeGenericCommand: options left to right (a bad LIMIT number answers at
// once), then the LIMIT and WITHSCORES conflicts, then min and max (given as
// max, min when reversed by score or lex). It returns the error to reply,
// or "".
func parseZRange(args [][]byte, src int, store bool, by zrangeBy, dir zrangeDir) (zrangeReq, string) {
	q := zrangeReq{limit: -1}
	for j := src + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && eqFold(a, "withscores"):
			q.withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok bool
			if q.offset, ok = parseInt(args[j+1]); !ok {
				return q, errNotInt
			}
			if q.limit, ok = parseInt(args[j+2]); !ok {
				return q, errNotInt
			}
			j += 2
		case dir == zrangeDirAuto && eqFold(a, "rev"):
			dir = zrangeDirReverse
		case by == zrangeByAuto && eqFold(a, "bylex"):
			by = zrangeByLex
		case by == zrangeByAuto && eqFold(a, "byscore"):
			by = zrangeByScore
		default:
			return q, errSyntax
		}
	}
	if by == zrangeByAuto {
		by = zrangeByRank
	}
	q.by, q.rev = by, dir == zrangeDirReverse
	if q.limit != -1 && by == zrangeByRank {
		return q, errZRangeLimit
	}
	if q.withScores && by == zrangeByLex {
		return q, errZRangeLexScores
	}
	min, max := args[src+1], args[src+2]
	if q.rev && by != zrangeByRank {
		min, max = max, min
	}
	var err error
	switch by {
	case zrangeByRank:
		var ok1, ok2 bool
		q.start, ok1 = parseInt(min)
		if ok1 {
			q.stop, ok2 = parseInt(max)
		}
		if !ok1 || !ok2 {
			return q, errNotInt
		}
	case zrangeByScore:
		if q.score, err = zset.ParseScoreRange(min, max); err != nil {
			return q, errZScoreRange
		}
	case zrangeByLex:
		if q.lex, err = zset.ParseLexRange(min, max); err != nil {
			return q, errZLexRange
		}
	}
	return q, ""
}

// rankSpan sanitizes ZRANGE/ZREMRANGEBYRANK indexes as Redis: negative
// ones count from the end, start is clamped to 0 and stop to the last rank.
// It returns the ascending ranks [lo, hi] (lo > hi when empty); rev makes
// them count from the highest score.
func rankSpan(start, stop int64, n int, rev bool) (lo, hi int) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, -1
	}
	stop = min(stop, ln-1)
	if rev {
		return int(ln - 1 - stop), int(ln - 1 - start)
	}
	return int(start), int(stop)
}

// limitSpan applies LIMIT offset count to the ascending ranks [first,
// last] of a score or lex range, counting from first (or, reversed, from
// last), as Redis: a negative offset or one past the set selects nothing, a
// negative count means no limit.
func limitSpan(first, last int, offset, limit int64, rev bool, n int) (lo, hi int) {
	if first > last || offset < 0 || (offset > 0 && offset >= int64(n)) {
		return 0, -1
	}
	cnt := int64(last-first+1) - offset
	if limit >= 0 && limit < cnt {
		cnt = limit
	}
	if cnt <= 0 {
		return 0, -1
	}
	if rev {
		hi = last - int(offset)
		return hi - int(cnt) + 1, hi
	}
	lo = first + int(offset)
	return lo, lo + int(cnt) - 1
}

// span returns the ascending ranks of z that q selects.
func (q *zrangeReq) span(z *zset.Set) (lo, hi int) {
	var first, last int
	switch q.by {
	case zrangeByRank:
		return rankSpan(q.start, q.stop, z.Len(), q.rev)
	case zrangeByScore:
		first, last = z.ScoreRangeRanks(q.score)
	default:
		first, last = z.LexRangeRanks(q.lex)
	}
	return limitSpan(first, last, q.offset, q.limit, q.rev, z.Len())
}

// writeZRange replies the members of ascending ranks [lo, hi], from hi
// down when rev: an array of members, or with scores a flat array of
// member, score in RESP2 and an array of [member, score] pairs in RESP3.
func writeZRange(c *Ctx, z *zset.Set, lo, hi int, rev, withScores bool) {
	n := max(hi-lo+1, 0)
	w := c.W
	pairs := withScores && w.Proto() == 3
	if withScores && !pairs {
		w.Array(2 * n)
	} else {
		w.Array(n)
	}
	z.Range(lo, hi, rev, func(m string, s float64) bool {
		if pairs {
			w.Array(2)
		}
		w.BulkString(m)
		if withScores {
			w.Double(s)
		}
		return true
	})
}

// zrangeGeneric runs a ZRANGE-family read command.
func zrangeGeneric(c *Ctx, by zrangeBy, dir zrangeDir) {
	q, msg := parseZRange(c.Args, 1, false, by, dir)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	e, ok := zsetAt(c, c.Args[1])
	if !ok {
		return
	}
	if e == nil {
		c.W.Array(0)
		return
	}
	lo, hi := q.span(e.Z)
	writeZRange(c, e.Z, lo, hi, q.rev, q.withScores)
}

func cmdZRange(c *Ctx)           { zrangeGeneric(c, zrangeByAuto, zrangeDirAuto) }
func cmdZRevRange(c *Ctx)        { zrangeGeneric(c, zrangeByRank, zrangeDirReverse) }
func cmdZRangeByScore(c *Ctx)    { zrangeGeneric(c, zrangeByScore, zrangeDirForward) }
func cmdZRevRangeByScore(c *Ctx) { zrangeGeneric(c, zrangeByScore, zrangeDirReverse) }
func cmdZRangeByLex(c *Ctx)      { zrangeGeneric(c, zrangeByLex, zrangeDirForward) }
func cmdZRevRangeByLex(c *Ctx)   { zrangeGeneric(c, zrangeByLex, zrangeDirReverse) }
func cmdZRemRangeByRank(c *Ctx)  { zremrangeGeneric(c, zrangeByRank) }
func cmdZRemRangeByScore(c *Ctx) { zremrangeGeneric(c, zrangeByScore) }
func cmdZRemRangeByLex(c *Ctx)   { zremrangeGeneric(c, zrangeByLex) }

// cmdZRangeStore is ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV]
// [LIMIT offset count]: the selected members and scores replace dst (its
// TTL goes too); an empty selection, or a missing src, deletes dst. The
// reply is the number of members stored. dst's type does not matter.
func cmdZRangeStore(c *Ctx) {
	dst := c.Args[1]
	q, msg := parseZRange(c.Args, 2, true, zrangeByAuto, zrangeDirAuto)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	e, ok := zsetAt(c, c.Args[2])
	if !ok {
		return
	}
	lo, hi := 0, -1
	if e != nil {
		lo, hi = q.span(e.Z)
	}
	if lo > hi {
		if c.Tx.Delete(dst) {
			c.notify(notifyGeneric, "del", dst)
		}
		c.W.Int(0)
		return
	}
	z := zset.New()
	e.Z.Range(lo, hi, false, func(m string, s float64) bool {
		z.Add(m, s)
		return true
	})
	c.Tx.Put(dst, &store.Entry{Type: store.TypeZSet, Z: z})
	c.notify(notifyZset, "zrangestore", dst)
	c.W.Int(int64(z.Len()))
}

// zremrangeGeneric is ZREMRANGEBYRANK/SCORE/LEX key min max: the range is
// parsed first, then the key; the reply is the number of members removed,
// and a set left empty is deleted.
func zremrangeGeneric(c *Ctx, by zrangeBy) {
	q := zrangeReq{by: by, limit: -1}
	var ok bool
	var err error
	switch by {
	case zrangeByRank:
		var ok2 bool
		q.start, ok = parseInt(c.Args[2])
		if ok {
			q.stop, ok2 = parseInt(c.Args[3])
		}
		if !ok || !ok2 {
			c.W.Error(errNotInt)
			return
		}
	case zrangeByScore:
		if q.score, err = zset.ParseScoreRange(c.Args[2], c.Args[3]); err != nil {
			c.W.Error(errZScoreRange)
			return
		}
	default:
		if q.lex, err = zset.ParseLexRange(c.Args[2], c.Args[3]); err != nil {
			c.W.Error(errZLexRange)
			return
		}
	}
	key := c.Args[1]
	e, ok := zsetAt(c, key)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	z := e.Z
	lo, hi := q.span(z)
	if lo > hi {
		c.W.Int(0)
		return
	}
	n := hi - lo + 1
	if n == z.Len() {
		c.Tx.Delete(key)
		c.notifyZsetRemoved(c.Spec.FullName(), key)
		c.W.Int(int64(n))
		return
	}
	members := make([]string, 0, n)
	z.Range(lo, hi, false, func(m string, _ float64) bool {
		members = append(members, m)
		return true
	})
	for _, m := range members {
		c.Tx.ZRem(key, stringBytes(m))
	}
	c.notifyZsetRemoved(c.Spec.FullName(), key)
	c.W.Int(int64(n))
}
