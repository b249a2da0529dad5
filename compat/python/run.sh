#!/usr/bin/env bash
# redis-py flows against CAIRN_ADDR=host:port (one server) or
# CAIRN_CLUSTER=host:port,host:port,... (a cluster). Exit 0 = pass.
# Uses Debian's python3-redis (scripts/test-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${CAIRN_ADDR:-}" ] && [ -z "${CAIRN_CLUSTER:-}" ]; then
	echo "compat/python: set CAIRN_ADDR or CAIRN_CLUSTER" >&2
	exit 2
fi
exec /usr/bin/python3 -B compat_test.py
