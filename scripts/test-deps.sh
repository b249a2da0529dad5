#!/usr/bin/env bash
# Installs what the tests need: Go modules and redis-server/redis-cli (the
# differential tests compare Cairn with a real Redis). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

go mod download
# The Go client compatibility suite is a module of its own (compat/go).
(cd compat/go && go mod download)

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing redis-server and redis-tools with apt-get" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
	else
		echo "The differential tests need redis-server and redis-cli (Redis 7.0)." >&2
		echo "Install them, e.g.: sudo apt-get install -y redis-server redis-tools" >&2
		exit 1
	fi
fi
# The Debian package starts a system redis on port 6379; the tests start
# their own servers on free ports and do not need it.

# The client compatibility suites: Debian's redis-py for /usr/bin/python3
# (compat/python) and ioredis from npm (compat/node).
compat_pkgs=()
/usr/bin/python3 -c 'import redis' 2>/dev/null || compat_pkgs+=(python3-redis)
command -v npm >/dev/null || compat_pkgs+=(nodejs npm)
if [ "${#compat_pkgs[@]}" -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing ${compat_pkgs[*]} with apt-get" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${compat_pkgs[@]}" >/dev/null
	else
		echo "The compatibility suites need: ${compat_pkgs[*]}" >&2
		echo "Install them, e.g.: sudo apt-get install -y ${compat_pkgs[*]}" >&2
		exit 1
	fi
fi
(cd compat/node && npm ci --no-audit --no-fund --loglevel=error)
