package commands

import (
	"testing"
)

// Benchmarks of EVALSHA over TCP (pipelines of 16, one connection): the
// whole server path of the scripts lock and rate-limit libraries send most.

func benchEvalSHA(b *testing.B, setup [][]string, script string, args ...string) {
	n := testNode(b)
	c := dialRaw(b, n.Addr())
	for _, step := range setup {
		c.do(step...)
	}
	sha := c.do("SCRIPT", "LOAD", script)
	if len(sha) != 47 {
		b.Fatalf("SCRIPT LOAD = %q", sha)
	}
	cmd := encodeCommand(append([]string{"EVALSHA", sha[5:45]}, args...))
	if got := c.do(append([]string{"EVALSHA", sha[5:45]}, args...)...); got[0] == '-' {
		b.Fatalf("EVALSHA = %q", got)
	}
	benchPipeline(b, n, func(int) string { return cmd })
}

// The unlock of a lock held by someone else: GET, compare, return 0.
func BenchmarkScript_ReleaseHeldP16(b *testing.B) {
	benchEvalSHA(b, [][]string{{"SET", "lock{t}", "other"}}, redsyncRelease, "1", "lock{t}", "token")
}

// The unlock of a lock that expired: GET of a missing key.
func BenchmarkScript_ReleaseAbsentP16(b *testing.B) {
	benchEvalSHA(b, nil, redsyncRelease, "1", "lock{t}", "token")
}

// redis_rate's allowN: TIME, GET, float arithmetic, SET with EX, a table
// of strings.
func BenchmarkScript_RateAllowNP16(b *testing.B) {
	benchEvalSHA(b, nil, redisRateAllowN, "1", "rate{t}", "1000000", "1000000", "1", "1")
}

// A loop of Lua arithmetic without redis.call: the interpreter's cost per
// instruction.
func BenchmarkScript_LoopP16(b *testing.B) {
	benchEvalSHA(b, nil, "local n = 0 for i = 1, 100 do n = n + i end return n", "0")
}
