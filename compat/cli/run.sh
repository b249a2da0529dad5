#!/usr/bin/env bash
# A scripted redis-cli session against CAIRN_ADDR=host:port (one server) or
# CAIRN_CLUSTER=host:port,... (a cluster: redis-cli -c to the first node).
# Each <name>.txt is piped into redis-cli and the output must equal
# expected/<name>.out byte for byte. Exit 0 = pass.
#
# The expected files come from a real Redis 7.0 and redis-cli 7.0:
#   CAIRN_ADDR=127.0.0.1:<redis-server port> compat/cli/run.sh --update
# Keys are written @P@ in the files; each run replaces it with its own prefix.
set -euo pipefail
cd "$(dirname "$0")"

update=0
if [ "${1:-}" = "--update" ]; then update=1; fi
if [ -n "${CAIRN_CLUSTER:-}" ]; then
	addr=${CAIRN_CLUSTER%%,*}
	mode=(-c)
elif [ -n "${CAIRN_ADDR:-}" ]; then
	addr=$CAIRN_ADDR
	mode=()
else
	echo "compat/cli: set CAIRN_ADDR or CAIRN_CLUSTER" >&2
	exit 2
fi
host=${addr%:*}
port=${addr##*:}
prefix="compat:cli:$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# session: RESP2 replies as redis-cli prints them on a terminal (--no-raw).
# resp3: the same with HELLO 3 (-3): doubles, maps, sets, nulls.
declare -A flags=([session]="--no-raw" [resp3]="-3 --no-raw")
status=0
for name in session resp3; do
	# shellcheck disable=SC2086
	sed "s/@P@/$prefix/g" "$name.txt" |
		timeout 60 redis-cli -h "$host" -p "$port" "${mode[@]}" ${flags[$name]} 2>&1 |
		sed "s/$prefix/@P@/g" >"$out/$name.out"
	if [ "$update" = 1 ]; then
		mkdir -p expected
		cp "$out/$name.out" "expected/$name.out"
		echo "compat/cli: wrote expected/$name.out"
	elif diff -u "expected/$name.out" "$out/$name.out"; then
		echo "compat/cli: $name matches ($(wc -l <"$name.txt") commands)"
	else
		echo "compat/cli: $name differs from expected/$name.out (- expected, + got)" >&2
		status=1
	fi
done
exit $status
