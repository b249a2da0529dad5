"""redis-py flows against one server (CAIRN_ADDR=host:port) or a cluster
(CAIRN_CLUSTER=host:port,host:port,...).

Every run uses its own random key prefix; keys that a transaction or a
script uses together share a hash tag, so the same flows run on a cluster.
"""

import hashlib
import os
import threading
import time
import unittest
import uuid

import redis
from redis.exceptions import LockError, LockNotOwnedError, ResponseError, WatchError

CLUSTER = os.environ.get("CAIRN_CLUSTER")
SINGLE = os.environ.get("CAIRN_ADDR")
if not CLUSTER and not SINGLE:
    raise SystemExit("set CAIRN_ADDR=host:port or CAIRN_CLUSTER=host:port,...")

RUN = uuid.uuid4().hex[:12]
PREFIX = f"compat:py:{RUN}"
TAG = f"{{compat:py:{RUN}}}"  # one slot for keys used together
TIMEOUT = 10  # seconds for any socket operation


def host_port(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def connect():
    if CLUSTER:
        from redis.cluster import ClusterNode, RedisCluster

        nodes = [ClusterNode(*host_port(a)) for a in CLUSTER.split(",")]
        return RedisCluster(
            startup_nodes=nodes,
            decode_responses=True,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
        )
    host, port = host_port(SINGLE)
    return redis.Redis(
        host=host,
        port=port,
        decode_responses=True,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
    )


def wait_for(pred, seconds, what):
    """Polls pred every 10 ms for at most seconds."""
    end = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Flows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = connect()

    @classmethod
    def tearDownClass(cls):
        cls.r.close()

    def test_pipeline_without_transaction(self):
        r = self.r
        keys = [f"{PREFIX}:pipe:{i}" for i in range(100)]
        pipe = r.pipeline(transaction=False)
        for i, k in enumerate(keys):
            pipe.set(k, i)
        for k in keys:
            pipe.incrby(k, 1000)
        pipe.set(f"{PREFIX}:pipe:text", "abc")
        pipe.incr(f"{PREFIX}:pipe:text")
        for k in keys:
            pipe.get(k)
        res = pipe.execute(raise_on_error=False)
        self.assertEqual(len(res), 302)
        self.assertEqual(res[:100], [True] * 100)
        self.assertEqual(res[100:200], [1000 + i for i in range(100)])
        self.assertEqual(res[200], True)
        self.assertIsInstance(res[201], ResponseError)
        self.assertEqual(str(res[201]), "value is not an integer or out of range")
        self.assertEqual(res[202:], [str(1000 + i) for i in range(100)])

        # With raise_on_error (the default) the first error is raised.
        pipe = r.pipeline(transaction=False)
        pipe.get(keys[0]).incr(f"{PREFIX}:pipe:text").get(keys[1])
        with self.assertRaisesRegex(ResponseError, "value is not an integer"):
            pipe.execute()
        self.assertEqual(r.delete(*keys, f"{PREFIX}:pipe:text"), 101)

    @unittest.skipIf(CLUSTER, "redis-py's RedisCluster has no transactions")
    def test_pipeline_transaction(self):
        r = self.r
        a, z = f"{TAG}:count", f"{TAG}:z"
        pipe = r.pipeline(transaction=True)
        pipe.set(a, 10).incrby(a, 5).get(a).zadd(z, {"x": 1.5}).zrange(z, 0, -1, withscores=True)
        self.assertEqual(pipe.execute(), [True, 15, "15", 1, [("x", 1.5)]])

        # A command refused while queueing discards the transaction.
        pipe = r.pipeline(transaction=True)
        pipe.set(a, 99).execute_command("ZADD", z, 2)
        with self.assertRaises(ResponseError) as cm:
            pipe.execute()
        self.assertIn("wrong number of arguments for 'zadd' command", str(cm.exception))
        self.assertEqual(r.get(a), "15")

        # Optimistic locking: a concurrent write forces a retry.
        other = connect()
        tries = []

        def double(pipe):
            v = int(pipe.get(a))
            if not tries:
                other.set(a, 100)  # lands between WATCH and EXEC
            tries.append(v)
            pipe.multi()
            pipe.set(a, v * 2)

        r.transaction(double, a)
        self.assertEqual(tries, [15, 100])
        self.assertEqual(r.get(a), "200")

        pipe = r.pipeline()
        pipe.watch(a)
        other.incr(a)
        pipe.multi()
        pipe.set(a, 0)
        with self.assertRaises(WatchError):
            pipe.execute()
        self.assertEqual(r.get(a), "201")
        other.close()
        self.assertEqual(r.delete(a, z), 2)

    def test_lock_protects_a_counter(self):
        r = self.r
        counter, name = f"{PREFIX}:counter", f"{PREFIX}:counter-lock"
        self.addCleanup(r.delete, counter, name)
        errors = []

        def worker():
            try:
                for _ in range(25):
                    with r.lock(name, timeout=10, sleep=0.005, blocking_timeout=20):
                        v = int(r.get(counter) or 0)
                        r.set(counter, v + 1)
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        self.assertEqual(r.get(counter), "100")
        self.assertEqual(r.exists(name), 0)

    def test_lock_owner_rules(self):
        r = self.r
        name = f"{PREFIX}:lock"
        self.addCleanup(r.delete, name)
        first = r.lock(name, timeout=0.2)
        self.assertTrue(first.acquire(blocking=False))
        self.assertTrue(first.owned())
        self.assertFalse(r.lock(name, timeout=5).acquire(blocking=False))

        # The first owner's lease runs out and a second client takes the lock.
        wait_for(lambda: r.exists(name) == 0, 5, "the lock to expire")
        second = r.lock(name, timeout=5)
        self.assertTrue(second.acquire(blocking=False))
        self.assertTrue(first.locked())
        self.assertFalse(first.owned())
        with self.assertRaises(LockNotOwnedError):
            first.extend(10)
        with self.assertRaises(LockNotOwnedError):
            first.reacquire()
        with self.assertRaises(LockNotOwnedError):
            first.release()

        # A lock object that never acquired cannot release.
        with self.assertRaises(LockError):
            r.lock(name).release()

        self.assertTrue(second.extend(10))
        self.assertGreater(r.pttl(name), 10000)
        self.assertTrue(second.reacquire())
        self.assertLessEqual(r.pttl(name), 5000)
        second.release()
        self.assertEqual(r.exists(name), 0)
        with self.assertRaises(LockError):
            second.release()

    def test_pubsub(self):
        r = self.r
        chat, pattern = f"{PREFIX}:chat", f"{PREFIX}:news.*"
        p = r.pubsub()
        p.subscribe(chat)
        p.psubscribe(pattern)
        got = []

        def drain(n):
            end = time.monotonic() + 10
            while len(got) < n and time.monotonic() < end:
                m = p.get_message(timeout=0.5)
                if m is not None:
                    got.append(m)

        drain(2)
        self.assertEqual(
            [(m["type"], m["channel"], m["data"]) for m in got],
            [("subscribe", chat, 1), ("psubscribe", pattern, 2)],
        )
        n1 = r.publish(chat, "hello")
        n2 = r.publish(f"{PREFIX}:news.sports", "goal")
        n3 = r.publish(f"{PREFIX}:other", "nobody listens")
        if not CLUSTER:  # a cluster counts the receiving node's subscribers
            self.assertEqual((n1, n2, n3), (1, 1, 0))
        for i in range(20):
            r.publish(chat, f"m{i}")
        drain(24)
        self.assertEqual(
            got[2:4],
            [
                {"type": "message", "pattern": None, "channel": chat, "data": "hello"},
                {
                    "type": "pmessage",
                    "pattern": pattern,
                    "channel": f"{PREFIX}:news.sports",
                    "data": "goal",
                },
            ],
        )
        self.assertEqual([m["data"] for m in got[4:]], [f"m{i}" for i in range(20)])
        p.unsubscribe(chat)
        p.punsubscribe(pattern)
        got.clear()
        drain(2)
        self.assertEqual(
            [(m["type"], m["channel"], m["data"]) for m in got],
            [("unsubscribe", chat, 1), ("punsubscribe", pattern, 0)],
        )
        if not CLUSTER:
            self.assertEqual(r.pubsub_numsub(chat), [(chat, 0)])
        p.close()

    def test_scan_iter(self):
        r = self.r
        want = {f"{PREFIX}:scan:{i}" for i in range(300)}
        pipe = r.pipeline(transaction=False)
        for k in want:
            pipe.set(k, "v")
        pipe.set(f"{PREFIX}:scanx", "not matched")
        self.addCleanup(r.delete, *want, f"{PREFIX}:scanx")
        pipe.execute()
        got = list(r.scan_iter(match=f"{PREFIX}:scan:*", count=50))
        self.assertEqual(set(got), want)
        # A key is returned once (a cluster client walks every primary).
        self.assertEqual(len(got), len(want))

    def test_register_script(self):
        r = self.r
        limiter = r.register_script(
            "local n = redis.call('INCR', KEYS[1])\n"
            "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
            "if n > tonumber(ARGV[1]) then return 0 end\n"
            "return 1"
        )
        self.assertEqual(limiter.sha, hashlib.sha1(limiter.script.encode()).hexdigest())
        # An empty cache: EVALSHA gets NOSCRIPT, the script loads and reruns.
        self.assertTrue(r.script_flush())
        self.assertEqual(r.script_exists(limiter.sha), [False])
        key, burst = f"{PREFIX}:rate", f"{PREFIX}:burst"
        src, dst = f"{TAG}:src", f"{TAG}:dst"
        self.addCleanup(r.delete, key, burst, src, dst)
        self.assertEqual([limiter(keys=[key], args=[5, 60000]) for _ in range(7)], [1] * 5 + [0] * 2)
        self.assertEqual(r.script_exists(limiter.sha), [True])
        self.assertTrue(0 < r.pttl(key) <= 60000)

        # The script in a pipeline (redis-py's cluster pipeline refuses
        # EVALSHA): the pipeline loads it again after a flush.
        if not CLUSTER:
            self.assertTrue(r.script_flush())
            pipe = r.pipeline(transaction=False)
            for _ in range(30):
                limiter(keys=[burst], args=[20, 60000], client=pipe)
            self.assertEqual(pipe.execute(), [1] * 20 + [0] * 10)
        else:
            self.assertEqual([limiter(keys=[burst], args=[20, 60000]) for _ in range(30)], [1] * 20 + [0] * 10)

        # A script on two keys of one slot, its errors and Lua conversions.
        move = r.register_script(
            "local v = redis.call('GET', KEYS[1])\n"
            "if not v then return redis.error_reply('NOSOURCE nothing to move') end\n"
            "redis.call('SET', KEYS[2], v)\n"
            "redis.call('DEL', KEYS[1])\n"
            "return {v, redis.call('STRLEN', KEYS[2]), {1.5, true, false}}"
        )
        r.set(src, "payload")
        self.assertEqual(move(keys=[src, dst]), ["payload", 7, [1, 1, None]])
        with self.assertRaises(ResponseError) as cm:
            move(keys=[src, dst])
        self.assertEqual(str(cm.exception), "NOSOURCE nothing to move")
        self.assertEqual(r.get(dst), "payload")
        self.assertEqual(r.exists(src, dst), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
