#!/usr/bin/env bash
# bench-cluster.sh — throughput and latency of one node and of a 3-node
# cluster in the same run, with scripts/clusterbench (go-redis clients):
# SET, GET, ZINCRBY and ZREVRANK at QUORUM and ONE, forwarded (plain
# clients spread over the nodes) and direct (ClusterClient), and
# read-your-writes pairs at ONE, READYOURWRITES and QUORUM.
#
# Usage: scripts/bench-cluster.sh [SECONDS] [CLIENTS]   (defaults 5, 50)
# Uses ports 7201 (single node) and 7211-7213 (cluster), temporary data
# directories, and kills only the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
clients=${2:-50}
go build -o bin/cairn ./cmd/cairn
go build -o bin/clusterbench ./scripts/clusterbench
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$dir"' EXIT

node() { # port [options...]
	local port=$1
	shift
	./bin/cairn --port "$port" --dir "$dir/$port" --loglevel warning "$@" &
	pids+=($!)
	until [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; do sleep 0.05; done
}
node 7201
node 7211 --cluster-enabled yes
node 7212 --cluster-enabled yes --join 127.0.0.1:17211
node 7213 --cluster-enabled yes --join 127.0.0.1:17211
until [ "$(redis-cli -p 7211 CLUSTER INFO | tr -d '\r' | grep -c 'cluster_known_nodes:3')" = 1 ] &&
	redis-cli -p 7211 SET bench:ready 1 >/dev/null 2>&1 && [ "$(redis-cli -p 7213 SET bench:ready 1 2>&1)" = OK ]; do
	sleep 0.2
done

single=127.0.0.1:7201
cluster=127.0.0.1:7211,127.0.0.1:7212,127.0.0.1:7213
run() { ./bin/clusterbench -duration "${secs}s" -clients "$clients" "$@"; }

echo "# one node vs 3 nodes (N=3, W=2, R=2), $clients clients, ${secs}s each"
for op in set get zincrby zrevrank; do
	run -addrs $single -op $op
	for level in QUORUM ONE; do
		run -addrs $cluster -op $op -level $level
		run -addrs $cluster -op $op -level $level -direct
	done
done
echo "# read-your-writes: SET then GET on one connection (latency of the GET)"
for level in ONE READYOURWRITES QUORUM; do
	run -addrs $cluster -op rw -level $level
done
echo "# READYOURWRITES reads served locally vs sent to the slot primary:"
for p in 7211 7212 7213; do redis-cli -p $p INFO cluster | tr -d '\r' | grep ryw || true; done
