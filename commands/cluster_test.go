package commands

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"cairn/cluster"
	"cairn/store"
)

// On a single node every CLUSTER subcommand, READONLY, READWRITE and ASKING
// answer as redis-server 7.0 without cluster-enabled: argument counts
// first, then "cluster support disabled", KEYSLOT and HELP included.
func TestClusterCmd_DisabledOnSingleNode(t *testing.T) {
	forEachDiffer(t, func(t *testing.T, d *differ, _ *Node) {
		cases := [][]string{
			{"CLUSTER", "SLOTS"},
			{"CLUSTER", "SHARDS"},
			{"CLUSTER", "NODES"},
			{"CLUSTER", "INFO"},
			{"CLUSTER", "KEYSLOT", "foo"},
			{"cluster", "keyslot", "{user1}.a"},
			{"CLUSTER", "MYID"},
			{"CLUSTER", "HELP"},
			{"CLUSTER", "COUNTKEYSINSLOT", "1"},
			{"CLUSTER", "COUNTKEYSINSLOT", "abc"},
			{"CLUSTER", "GETKEYSINSLOT", "1", "1"},
			{"CLUSTER", "MEET", "127.0.0.1", "1"},
			{"CLUSTER", "MEET", "127.0.0.1", "1", "2", "3"},
			{"CLUSTER", "FORGET", "abc"},
			{"READONLY"},
			{"READWRITE"},
			{"ASKING"},
			// Argument counts are checked before cluster mode.
			{"CLUSTER"},
			{"CLUSTER", "KEYSLOT"},
			{"CLUSTER", "KEYSLOT", "a", "b"},
			{"CLUSTER", "MYID", "x"},
			{"CLUSTER", "MEET", "127.0.0.1"},
			{"READONLY", "x"},
			{"ASKING", "x"},
			{"CLUSTER", "NOSUCH"},
		}
		for _, args := range cases {
			if got := d.do(args...); !strings.HasPrefix(got, "-") {
				t.Errorf("%q: %q is not an error", args, got)
			}
		}
		d.do("MULTI")
		d.do("CLUSTER", "INFO")
		d.do("EXEC")
	})
}

// CONSISTENCY works on a single node too: the level is kept per
// connection, and CLIENT INFO stays byte-compatible with Redis (no extra
// field).
func TestClusterCmd_ConsistencySingleNode(t *testing.T) {
	n := testNode(t)
	r := dialRaw(t, n.Addr())
	checkConsistency(t, r)
	if got := r.do("CLIENT", "INFO"); strings.Contains(got, "consistency=") {
		t.Errorf("single-node CLIENT INFO has a consistency field: %q", got)
	}
	if got := r.do("INFO", "cluster"); !strings.Contains(got, "# Cluster\r\ncluster_enabled:0\r\n") || strings.Contains(got, "cluster_ring_epoch") {
		t.Errorf("single-node INFO cluster = %q", got)
	}
}

// checkConsistency runs CONSISTENCY's cases on a raw connection whose level
// is DEFAULT, and leaves it at ALL.
func checkConsistency(t *testing.T, r *rawConn) {
	t.Helper()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"CONSISTENCY"}, "+DEFAULT\r\n"},
		{[]string{"CONSISTENCY", "quorum"}, "+OK\r\n"},
		{[]string{"CONSISTENCY"}, "+QUORUM\r\n"},
		{[]string{"CONSISTENCY", "One"}, "+OK\r\n"},
		{[]string{"CONSISTENCY"}, "+ONE\r\n"},
		{[]string{"CONSISTENCY", "READYOURWRITES"}, "+OK\r\n"},
		{[]string{"CONSISTENCY"}, "+READYOURWRITES\r\n"},
		{[]string{"CONSISTENCY", "default"}, "+OK\r\n"},
		{[]string{"CONSISTENCY"}, "+DEFAULT\r\n"},
		{[]string{"CONSISTENCY", "bogus"}, "-ERR unknown consistency level 'bogus'\r\n"},
		{[]string{"CONSISTENCY", "a\r\nb"}, "-ERR unknown consistency level 'a  b'\r\n"},
		{[]string{"CONSISTENCY", "ALL", "ONE"}, "-ERR syntax error\r\n"},
		{[]string{"CONSISTENCY"}, "+DEFAULT\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"CONSISTENCY", "ONE"}, "-ERR Command not allowed inside a transaction\r\n"},
		{[]string{"DISCARD"}, "+OK\r\n"},
		{[]string{"CONSISTENCY", "all"}, "+OK\r\n"},
		{[]string{"CONSISTENCY"}, "+ALL\r\n"},
	}
	for _, s := range steps {
		if got := r.do(s.args...); got != s.want {
			t.Errorf("%q = %q, want %q", s.args, got, s.want)
		}
	}
	other := dialRaw(t, r.nc.RemoteAddr().String())
	if got := other.do("CONSISTENCY"); got != "+DEFAULT\r\n" {
		t.Errorf("another connection's CONSISTENCY = %q, want DEFAULT: the level is per connection", got)
	}
}

// redisKeySlots are CLUSTER KEYSLOT replies of redis-server 7.0.15 in
// cluster mode, hash tags included.
var redisKeySlots = []struct {
	key  string
	slot int64
}{
	{"", 0},
	{"123456789", 12739}, // the CRC16 check value 0x31C3
	{"foo", 12182},
	{"bar", 5061},
	{"hello", 866},
	{"user1000", 3443},
	{"{user1000}.following", 3443},
	{"{user1000}.followers", 3443},
	{"{}", 15257},
	{"{}foo", 9500},
	{"foo{}{bar}", 8363},
	{"foo{{bar}}zap", 4015},
	{"foo{bar}{zap}", 5061},
	{"{bar", 4015},
	{"bar}", 6624},
	{"a{b}c{d}", 3300},
}

// redisClusterHelp70 is redis-server 7.0.15's CLUSTER HELP, without its
// first line and the closing HELP entry.
var redisClusterHelp70 = []string{
	"ADDSLOTS <slot> [<slot> ...]", "    Assign slots to current node.",
	"ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]", "    Assign slots which are between <start-slot> and <end-slot> to current node.",
	"BUMPEPOCH", "    Advance the cluster config epoch.",
	"COUNT-FAILURE-REPORTS <node-id>", "    Return number of failure reports for <node-id>.",
	"COUNTKEYSINSLOT <slot>", "    Return the number of keys in <slot>.",
	"DELSLOTS <slot> [<slot> ...]", "    Delete slots information from current node.",
	"DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]", "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
	"FAILOVER [FORCE|TAKEOVER]", "    Promote current replica node to being a master.",
	"FORGET <node-id>", "    Remove a node from the cluster.",
	"GETKEYSINSLOT <slot> <count>", "    Return key names stored by current node in a slot.",
	"FLUSHSLOTS", "    Delete current node own slots information.",
	"INFO", "    Return information about the cluster.",
	"KEYSLOT <key>", "    Return the hash slot for <key>.",
	"MEET <ip> <port> [<bus-port>]", "    Connect nodes into a working cluster.",
	"MYID", "    Return the node id.",
	"NODES", "    Return cluster configuration seen by node. Output format:", "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"REPLICATE <node-id>", "    Configure current node as replica to <node-id>.",
	"RESET [HARD|SOFT]", "    Reset current node (default: soft).",
	"SET-CONFIG-EPOCH <epoch>", "    Set config epoch of current node.",
	"SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)", "    Set slot state.",
	"REPLICAS <node-id>", "    Return <node-id> replicas.",
	"SAVECONFIG", "    Force saving cluster configuration on disk.",
	"SLOTS", "    Return information about slots range mappings. Each range is made of:", "    start, end, master and replicas IP addresses, ports and ids",
	"SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
	"LINKS", "    Return information about all network links between this node and its peers.", "    Output format is an array where each array element is a map containing attributes of a link",
}

// clusterInfoFields parses CLUSTER INFO or INFO text into its keys, in
// order, and values.
func clusterInfoFields(t *testing.T, text string) ([]string, map[string]string) {
	t.Helper()
	var keys []string
	vals := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad INFO line %q in %q", line, text)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// redisClusterInfoKeys are the fields of redis-server 7.0's CLUSTER INFO
// when no bus message was counted; cairnClusterKeys follow them, and are
// also INFO cluster's after cluster_enabled.
var (
	redisClusterInfoKeys = []string{"cluster_state", "cluster_slots_assigned", "cluster_slots_ok", "cluster_slots_pfail",
		"cluster_slots_fail", "cluster_known_nodes", "cluster_size", "cluster_current_epoch", "cluster_my_epoch",
		"cluster_stats_messages_sent", "cluster_stats_messages_received", "total_cluster_links_buffer_limit_exceeded"}
	cairnClusterKeys = []string{"cluster_ring_epoch", "cluster_members", "cluster_members_alive", "cluster_replicas",
		"cluster_write_quorum", "cluster_read_quorum", "cluster_slots_primary", "cluster_slots_fresh",
		"cluster_hint_backlog", "cluster_hints_replayed", "cluster_quorum_failures", "cluster_writes_uncertain",
		"cluster_read_repairs", "cluster_keys_repaired", "cluster_anti_entropy_rounds", "cluster_slots_compared",
		"cluster_slots_differed", "cluster_step_downs", "cluster_keys_dropped", "cluster_ryw_reads_local",
		"cluster_ryw_reads_primary"}
)

// TestClusterCmd_ThreeNodes checks every CLUSTER subcommand against the
// view of a running three-node cluster (N=3, so every node replicates every
// slot; each slot is listed with its primary alone).
func TestClusterCmd_ThreeNodes(t *testing.T) {
	tc := startCluster(t, 3)
	n0 := tc.Nodes[0]
	v := n0.Cluster.View()
	if len(v.Members) != 3 || v.N != 3 {
		t.Fatalf("view has %d members, N=%d; want 3, 3", len(v.Members), v.N)
	}

	t.Run("slots", func(t *testing.T) {
		slots, err := newClient(t, n0.Addr(), 3).ClusterSlots(ctx).Result()
		must(t, err)
		next := 0
		for i, r := range slots {
			if r.Start != next || r.End < r.Start {
				t.Fatalf("range %d is %d-%d, want it to start at %d", i, r.Start, r.End, next)
			}
			next = r.End + 1
			for s := r.Start; s <= r.End; s++ {
				want, _ := v.Primary(uint16(s))
				if got := nodeIDs(r.Nodes); !slices.Equal(got, []string{want}) {
					t.Fatalf("slot %d (range %d-%d): nodes %v, want its primary %s alone", s, r.Start, r.End, got, want)
				}
			}
			for _, nd := range r.Nodes {
				if want := v.Members[nd.ID].Addr; nd.Addr != want {
					t.Errorf("node %s: addr %q, want %q", nd.ID, nd.Addr, want)
				}
			}
			if i > 0 && slices.Equal(nodeIDs(slots[i-1].Nodes), nodeIDs(r.Nodes)) {
				t.Errorf("ranges %d and %d have the same nodes: not merged", i-1, i)
			}
		}
		if next != store.SlotCount {
			t.Fatalf("ranges end at %d, want every slot", next)
		}
		t.Logf("CLUSTER SLOTS: %d ranges", len(slots))
	})

	t.Run("slots-bytes", func(t *testing.T) {
		r := slotRanges(v)[0]
		for _, proto := range []int{2, 3} {
			raw := dialRaw(t, n0.Addr())
			if proto == 3 {
				raw.do("HELLO", "3")
			}
			got := raw.do("CLUSTER", "SLOTS")
			var want strings.Builder
			fmt.Fprintf(&want, "*3\r\n:%d\r\n:%d\r\n", r.first, r.last)
			host, port, _ := net.SplitHostPort(v.Members[r.primary].Addr)
			fmt.Fprintf(&want, "*4\r\n$%d\r\n%s\r\n:%s\r\n$40\r\n%s\r\n", len(host), host, port, r.primary)
			want.WriteString(map[int]string{2: "*0\r\n", 3: "%0\r\n"}[proto])
			_, rest, _ := strings.Cut(got, "\r\n") // the outer array's header
			if !strings.HasPrefix(rest, want.String()) {
				t.Errorf("RESP%d: first range %q..., want %q", proto, rest[:min(len(rest), len(want.String()))], want.String())
			}
		}
	})

	t.Run("shards", func(t *testing.T) {
		shards, err := newClient(t, n0.Addr(), 3).ClusterShards(ctx).Result()
		must(t, err)
		seen := make([]bool, store.SlotCount)
		primaries := map[string]bool{}
		for _, sh := range shards {
			if len(sh.Nodes) != 1 {
				t.Fatalf("shard with %d nodes, want its primary alone: %+v", len(sh.Nodes), sh.Nodes)
			}
			nd := sh.Nodes[0]
			host, port, _ := net.SplitHostPort(v.Members[nd.ID].Addr)
			if nd.Role != "master" || nd.Health != "online" || nd.IP != host || nd.Endpoint != host ||
				strconv.FormatInt(nd.Port, 10) != port || nd.ReplicationOffset != 0 {
				t.Errorf("shard node: %+v", nd)
			}
			if primaries[nd.ID] {
				t.Errorf("node %s heads two shards", nd.ID)
			}
			primaries[nd.ID] = true
			if len(sh.Slots) == 0 {
				t.Errorf("shard of %s has no slots", nd.ID)
			}
			for _, r := range sh.Slots {
				for s := r.Start; s <= r.End; s++ {
					if seen[s] {
						t.Fatalf("slot %d is in two shards", s)
					}
					seen[s] = true
					if want, _ := v.Primary(uint16(s)); nd.ID != want {
						t.Fatalf("slot %d: in the shard of %s, its primary is %s", s, nd.ID, want)
					}
				}
			}
		}
		if i := slices.Index(seen, false); i >= 0 {
			t.Fatalf("slot %d is in no shard", i)
		}
		if len(shards) != 3 {
			t.Errorf("%d shards for 3 nodes", len(shards))
		}
	})

	t.Run("nodes", func(t *testing.T) {
		for i, n := range tc.Nodes {
			text, err := newClient(t, n.Addr(), 2).ClusterNodes(ctx).Result()
			must(t, err)
			checkNodesText(t, text, n.Cluster.View(), tc.ID(i))
		}
		got := dialRaw(t, n0.Addr())
		got.do("HELLO", "3")
		if raw := got.do("CLUSTER", "NODES"); !strings.HasPrefix(raw, "=") || !strings.Contains(raw, "\r\ntxt:") {
			t.Errorf("RESP3 CLUSTER NODES is not a verbatim string: %.40q", raw)
		}
	})

	t.Run("info", func(t *testing.T) {
		text, err := newClient(t, n0.Addr(), 2).ClusterInfo(ctx).Result()
		must(t, err)
		keys, vals := clusterInfoFields(t, text)
		if want := append(slices.Clone(redisClusterInfoKeys), cairnClusterKeys...); !slices.Equal(keys, want) {
			t.Fatalf("CLUSTER INFO fields\n got %v\nwant %v", keys, want)
		}
		want := map[string]string{
			"cluster_state": "ok", "cluster_slots_assigned": "16384", "cluster_slots_ok": "16384",
			"cluster_slots_pfail": "0", "cluster_slots_fail": "0", "cluster_known_nodes": "3", "cluster_size": "3",
			"cluster_current_epoch": strconv.FormatUint(v.Epoch, 10),
			"cluster_my_epoch":      strconv.FormatUint(v.Members[tc.ID(0)].Ver, 10),
			"cluster_ring_epoch":    strconv.FormatUint(v.Epoch, 10),
			"cluster_members":       "3", "cluster_members_alive": "3", "cluster_replicas": "3",
			"cluster_write_quorum": "2", "cluster_read_quorum": "2",
			"cluster_slots_primary": strconv.Itoa(len(v.Ring.PrimarySlots(tc.ID(0)))),
		}
		for k, w := range want {
			if vals[k] != w {
				t.Errorf("%s = %q, want %q", k, vals[k], w)
			}
		}
	})

	t.Run("keyslot-myid", func(t *testing.T) {
		c := newClient(t, tc.Nodes[1].Addr(), 3)
		for _, k := range redisKeySlots {
			if got, err := c.ClusterKeySlot(ctx, k.key).Result(); err != nil || got != k.slot {
				t.Errorf("CLUSTER KEYSLOT %q = %d, %v; redis-server says %d", k.key, got, err, k.slot)
			}
		}
		if got, err := c.ClusterMyID(ctx).Result(); err != nil || got != tc.ID(1) {
			t.Errorf("CLUSTER MYID = %q, %v; want %s", got, err, tc.ID(1))
		}
	})

	t.Run("keysinslot", func(t *testing.T) {
		slot := cluster.KeySlot([]byte("{ks}"))
		p, _ := v.Primary(slot)
		i := slices.IndexFunc(tc.Nodes, func(n *Node) bool { return n.Cluster.Self() == p })
		r := dialRaw(t, tc.Nodes[i].Addr())
		s := strconv.Itoa(int(slot))
		for _, k := range []string{"{ks}e", "{ks}b", "{ks}a", "{ks}d", "{ks}c"} {
			if got := doRetry(t, r, "SET", k, "v"); got != "+OK\r\n" {
				t.Fatalf("SET %s = %q", k, got)
			}
		}
		if got := doRetry(t, r, "DEL", "{ks}c"); got != ":1\r\n" { // leaves a tombstone record
			t.Fatalf("DEL = %q", got)
		}
		steps := [][2][]string{
			{{"CLUSTER", "COUNTKEYSINSLOT", s}, {":4\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", s, "10"}, {"*4\r\n$5\r\n{ks}a\r\n$5\r\n{ks}b\r\n$5\r\n{ks}d\r\n$5\r\n{ks}e\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", s, "2"}, {"*2\r\n$5\r\n{ks}a\r\n$5\r\n{ks}b\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", s, "0"}, {"*0\r\n"}},
			{{"CLUSTER", "COUNTKEYSINSLOT", "0"}, {":0\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", "16383", "5"}, {"*0\r\n"}},
			// Errors, as redis-server 7.0.15 in cluster mode.
			{{"CLUSTER", "COUNTKEYSINSLOT", "-1"}, {"-ERR Invalid slot\r\n"}},
			{{"CLUSTER", "COUNTKEYSINSLOT", "16384"}, {"-ERR Invalid slot\r\n"}},
			{{"CLUSTER", "COUNTKEYSINSLOT", "abc"}, {"-ERR value is not an integer or out of range\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", "1", "-1"}, {"-ERR Invalid slot or number of keys\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", "abc", "1"}, {"-ERR value is not an integer or out of range\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", "1", "abc"}, {"-ERR value is not an integer or out of range\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", "16384", "1"}, {"-ERR Invalid slot or number of keys\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", "-1", "1"}, {"-ERR Invalid slot or number of keys\r\n"}},
			// In a transaction: COUNTKEYSINSLOT runs, GETKEYSINSLOT (which
			// reads outside the store's lock) is refused.
			{{"MULTI"}, {"+OK\r\n"}},
			{{"CLUSTER", "COUNTKEYSINSLOT", s}, {"+QUEUED\r\n"}},
			{{"CLUSTER", "GETKEYSINSLOT", s, "1"}, {"+QUEUED\r\n"}},
			{{"EXEC"}, {"*2\r\n:4\r\n-ERR Command not allowed inside a transaction\r\n"}},
		}
		for _, st := range steps {
			if got := r.do(st[0]...); got != st[1][0] {
				t.Errorf("%q = %q, want %q", st[0], got, st[1][0])
			}
		}
	})

	t.Run("meet-forget-errors", func(t *testing.T) {
		r := dialRaw(t, n0.Addr())
		free := strconv.Itoa(freePort(t))
		steps := [][2]string{
			// As redis-server 7.0.15 in cluster mode.
			{"CLUSTER MEET 127.0.0.1 abc", "-ERR Invalid TCP base port specified: abc\r\n"},
			{"CLUSTER MEET 127.0.0.1 7402 abc", "-ERR Invalid TCP bus port specified: abc\r\n"},
			{"CLUSTER MEET 1.2.3 7402", "-ERR Invalid node address specified: 1.2.3:7402\r\n"},
			{"CLUSTER MEET localhost 7402", "-ERR Invalid node address specified: localhost:7402\r\n"},
			{"CLUSTER MEET 127.0.0.1 99999", "-ERR Invalid node address specified: 127.0.0.1:99999\r\n"},
			{"CLUSTER MEET 127.0.0.1 -5", "-ERR Invalid node address specified: 127.0.0.1:-5\r\n"},
			{"CLUSTER MEET 127.0.0.1 7402 0", "-ERR Invalid node address specified: 127.0.0.1:7402\r\n"},
			{"CLUSTER MEET 127.0.0.1 0", "-ERR Invalid node address specified: 127.0.0.1:0\r\n"},
			{"CLUSTER MEET ::1 7402 99999", "-ERR Invalid node address specified: ::1:7402\r\n"},
			{"CLUSTER MEET 127.0.0.1 7402 7402 x", "-ERR unknown subcommand or wrong number of arguments for 'MEET'. Try CLUSTER HELP.\r\n"},
			{"CLUSTER MEET 127.0.0.1", "-ERR wrong number of arguments for 'cluster|meet' command\r\n"},
			{"CLUSTER FORGET abc", "-ERR Unknown node abc\r\n"},
			{"CLUSTER FORGET " + tc.ID(0), "-ERR I tried hard but I can't forget myself...\r\n"},
			{"CLUSTER MYID x", "-ERR wrong number of arguments for 'cluster|myid' command\r\n"},
			{"CLUSTER", "-ERR wrong number of arguments for 'cluster' command\r\n"},
			{"READONLY x", "-ERR wrong number of arguments for 'readonly' command\r\n"},
			{"READONLY", "+OK\r\n"},
			{"READWRITE", "+OK\r\n"},
			{"ASKING", "+OK\r\n"},
		}
		for _, st := range steps {
			if got := r.do(strings.Fields(st[0])...); got != st[1] {
				t.Errorf("%s = %q, want %q", st[0], got, st[1])
			}
		}
		// Cairn waits for the handshake: nobody gossiping there is an error.
		if got := r.do("CLUSTER", "MEET", "127.0.0.1", "1", free); !strings.HasPrefix(got, "-ERR ") {
			t.Errorf("CLUSTER MEET to a closed bus port = %q, want an error", got)
		}
		if got := r.do("CLUSTER", "INFO"); !strings.Contains(got, "cluster_known_nodes:3\r\n") {
			t.Errorf("after the failed MEET, CLUSTER INFO = %q", got)
		}
	})

	t.Run("help", func(t *testing.T) {
		lines, err := newClient(t, n0.Addr(), 2).Do(ctx, "CLUSTER", "HELP").StringSlice()
		must(t, err)
		if len(lines) < 4 || lines[0] != "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" ||
			!slices.Equal(lines[len(lines)-2:], []string{"HELP", "    Prints this help."}) {
			t.Fatalf("CLUSTER HELP = %q", lines)
		}
		// Each entry (a command line and its indented lines) is Redis's,
		// in Redis's order.
		entries := helpEntries(lines[1 : len(lines)-2])
		redisEntries := helpEntries(redisClusterHelp70)
		at := 0
		for _, e := range entries {
			i := slices.Index(redisEntries[at:], e)
			if i < 0 {
				t.Errorf("CLUSTER HELP entry %q is not Redis 7.0's (or out of its order)", e)
				continue
			}
			at += i + 1
		}
		if len(entries) != 10 {
			t.Errorf("CLUSTER HELP has %d entries, want the 10 subcommands besides HELP", len(entries))
		}
	})

	t.Run("consistency", func(t *testing.T) {
		r := dialRaw(t, tc.Nodes[2].Addr())
		checkConsistency(t, r)
		if got := r.do("CLIENT", "INFO"); !strings.HasSuffix(got, " consistency=ALL\n\r\n") {
			t.Errorf("CLIENT INFO = %q, want it to end with consistency=ALL", got)
		}
		list := r.do("CLIENT", "LIST")
		if !strings.Contains(list, " consistency=ALL\n") {
			t.Errorf("CLIENT LIST = %q, want the caller's line to end with consistency=ALL", list)
		}
		r.do("CONSISTENCY", "QUORUM")
		if got := doRetry(t, r, "SET", "ckey", "v"); got != "+OK\r\n" {
			t.Errorf("SET at QUORUM = %q", got)
		}
		r.do("CONSISTENCY", "ONE")
		if got := doRetry(t, r, "GET", "ckey"); got != "$1\r\nv\r\n" {
			t.Errorf("GET at ONE = %q", got)
		}
	})

	t.Run("clusterclient", func(t *testing.T) {
		fwd0 := forwardedCalls(t, tc)
		for _, proto := range []int{2, 3} {
			cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{tc.Nodes[proto-1].Addr()}, Protocol: proto,
				DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
			t.Cleanup(func() { cc.Close() })
			for k := range 100 {
				key := fmt.Sprintf("cc%d:%d", proto, k)
				must(t, cc.Set(ctx, key, k, 0).Err())
				if got, err := cc.Get(ctx, key).Int(); err != nil || got != k {
					t.Fatalf("GET %s = %d, %v", key, got, err)
				}
				if k%10 == 0 {
					m, err := cc.MasterForKey(ctx, key)
					must(t, err)
					p, _ := v.Primary(cluster.KeySlot([]byte(key)))
					if want := v.Members[p].Addr; m.Options().Addr != want {
						t.Errorf("ClusterClient sends %s to %s; its primary is at %s", key, m.Options().Addr, want)
					}
				}
			}
		}
		if fwd := forwardedCalls(t, tc); fwd != fwd0 {
			t.Errorf("%d commands were forwarded between nodes: ClusterClient should reach each key's primary directly", fwd-fwd0)
		}
	})

	t.Run("redis-cli", func(t *testing.T) {
		bin, err := exec.LookPath("redis-cli")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("redis-cli is required in CI")
			}
			t.Skip("redis-cli not installed")
		}
		host, port, _ := net.SplitHostPort(tc.Nodes[1].Addr())
		// cli runs redis-cli -c, again while the reply is TRYAGAIN (which
		// redis-cli does not retry).
		cli := func(args ...string) string {
			var reply string
			waitFor(t, 10*time.Second, "a reply other than TRYAGAIN", func() bool {
				out, err := exec.Command(bin, append([]string{"-c", "-h", host, "-p", port}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("redis-cli %q: %v\n%s", args, err, out)
				}
				reply = strings.TrimSpace(string(out))
				return !strings.HasPrefix(reply, "TRYAGAIN")
			})
			return reply
		}
		for k := range 10 {
			key := fmt.Sprintf("cli:%d", k)
			if got := cli("SET", key, strconv.Itoa(k)); got != "OK" {
				t.Errorf("redis-cli -c SET %s = %q", key, got)
			}
			if got := cli("GET", key); got != strconv.Itoa(k) {
				t.Errorf("redis-cli -c GET %s = %q", key, got)
			}
		}
		if got := cli("CLUSTER", "KEYSLOT", "{user1000}.following"); got != "3443" {
			t.Errorf("redis-cli CLUSTER KEYSLOT = %q", got)
		}
	})
}

// INFO and a transaction run with the store's lock held; the cluster
// figures must still come out.
func TestClusterCmd_InfoUnderStoreLock(t *testing.T) {
	tc := startCluster(t, 3)
	c := newClient(t, tc.Nodes[0].Addr(), 3)
	text, err := c.Info(ctx, "cluster").Result()
	must(t, err)
	keys, vals := clusterInfoFields(t, text)
	if want := append([]string{"cluster_enabled"}, cairnClusterKeys...); !slices.Equal(keys, want) {
		t.Fatalf("INFO cluster fields\n got %v\nwant %v", keys, want)
	}
	if vals["cluster_enabled"] != "1" || vals["cluster_members"] != "3" || vals["cluster_replicas"] != "3" {
		t.Errorf("INFO cluster = %q", text)
	}
	r := dialRaw(t, tc.Nodes[1].Addr())
	r.do("MULTI")
	r.do("CLUSTER", "INFO")
	if got := r.do("EXEC"); !strings.Contains(got, "cluster_state:ok\r\n") || !strings.Contains(got, "cluster_step_downs:") {
		t.Errorf("CLUSTER INFO in EXEC = %q", got)
	}
}

// A node memberlist reports dead stays in CLUSTER NODES, flagged fail, and
// leaves CLUSTER SLOTS; with N=3 every slot keeps a live replica.
func TestClusterCmd_DeadNode(t *testing.T) {
	tc := startCluster(t, 3)
	dead := tc.ID(2)
	tc.stop(2)
	n0 := tc.Nodes[0]
	waitFor(t, 10*time.Second, "node 0 to see node 2 dead", func() bool { return !n0.Cluster.View().Alive[dead] })
	v := n0.Cluster.View()
	c := newClient(t, n0.Addr(), 2)
	text, err := c.ClusterNodes(ctx).Result()
	must(t, err)
	checkNodesText(t, text, v, tc.ID(0))
	slots, err := c.ClusterSlots(ctx).Result()
	must(t, err)
	covered := 0
	for _, r := range slots {
		covered += r.End - r.Start + 1
		if slices.Contains(nodeIDs(r.Nodes), dead) {
			t.Fatalf("range %d-%d lists the dead node", r.Start, r.End)
		}
	}
	if covered != store.SlotCount {
		t.Errorf("CLUSTER SLOTS covers %d slots, want all", covered)
	}
	info, err := c.ClusterInfo(ctx).Result()
	must(t, err)
	_, vals := clusterInfoFields(t, info)
	for k, want := range map[string]string{"cluster_state": "ok", "cluster_slots_ok": "16384", "cluster_known_nodes": "3",
		"cluster_size": "2", "cluster_members_alive": "2"} {
		if vals[k] != want {
			t.Errorf("%s = %q, want %q", k, vals[k], want)
		}
	}
}

// CLUSTER FORGET takes a node out of the ring everywhere; CLUSTER MEET with
// its bus port puts it back.
func TestClusterCmd_ForgetMeet(t *testing.T) {
	tc := startCluster(t, 3)
	c := newClient(t, tc.Nodes[0].Addr(), 2)
	lines := func() int {
		text, err := c.ClusterNodes(ctx).Result()
		must(t, err)
		return strings.Count(text, "\n")
	}
	gone := tc.ID(2)
	must(t, c.ClusterForget(ctx, gone).Err())
	waitFor(t, 10*time.Second, "CLUSTER NODES to drop the forgotten node", func() bool { return lines() == 2 })
	waitFor(t, 10*time.Second, "node 1 to drop the forgotten node", func() bool {
		_, ok := tc.Nodes[1].Cluster.View().Members[gone]
		return !ok
	})
	self := tc.Nodes[2].Cluster.Membership().Self()
	host, port, _ := net.SplitHostPort(self.Addr)
	_, bus, _ := net.SplitHostPort(self.Bus)
	if got := c.Do(ctx, "CLUSTER", "MEET", host, port, bus).Err(); got != nil {
		t.Fatalf("CLUSTER MEET %s %s %s: %v", host, port, bus, got)
	}
	waitFor(t, 10*time.Second, "the met node to be back in the ring", func() bool { return lines() == 3 })
	tc.waitReady()
	checkNodesText(t, func() string { s, _ := c.ClusterNodes(ctx).Result(); return s }(), tc.Nodes[0].Cluster.View(), tc.ID(0))
}

// doRetry sends a keyed command again while it is answered TRYAGAIN (a
// slot changing primary; nothing was applied), as cluster clients do.
func doRetry(t *testing.T, r *rawConn, args ...string) string {
	t.Helper()
	var reply string
	waitFor(t, 10*time.Second, fmt.Sprintf("%q to be answered other than TRYAGAIN", args), func() bool {
		reply = r.do(args...)
		return !strings.HasPrefix(reply, "-TRYAGAIN")
	})
	return reply
}

// checkNodesText checks CLUSTER NODES text against view v of node self:
// one master line per member, sorted by ID, with Redis's fields, and the
// slots each member is primary of.
func checkNodesText(t *testing.T, text string, v *cluster.View, self string) {
	t.Helper()
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("CLUSTER NODES does not end with a newline: %q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != len(v.Members) {
		t.Fatalf("%d lines for %d members:\n%s", len(lines), len(v.Members), text)
	}
	owner := make([]string, store.SlotCount)
	var prev string
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 8 {
			t.Fatalf("short line %q", line)
		}
		id := f[0]
		m, ok := v.Members[id]
		if !ok || id <= prev {
			t.Fatalf("line of %s: unknown or unsorted ID", id)
		}
		prev = id
		_, bus, _ := net.SplitHostPort(m.Bus)
		flags, link := "master", "connected"
		switch {
		case id == self:
			flags = "myself,master"
		case !v.Alive[id]:
			flags, link = "master,fail", "disconnected"
		}
		want := []string{id, m.Addr + "@" + bus, flags, "-", "0", "0", strconv.FormatUint(m.Ver, 10), link}
		if !slices.Equal(f[:8], want) {
			t.Errorf("line starts %q, want %q", strings.Join(f[:8], " "), strings.Join(want, " "))
		}
		for _, r := range f[8:] {
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || b < a || (isRange && b == a) || b >= store.SlotCount {
				t.Fatalf("bad slot range %q in the line of %s", r, id)
			}
			for s := a; s <= b; s++ {
				if owner[s] != "" {
					t.Fatalf("slot %d listed twice", s)
				}
				owner[s] = id
			}
		}
	}
	for s := range store.SlotCount {
		p, _ := v.Primary(uint16(s))
		if owner[s] != p {
			t.Fatalf("slot %d is listed for %q, its primary is %q", s, owner[s], p)
		}
	}
}

func nodeIDs(nodes []redis.ClusterNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// helpEntries groups HELP lines into entries: a line and the indented lines
// after it.
func helpEntries(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, " ") && len(out) > 0 {
			out[len(out)-1] += "\n" + l
			continue
		}
		out = append(out, l)
	}
	return out
}

// forwardedCalls is the number of CAIRN.FWD commands the nodes of tc ran.
func forwardedCalls(t *testing.T, tc *testCluster) int {
	t.Helper()
	total := 0
	for _, n := range tc.Nodes {
		text, err := newClient(t, n.Addr(), 2).Info(ctx, "commandstats").Result()
		must(t, err)
		for _, line := range strings.Split(text, "\r\n") {
			if rest, ok := strings.CutPrefix(line, "cmdstat_cairn.fwd:calls="); ok {
				calls, _, _ := strings.Cut(rest, ",")
				n, err := strconv.Atoi(calls)
				must(t, err)
				total += n
			}
		}
	}
	return total
}
