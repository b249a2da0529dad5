#!/usr/bin/env bash
# compat/run.sh — the compatibility suite (make compat): real client
# libraries' flows against a single Cairn node and a local 3-node cluster.
#
# Starts one node (bin/cairn --port P --dir TMP) and a cluster
# (scripts/cluster.sh on three free ports), then runs every suite directory
# compat/<suite>/ that has an executable run.sh twice: once with
# CAIRN_ADDR=127.0.0.1:P (single) and once with
# CAIRN_CLUSTER=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 (cluster); exactly one
# of the two is set, exit status 0 means the suite passed. It builds nothing
# (make compat builds bin/cairn first) and stops everything it started.
#
# Environment:
#   COMPAT_TARGET  what to run against, space separated:
#                  cairn: a single Cairn node and a Cairn cluster
#                  redis: a real redis-server, single-node runs only: the
#                         control that proves the suites right
#                  redis-cluster: a real 3-master Redis Cluster, cluster
#                         runs only: the control for the cluster flows
#                  all (the default) is "redis cairn"
#   COMPAT_SUITES  suites to run, space separated (default: every suite)
#   COMPAT_SUITE_TIMEOUT  seconds one suite run may take (default 300)
#   CAIRN          the server binary (default bin/cairn)
#   REDIS_SERVER   the control server binary (default redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."

target=${COMPAT_TARGET:-all}
[ "$target" = all ] && target="redis cairn"
bin=${CAIRN:-bin/cairn}
redis_server=${REDIS_SERVER:-redis-server}
suite_timeout=${COMPAT_SUITE_TIMEOUT:-300}
want_cairn=0 want_redis=0 want_redis_cluster=0
for t in $target; do
	case $t in
	cairn) want_cairn=1 ;;
	redis) want_redis=1 ;;
	redis-cluster) want_redis_cluster=1 ;;
	*)
		echo "compat: COMPAT_TARGET takes cairn, redis, redis-cluster or all (got '$t')" >&2
		exit 2
		;;
	esac
done
if [ "$want_cairn" = 1 ] && [ ! -x "$bin" ]; then
	echo "compat: $bin not found; run make compat (or go build -o bin/cairn ./cmd/cairn)" >&2
	exit 2
fi
for tool in redis-cli ss timeout; do
	command -v "$tool" >/dev/null || {
		echo "compat: $tool is needed (scripts/test-deps.sh installs redis-cli)" >&2
		exit 2
	}
done
if [ "$want_redis$want_redis_cluster" != 00 ] && ! command -v "$redis_server" >/dev/null; then
	echo "compat: $redis_server not found (scripts/test-deps.sh installs it)" >&2
	exit 2
fi

suites=()
for dir in compat/*/; do
	name=$(basename "$dir")
	[ -x "$dir/run.sh" ] || continue
	if [ -n "${COMPAT_SUITES:-}" ] && [[ " $COMPAT_SUITES " != *" $name "* ]]; then
		continue
	fi
	suites+=("$name")
done
if [ "${#suites[@]}" -eq 0 ]; then
	echo "compat: no suite to run (compat/<suite>/run.sh)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-compat.XXXXXX")
pids=() # servers started here: single node, redis, cluster.sh
cluster_pid=
suite_pid= # the suite running now (timeout, which forwards signals to it)

# stop asks every server to shut down (SIGTERM), waits up to 20 s, then
# kills what is left, including cluster nodes whose script is gone.
stop() {
	trap - EXIT INT TERM
	local pid nodes=()
	if [ -n "$suite_pid" ]; then
		kill -TERM "$suite_pid" 2>/dev/null || true
		wait "$suite_pid" 2>/dev/null || true
	fi
	if [ -n "$cluster_pid" ]; then
		mapfile -t nodes < <(ps -o pid= --ppid "$cluster_pid" 2>/dev/null | tr -d ' ')
	fi
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for _ in $(seq 200); do
		local running=0
		for pid in "${pids[@]}" "${nodes[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then running=1; fi
		done
		[ "$running" = 0 ] && break
		sleep 0.1
	done
	for pid in "${pids[@]}" "${nodes[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# in_use says whether a local TCP or UDP socket (the cluster bus gossips
# over both) uses port.
in_use() {
	[ -n "$(ss -Htuan "( sport = :$1 )" 2>/dev/null)" ]
}

# free_port sets port to one in 20000-29999 that is free together with the
# port 10000 above it (a cluster node's bus port), avoiding 7001-7003 and the
# ports already handed out.
taken=" "
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 10000))
		[[ $taken == *" $p "* ]] && continue
		in_use "$p" && continue
		in_use $((p + 10000)) && continue
		taken+="$p "
		port=$p
		return 0
	done
	echo "compat: no free port found" >&2
	return 1
}

# wait_ping waits up to 30 s for PING on port; pid is the process that
# should be serving it.
wait_ping() {
	local port=$1 pid=$2 log=$3
	for _ in $(seq 300); do
		if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "compat: the server for port $port exited; last lines of $log:" >&2
			tail -n 20 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "compat: nothing answered PING on port $port within 30 s; see $log" >&2
	tail -n 20 "$log" >&2
	return 1
}

start_redis() {
	free_port
	redis_port=$port
	"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$tmp" >"$tmp/redis.log" 2>&1 &
	pids+=($!)
	wait_ping "$redis_port" $! "$tmp/redis.log"
	echo "compat: redis-server $(redis-cli -p "$redis_port" INFO server | tr -d '\r' | sed -n 's/^redis_version://p') on 127.0.0.1:$redis_port"
}

# start_redis_cluster starts three redis-server nodes with cluster mode on
# and makes them a cluster of three masters (redis-cli --cluster create).
start_redis_cluster() {
	redis_cluster_ports=()
	local p
	for _ in 1 2 3; do
		free_port
		p=$port
		redis_cluster_ports+=("$p")
		mkdir -p "$tmp/redis-cluster/$p"
		"$redis_server" --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
			--cluster-enabled yes --cluster-config-file "$tmp/redis-cluster/$p/nodes.conf" \
			--dir "$tmp/redis-cluster/$p" >"$tmp/redis-cluster/$p.log" 2>&1 &
		pids+=($!)
		wait_ping "$p" $! "$tmp/redis-cluster/$p.log"
	done
	redis-cli --cluster create $(printf '127.0.0.1:%s ' "${redis_cluster_ports[@]}") --cluster-yes \
		>"$tmp/redis-cluster/create.log" 2>&1 || {
		echo "compat: redis-cli --cluster create failed:" >&2
		cat "$tmp/redis-cluster/create.log" >&2
		return 1
	}
	wait_cluster_ok "${redis_cluster_ports[@]}"
	echo "compat: redis cluster on 127.0.0.1 ports ${redis_cluster_ports[*]}"
}

# wait_cluster_ok waits up to 30 s for every node on the given ports to say
# cluster_state:ok.
wait_cluster_ok() {
	local p
	for _ in $(seq 300); do
		local ok=0
		for p in "$@"; do
			if redis-cli -p "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; then
				ok=$((ok + 1))
			fi
		done
		[ "$ok" = $# ] && return 0
		sleep 0.1
	done
	echo "compat: the cluster on ports $* did not reach cluster_state:ok within 30 s" >&2
	return 1
}

start_single() {
	free_port
	single_port=$port
	mkdir -p "$tmp/single"
	"$bin" --port "$single_port" --dir "$tmp/single" >"$tmp/single.log" 2>&1 &
	pids+=($!)
	wait_ping "$single_port" $! "$tmp/single.log"
	echo "compat: cairn single node on 127.0.0.1:$single_port"
}

start_cluster() {
	cluster_ports=()
	for _ in 1 2 3; do
		free_port
		cluster_ports+=("$port")
	done
	CAIRN=$bin CLUSTER_PORTS="${cluster_ports[*]}" CLUSTER_DIR="$tmp/cluster" \
		scripts/cluster.sh >"$tmp/cluster.log" 2>&1 &
	cluster_pid=$!
	pids+=("$cluster_pid")
	local p
	for p in "${cluster_ports[@]}"; do
		wait_ping "$p" "$cluster_pid" "$tmp/cluster.log"
	done
	if ! wait_cluster_ok "${cluster_ports[@]}"; then
		tail -n 20 "$tmp/cluster.log" "$tmp"/cluster/*.log >&2 || true
		return 1
	fi
	echo "compat: cairn cluster on 127.0.0.1 ports ${cluster_ports[*]}"
}

results=()
passed=0
failed=0

# run_suite runs one suite against one target; the rest of the arguments
# are the environment to set (CAIRN_ADDR=... or CAIRN_CLUSTER=...).
run_suite() {
	local suite=$1 label=$2
	shift 2
	echo
	echo "=== compat/$suite against $label"
	local start=$SECONDS status=0
	# In the background, so a signal to this script stops the suite at once.
	env -u CAIRN_ADDR -u CAIRN_CLUSTER "$@" \
		timeout -k 10 "$suite_timeout" "compat/$suite/run.sh" &
	suite_pid=$!
	wait "$suite_pid" || status=$?
	suite_pid=
	local took=$((SECONDS - start))
	if [ "$status" = 0 ]; then
		passed=$((passed + 1))
		results+=("$(printf '%-8s %-15s PASS %4ss' "$suite" "$label" "$took")")
	else
		failed=$((failed + 1))
		local why="exit $status"
		[ "$status" = 124 ] && why="timed out after ${suite_timeout}s"
		results+=("$(printf '%-8s %-15s FAIL %4ss (%s)' "$suite" "$label" "$took" "$why")")
	fi
}

# addr_list prints 127.0.0.1:<port> for each port, comma separated.
addr_list() {
	printf '127.0.0.1:%s,' "$@" | sed 's/,$//'
}

if [ "$want_redis" = 1 ]; then
	start_redis
	for s in "${suites[@]}"; do
		run_suite "$s" "redis single" CAIRN_ADDR="127.0.0.1:$redis_port"
	done
fi
if [ "$want_redis_cluster" = 1 ]; then
	start_redis_cluster
	for s in "${suites[@]}"; do
		run_suite "$s" "redis cluster" CAIRN_CLUSTER="$(addr_list "${redis_cluster_ports[@]}")"
	done
fi
if [ "$want_cairn" = 1 ]; then
	start_single
	start_cluster
	for s in "${suites[@]}"; do
		run_suite "$s" "cairn single" CAIRN_ADDR="127.0.0.1:$single_port"
		run_suite "$s" "cairn cluster" CAIRN_CLUSTER="$(addr_list "${cluster_ports[@]}")"
	done
fi

echo
echo "compat summary (COMPAT_TARGET=$target):"
for r in "${results[@]}"; do
	echo "  $r"
done
if [ "$failed" != 0 ] && [ "$want_cairn" = 1 ]; then
	for f in "$tmp/single.log" "$tmp"/cluster/*.log; do
		[ -s "$f" ] || continue
		echo "--- last lines of ${f#"$tmp"/}:"
		tail -n 10 "$f"
	done
fi
echo "compat: $passed passed, $failed failed"
[ "$failed" = 0 ]
