package commands

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"cairn/resp"
)

// go-redis/redis_rate v10.0.1's GCRA scripts (lua.go), byte for byte.
// They read TIME, so their replies are compared with redis-server's with a
// tolerance on the time-derived fields (see TestScript_DiffRedisRate).
const (
	redisRateAllowN = `
-- this script has side-effects, so it requires replicate commands mode
redis.replicate_commands()

local rate_limit_key = KEYS[1]
local burst = ARGV[1]
local rate = ARGV[2]
local period = ARGV[3]
local cost = tonumber(ARGV[4])

local emission_interval = period / rate
local increment = emission_interval * cost
local burst_offset = emission_interval * burst

-- redis returns time as an array containing two integers: seconds of the epoch
-- time (10 digits) and microseconds (6 digits). for convenience we need to
-- convert them to a floating point number. the resulting number is 16 digits,
-- bordering on the limits of a 64-bit double-precision floating point number.
-- adjust the epoch to be relative to Jan 1, 2017 00:00:00 GMT to avoid floating
-- point problems. this approach is good until "now" is 2,483,228,799 (Wed, 09
-- Sep 2048 01:46:39 GMT), when the adjusted value is 16 digits.
local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)

local tat = redis.call("GET", rate_limit_key)

if not tat then
  tat = now
else
  tat = tonumber(tat)
end

tat = math.max(tat, now)

local new_tat = tat + increment
local allow_at = new_tat - burst_offset

local diff = now - allow_at
local remaining = diff / emission_interval

if remaining < 0 then
  local reset_after = tat - now
  local retry_after = diff * -1
  return {
    0, -- allowed
    0, -- remaining
    tostring(retry_after),
    tostring(reset_after),
  }
end

local reset_after = new_tat - now
if reset_after > 0 then
  redis.call("SET", rate_limit_key, new_tat, "EX", math.ceil(reset_after))
end
local retry_after = -1
return {cost, remaining, tostring(retry_after), tostring(reset_after)}
`
	redisRateAllowAtMost = `
-- this script has side-effects, so it requires replicate commands mode
redis.replicate_commands()

local rate_limit_key = KEYS[1]
local burst = ARGV[1]
local rate = ARGV[2]
local period = ARGV[3]
local cost = tonumber(ARGV[4])

local emission_interval = period / rate
local burst_offset = emission_interval * burst

-- redis returns time as an array containing two integers: seconds of the epoch
-- time (10 digits) and microseconds (6 digits). for convenience we need to
-- convert them to a floating point number. the resulting number is 16 digits,
-- bordering on the limits of a 64-bit double-precision floating point number.
-- adjust the epoch to be relative to Jan 1, 2017 00:00:00 GMT to avoid floating
-- point problems. this approach is good until "now" is 2,483,228,799 (Wed, 09
-- Sep 2048 01:46:39 GMT), when the adjusted value is 16 digits.
local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)

local tat = redis.call("GET", rate_limit_key)

if not tat then
  tat = now
else
  tat = tonumber(tat)
end

tat = math.max(tat, now)

local diff = now - (tat - burst_offset)
local remaining = diff / emission_interval

if remaining < 1 then
  local reset_after = tat - now
  local retry_after = emission_interval - diff
  return {
    0, -- allowed
    0, -- remaining
    tostring(retry_after),
    tostring(reset_after),
  }
end

if remaining < cost then
  cost = remaining
  remaining = 0
else
  remaining = remaining - cost
end

local increment = emission_interval * cost
local new_tat = tat + increment

local reset_after = new_tat - now
if reset_after > 0 then
  redis.call("SET", rate_limit_key, new_tat, "EX", math.ceil(reset_after))
end

return {
  cost,
  remaining,
  tostring(-1),
  tostring(reset_after),
}
`
)

// TestScript_DiffRedisRate runs redis_rate's scripts on redis-server and
// Cairn. Their replies are {allowed, remaining, retry_after, reset_after}:
// the integers must be equal (with rate = 1 per second they do not depend
// on the few milliseconds between the two servers' runs) and the two
// strings must be numbers within half a second of each other, printed as
// Lua 5.1 prints them (so a whole number has no fraction).
func TestScript_DiffRedisRate(t *testing.T) {
	ksForEachDiffProto(t, func(t *testing.T, d *differ) {
		d.do("FLUSHALL")
		d.do("SCRIPT", "FLUSH")
		// step runs one command on both servers and compares loosely.
		step := func(args ...string) {
			t.Helper()
			want, got := d.redis.do(args...), d.cairn.do(args...)
			if msg := rateReplyDiff(want, got); msg != "" {
				t.Errorf("%q: %s\n redis: %q\n cairn: %q", args[:1], msg, want, got)
			}
		}
		allowN := func(key, burst, rate, period, cost string) {
			t.Helper()
			step("EVAL", redisRateAllowN, "1", key, burst, rate, period, cost)
		}
		atMost := func(key, burst, rate, period, cost string) {
			t.Helper()
			step("EVAL", redisRateAllowAtMost, "1", key, burst, rate, period, cost)
		}
		// 1 per second with a burst of 5: five allowed, then denied.
		for range 7 {
			allowN("rate:a", "5", "1", "1", "1")
		}
		step("GET", "rate:a")
		step("TTL", "rate:a")
		allowN("rate:a", "5", "1", "1", "0") // peek
		// A cost above the burst is never allowed; cost 0 on a new key.
		allowN("rate:b", "3", "1", "1", "4")
		allowN("rate:c", "3", "1", "1", "0")
		step("EXISTS", "rate:b", "rate:c")
		// Per minute: period 60, rate 60, cost 2.
		for range 4 {
			allowN("rate:m", "5", "60", "60", "2")
		}
		// allowAtMost grants what is left.
		for range 4 {
			atMost("rate:x", "5", "1", "1", "3")
		}
		atMost("rate:y", "2", "1", "1", "0")
		// By SHA, as the library sends them.
		step("SCRIPT", "LOAD", redisRateAllowN)
		step("SCRIPT", "LOAD", redisRateAllowAtMost)
		step("EVALSHA", scriptSHA([]byte(redisRateAllowN)), "1", "rate:s", "2", "1", "1", "1")
		step("EVALSHA", scriptSHA([]byte(redisRateAllowAtMost)), "1", "rate:s", "2", "1", "1", "1")
		step("EVALSHA", scriptSHA([]byte(redisRateAllowN)), "1", "rate:s", "2", "1", "1", "1")
		// A stored value that is not a number.
		step("SET", "rate:bad", "abc")
		allowN("rate:bad", "5", "1", "1", "1")
		step("SET", "rate:bad", "1e400")
		allowN("rate:bad", "5", "1", "1", "1")
	})
}

// rateReplyDiff compares two replies, allowing numbers in bulk strings and
// integers above 1000 to differ by the time between the two runs.
func rateReplyDiff(want, got string) string {
	if want == got {
		return ""
	}
	wv, _, err1 := resp.ParseReply([]byte(want))
	gv, _, err2 := resp.ParseReply([]byte(got))
	if err1 != nil || err2 != nil {
		return "unparsable reply"
	}
	return rateValueDiff(wv, gv)
}

func rateValueDiff(w, g resp.Value) string {
	if w.Kind != g.Kind || w.Null != g.Null || len(w.Array) != len(g.Array) {
		return "different reply shapes"
	}
	switch w.Kind {
	case ':':
		if w.Int != g.Int && (w.Int < 1000 || math.Abs(float64(w.Int-g.Int)) > 1) {
			return "different integers"
		}
	case '$':
		ws, gs := string(w.Str), string(g.Str)
		wf, err1 := strconv.ParseFloat(ws, 64)
		gf, err2 := strconv.ParseFloat(gs, 64)
		if err1 != nil || err2 != nil {
			return "different strings"
		}
		if math.Abs(wf-gf) > 0.5 || strings.Contains(ws, ".") != strings.Contains(gs, ".") && math.Abs(wf-gf) > 1e-9 {
			return "numbers too far apart"
		}
	case '*', '%', '~':
		for i := range w.Array {
			if msg := rateValueDiff(w.Array[i], g.Array[i]); msg != "" {
				return msg
			}
		}
	default:
		if string(w.Str) != string(g.Str) {
			return "different replies"
		}
	}
	return ""
}
