package compat

// rueidis flows: client-side caching (RESP3 CLIENT TRACKING, rueidis's
// default) and plain use with the cache off. rueidis picks its single or
// cluster client itself from the addresses it is given.

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// invalidations records the keys a caching client was told to drop.
type invalidations struct {
	mu   sync.Mutex
	keys map[string]int
}

func (iv *invalidations) add(msgs []rueidis.RedisMessage) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	for _, m := range msgs {
		if k, err := m.ToString(); err == nil {
			iv.keys[k]++
		}
	}
}

func (iv *invalidations) count(key string) int {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	return iv.keys[key]
}

// newRueidis is a rueidis client for the target, closed when the test ends.
// With cache, it keeps one connection per node (PipelineMultiplex -1), so a
// PING through it travels on the connection the invalidations arrive on,
// and records every invalidation it receives.
func newRueidis(t *testing.T, cache bool) (rueidis.Client, *invalidations) {
	t.Helper()
	iv := &invalidations{keys: map[string]int{}}
	opt := rueidis.ClientOption{
		InitAddress:  addrs,
		DisableCache: !cache,
		Dialer:       net.Dialer{Timeout: 5 * time.Second},
	}
	if cache {
		opt.PipelineMultiplex = -1
		opt.OnInvalidations = iv.add
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("%s: rueidis.NewClient(cache=%v) %v: %v", mode(), cache, addrs, err)
	}
	t.Cleanup(c.Close)
	want := rueidis.ClientModeStandalone
	if cluster {
		want = rueidis.ClientModeCluster
	}
	if got := c.Mode(); got != want {
		t.Fatalf("rueidis chose client mode %q, want %q", got, want)
	}
	return c, iv
}

// pingAll sends one PING on every node connection of c: any message the
// server queued for c before that PING's reply has then been read.
func pingAll(t *testing.T, ctx context.Context, c rueidis.Client) {
	t.Helper()
	for addr, n := range c.Nodes() {
		if err := n.Do(ctx, n.B().Ping().Build()).Error(); err != nil {
			t.Fatalf("PING %s: %v", addr, err)
		}
	}
}

// cachedGet is a GET through the client-side cache.
func cachedGet(ctx context.Context, c rueidis.Client, key string) (val string, nilReply, hit bool, err error) {
	r := c.DoCache(ctx, c.B().Get().Key(key).Cache(), time.Minute)
	val, err = r.ToString()
	if rueidis.IsRedisNil(err) {
		return "", true, r.IsCacheHit(), nil
	}
	return val, false, r.IsCacheHit(), err
}

// TestRueidis_CacheInvalidation: a cached GET is served from the cache on
// the second call; when another client writes the key, the cached entry is
// dropped within one round trip on the caching connection, and without any
// traffic within a bounded wait.
func TestRueidis_CacheInvalidation(t *testing.T) {
	reader, iv := newRueidis(t, true)
	writer, _ := newRueidis(t, false)
	ctx := ctxFor(t, 30*time.Second)
	p := prefix(t)
	k1, k2 := p+"price:1", p+"price:2"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		writer.Do(ctx, writer.B().Del().Key(k1).Build())
		writer.Do(ctx, writer.B().Del().Key(k2).Build())
	})

	for _, k := range []string{k1, k2} {
		if err := writer.Do(ctx, writer.B().Set().Key(k).Value("100").Build()).Error(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		v, _, hit, err := cachedGet(ctx, reader, k)
		if err != nil || v != "100" || hit {
			t.Fatalf("first cached GET %s = %q hit=%v %v; want 100 from the server", k, v, hit, err)
		}
		v, _, hit, err = cachedGet(ctx, reader, k)
		if err != nil || v != "100" || !hit {
			t.Fatalf("second cached GET %s = %q hit=%v %v; want 100 from the cache", k, v, hit, err)
		}
	}

	// k1: after the write, one PING round trip on the reader's connection
	// must have delivered the invalidation.
	if err := writer.Do(ctx, writer.B().Set().Key(k1).Value("101").Build()).Error(); err != nil {
		t.Fatalf("SET %s: %v", k1, err)
	}
	pingAll(t, ctx, reader)
	if iv.count(k1) == 0 {
		t.Errorf("no invalidation for %s after the write and one PING round trip", k1)
	}
	v, _, hit, err := cachedGet(ctx, reader, k1)
	if err != nil || v != "101" || hit {
		t.Fatalf("cached GET %s after a write and one round trip = %q hit=%v %v; want 101 from the server", k1, v, hit, err)
	}

	// k2: no other traffic; the invalidation arrives by itself.
	if err := writer.Do(ctx, writer.B().Set().Key(k2).Value("102").Build()).Error(); err != nil {
		t.Fatalf("SET %s: %v", k2, err)
	}
	start := time.Now()
	fresh := waitUntil(2*time.Second, 5*time.Millisecond, func() bool {
		v, _, _, err := cachedGet(ctx, reader, k2)
		return err == nil && v == "102"
	})
	if !fresh {
		t.Fatalf("cached GET %s still returns the old value 2 s after the write", k2)
	}
	t.Logf("invalidation without traffic seen after %v", time.Since(start).Round(time.Millisecond))

	// A deleted key reads as nil after the invalidation.
	if err := writer.Do(ctx, writer.B().Del().Key(k1).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	pingAll(t, ctx, reader)
	if _, isNil, _, err := cachedGet(ctx, reader, k1); err != nil || !isNil {
		t.Fatalf("cached GET of a deleted key: nil=%v %v", isNil, err)
	}
}

// TestRueidis_CacheExpiry: a cached key that expires on the server reads as
// nil afterwards, and the server tells the caching client when it expires.
func TestRueidis_CacheExpiry(t *testing.T) {
	reader, iv := newRueidis(t, true)
	writer, _ := newRueidis(t, false)
	ctx := ctxFor(t, 30*time.Second)
	key := prefix(t) + "otp"

	if err := writer.Do(ctx, writer.B().Set().Key(key).Value("4711").Px(200*time.Millisecond).Build()).Error(); err != nil {
		t.Fatalf("SET PX 200: %v", err)
	}
	v, _, _, err := cachedGet(ctx, reader, key)
	if err != nil || v != "4711" {
		t.Fatalf("cached GET = %q, %v", v, err)
	}
	if v, _, hit, err := cachedGet(ctx, reader, key); err != nil || v != "4711" || !hit {
		t.Fatalf("second cached GET = %q hit=%v %v; want a cache hit", v, hit, err)
	}
	time.Sleep(250 * time.Millisecond)
	if _, isNil, _, err := cachedGet(ctx, reader, key); err != nil || !isNil {
		t.Fatalf("cached GET after expiry: nil=%v err=%v; want nil", isNil, err)
	}
	// The server invalidates an expired key when it expires it: actively, or
	// when the key is next touched (the read above, or this EXISTS).
	told := waitUntil(2*time.Second, 10*time.Millisecond, func() bool { return iv.count(key) > 0 })
	if !told {
		writer.Do(ctx, writer.B().Exists().Key(key).Build())
		pingAll(t, ctx, reader)
		told = iv.count(key) > 0
	}
	if !told {
		t.Fatalf("no invalidation for %s after it expired", key)
	}
}

// TestRueidis_MultiCache: DoMultiCache and MGetCache over keys of one slot;
// a write to some of them invalidates exactly those.
func TestRueidis_MultiCache(t *testing.T) {
	reader, _ := newRueidis(t, true)
	writer, _ := newRueidis(t, false)
	ctx := ctxFor(t, 30*time.Second)
	tg := tag(t)
	var keys []string
	for i := 1; i <= 5; i++ {
		keys = append(keys, tg+"item:"+strconv.Itoa(i))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		writer.Do(ctx, writer.B().Del().Key(keys...).Build())
	})
	mset := writer.B().Mset().KeyValue()
	for i, k := range keys {
		mset = mset.KeyValue(k, "v"+strconv.Itoa(i+1))
	}
	if err := writer.Do(ctx, mset.Build()).Error(); err != nil {
		t.Fatalf("MSET: %v", err)
	}

	multi := func() []rueidis.RedisResult {
		var cmds []rueidis.CacheableTTL
		for _, k := range keys {
			cmds = append(cmds, rueidis.CT(reader.B().Get().Key(k).Cache(), time.Minute))
		}
		return reader.DoMultiCache(ctx, cmds...)
	}
	check := func(round string, want []string, wantHit []bool) {
		t.Helper()
		for i, r := range multi() {
			v, err := r.ToString()
			if want[i] == "" {
				if !rueidis.IsRedisNil(err) {
					t.Fatalf("%s: %s = %q, %v; want nil", round, keys[i], v, err)
				}
			} else if err != nil || v != want[i] {
				t.Fatalf("%s: %s = %q, %v; want %q", round, keys[i], v, err, want[i])
			}
			if r.IsCacheHit() != wantHit[i] {
				t.Fatalf("%s: %s cache hit = %v, want %v", round, keys[i], r.IsCacheHit(), wantHit[i])
			}
		}
	}
	check("first DoMultiCache", []string{"v1", "v2", "v3", "v4", "v5"}, []bool{false, false, false, false, false})
	check("second DoMultiCache", []string{"v1", "v2", "v3", "v4", "v5"}, []bool{true, true, true, true, true})

	// A cached MGET returns the same values.
	vals, err := reader.DoCache(ctx, reader.B().Mget().Key(keys...).Cache(), time.Minute).AsStrSlice()
	if err != nil || fmt.Sprint(vals) != "[v1 v2 v3 v4 v5]" {
		t.Fatalf("cached MGET = %v, %v", vals, err)
	}

	if err := writer.Do(ctx, writer.B().Mset().KeyValue().KeyValue(keys[1], "w2").KeyValue(keys[3], "w4").Build()).Error(); err != nil {
		t.Fatalf("MSET: %v", err)
	}
	if err := writer.Do(ctx, writer.B().Del().Key(keys[4]).Build()).Error(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	pingAll(t, ctx, reader)
	check("after writes to items 2, 4 and 5", []string{"v1", "w2", "v3", "w4", ""}, []bool{true, false, true, false, false})

	got, err := rueidis.MGetCache(reader, ctx, time.Minute, keys)
	if err != nil {
		t.Fatalf("MGetCache: %v", err)
	}
	for i, want := range []string{"v1", "w2", "v3", "w4"} {
		m := got[keys[i]]
		if v, err := m.ToString(); err != nil || v != want {
			t.Fatalf("MGetCache %s = %q, %v; want %q", keys[i], v, err, want)
		}
	}
	if m := got[keys[4]]; !m.IsNil() {
		t.Fatalf("MGetCache of the deleted key = %v, want nil", m)
	}
}

// TestRueidis_NoCache uses rueidis with the cache off: commands through the
// builder, a 200-command DoMulti, a leaderboard, a Lua script and pub/sub.
func TestRueidis_NoCache(t *testing.T) {
	c, _ := newRueidis(t, false)
	ctx := ctxFor(t, 60*time.Second)
	p, tg := prefix(t), tag(t)
	var cleanup []string
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, k := range cleanup {
			c.Do(ctx, c.B().Del().Key(k).Build())
		}
	})

	// DoMulti: 100 SETs with a TTL and 100 GETs over keys of many slots.
	var cmds rueidis.Commands
	for i := 0; i < 100; i++ {
		k := p + "k" + strconv.Itoa(i)
		cleanup = append(cleanup, k)
		cmds = append(cmds, c.B().Set().Key(k).Value(strconv.Itoa(i*i)).Ex(time.Hour).Build())
	}
	for i := 0; i < 100; i++ {
		cmds = append(cmds, c.B().Get().Key(p+"k"+strconv.Itoa(i)).Build())
	}
	res := c.DoMulti(ctx, cmds...)
	for i := 0; i < 100; i++ {
		if err := res[i].Error(); err != nil {
			t.Fatalf("SET #%d: %v", i, err)
		}
		if v, err := res[100+i].ToString(); err != nil || v != strconv.Itoa(i*i) {
			t.Fatalf("GET #%d = %q, %v", i, v, err)
		}
	}
	if ttl, err := c.Do(ctx, c.B().Ttl().Key(p+"k7").Build()).AsInt64(); err != nil || ttl <= 3500 || ttl > 3600 {
		t.Fatalf("TTL = %d, %v", ttl, err)
	}

	// Leaderboard.
	board := tg + "board"
	cleanup = append(cleanup, board)
	z := c.B().Zadd().Key(board).ScoreMember()
	for i := 0; i < 20; i++ {
		z = z.ScoreMember(float64(i), "p"+strconv.Itoa(i))
	}
	if n, err := c.Do(ctx, z.Build()).AsInt64(); err != nil || n != 20 {
		t.Fatalf("ZADD = %d, %v", n, err)
	}
	if s, err := c.Do(ctx, c.B().Zincrby().Key(board).Increment(100).Member("p3").Build()).AsFloat64(); err != nil || s != 103 {
		t.Fatalf("ZINCRBY = %v, %v", s, err)
	}
	top, err := c.Do(ctx, c.B().Zrevrange().Key(board).Start(0).Stop(2).Withscores().Build()).AsZScores()
	if err != nil || len(top) != 3 || top[0].Member != "p3" || top[0].Score != 103 || top[1].Member != "p19" || top[2].Score != 18 {
		t.Fatalf("ZREVRANGE WITHSCORES = %v, %v", top, err)
	}
	if r, err := c.Do(ctx, c.B().Zrevrank().Key(board).Member("p19").Build()).AsInt64(); err != nil || r != 1 {
		t.Fatalf("ZREVRANK = %d, %v", r, err)
	}

	// A compare-and-delete lock script through EVALSHA with EVAL fallback.
	lock := tg + "lock"
	cleanup = append(cleanup, lock)
	release := rueidis.NewLuaScript(`-- compat ` + runID + `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`)
	if err := c.Do(ctx, c.B().Set().Key(lock).Value("owner-a").Nx().Px(10*time.Second).Build()).Error(); err != nil {
		t.Fatalf("SET NX PX: %v", err)
	}
	if n, err := release.Exec(ctx, c, []string{lock}, []string{"owner-b"}).AsInt64(); err != nil || n != 0 {
		t.Fatalf("release by a non-owner = %d, %v; want 0", n, err)
	}
	if n, err := release.Exec(ctx, c, []string{lock}, []string{"owner-a"}).AsInt64(); err != nil || n != 1 {
		t.Fatalf("release by the owner = %d, %v; want 1", n, err)
	}

	// Pub/Sub through a dedicated receiving connection.
	channel := p + "events"
	got := make(chan string, 16)
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	subscribed := make(chan error, 1)
	go func() {
		subscribed <- c.Receive(subCtx, c.B().Subscribe().Channel(channel).Build(), func(m rueidis.PubSubMessage) {
			got <- m.Message
		})
	}()
	// Publish until the subscriber has one (the subscription is then in
	// place), then five numbered messages.
	ready := false
	for deadline := time.Now().Add(5 * time.Second); !ready && time.Now().Before(deadline); {
		if err := c.Do(ctx, c.B().Publish().Channel(channel).Message("hello").Build()).Error(); err != nil {
			t.Fatalf("PUBLISH: %v", err)
		}
		select {
		case <-got:
			ready = true
		case err := <-subscribed:
			t.Fatalf("subscription ended: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !ready {
		t.Fatalf("PUBLISH never reached the subscriber")
	}
	for i := 0; i < 5; i++ {
		if err := c.Do(ctx, c.B().Publish().Channel(channel).Message("m"+strconv.Itoa(i)).Build()).Error(); err != nil {
			t.Fatalf("PUBLISH: %v", err)
		}
	}
	// In publishing order on one node; in a cluster each PUBLISH may go to
	// another node, so only the set is certain.
	var msgs []string
	timeout := time.After(10 * time.Second)
	for len(msgs) < 5 {
		select {
		case m := <-got:
			if m != "hello" {
				msgs = append(msgs, m)
			}
		case err := <-subscribed:
			t.Fatalf("subscription ended: %v", err)
		case <-timeout:
			t.Fatalf("received %v of 5 messages", msgs)
		}
	}
	if cluster {
		sort.Strings(msgs)
	}
	if fmt.Sprint(msgs) != "[m0 m1 m2 m3 m4]" {
		t.Fatalf("messages %v, want m0 to m4", msgs)
	}
}
