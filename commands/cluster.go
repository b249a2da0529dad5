package commands

import (
	"errors"
	"maps"
	"net"
	"slices"
	"strconv"

	"cairn/cluster"
	"cairn/store"
)

// CLUSTER, READONLY, READWRITE, ASKING and CONSISTENCY.
//
// On a single node (Server.cluster nil) every CLUSTER subcommand, READONLY,
// READWRITE and ASKING answer errClusterDisabled, as redis-server 7.0
// without cluster-enabled does (KEYSLOT and HELP included); only argument
// counts are checked first, by the dispatcher.
//
// In cluster mode the CLUSTER subcommands describe the ring in Redis
// Cluster's terms so that cluster-aware clients (go-redis ClusterClient,
// redis-cli -c) route each key straight to the node that serves it:
//
//   - A slot's "master" is its primary, the first live node of its
//     preference list (cluster.View.Primary). Slots with no live replica are
//     left out, as Redis leaves out unassigned slots.
//   - Replicas are not advertised. Cairn has no fixed master/replica pairs:
//     every node is primary of some slots and replica of others, and
//     clients that take a node's role from its first appearance (redis-py)
//     would see most nodes as replicas only. So every node appears as a
//     master only, as in a Redis Cluster without replicas; reads are served
//     by whichever node the client sends them to anyway.
//   - Consecutive slots with the same primary form one range (CLUSTER
//     SLOTS). A shard of CLUSTER SHARDS is one primary with all its ranges.
//   - CLUSTER NODES lists every active ring member as a master with the
//     ranges it is primary of, "fail" and "disconnected" for the ones
//     memberlist does not list as alive; no line is a replica. Ping and
//     pong times are 0; the config epoch is the ring epoch of the member's
//     record (cluster.Member.Ver).
//   - Node addresses are cluster.Member.Addr; the bus port is the port of
//     the member's gossip address.
//
// Each reply reads the ring and liveness from one cluster.View, so it
// describes one consistent state.

// Cluster error replies, copied from Redis 7.0 cluster.c.
const (
	errClusterDisabled = "ERR This instance has cluster support disabled"
	errInvalidSlot     = "ERR Invalid slot"
	errInvalidSlotKeys = "ERR Invalid slot or number of keys"
	errForgetMyself    = "ERR I tried hard but I can't forget myself..."
	errBasePort        = "ERR Invalid TCP base port specified: " // followed by the argument
	errBusPort         = "ERR Invalid TCP bus port specified: "  // followed by the argument
	errNodeAddress     = "ERR Invalid node address specified: "  // followed by ip:port
	errUnknownNode     = "ERR Unknown node "                     // followed by the node ID
)

// clusterBusPortIncr is Redis's CLUSTER_PORT_INCR: the default bus
// (gossip) port is the client port plus this.
const clusterBusPortIncr = 10000

// clusterOnly wraps the handler of a command that only works in cluster
// mode.
func clusterOnly(h func(*Ctx)) func(*Ctx) {
	return func(c *Ctx) {
		if c.Srv.cluster == nil {
			c.W.Error(errClusterDisabled)
			return
		}
		h(c)
	}
}

// inExec reports whether c runs as a queued command of EXEC: the store's
// lock is then held, so the handler must not call Store methods that lock.
func inExec(c *Ctx) bool { return len(c.Sess.queue) > 0 }

// slotRange is a run of consecutive slots with the same primary.
type slotRange struct {
	first, last uint16
	primary     string
}

// slotRanges groups the slots of v into ranges, in slot order. Slots with
// no live replica are in none.
func slotRanges(v *cluster.View) []slotRange {
	var out []slotRange
	for s := range store.SlotCount {
		slot := uint16(s)
		p, ok := v.Primary(slot)
		if !ok {
			continue
		}
		if n := len(out); n > 0 && out[n-1].last+1 == slot && out[n-1].primary == p {
			out[n-1].last = slot
			continue
		}
		out = append(out, slotRange{first: slot, last: slot, primary: p})
	}
	return out
}

// nodeInfo is what CLUSTER replies print of a node.
type nodeInfo struct {
	host      string // of the client address
	port, bus int64  // client and gossip ports
	epoch     uint64 // ring epoch of its record (cluster.Member.Ver)
}

// nodeInfos returns the nodeInfo of every active member of v, and of this
// node even if it is not one (forgotten by another node).
func nodeInfos(c *Ctx, v *cluster.View) map[string]nodeInfo {
	out := make(map[string]nodeInfo, len(v.Members)+1)
	add := func(m cluster.Member) {
		ni := nodeInfo{host: m.Addr, epoch: m.Ver}
		if host, port, err := net.SplitHostPort(m.Addr); err == nil {
			ni.host = host
			ni.port, _ = strconv.ParseInt(port, 10, 64)
		}
		if _, bus, err := net.SplitHostPort(m.Bus); err == nil {
			ni.bus, _ = strconv.ParseInt(bus, 10, 64)
		}
		out[m.ID] = ni
	}
	for _, m := range v.Members {
		add(m)
	}
	if _, ok := v.Members[c.Srv.cluster.Self()]; !ok {
		add(c.Srv.cluster.Membership().Self())
	}
	return out
}

// cmdClusterSlots is CLUSTER SLOTS: per range, its first and last slot and
// its primary as [ip, port, id, {}].
func cmdClusterSlots(c *Ctx) {
	v := c.Srv.cluster.View()
	infos := nodeInfos(c, v)
	ranges := slotRanges(v)
	c.W.Array(len(ranges))
	for _, r := range ranges {
		ni := infos[r.primary]
		c.W.Array(3)
		c.W.Int(int64(r.first))
		c.W.Int(int64(r.last))
		c.W.Array(4)
		c.W.BulkString(ni.host)
		c.W.Int(ni.port)
		c.W.BulkString(r.primary)
		c.W.Map(0) // Redis's metadata (hostname); Cairn has none
	}
}

// cmdClusterShards is CLUSTER SHARDS: one shard per primary, in the order
// of their first slot, with all its ranges and itself as the only node.
func cmdClusterShards(c *Ctx) {
	v := c.Srv.cluster.View()
	infos := nodeInfos(c, v)
	type shard struct {
		primary string
		ranges  []uint16 // first, last, first, last ...
	}
	var shards []*shard
	byPrimary := map[string]*shard{}
	for _, r := range slotRanges(v) {
		sh := byPrimary[r.primary]
		if sh == nil {
			sh = &shard{primary: r.primary}
			byPrimary[r.primary] = sh
			shards = append(shards, sh)
		}
		sh.ranges = append(sh.ranges, r.first, r.last)
	}
	c.W.Array(len(shards))
	for _, sh := range shards {
		c.W.Map(2)
		c.W.BulkString("slots")
		c.W.Array(len(sh.ranges))
		for _, s := range sh.ranges {
			c.W.Int(int64(s))
		}
		c.W.BulkString("nodes")
		c.W.Array(1)
		ni := infos[sh.primary]
		c.W.Map(7)
		c.W.BulkString("id")
		c.W.BulkString(sh.primary)
		c.W.BulkString("port")
		c.W.Int(ni.port)
		c.W.BulkString("ip")
		c.W.BulkString(ni.host)
		c.W.BulkString("endpoint")
		c.W.BulkString(ni.host)
		c.W.BulkString("role")
		c.W.BulkString("master")
		c.W.BulkString("replication-offset")
		c.W.Int(0)
		c.W.BulkString("health")
		c.W.BulkString("online") // only live nodes are primaries
	}
}

// cmdClusterNodes is CLUSTER NODES: one master line per active ring member
// (and this node, even if it was forgotten), sorted by ID, each with the
// slot ranges it is primary of.
func cmdClusterNodes(c *Ctx) {
	v := c.Srv.cluster.View()
	self := c.Srv.cluster.Self()
	infos := nodeInfos(c, v)
	ids := slices.Sorted(maps.Keys(infos))
	primaryOf := map[string][]slotRange{} // node -> ranges it is primary of
	for _, r := range slotRanges(v) {
		primaryOf[r.primary] = append(primaryOf[r.primary], r)
	}
	var b []byte
	for _, id := range ids {
		ni := infos[id]
		flags, link := "master", "connected"
		if id == self {
			flags = "myself,master"
		} else if !v.Alive[id] {
			flags, link = "master,fail", "disconnected"
		}
		b = append(b, id...)
		b = append(b, ' ')
		b = append(b, ni.host...) // ip:port@bus without brackets, as Redis prints IPv6 too
		b = append(b, ':')
		b = strconv.AppendInt(b, ni.port, 10)
		b = append(b, '@')
		b = strconv.AppendInt(b, ni.bus, 10)
		b = append(b, ' ')
		b = append(b, flags...)
		b = append(b, " - 0 0 "...)
		b = strconv.AppendUint(b, ni.epoch, 10)
		b = append(b, ' ')
		b = append(b, link...)
		for _, r := range primaryOf[id] {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(r.first), 10)
			if r.last != r.first {
				b = append(b, '-')
				b = strconv.AppendUint(b, uint64(r.last), 10)
			}
		}
		b = append(b, '\n')
	}
	c.W.Verbatim("txt", string(b))
}

// cmdClusterInfo is CLUSTER INFO: Redis's fields, then Cairn's own (the
// lines of INFO cluster). A slot is ok when it has a live replica and fail
// otherwise; Cairn has no "possibly failing" state, so pfail is 0.
// cluster_state is ok once every slot is ok and this node holds every slot
// it is primary of (until then those slots answer TRYAGAIN): once every
// node says ok, every slot is served. cluster_size is the number of nodes
// that are primary of some slot.
func cmdClusterInfo(c *Ctx) {
	cl := c.Srv.cluster
	v := cl.View()
	ok, fail := 0, 0
	primaries := map[string]bool{}
	for s := range store.SlotCount {
		if p, live := v.Primary(uint16(s)); live {
			ok++
			primaries[p] = true
		} else {
			fail++
		}
	}
	assigned := 0
	if v.N > 0 {
		assigned = store.SlotCount
	}
	state := "ok"
	if fail > 0 || assigned < store.SlotCount || !cl.Ready() {
		state = "fail"
	}
	var b infoBuf
	b.kv("cluster_state", state)
	b.kv("cluster_slots_assigned", assigned)
	b.kv("cluster_slots_ok", ok)
	b.kv("cluster_slots_pfail", 0)
	b.kv("cluster_slots_fail", fail)
	b.kv("cluster_known_nodes", len(v.Members))
	b.kv("cluster_size", len(primaries))
	b.kv("cluster_current_epoch", v.Epoch)
	b.kv("cluster_my_epoch", nodeInfos(c, v)[cl.Self()].epoch)
	b.kv("cluster_stats_messages_sent", 0)
	b.kv("cluster_stats_messages_received", 0)
	b.kv("total_cluster_links_buffer_limit_exceeded", 0)
	writeClusterStats(&b, c.Srv)
	c.W.Verbatim("txt", b.String())
}

// writeClusterStats writes Cairn's cluster figures, for INFO cluster and
// CLUSTER INFO. cluster_quorum_failures counts the requests refused or left
// uncertain for lack of replicas (NOREPLICAS and UNCERTAIN replies).
func writeClusterStats(b *infoBuf, s *Server) {
	st := s.cluster.Stats()
	hints := 0
	for _, n := range st.HintBacklog {
		hints += n
	}
	b.kv("cluster_ring_epoch", st.Epoch)
	b.kv("cluster_members", st.Members)
	b.kv("cluster_members_alive", st.Alive)
	b.kv("cluster_replicas", st.N)
	b.kv("cluster_write_quorum", st.W)
	b.kv("cluster_read_quorum", st.R)
	b.kv("cluster_slots_primary", st.SlotsHeld)
	b.kv("cluster_slots_fresh", st.SlotsFresh)
	b.kv("cluster_hint_backlog", hints)
	b.kv("cluster_hints_replayed", st.HintsReplayed)
	b.kv("cluster_quorum_failures", st.NoReplicas+st.Uncertain)
	b.kv("cluster_writes_uncertain", st.Uncertain)
	b.kv("cluster_read_repairs", st.ReadRepairs)
	b.kv("cluster_keys_repaired", st.KeysRepaired)
	b.kv("cluster_anti_entropy_rounds", st.AntiEntropyRounds)
	b.kv("cluster_slots_compared", st.SlotsCompared)
	b.kv("cluster_slots_differed", st.SlotsDiffered)
	b.kv("cluster_step_downs", st.StepDowns)
	b.kv("cluster_keys_dropped", st.KeysDropped)
	b.kv("cluster_ryw_reads_local", s.rywLocal.Load())
	b.kv("cluster_ryw_reads_primary", s.rywForwarded.Load())
}

func cmdClusterKeySlot(c *Ctx) { c.W.Int(int64(cluster.KeySlot(c.Args[2]))) }

func cmdClusterMyID(c *Ctx) { c.W.BulkString(c.Srv.cluster.Self()) }

// parseSlot parses a slot argument as Redis does: an integer first
// (errNotInt), then the range.
func parseSlot(arg []byte) (slot uint16, isInt, inRange bool) {
	n, ok := parseInt(arg)
	if !ok {
		return 0, false, false
	}
	if n < 0 || n >= store.SlotCount {
		return 0, true, false
	}
	return uint16(n), true, true
}

// cmdClusterCountKeysInSlot is CLUSTER COUNTKEYSINSLOT slot: this node's
// keys in slot, as a replica or primary, including keys expired but not yet
// removed (as Redis's countKeysInSlot).
func cmdClusterCountKeysInSlot(c *Ctx) {
	slot, isInt, inRange := parseSlot(c.Args[2])
	switch {
	case !isInt:
		c.W.Error(errNotInt)
	case !inRange:
		c.W.Error(errInvalidSlot)
	default:
		c.W.Int(int64(c.Tx.SlotCount(slot)))
	}
}

// cmdClusterGetKeysInSlot is CLUSTER GETKEYSINSLOT slot count: up to count
// of this node's live keys in slot, in key order. It reads the store
// outside its lock, which EXEC holds, so inside a transaction it is refused
// with the error of commands that cannot run there.
func cmdClusterGetKeysInSlot(c *Ctx) {
	slot, isInt, inRange := parseSlot(c.Args[2])
	if !isInt {
		c.W.Error(errNotInt)
		return
	}
	count, ok := parseInt(c.Args[3])
	if !ok {
		c.W.Error(errNotInt)
		return
	}
	if !inRange || count < 0 {
		c.W.Error(errInvalidSlotKeys)
		return
	}
	if inExec(c) {
		c.W.Error(errNotInMulti)
		return
	}
	var keys [][]byte
	if count > 0 {
		var err error
		keys, _, err = slotKeys(c.Srv.store, []uint16{slot}, scanQuery{count: count}, c.Start.UnixMilli())
		if err != nil {
			c.W.Error(errMisconf + oneLine(err.Error()))
			return
		}
	}
	keys = keys[:min(int64(len(keys)), count)]
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(k)
	}
}

// cmdClusterMeet is CLUSTER MEET ip port [bus-port]: this node joins the
// gossip of the node whose bus listens at ip:bus-port (default port+10000)
// and adds it to the ring. Arguments are checked as Redis checks them; unlike
// Redis, the reply waits for the handshake, so an unreachable address is an
// error instead of a node that never shows up.
func cmdClusterMeet(c *Ctx) {
	args := c.Args
	if len(args) > 5 {
		c.W.Error(subcommandSyntaxError(args))
		return
	}
	port, ok := parseInt(args[3])
	if !ok {
		c.W.Error(errBasePort + oneLine(string(args[3])))
		return
	}
	bus := port + clusterBusPortIncr
	if len(args) == 5 {
		if bus, ok = parseInt(args[4]); !ok {
			c.W.Error(errBusPort + oneLine(string(args[4])))
			return
		}
	}
	ip := net.ParseIP(string(args[2]))
	if ip == nil || port <= 0 || port > 65535 || bus <= 0 || bus > 65535 {
		c.W.Error(errNodeAddress + oneLine(string(args[2])) + ":" + oneLine(string(args[3])))
		return
	}
	if err := c.Srv.cluster.Membership().Meet(net.JoinHostPort(ip.String(), strconv.FormatInt(bus, 10))); err != nil {
		c.W.Error("ERR " + oneLine(err.Error()))
		return
	}
	c.W.OK()
}

// cmdClusterForget is CLUSTER FORGET node-id: the node leaves the ring
// everywhere (a tombstone record that gossip spreads).
func cmdClusterForget(c *Ctx) {
	err := c.Srv.cluster.Membership().Forget(string(c.Args[2]))
	switch {
	case err == nil:
		c.W.OK()
	case errors.Is(err, cluster.ErrForgetSelf):
		c.W.Error(errForgetMyself)
	case errors.Is(err, cluster.ErrUnknownNode):
		c.W.Error(errUnknownNode + oneLine(string(c.Args[2])))
	default:
		c.W.Error("ERR " + oneLine(err.Error()))
	}
}

// clusterHelp is Redis 7.0's CLUSTER HELP text for the subcommands Cairn has.
var clusterHelp = []string{
	"COUNTKEYSINSLOT <slot>",
	"    Return the number of keys in <slot>.",
	"FORGET <node-id>",
	"    Remove a node from the cluster.",
	"GETKEYSINSLOT <slot> <count>",
	"    Return key names stored by current node in a slot.",
	"INFO",
	"    Return information about the cluster.",
	"KEYSLOT <key>",
	"    Return the hash slot for <key>.",
	"MEET <ip> <port> [<bus-port>]",
	"    Connect nodes into a working cluster.",
	"MYID",
	"    Return the node id.",
	"NODES",
	"    Return cluster configuration seen by node. Output format:",
	"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"SLOTS",
	"    Return information about slots range mappings. Each range is made of:",
	"    start, end, master and replicas IP addresses, ports and ids",
	"SHARDS",
	"    Return information about slot range mappings and the nodes associated with them.",
}

func cmdClusterHelp(c *Ctx) { writeHelp(c.W, "CLUSTER", clusterHelp) }

// cmdReadOnlyWrite is READONLY, READWRITE and ASKING. Any node serves any
// key and reads follow the connection's CONSISTENCY level, so there is no
// replica read mode to switch and no redirection to ask for.
func cmdReadOnlyWrite(c *Ctx) { c.W.OK() }

// cmdConsistency is CONSISTENCY [level], Cairn's own: with a level it sets
// the consistency of this connection's reads and writes in cluster mode
// (DEFAULT: the server's quorums); without one it returns the level. On a
// single node the level is kept and has no effect, so applications can set
// it unconditionally. It is refused inside MULTI: a transaction runs at the
// level in force at EXEC.
func cmdConsistency(c *Ctx) {
	switch len(c.Args) {
	case 1:
		c.W.Simple(c.Sess.level.String())
	case 2:
		l, ok := cluster.ParseLevel(string(c.Args[1]))
		if !ok {
			c.W.Error("ERR unknown consistency level '" + oneLine(string(c.Args[1])) + "'")
			return
		}
		c.Sess.level = l
		c.W.OK()
	default:
		c.W.Error(errSyntax)
	}
}

var clusterCommands = []*Spec{
	{Name: "cluster", Arity: -2, Group: "cluster", Since: "3.0.0", Summary: "A container for cluster commands",
		Complexity: "Depends on subcommand.", Sub: []*Spec{
			{Name: "countkeysinslot", Arity: 3, Flags: Stale | Keyspace, Group: "cluster", Since: "3.0.0",
				Summary: "Return the number of local keys in the specified hash slot", Complexity: "O(1)", Handler: clusterOnly(cmdClusterCountKeysInSlot)},
			{Name: "forget", Arity: 3, Flags: Admin | Stale | NoAsyncLoading, Group: "cluster", Since: "3.0.0",
				Summary: "Remove a node from the nodes table", Complexity: "O(1)", Handler: clusterOnly(cmdClusterForget)},
			{Name: "getkeysinslot", Tips: []string{"nondeterministic_output"}, Arity: 4, Flags: Stale, Group: "cluster", Since: "3.0.0",
				Summary: "Return local key names in the specified hash slot", Complexity: "O(log(N)) where N is the number of requested keys", Handler: clusterOnly(cmdClusterGetKeysInSlot)},
			{Name: "help", Arity: 2, Flags: Loading | Stale, Group: "cluster", Since: "5.0.0",
				Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Handler: clusterOnly(cmdClusterHelp)},
			{Name: "info", Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: Stale, Group: "cluster", Since: "3.0.0",
				Summary: "Provides info about Redis Cluster node state", Complexity: "O(1)", Handler: clusterOnly(cmdClusterInfo)},
			{Name: "keyslot", Arity: 3, Flags: Stale, Group: "cluster", Since: "3.0.0",
				Summary: "Returns the hash slot of the specified key", Complexity: "O(N) where N is the number of bytes in the key", Handler: clusterOnly(cmdClusterKeySlot)},
			{Name: "meet", Arity: -4, Flags: Admin | Stale | NoAsyncLoading, Group: "cluster", Since: "3.0.0",
				Summary: "Force a node cluster to handshake with another node", Complexity: "O(1)", Handler: clusterOnly(cmdClusterMeet)},
			{Name: "myid", Arity: 2, Flags: Stale, Group: "cluster", Since: "3.0.0",
				Summary: "Return the node id", Complexity: "O(1)", Handler: clusterOnly(cmdClusterMyID)},
			{Name: "nodes", Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: Stale, Group: "cluster", Since: "3.0.0",
				Summary: "Get Cluster config for the node", Complexity: "O(N) where N is the total number of Cluster nodes", Handler: clusterOnly(cmdClusterNodes)},
			{Name: "shards", Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: Stale, Group: "cluster", Since: "7.0.0",
				Summary: "Get array of cluster slots to node mappings", Complexity: "O(N) where N is the total number of cluster nodes", Handler: clusterOnly(cmdClusterShards)},
			{Name: "slots", Tips: []string{"nondeterministic_output"}, Arity: 2, Flags: Stale, Group: "cluster", Since: "3.0.0",
				Summary: "Get array of Cluster slot to node mappings", Complexity: "O(N) where N is the total number of Cluster nodes", Handler: clusterOnly(cmdClusterSlots)},
		}},
	{Name: "readonly", Arity: 1, Flags: Loading | Stale | Fast, ACL: CatConnection, Group: "cluster", Since: "3.0.0",
		Summary: "Enables read queries for a connection to a cluster replica node", Complexity: "O(1)", Handler: clusterOnly(cmdReadOnlyWrite)},
	{Name: "readwrite", Arity: 1, Flags: Loading | Stale | Fast, ACL: CatConnection, Group: "cluster", Since: "3.0.0",
		Summary: "Disables read queries for a connection to a cluster replica node", Complexity: "O(1)", Handler: clusterOnly(cmdReadOnlyWrite)},
	{Name: "asking", Arity: 1, Flags: Fast, ACL: CatConnection, Group: "cluster", Since: "3.0.0",
		Summary: "Sent by cluster clients after an -ASK redirect", Complexity: "O(1)", Handler: clusterOnly(cmdReadOnlyWrite)},
	{Name: "consistency", Arity: -1, Flags: Fast | NoMulti, ACL: CatConnection, Group: "connection", Since: cairnSince,
		Summary:    "Sets or returns the consistency level (ONE, QUORUM, ALL, READYOURWRITES or DEFAULT) of the connection's cluster reads and writes",
		Complexity: "O(1)", Handler: cmdConsistency},
}
