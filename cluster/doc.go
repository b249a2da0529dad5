// Package cluster will spread the keyspace over many nodes: memberlist
// membership, a consistent-hash ring over the 16384 Redis hash slots
// (store.KeySlot), N/R/W quorum replication, read repair and hinted
// handoff. The single-node server does not use it yet; the store already
// prefixes every Pebble key with its slot so slots move as key ranges.
package cluster
