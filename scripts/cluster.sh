#!/usr/bin/env bash
# cluster.sh — run a local Cairn cluster in the foreground (make cluster):
# one node per client port on 127.0.0.1, the first one founding the cluster
# and the others joining its gossip bus (client port + 10000). Ctrl-C (or
# SIGTERM) stops every node cleanly.
#
# Usage: scripts/cluster.sh [--name value ...]   (options passed to every node)
# Environment:
#   CLUSTER_PORTS  client ports, one node each (default "7001 7002 7003")
#   CLUSTER_DIR    each node keeps its data in $CLUSTER_DIR/<port> and logs to
#                  $CLUSTER_DIR/<port>.log (default ./data)
#   CAIRN          the server binary (default bin/cairn, which make cluster builds)
set -euo pipefail
cd "$(dirname "$0")/.."

read -r -a ports <<<"${CLUSTER_PORTS:-7001 7002 7003}"
dir=${CLUSTER_DIR:-./data}
bin=${CAIRN:-bin/cairn}
if [ "${#ports[@]}" -eq 0 ]; then
	echo "cluster.sh: CLUSTER_PORTS is empty" >&2
	exit 2
fi
if [ ! -x "$bin" ]; then
	echo "cluster.sh: $bin not found; run make cluster (or go build -o bin/cairn ./cmd/cairn)" >&2
	exit 2
fi

pids=()

# stop asks every node to shut down (SIGTERM: a clean shutdown) and waits
# for them, killing the ones still running after 15 s.
stop() {
	trap - INT TERM EXIT
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for _ in $(seq 150); do
		local running=0
		for pid in "${pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then running=1; fi
		done
		[ "$running" = 0 ] && break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "cluster stopped"
}
trap 'echo; stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# ping succeeds once the node on port answers PING (it serves clients only
# after it has joined the cluster).
ping() {
	local reply
	reply=$(
		exec 2>/dev/null
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf '*1\r\n$4\r\nPING\r\n' >&3
		read -r -t 1 line <&3 && printf '%s' "${line%$'\r'}"
	) || true
	[ "$reply" = "+PONG" ]
}

# state_ok succeeds once the node on port says cluster_state:ok: every slot
# has a live primary and the node serves every slot it is primary of.
state_ok() {
	local line
	line=$(
		exec 2>/dev/null
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf '*2\r\n$7\r\nCLUSTER\r\n$4\r\nINFO\r\n' >&3
		read -r -t 1 _ <&3 # the bulk string's length
		read -r -t 1 line <&3 && printf '%s' "${line%$'\r'}"
	) || true
	[ "$line" = "cluster_state:ok" ]
}

# start_node starts one node in the background and waits until it answers.
start_node() {
	local port=$1
	shift
	mkdir -p "$dir/$port"
	"$bin" --port "$port" --dir "$dir/$port" --cluster-enabled yes "$@" >>"$dir/$port.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 300); do
		if ping "$port"; then
			echo "node 127.0.0.1:$port up (pid $pid, data $dir/$port, log $dir/$port.log)"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "cluster.sh: node on port $port exited; last lines of $dir/$port.log:" >&2
			tail -n 20 "$dir/$port.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "cluster.sh: node on port $port did not answer within 30 s; see $dir/$port.log" >&2
	exit 1
}

# Each node runs in its own process group (job control), so Ctrl-C reaches
# only this script, which stops the nodes itself.
set -m
mkdir -p "$dir"
first=${ports[0]}
start_node "$first" "$@"
for port in "${ports[@]:1}"; do
	start_node "$port" --join "127.0.0.1:$((first + 10000))" "$@"
done

# Wait (at most 30 s) until every node serves its slots: before that,
# commands on the slots still changing primary get TRYAGAIN.
for _ in $(seq 300); do
	ready=0
	for port in "${ports[@]}"; do
		if state_ok "$port"; then ready=$((ready + 1)); fi
	done
	[ "$ready" = "${#ports[@]}" ] && break
	sleep 0.1
done
if [ "$ready" != "${#ports[@]}" ]; then
	echo "cluster.sh: $ready of ${#ports[@]} nodes say cluster_state:ok after 30 s (see CLUSTER INFO)" >&2
fi

cat <<EOF

Cairn cluster of ${#ports[@]} nodes running on 127.0.0.1 ports ${ports[*]}.
  connect:  redis-cli -c -p $first
  state:    redis-cli -p $first CLUSTER INFO    (or INFO cluster; CLUSTER NODES, CLUSTER SLOTS)
Ctrl-C stops every node.
EOF

# Run until a signal, or until a node exits on its own.
set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "cluster.sh: a node exited (status $status); stopping the others" >&2
for port in "${ports[@]}"; do
	tail -n 5 "$dir/$port.log" | sed "s/^/  $port: /" >&2
done
exit 1
