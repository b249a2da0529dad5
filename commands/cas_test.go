package commands

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zeebo/xxh3"
)

// Compare-and-swap commands (Redis 8.4 SET IF*, DELEX, DIGEST; Valkey
// DELIFEQ; Cairn CAS/CAD). Redis 7.0 has none of them, so these tests check
// the documented semantics directly, in RESP2 and RESP3.

const (
	strErrWrong  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	strErrSyn    = "ERR syntax error"
	strHelloWrld = "Hello world"
	// Digests from the Redis docs (DIGEST example) and redis/redis#14496
	// (a digest with leading zeros).
	strHelloDigest = "b6acb9d84a38ff74"
	strZeroDigest  = "00006c38adf31777"
	strZeroValue   = "v8lf0c11xh8ymlqztfd3eeq16kfn4sspw7fqmnuuq3k3t75em5wdizgcdw7uc26nnf961u2jkfzkjytls2kwlj7626sd"
)

func TestCAS_Digest(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		t.Run("known digests", func(t *testing.T) {
			must(t, c.Set(ctx, "dg:a", strHelloWrld, 0).Err())
			v, err := c.Do(ctx, "DIGEST", "dg:a").Text()
			strWantVal(t, v, err, strHelloDigest)
			must(t, c.Set(ctx, "dg:z", strZeroValue, 0).Err())
			v, err = c.Do(ctx, "DIGEST", "dg:z").Text()
			strWantVal(t, v, err, strZeroDigest) // zero-padded to 16
			must(t, c.Set(ctx, "dg:e", "", 0).Err())
			v, err = c.Do(ctx, "digest", "dg:e").Text()
			strWantVal(t, v, err, fmt.Sprintf("%016x", xxh3.Hash(nil)))
		})
		t.Run("typed client", func(t *testing.T) {
			d, err := c.Digest(ctx, "dg:a").Result()
			strWantVal(t, d, err, xxh3.HashString(strHelloWrld))
		})
		t.Run("missing and wrong type", func(t *testing.T) {
			strWantNil(t, c.Do(ctx, "DIGEST", "dg:missing").Err())
			strPlantNonString(t, n, "dg:zs")
			strWantErr(t, c.Do(ctx, "DIGEST", "dg:zs").Err(), strErrWrong)
			strWantErr(t, c.Do(ctx, "DIGEST").Err(), "ERR wrong number of arguments for 'digest' command")
			strWantErr(t, c.Do(ctx, "DIGEST", "a", "b").Err(), "ERR wrong number of arguments for 'digest' command")
		})
	})
}

func TestCAS_SetConditions(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		get := func(key string) string {
			t.Helper()
			v, err := c.Get(ctx, key).Result()
			if err == redis.Nil {
				return "<nil>"
			}
			must(t, err)
			return v
		}
		t.Run("ifeq", func(t *testing.T) {
			strWantNil(t, c.SetIFEQ(ctx, "sif:eq", "v", "x", 0).Err()) // missing: not created
			if got := get("sif:eq"); got != "<nil>" {
				t.Errorf("IFEQ created the key: %q", got)
			}
			must(t, c.Set(ctx, "sif:eq", "old", 0).Err())
			strWantNil(t, c.SetIFEQ(ctx, "sif:eq", "new", "OLD", 0).Err())
			s, err := c.SetIFEQ(ctx, "sif:eq", "new", "old", 0).Result()
			strWantVal(t, s, err, "OK")
			if got := get("sif:eq"); got != "new" {
				t.Errorf("value %q", got)
			}
		})
		t.Run("ifne", func(t *testing.T) {
			s, err := c.SetIFNE(ctx, "sif:ne", "v1", "x", 0).Result() // missing: created
			strWantVal(t, s, err, "OK")
			strWantNil(t, c.SetIFNE(ctx, "sif:ne", "v2", "v1", 0).Err())
			s, err = c.SetIFNE(ctx, "sif:ne", "v2", "zzz", 0).Result()
			strWantVal(t, s, err, "OK")
			if got := get("sif:ne"); got != "v2" {
				t.Errorf("value %q", got)
			}
		})
		t.Run("ifdeq ifdne", func(t *testing.T) {
			strWantNil(t, c.SetIFDEQ(ctx, "sif:d", "v", xxh3.HashString("v"), 0).Err()) // missing: not created
			s, err := c.SetIFDNE(ctx, "sif:d", strHelloWrld, 1, 0).Result()             // missing: created
			strWantVal(t, s, err, "OK")
			strWantNil(t, c.SetIFDNE(ctx, "sif:d", "x", xxh3.HashString(strHelloWrld), 0).Err())
			strWantNil(t, c.SetIFDEQ(ctx, "sif:d", "x", 12345, 0).Err())
			s, err = c.SetIFDEQ(ctx, "sif:d", "next", xxh3.HashString(strHelloWrld), 0).Result()
			strWantVal(t, s, err, "OK")
			// Digests compare case-insensitively; leading zeros are required.
			v, err := c.Do(ctx, "SET", "sif:d", "upper", "IFDEQ", strings.ToUpper(fmt.Sprintf("%016x", xxh3.HashString("next")))).Text()
			strWantVal(t, v, err, "OK")
			must(t, c.Set(ctx, "sif:z", strZeroValue, 0).Err())
			strWantErr(t, c.Do(ctx, "SET", "sif:z", "x", "IFDEQ", strings.TrimLeft(strZeroDigest, "0")).Err(),
				"ERR must be exactly 16 hexadecimal characters")
			v, err = c.Do(ctx, "SET", "sif:z", "x", "IFDEQ", strZeroDigest).Text()
			strWantVal(t, v, err, "OK")
			// Sixteen characters that are not hex never match.
			strWantNil(t, c.Do(ctx, "SET", "sif:z", "y", "IFDEQ", "zzzzzzzzzzzzzzzz").Err())
			v, err = c.Do(ctx, "SET", "sif:z", "y", "IFDNE", "zzzzzzzzzzzzzzzz").Text()
			strWantVal(t, v, err, "OK")
		})
		t.Run("get returns the old value either way", func(t *testing.T) {
			must(t, c.Set(ctx, "sif:g", "a", 0).Err())
			v, err := c.SetIFEQGet(ctx, "sif:g", "b", "nope", 0).Result()
			strWantVal(t, v, err, "a")
			if got := get("sif:g"); got != "a" {
				t.Errorf("failed IFEQ GET wrote %q", got)
			}
			v, err = c.SetIFEQGet(ctx, "sif:g", "b", "a", 0).Result()
			strWantVal(t, v, err, "a")
			if got := get("sif:g"); got != "b" {
				t.Errorf("value %q", got)
			}
			strWantNil(t, c.SetIFNEGet(ctx, "sif:g2", "new", "x", 0).Err()) // no old value, but set
			if got := get("sif:g2"); got != "new" {
				t.Errorf("value %q", got)
			}
			v, err = c.Do(ctx, "SET", "sif:g2", "newer", "GET", "IFDEQ", fmt.Sprintf("%016x", xxh3.HashString("new"))).Text()
			strWantVal(t, v, err, "new")
		})
		t.Run("expiry", func(t *testing.T) {
			must(t, c.Set(ctx, "sif:t", "a", 0).Err())
			must(t, c.SetIFEQ(ctx, "sif:t", "b", "a", 100*time.Second).Err())
			strWantTTL(t, n, c, "sif:t", 98_000, 100_000)
			must(t, c.Do(ctx, "SET", "sif:t", "c", "IFNE", "x", "KEEPTTL").Err())
			strWantTTL(t, n, c, "sif:t", 98_000, 100_000)
			must(t, c.Do(ctx, "SET", "sif:t", "d", "IFEQ", "c").Err())
			strWantTTL(t, n, c, "sif:t", -1, -1)
			must(t, c.Do(ctx, "SET", "sif:t", "e", "PX", "20", "IFEQ", "d").Err())
			waitFor(t, 3*time.Second, "sif:t to expire", func() bool { return get("sif:t") == "<nil>" })
			strWantErr(t, c.Do(ctx, "SET", "sif:t", "e", "IFNE", "d", "EX", "0").Err(), "ERR invalid expire time in 'set' command")
		})
		t.Run("wrong type", func(t *testing.T) {
			strPlantNonString(t, n, "sif:zs")
			for _, cond := range []string{"IFEQ", "IFNE"} {
				strWantErr(t, c.Do(ctx, "SET", "sif:zs", "v", cond, "x").Err(), strErrWrong)
				strWantErr(t, c.Do(ctx, "SET", "sif:zs", "v", cond, "x", "GET").Err(), strErrWrong)
			}
			for _, cond := range []string{"IFDEQ", "IFDNE"} {
				strWantErr(t, c.Do(ctx, "SET", "sif:zs", "v", cond, strHelloDigest).Err(), strErrWrong)
			}
			must(t, c.Set(ctx, "sif:zs", "plain set still overwrites", 0).Err())
		})
		t.Run("syntax", func(t *testing.T) {
			for _, args := range [][]any{
				{"SET", "sif:s", "v", "IFEQ"}, {"SET", "sif:s", "v", "IFDNE"},
				{"SET", "sif:s", "v", "NX", "IFEQ", "a"}, {"SET", "sif:s", "v", "IFEQ", "a", "NX"},
				{"SET", "sif:s", "v", "XX", "IFNE", "a"}, {"SET", "sif:s", "v", "IFDEQ", strHelloDigest, "XX"},
				{"SET", "sif:s", "v", "IFEQ", "a", "IFNE", "b"}, {"SET", "sif:s", "v", "IFEQ", "a", "IFEQ", "a"},
				{"SET", "sif:s", "v", "IFDEQ", strHelloDigest, "IFDNE", strHelloDigest},
				{"GETEX", "sif:s", "IFEQ", "a"},
			} {
				strWantErr(t, c.Do(ctx, args...).Err(), strErrSyn)
			}
			for _, d := range []string{"", "abc", strHelloDigest + "0", strHelloDigest[:15]} {
				strWantErr(t, c.Do(ctx, "SET", "sif:s", "v", "IFDEQ", d).Err(), "ERR must be exactly 16 hexadecimal characters")
				strWantErr(t, c.Do(ctx, "SET", "sif:s", "v", "ifdne", d).Err(), "ERR must be exactly 16 hexadecimal characters")
			}
		})
	})
}

func TestCAS_Delex(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		t.Run("unconditional", func(t *testing.T) {
			must(t, c.Set(ctx, "dx:a", "v", 0).Err())
			nn, err := c.Do(ctx, "DELEX", "dx:a").Int64()
			strWantVal(t, nn, err, 1)
			nn, err = c.Do(ctx, "DELEX", "dx:a").Int64()
			strWantVal(t, nn, err, 0)
			strPlantNonString(t, n, "dx:zs")
			nn, err = c.Do(ctx, "DELEX", "dx:zs").Int64() // any type
			strWantVal(t, nn, err, 1)
		})
		t.Run("conditions", func(t *testing.T) {
			for _, tc := range []struct {
				cond, arg string
				want      int64
			}{
				{"IFEQ", strHelloWrld, 1}, {"IFEQ", "hello world", 0},
				{"IFNE", strHelloWrld, 0}, {"IFNE", "other", 1},
				{"IFDEQ", strHelloDigest, 1}, {"IFDEQ", strings.ToUpper(strHelloDigest), 1}, {"IFDEQ", "0000000000000000", 0},
				{"IFDNE", strHelloDigest, 0}, {"ifdne", "0000000000000000", 1},
			} {
				t.Run(tc.cond+" "+tc.arg, func(t *testing.T) {
					must(t, c.Set(ctx, "dx:c", strHelloWrld, 0).Err())
					var nn int64
					var err error
					if tc.cond == "IFEQ" || tc.cond == "IFNE" {
						nn, err = c.DelExArgs(ctx, "dx:c", redis.DelExArgs{Mode: tc.cond, MatchValue: tc.arg}).Result()
					} else {
						nn, err = c.Do(ctx, "DELEX", "dx:c", tc.cond, tc.arg).Int64()
					}
					strWantVal(t, nn, err, tc.want)
					_, gerr := c.Get(ctx, "dx:c").Result()
					if deleted := gerr == redis.Nil; deleted != (tc.want == 1) {
						t.Errorf("deleted = %v, want %v", deleted, tc.want == 1)
					}
				})
			}
		})
		t.Run("typed digest", func(t *testing.T) {
			must(t, c.Set(ctx, "dx:t", strZeroValue, 0).Err())
			nn, err := c.DelExArgs(ctx, "dx:t", redis.DelExArgs{Mode: "IFDEQ", MatchDigest: xxh3.HashString(strZeroValue)}).Result()
			strWantVal(t, nn, err, 1)
		})
		t.Run("missing key", func(t *testing.T) {
			for _, cond := range []string{"IFEQ", "IFNE"} {
				nn, err := c.Do(ctx, "DELEX", "dx:missing", cond, "x").Int64()
				strWantVal(t, nn, err, 0)
			}
			for _, cond := range []string{"IFDEQ", "IFDNE"} {
				nn, err := c.Do(ctx, "DELEX", "dx:missing", cond, strHelloDigest).Int64()
				strWantVal(t, nn, err, 0)
			}
		})
		t.Run("errors", func(t *testing.T) {
			strPlantNonString(t, n, "dx:w")
			for _, cond := range []string{"IFEQ", "IFNE"} {
				strWantErr(t, c.Do(ctx, "DELEX", "dx:w", cond, "x").Err(), strErrWrong)
			}
			strWantErr(t, c.Do(ctx, "DELEX", "dx:w", "IFDEQ", strHelloDigest).Err(), strErrWrong)
			// Syntax is checked before the key is looked up.
			for _, args := range [][]any{
				{"DELEX", "dx:missing", "IFEQ"}, {"DELEX", "dx:w", "IFEQ"}, {"DELEX", "dx:w", "IFEQ", "a", "b"},
				{"DELEX", "dx:w", "FOO", "a"}, {"DELEX", "dx:w", "NX", "a"},
			} {
				strWantErr(t, c.Do(ctx, args...).Err(), strErrSyn)
			}
			strWantErr(t, c.Do(ctx, "DELEX", "dx:missing", "IFDEQ", "abc").Err(), "ERR must be exactly 16 hexadecimal characters")
			strWantErr(t, c.Do(ctx, "DELEX").Err(), "ERR wrong number of arguments for 'delex' command")
		})
	})
}

func TestCAS_DelIfEq(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		must(t, c.Set(ctx, "die:a", "abc123", 0).Err())
		nn, err := c.Do(ctx, "DELIFEQ", "die:a", "xyz").Int64()
		strWantVal(t, nn, err, 0)
		nn, err = c.Do(ctx, "DELIFEQ", "die:a", "abc123").Int64()
		strWantVal(t, nn, err, 1)
		nn, err = c.Do(ctx, "DELIFEQ", "die:a", "abc123").Int64()
		strWantVal(t, nn, err, 0)
		strPlantNonString(t, n, "die:z")
		strWantErr(t, c.Do(ctx, "DELIFEQ", "die:z", "m").Err(), strErrWrong)
		strWantErr(t, c.Do(ctx, "DELIFEQ", "die:a").Err(), "ERR wrong number of arguments for 'delifeq' command")
	})
}

func TestCAS_CasCad(t *testing.T) {
	strForEachProtoNode(t, func(t *testing.T, n *Node, c *redis.Client) {
		do := func(args ...any) int64 {
			t.Helper()
			v, err := c.Do(ctx, args...).Int64()
			must(t, err)
			return v
		}
		t.Run("cas replies", func(t *testing.T) {
			if got := do("CAS", "cas:a", "x", "y"); got != -1 {
				t.Errorf("missing key: %d", got)
			}
			if _, err := c.Get(ctx, "cas:a").Result(); err != redis.Nil {
				t.Errorf("CAS created a key: %v", err)
			}
			must(t, c.Set(ctx, "cas:a", "x", 0).Err())
			if got := do("CAS", "cas:a", "X", "y"); got != 0 {
				t.Errorf("mismatch: %d", got)
			}
			if got := do("CAS", "cas:a", "x", "y"); got != 1 {
				t.Errorf("swap: %d", got)
			}
			v, err := c.Get(ctx, "cas:a").Result()
			strWantVal(t, v, err, "y")
			if got := do("cas", "cas:a", "y", ""); got != 1 {
				t.Errorf("swap to empty: %d", got)
			}
			if got := do("CAS", "cas:a", "", "z"); got != 1 {
				t.Errorf("swap from empty: %d", got)
			}
		})
		t.Run("cas ttl", func(t *testing.T) {
			must(t, c.Set(ctx, "cas:t", "a", 100*time.Second).Err())
			do("CAS", "cas:t", "a", "b") // a successful swap clears the TTL, like SET
			strWantTTL(t, n, c, "cas:t", -1, -1)
			do("CAS", "cas:t", "b", "c", "EX", "50")
			strWantTTL(t, n, c, "cas:t", 48_000, 50_000)
			do("CAS", "cas:t", "nope", "d", "EX", "500")
			strWantTTL(t, n, c, "cas:t", 48_000, 50_000) // a mismatch changes nothing
			do("CAS", "cas:t", "c", "d", "px", "30")
			waitFor(t, 3*time.Second, "cas:t to expire", func() bool {
				return c.Get(ctx, "cas:t").Err() == redis.Nil
			})
			if got := do("CAS", "cas:t", "d", "e"); got != -1 {
				t.Errorf("CAS on the expired key: %d", got)
			}
		})
		t.Run("cas errors", func(t *testing.T) {
			must(t, c.Set(ctx, "cas:e", "a", 0).Err())
			for _, args := range [][]any{
				{"CAS", "cas:e", "a", "b", "EX"}, {"CAS", "cas:e", "a", "b", "EX", "1", "PX", "1"},
				{"CAS", "cas:e", "a", "b", "EX", "1", "EX", "1"}, {"CAS", "cas:e", "a", "b", "KEEPTTL"},
				{"CAS", "cas:e", "a", "b", "NX", "1"},
			} {
				strWantErr(t, c.Do(ctx, args...).Err(), strErrSyn)
			}
			strWantErr(t, c.Do(ctx, "CAS", "cas:e", "a", "b", "EX", "0").Err(), "ERR invalid expire time in 'cas' command")
			strWantErr(t, c.Do(ctx, "CAS", "cas:e", "a", "b", "PX", "-5").Err(), "ERR invalid expire time in 'cas' command")
			strWantErr(t, c.Do(ctx, "CAS", "cas:e", "a", "b", "EX", "9223372036854775").Err(), "ERR invalid expire time in 'cas' command")
			strWantErr(t, c.Do(ctx, "CAS", "cas:e", "a", "b", "EX", "1.5").Err(), "ERR value is not an integer or out of range")
			strWantErr(t, c.Do(ctx, "CAS", "cas:e", "a").Err(), "ERR wrong number of arguments for 'cas' command")
			v, err := c.Get(ctx, "cas:e").Result()
			strWantVal(t, v, err, "a")
			strPlantNonString(t, n, "cas:z")
			strWantErr(t, c.Do(ctx, "CAS", "cas:z", "a", "b").Err(), strErrWrong)
			// Argument errors come before the key is looked up.
			strWantErr(t, c.Do(ctx, "CAS", "cas:z", "a", "b", "EX", "0").Err(), "ERR invalid expire time in 'cas' command")
		})
		t.Run("cad", func(t *testing.T) {
			if got := do("CAD", "cad:a", "x"); got != -1 {
				t.Errorf("missing key: %d", got)
			}
			must(t, c.Set(ctx, "cad:a", "x", 0).Err())
			if got := do("CAD", "cad:a", "y"); got != 0 {
				t.Errorf("mismatch: %d", got)
			}
			if got := do("CAD", "cad:a", "x"); got != 1 {
				t.Errorf("delete: %d", got)
			}
			if got := do("CAD", "cad:a", "x"); got != -1 {
				t.Errorf("after delete: %d", got)
			}
			strPlantNonString(t, n, "cad:z")
			strWantErr(t, c.Do(ctx, "CAD", "cad:z", "x").Err(), strErrWrong)
			strWantErr(t, c.Do(ctx, "CAD", "cad:z").Err(), "ERR wrong number of arguments for 'cad' command")
		})
		t.Run("in multi", func(t *testing.T) {
			must(t, c.Set(ctx, "cas:m", "1", 0).Err())
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Do(ctx, "CAS", "cas:m", "1", "2")
				p.Do(ctx, "CAS", "cas:m", "1", "3")
				p.Do(ctx, "CAD", "cas:m", "2")
				return nil
			})
			must(t, err)
			var got []string
			for _, cmd := range cmds {
				got = append(got, fmt.Sprint(cmd.(*redis.Cmd).Val()))
			}
			if strings.Join(got, " ") != "1 0 1" {
				t.Errorf("EXEC replies %v, want [1 0 1]", got)
			}
		})
	})
}

// TestCAS_RawReplies checks the reply bytes in RESP2 and RESP3.
func TestCAS_RawReplies(t *testing.T) {
	steps := []struct {
		args         []string
		resp2, resp3 string
	}{
		{[]string{"DIGEST", "cr:missing"}, "$-1\r\n", "_\r\n"},
		{[]string{"SET", "cr:a", strHelloWrld}, "+OK\r\n", "+OK\r\n"},
		{[]string{"DIGEST", "cr:a"}, "$16\r\n" + strHelloDigest + "\r\n", "$16\r\n" + strHelloDigest + "\r\n"},
		{[]string{"SET", "cr:a", "x", "IFEQ", "nope"}, "$-1\r\n", "_\r\n"},
		{[]string{"SET", "cr:a", "x", "IFEQ", "nope", "GET"}, "$11\r\nHello world\r\n", "$11\r\nHello world\r\n"},
		{[]string{"SET", "cr:a", "x", "IFDEQ", strHelloDigest}, "+OK\r\n", "+OK\r\n"},
		{[]string{"SET", "cr:b", "x", "IFNE", "x", "GET"}, "$-1\r\n", "_\r\n"},
		{[]string{"DELEX", "cr:a", "IFNE", "x"}, ":0\r\n", ":0\r\n"},
		{[]string{"CAS", "cr:a", "x", "y"}, ":1\r\n", ":1\r\n"},
		{[]string{"CAS", "cr:missing", "x", "y"}, ":-1\r\n", ":-1\r\n"},
		{[]string{"CAD", "cr:a", "y"}, ":1\r\n", ":1\r\n"},
		{[]string{"DELIFEQ", "cr:b", "x"}, ":1\r\n", ":1\r\n"},
		{[]string{"SET", "cr:c", "v", "IFDEQ", "short"}, "-ERR must be exactly 16 hexadecimal characters\r\n",
			"-ERR must be exactly 16 hexadecimal characters\r\n"},
	}
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			r := dialRaw(t, testNode(t).Addr())
			if proto == 3 {
				if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
					t.Fatalf("HELLO 3: %q", got)
				}
			}
			for _, st := range steps {
				want := st.resp2
				if proto == 3 {
					want = st.resp3
				}
				if got := r.do(st.args...); got != want {
					t.Errorf("%q: got %q, want %q", st.args, got, want)
				}
			}
		})
	}
}

// TestCAS_Concurrent increments a counter from several clients with a
// read-then-CAS retry loop and with SET IFEQ: every increment must land
// exactly once, which only holds if the compare and the write are atomic.
func TestCAS_Concurrent(t *testing.T) {
	n := testNode(t)
	const workers, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	incr := func(c *redis.Client, key string, useSet bool) error {
		for {
			cur, err := c.Get(ctx, key).Result()
			if err != nil {
				return err
			}
			v, _ := strconv.Atoi(cur)
			next := strconv.Itoa(v + 1)
			if useSet {
				err := c.SetIFEQ(ctx, key, next, cur, 0).Err()
				if err == nil {
					return nil
				}
				if err != redis.Nil {
					return err
				}
				continue
			}
			r, err := c.Do(ctx, "CAS", key, cur, next).Int64()
			if err != nil {
				return err
			}
			if r == 1 {
				return nil
			}
		}
	}
	setup := newClient(t, n.Addr(), 2)
	must(t, setup.MSet(ctx, "cc:cas", "0", "cc:set", "0").Err())
	for w := range workers {
		c := newClient(t, n.Addr(), 2+w%2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for _, useSet := range []bool{false, true} {
					key := map[bool]string{false: "cc:cas", true: "cc:set"}[useSet]
					if err := incr(c, key, useSet); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	vals, err := setup.MGet(ctx, "cc:cas", "cc:set").Result()
	must(t, err)
	want := strconv.Itoa(workers * each)
	if vals[0] != want || vals[1] != want {
		t.Errorf("counters %v, want %s each", vals, want)
	}
}
