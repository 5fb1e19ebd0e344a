#!/bin/bash
# t/perf/agent-latency.sh [PODS] - pod event to new generation through the
# real kube-apiserver (t/cluster/), for debounce_ms 100 (the default) beside
# debounce_ms 0: what the debounce costs in latency.  The time includes the
# API round trip, the watch event, a cgroup scan, planning and the
# generation written to --state-dir.  Prints figures; never fails on timing.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
PODS=${1:-20}
C=$TOP_SRCDIR/t/cluster
"$C/available" k8s >/dev/null || { echo "agent-latency: control plane not built (t/cluster/build k8s)"; exit 0; }
TMP=$(mktemp -d /tmp/temper-perf-agent.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; "$C/down" "$TMP/cluster" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
"$C/up" "$TMP/cluster" >/dev/null 2>&1
"$C/mknode" "$TMP/cluster" node-a --cpus 8 >/dev/null
for pc in critical:1000000 high:100000 normal:0 low:-100 background:-1000; do
	printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
		"${pc%%:*}" "${pc##*:}" | "$C/kubectl" "$TMP/cluster" apply -f - >/dev/null
done
for debounce in 100 0 100 0; do
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	rm -rf "$TMP/cgroup" "$TMP/state"; mkdir -p "$TMP/cgroup"; echo cpu >"$TMP/cgroup/cgroup.controllers"
	"$C/kubectl" "$TMP/cluster" delete pods --all --grace-period=0 --force >/dev/null 2>&1 || true
	cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$TMP/state"
[kubernetes]
kubeconfig = "$TMP/cluster/kubeconfig"
node_name = "node-a"
[node]
cgroup_root = "$TMP/cgroup"
[planner]
debounce_ms = $debounce
CONF
	"$TOP_BUILDDIR/src/temperd" --config="$TMP/temper.conf" 2>"$TMP/agent.log" &
	pid=$!
	for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break; sleep 0.1; done
	printf 'debounce_ms=%-4s ' "$debounce"
	python3 "$TOP_SRCDIR/t/perf/agent-latency.py" "$TMP/cluster" "http://127.0.0.1:$port" \
		"http://127.0.0.1:$port" "$C" "$TMP/cgroup" "$PODS"
	kill "$pid"; wait "$pid" || true; pid=
done
