package commands

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"cairn/resp"
)

// Cairn's client-output-buffer-limit default. Redis's normal class is
// "0 0 0" (no limit); Cairn's "0 1 60" closes a client that leaves any
// reply unwritten for more than 60 s, so a client that never reads cannot
// hold its connection goroutine and socket buffers forever. The replica and
// pubsub classes are Redis's, kept for CONFIG GET/SET only: Cairn has no
// such clients.
const defaultOutputLimits = "normal 0 1 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60"

// outputLimitClasses are the classes in the order CONFIG GET prints them.
var outputLimitClasses = [3]string{"normal", "slave", "pubsub"}

// outputLimit is one class's hard limit, soft limit and soft seconds as
// Redis stores them (unsigned long long, unsigned long long, int).
type outputLimit struct {
	hard, soft uint64
	seconds    int32
}

// parseOutputLimits applies a client-output-buffer-limit value (Redis 7.0
// setConfigClientOutputBufferLimitOption) to the current canonical value:
// groups of <class> <hard> <soft> <seconds>, a later group of a class
// replacing an earlier one, classes not named unchanged, nothing changed on
// any error. It returns the new canonical value, or the error suffix.
func parseOutputLimits(current, v string) (string, string) {
	limits := outputLimitsOf(current)
	var f []string // split at each space, empty fields included (sdssplitlen)
	if v != "" {
		f = strings.Split(v, " ")
	}
	if len(f)%4 != 0 {
		return "", "Wrong number of arguments in buffer limit configuration."
	}
	for i := 0; i < len(f); i += 4 {
		class := -1
		switch strings.ToLower(f[i]) {
		case "normal":
			class = 0
		case "slave", "replica":
			class = 1
		case "pubsub":
			class = 2
		}
		if class < 0 {
			return "", "Invalid client class specified in buffer limit configuration."
		}
		hard, okHard := memToUint(f[i+1])
		soft, okSoft := memToUint(f[i+2])
		seconds, okSeconds := secondsOf(f[i+3])
		if !okHard || !okSoft || !okSeconds {
			return "", "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
		limits[class] = outputLimit{hard, soft, seconds}
	}
	out := make([]string, len(limits))
	for i, l := range limits {
		out[i] = fmt.Sprintf("%s %d %d %d", outputLimitClasses[i], l.hard, l.soft, l.seconds)
	}
	return strings.Join(out, " "), ""
}

// outputLimitsOf parses a canonical value (four fields per class, in
// outputLimitClasses order).
func outputLimitsOf(canonical string) [3]outputLimit {
	var limits [3]outputLimit
	f := strings.Fields(canonical)
	for i := range limits {
		limits[i].hard, _ = strconv.ParseUint(f[4*i+1], 10, 64)
		limits[i].soft, _ = strconv.ParseUint(f[4*i+2], 10, 64)
		s, _ := strconv.ParseInt(f[4*i+3], 10, 32)
		limits[i].seconds = int32(s)
	}
	return limits
}

// normalOutputLimit is the normal class of a canonical value, for the wire
// server.
func normalOutputLimit(canonical string) resp.OutputLimit {
	l := outputLimitsOf(canonical)[0]
	clamp := func(n uint64) int64 { return int64(min(n, math.MaxInt64)) }
	return resp.OutputLimit{Hard: clamp(l.hard), Soft: clamp(l.soft), SoftSeconds: time.Duration(l.seconds) * time.Second}
}

// memToUint is Redis's memtoull: digits (none, even an empty string, reads as 0; too many clamp
// to the maximum, as strtoull) and an optional unit b, k, kb, m, mb, g, gb
// in any case; the product wraps as in C.
func memToUint(s string) (uint64, bool) {
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	var mul uint64
	switch strings.ToLower(s[digits:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if digits >= 128 {
		return 0, false
	}
	n := uint64(0)
	if digits > 0 {
		var err error
		if n, err = strconv.ParseUint(s[:digits], 10, 64); err != nil {
			n = math.MaxUint64
		}
	}
	return n * mul, true
}

// secondsOf is Redis's strtoll into an int, which must not be negative:
// an optional sign and digits, out of range values clamped to the int64
// range and then truncated to 32 bits as C does.
func secondsOf(s string) (int32, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		ne, ok := err.(*strconv.NumError)
		if !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
		n = math.MaxInt64
		if s[0] == '-' {
			n = math.MinInt64
		}
	}
	if int32(n) < 0 {
		return 0, false
	}
	return int32(n), true
}
