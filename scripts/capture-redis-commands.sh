#!/usr/bin/env bash
# Captures COMMAND INFO and COMMAND DOCS of every Redis 7.0 command into
# commands/testdata/redis-7.0/ (one raw RESP3 file per command and reply,
# subcommands sorted by name), the golden data of TestCommand_Golden.
#
# Usage: scripts/capture-redis-commands.sh   (needs redis-server 7.0.x and go)
# Review the diff of commands/testdata/redis-7.0 before committing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(redis-server --version | sed -n 's/.* v=\([0-9.]*\) .*/\1/p')
case "$version" in
7.0.*) ;;
*) echo "capture-redis-commands: need redis-server 7.0.x, found '${version:-none}'" >&2; exit 1 ;;
esac

dir=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT

# Pick a free loopback port: try random ones until redis-server answers PING.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	port=$((20000 + RANDOM % 40000))
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$dir" --daemonize no --loglevel warning >"$dir/log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		if redis-cli -h 127.0.0.1 -p "$port" PING >/dev/null 2>&1; then break 2; fi
		if ! kill -0 "$pid" 2>/dev/null; then break; fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
done
if [ -z "$pid" ]; then
	echo "capture-redis-commands: could not start redis-server" >&2
	cat "$dir/log" >&2
	exit 1
fi

go test ./commands -run '^TestCommand_Golden$' -count=1 -v -args -capture-redis "127.0.0.1:$port" | grep -E 'captured|FAIL|ok' || true
ls commands/testdata/redis-7.0/*.info.txt >/dev/null
