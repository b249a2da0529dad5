// Package compat runs real Go client libraries' flows against a running
// server, over TCP only. Exactly one of two environment variables names the
// target:
//
//	CAIRN_ADDR=host:port                   a single node (or a real redis-server)
//	CAIRN_CLUSTER=host:port,host:port,...  a cluster, through cluster clients
//
// Every key a test writes starts with a prefix unique to this process and
// test, so single and cluster runs and reruns never collide; keys used
// together by one multi-key command, transaction or script share a hash tag.
package compat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// addrs is the target: one address in single mode, every node in cluster
// mode. cairn says whether the target is Cairn (INFO has cairn_version):
// the checks of Cairn's documented cluster behaviour (WATCH refused, reads
// through the slot's primary) apply to it only, so the suite also runs
// against a real Redis Cluster (compat/run.sh's redis-cluster target).
var (
	addrs   []string
	cluster bool
	cairn   bool
	runID   string
)

func TestMain(m *testing.M) {
	single, nodes := os.Getenv("CAIRN_ADDR"), os.Getenv("CAIRN_CLUSTER")
	switch {
	case single != "" && nodes == "":
		addrs = []string{single}
	case nodes != "" && single == "":
		cluster = true
		for _, a := range strings.Split(nodes, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "compat: set exactly one of CAIRN_ADDR=host:port or CAIRN_CLUSTER=host:port,host:port,...")
		os.Exit(2)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	runID = hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	probe := redis.NewClient(&redis.Options{Addr: addrs[0]})
	info, err := probe.Info(ctx, "server").Result()
	probe.Close()
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "compat: INFO server on %s: %v\n", addrs[0], err)
		os.Exit(1)
	}
	cairn = strings.Contains(info, "cairn_version:")
	os.Exit(m.Run())
}

// mode names the target in messages.
func mode() string {
	if cluster {
		return "cluster"
	}
	return "single"
}

// ctxFor is a context bounded by d and cancelled when the test ends.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// prefix is a key prefix unique to this run and test. Keys built on it land
// in many slots.
func prefix(t *testing.T) string {
	return "compat:go:" + runID + ":" + t.Name() + ":"
}

// tag is a key prefix unique to this run and test whose keys all share one
// hash slot.
func tag(t *testing.T) string {
	return "{compat:go:" + runID + ":" + t.Name() + "}:"
}

// newGoRedis is a go-redis client for the target (RESP3, go-redis's
// default): a Client on a single node, a ClusterClient on a cluster. It is
// closed when the test ends.
func newGoRedis(t *testing.T) redis.UniversalClient {
	return newGoRedisProto(t, 3)
}

// newGoRedisProto is newGoRedis speaking RESP protocol 2 or 3.
func newGoRedisProto(t *testing.T, proto int) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	if cluster {
		c = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:       addrs,
			Protocol:    proto,
			DialTimeout: 5 * time.Second,
			ReadTimeout: 10 * time.Second,
		})
	} else {
		c = redis.NewClient(&redis.Options{
			Addr:        addrs[0],
			Protocol:    proto,
			DialTimeout: 5 * time.Second,
			ReadTimeout: 10 * time.Second,
		})
	}
	t.Cleanup(func() { c.Close() })
	ctx := ctxFor(t, 10*time.Second)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("%s: PING %v: %v", mode(), addrs, err)
	}
	return c
}

// eachProtocol runs flow as a subtest per protocol, RESP3 and RESP2:
// go-redis parses replies (scores, maps, pushes) differently for each.
func eachProtocol(t *testing.T, flow func(t *testing.T, c redis.UniversalClient)) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			flow(t, newGoRedisProto(t, proto))
		})
	}
}

// cleanupKeys deletes keys when the test ends (one DEL per key, so keys of
// different slots are fine in cluster mode).
func cleanupKeys(t *testing.T, c redis.UniversalClient, keys ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
	})
}

// waitUntil polls cond every step until it holds or d has passed, and says
// whether it held.
func waitUntil(d, step time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(step)
	}
}
