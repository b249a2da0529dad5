// ioredis flows against one server (CAIRN_ADDR=host:port) or a cluster
// (CAIRN_CLUSTER=host:port,host:port,...). Every run uses its own random key
// prefix; keys that a multi-key command, pipeline or transaction uses
// together share a hash tag, so the same flows run on a cluster.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const Redis = require("ioredis");

const clusterAddrs = process.env.CAIRN_CLUSTER;
const singleAddr = process.env.CAIRN_ADDR;
if (!clusterAddrs && !singleAddr) {
  throw new Error("set CAIRN_ADDR=host:port or CAIRN_CLUSTER=host:port,...");
}
const isCluster = Boolean(clusterAddrs);

function hostPort(s) {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

// Every client started is closed at the end, so the process exits.
const clients = [];
function connect() {
  const c = isCluster
    ? new Redis.Cluster(clusterAddrs.split(",").map(hostPort), {
        redisOptions: { maxRetriesPerRequest: 3 },
        clusterRetryStrategy: (times) => (times > 5 ? null : 200),
      })
    : new Redis({ ...hostPort(singleAddr), maxRetriesPerRequest: 3 });
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) await c.quit().catch(() => c.disconnect());
});

const run = crypto.randomBytes(6).toString("hex");
const prefix = `compat:node:${run}`;
const tag = `{compat:node:${run}}`; // one slot for keys used together
const T = { timeout: 30000 };
const r = connect();

// The nodes that answer SCAN and SCRIPT: the server, or the cluster's masters.
function nodes() {
  const n = isCluster ? r.nodes("master") : [r];
  assert.ok(n.length > 0, "no master nodes known");
  return n;
}
before(() => r.ping()); // a cluster client knows its nodes once it answers

// waitFor resolves when pred() holds, checking every 10 ms for at most ms.
async function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

test("leaderboard", T, async () => {
  const board = `${prefix}:board`;
  assert.equal(
    await r.zadd(board, 100, "alice", 80, "bob", 120, "carol", 95, "dave", 60, "erin"),
    5,
  );
  assert.equal(await r.zincrby(board, 30, "bob"), "110");
  assert.equal(await r.zincrby(board, 2.5, "erin"), "62.5");
  // GT only raises: carol keeps 120, alice goes to 125; CH counts alice only.
  assert.equal(await r.zadd(board, "GT", "CH", 90, "carol", 125, "alice"), 1);
  assert.deepEqual(await r.zrevrange(board, 0, 2, "WITHSCORES"), [
    "alice", "125", "carol", "120", "bob", "110",
  ]);
  assert.equal(await r.zrevrank(board, "bob"), 2);
  assert.equal(await r.zrevrank(board, "nobody"), null);
  assert.equal(await r.zscore(board, "erin"), "62.5");
  assert.equal(await r.zcard(board), 5);

  // The players around dave.
  const rank = await r.zrevrank(board, "dave");
  assert.deepEqual(await r.zrevrange(board, rank - 1, rank + 1, "WITHSCORES"), [
    "bob", "110", "dave", "95", "erin", "62.5",
  ]);
  assert.deepEqual(await r.zrangebyscore(board, 90, "+inf", "WITHSCORES", "LIMIT", 0, 2), [
    "dave", "95", "bob", "110",
  ]);

  // Concurrent increments of one member all count.
  await Promise.all(Array.from({ length: 200 }, () => r.zincrby(board, 1, "erin")));
  assert.equal(await r.zscore(board, "erin"), "262.5");
  assert.deepEqual(await r.zrevrange(board, 0, 0, "WITHSCORES"), ["erin", "262.5"]);

  // A big board, walked with ZSCAN: every member comes back with its score.
  const big = `${prefix}:bigboard`;
  const args = [];
  for (let i = 0; i < 300; i++) args.push(i * 3, `p${i}`);
  assert.equal(await r.zadd(big, ...args), 300);
  const seen = new Map();
  await new Promise((resolve, reject) => {
    const s = r.zscanStream(big, { count: 40 });
    s.on("data", (page) => {
      for (let i = 0; i < page.length; i += 2) seen.set(page[i], page[i + 1]);
    });
    s.on("end", resolve);
    s.on("error", reject);
  });
  assert.equal(seen.size, 300);
  for (let i = 0; i < 300; i++) assert.equal(seen.get(`p${i}`), String(i * 3));
  assert.equal(await r.del(board), 1);
  assert.equal(await r.del(big), 1);
});

test("pipeline of 500 commands", T, async () => {
  // On a cluster a pipeline must stay on one node: use the tag there.
  const k = (i) => (isCluster ? `${tag}:pipe:${i}` : `${prefix}:pipe:${i}`);
  const p = r.pipeline();
  for (let i = 0; i < 200; i++) p.set(k(i), String(i));
  for (let i = 0; i < 198; i++) p.incrby(k(i), 1000);
  p.set(k("text"), "not a number").incr(k("text"));
  for (let i = 0; i < 100; i++) p.get(k(i * 2));
  assert.equal(p.length, 500);
  const res = await p.exec();
  assert.equal(res.length, 500);
  for (let i = 0; i < 200; i++) assert.deepEqual(res[i], [null, "OK"]);
  for (let i = 0; i < 198; i++) assert.deepEqual(res[200 + i], [null, 1000 + i]);
  assert.deepEqual(res[398], [null, "OK"]);
  assert.equal(res[399][0].message, "ERR value is not an integer or out of range");
  for (let i = 0; i < 100; i++) {
    const n = i * 2;
    assert.deepEqual(res[400 + i], [null, String(n < 198 ? n + 1000 : n)]);
  }
  const keys = [...Array(200).keys()].map(k).concat([k("text")]);
  const dels = r.pipeline();
  for (const key of keys) dels.del(key);
  const dres = await dels.exec();
  assert.equal(dres.reduce((n, [err, v]) => (assert.equal(err, null), n + v), 0), 201);
});

test("multi/exec", T, async () => {
  const a = `${tag}:counter`;
  const z = `${tag}:z`;
  const s = `${tag}:text`;
  assert.deepEqual(
    await r.multi().set(a, 10).incrby(a, 5).get(a).zadd(z, 1.5, "x").zrange(z, 0, -1, "WITHSCORES").exec(),
    [[null, "OK"], [null, 15], [null, "15"], [null, 1], [null, ["x", "1.5"]]],
  );

  // A command that fails at run time fails alone; the others are applied.
  const res = await r.multi().set(s, "text").incr(s).append(s, "!").exec();
  assert.deepEqual(res[0], [null, "OK"]);
  assert.equal(res[1][0].message, "ERR value is not an integer or out of range");
  assert.deepEqual(res[2], [null, 5]);
  assert.equal(await r.get(s), "text!");

  // A command refused while queueing discards the whole transaction.
  await assert.rejects(
    r.multi().set(a, 99).zadd(z, 2).exec(),
    (err) => {
      assert.match(err.message, /^EXECABORT Transaction discarded because of previous errors\./);
      assert.equal(err.previousErrors.length, 1);
      assert.equal(err.previousErrors[0].message, "ERR wrong number of arguments for 'zadd' command");
      return true;
    },
  );
  assert.equal(await r.get(a), "15");
  assert.equal(await r.del(a, z, s), 3);
});

// Cairn supports WATCH on a single node only (docs/cluster.md).
if (!isCluster) test("watch aborts a transaction on a concurrent write", T, async () => {
  const a = `${prefix}:watched`;
  const other = connect();
  await r.set(a, "1");
  await r.watch(a);
  const v = Number(await r.get(a));
  await other.set(a, "100");
  assert.equal(await r.multi().set(a, String(v + 1)).exec(), null);
  assert.equal(await r.get(a), "100");
  await r.watch(a);
  const w = Number(await r.get(a));
  assert.deepEqual(await r.multi().set(a, String(w + 1)).exec(), [[null, "OK"]]);
  assert.equal(await r.get(a), "101");
  await r.del(a);
});

const RATE_LIMIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return 1`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;
const SHAPES = `return {1, 'two', {3, 'four'}, redis.status_reply('FINE'), 2.9, false, true}`;

test("scripts with defineCommand", T, async () => {
  r.defineCommand("rateLimit", { numberOfKeys: 1, lua: RATE_LIMIT });
  r.defineCommand("releaseLock", { numberOfKeys: 1, lua: RELEASE });
  r.defineCommand("shapes", { numberOfKeys: 1, lua: SHAPES });
  const sha = crypto.createHash("sha1").update(RATE_LIMIT).digest("hex");

  // An empty script cache: the first EVALSHA gets NOSCRIPT, ioredis falls
  // back to EVAL, which caches the script for the next EVALSHA.
  for (const n of nodes()) {
    assert.equal(await n.script("FLUSH"), "OK");
    assert.deepEqual(await n.script("EXISTS", sha), [0]);
  }
  const limiter = `${prefix}:rate`;
  const got = [];
  for (let i = 0; i < 7; i++) got.push(await r.rateLimit(limiter, 5, 60000));
  assert.deepEqual(got, [1, 1, 1, 1, 1, 0, 0]);
  const cached = await Promise.all(nodes().map((n) => n.script("EXISTS", sha)));
  assert.ok(cached.some(([c]) => c === 1), `script cached on no node: ${JSON.stringify(cached)}`);
  const pttl = await r.pttl(limiter);
  assert.ok(pttl > 0 && pttl <= 60000, `pttl ${pttl}`);

  // Concurrent callers share one budget.
  const burst = `${prefix}:burst`;
  const allowed = await Promise.all(Array.from({ length: 50 }, () => r.rateLimit(burst, 20, 60000)));
  assert.equal(allowed.filter((x) => x === 1).length, 20);

  // A lock released only by its owner.
  const lock = `${prefix}:lock`;
  const token = crypto.randomBytes(8).toString("hex");
  assert.equal(await r.set(lock, token, "PX", 10000, "NX"), "OK");
  assert.equal(await r.set(lock, "intruder", "PX", 10000, "NX"), null);
  assert.equal(await r.releaseLock(lock, "wrong-token"), 0);
  assert.equal(await r.get(lock), token);
  assert.equal(await r.releaseLock(lock, token), 1);
  assert.equal(await r.exists(lock), 0);

  // Lua to RESP conversions, and errors raised by scripts.
  assert.deepEqual(await r.shapes(`${prefix}:shapes`), [1, "two", [3, "four"], "FINE", 2, null, 1]);
  const str = `${prefix}:str`;
  await r.set(str, "v");
  await assert.rejects(r.eval("return redis.call('ZADD', KEYS[1], 1, 'm')", 1, str), (err) => {
    assert.match(err.message, /^WRONGTYPE Operation against a key holding the wrong kind of value script: [0-9a-f]{40}, on @user_script:1\.$/);
    return true;
  });
  await assert.rejects(r.eval("return redis.error_reply('LIMITED try later')", 1, str), /^ReplyError: LIMITED try later$/);
  assert.equal(await r.eval("return redis.pcall('INCR', KEYS[1])['err']", 1, str), "ERR value is not an integer or out of range");
  for (const k of [limiter, burst, str]) assert.equal(await r.del(k), 1);
});

test("pub/sub", T, async () => {
  const sub = connect();
  const got = [];
  sub.on("message", (channel, message) => got.push(["message", channel, message]));
  sub.on("pmessage", (pattern, channel, message) => got.push(["pmessage", pattern, channel, message]));
  const chat = `${prefix}:chat`;
  const pattern = `${prefix}:news.*`;
  assert.equal(await sub.subscribe(chat), 1);
  assert.equal(await sub.psubscribe(pattern), 2);

  const pub = r;
  // A subscriber may sit on any node of a cluster: count receivers there only
  // on a single server.
  const n1 = await pub.publish(chat, "hello");
  const n2 = await pub.publish(`${prefix}:news.sports`, "goal");
  const n3 = await pub.publish(`${prefix}:other`, "nobody listens");
  if (!isCluster) assert.deepEqual([n1, n2, n3], [1, 1, 0]);
  for (let i = 0; i < 20; i++) await pub.publish(chat, `m${i}`);
  await waitFor(() => got.length >= 22, 10000, "22 messages");
  const want = [
    ["message", chat, "hello"],
    ["pmessage", pattern, `${prefix}:news.sports`, "goal"],
    ...Array.from({ length: 20 }, (_, i) => ["message", chat, `m${i}`]),
  ];
  // One server delivers in publishing order; a cluster client publishes
  // through any node, so messages from different nodes may interleave.
  const order = (l) => (isCluster ? l.map((m) => JSON.stringify(m)).sort() : l);
  assert.deepEqual(order(got), order(want));

  await sub.unsubscribe(chat);
  await sub.punsubscribe(pattern);
  if (!isCluster) {
    assert.deepEqual(await pub.pubsub("NUMSUB", chat), [chat, 0]);
    assert.equal(await pub.publish(chat, "gone"), 0);
  }
  // Unsubscribed from everything, the connection runs commands again.
  assert.equal(await sub.ping(), "PONG");
  assert.equal(got.length, 22);
});

// collectScan runs SCAN MATCH pattern on one node through scanStream.
function collectScan(node, pattern) {
  return new Promise((resolve, reject) => {
    const keys = [];
    const s = node.scanStream({ match: pattern, count: 50 });
    s.on("data", (page) => keys.push(...page));
    s.on("end", () => resolve(keys));
    s.on("error", reject);
  });
}

test("scanStream", T, async () => {
  const want = Array.from({ length: 300 }, (_, i) => `${prefix}:scan:${i}`);
  await Promise.all(want.map((k, i) => r.set(k, String(i))));
  await r.set(`${prefix}:scanx`, "not matched");
  try {
    // On a cluster the scan walks every master (ioredis's documented recipe).
    const pages = await Promise.all(nodes().map((n) => collectScan(n, `${prefix}:scan:*`)));
    const all = pages.flat();
    assert.deepEqual([...new Set(all)].sort(), [...want].sort());
    // Each key lives on one master: it comes back once over the whole walk.
    assert.equal(all.length, want.length, `SCAN over ${pages.length} node(s) returned ${all.length} keys for ${want.length}`);
  } finally {
    await Promise.all([...want, `${prefix}:scanx`].map((k) => r.del(k)));
  }
});
