#!/bin/bash
# t/perf/soak.sh [MINUTES] [EVENTS_PER_SECOND] - the agent under pod churn.
#
# A real control plane (t/cluster/), one fake node, the agent watching it;
# pods are created and deleted at a steady rate (default 10 events/s for 30
# minutes) while the agent plans.  Every 10 s the agent's RSS and open file
# descriptors are sampled; at the end the least-squares slope of each is
# printed (KiB/min, fds/min) with the first and last samples, and the
# agent's pods are compared with a fresh LIST: the same uids, none lost.
# Prints figures; fails only if pods were lost or the agent died.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
MINUTES=${1:-30}
RATE=${2:-10}
C=$TOP_SRCDIR/t/cluster
"$C/available" k8s >/dev/null || { echo "soak: control plane not built (t/cluster/build k8s)"; exit 0; }
TMP=$(mktemp -d /tmp/temper-soak.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; "$C/down" "$TMP/cluster" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
"$C/up" "$TMP/cluster" >/dev/null 2>&1
"$C/mknode" "$TMP/cluster" node-a --cpus 8 >/dev/null
mkdir -p "$TMP/cgroup"
echo cpu >"$TMP/cgroup/cgroup.controllers"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$TMP/state"
[kubernetes]
kubeconfig = "$TMP/cluster/kubeconfig"
node_name = "node-a"
[node]
cgroup_root = "$TMP/cgroup"
CONF
"$TOP_BUILDDIR/src/temperd" --config="$TMP/temper.conf" 2>"$TMP/agent.log" &
pid=$!
api=http://127.0.0.1:$port
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$api/readyz")" = 200 ] && break; sleep 0.1; done

# The churn: a Python client creating and deleting pods straight through
# the API (kubectl's start-up would cap the rate), keeping about 100 alive.
python3 - "$TMP/cluster/env" "$MINUTES" "$RATE" >"$TMP/churn.log" 2>&1 <<'PY' &
import json, os, ssl, sys, time, urllib.request
env = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
minutes, rate = float(sys.argv[2]), float(sys.argv[3])
server = [l.split()[1] for l in open(env["KUBECONFIG"]) if l.strip().startswith("server:")][0]
ctx = ssl.create_default_context(cafile=env["CA_CERT"])
ctx.load_cert_chain(env["ADMIN_CERT"], env["ADMIN_KEY"])
def call(method, path, body=None):
    req = urllib.request.Request(server + path, method=method,
        data=json.dumps(body).encode() if body else None, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, context=ctx).read()
alive, n, start = [], 0, time.time()
while time.time() - start < minutes * 60:
    due = start + n / rate
    time.sleep(max(0, due - time.time()))
    if len(alive) < 100 or n % 2 == 0:
        name = "soak-%d" % n
        call("POST", "/api/v1/namespaces/default/pods", {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name}, "spec": {"nodeName": "node-a", "containers": [
            {"name": "c", "image": "registry.invalid/a:1", "resources": {"requests": {"cpu": "10m"}}}]}})
        alive.append(name)
    else:
        call("DELETE", "/api/v1/namespaces/default/pods/%s?gracePeriodSeconds=0" % alive.pop(0))
    n += 1
print("events=%d alive=%d" % (n, len(alive)))
PY
churn=$!

samples=$TMP/samples
while kill -0 "$churn" 2>/dev/null; do
	kill -0 "$pid" || { echo "soak: the agent died; its log:"; tail -n 20 "$TMP/agent.log"; exit 1; }
	echo "$SECONDS $(awk '/VmRSS/ {print $2}' /proc/$pid/status) $(ls /proc/$pid/fd | wc -l)" >>"$samples"
	sleep 10
done
wait "$churn"
cat "$TMP/churn.log"
sleep 2

# The first two minutes fill the node to ~100 pods: the slope is taken
# over the steady state after them (when the run is long enough).
steady=0
[ "$MINUTES" -ge 5 ] && steady=120
slope() { # column: least-squares slope per minute
	awk -v c="$1" -v from="$steady" '$1 >= from { x = $1 / 60; y = $c; n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
		END { if (n < 2 || n * sxx == sx * sx) print "n/a"; else printf "%.3f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }' "$samples"
}
echo "samples=$(wc -l <"$samples") over ${MINUTES} min at ${RATE} events/s (slopes from t=${steady}s)"
echo "rss_kib: first $(head -1 "$samples" | cut -d' ' -f2) last $(tail -1 "$samples" | cut -d' ' -f2) slope $(slope 2) KiB/min"
echo "open_fds: first $(head -1 "$samples" | cut -d' ' -f3) last $(tail -1 "$samples" | cut -d' ' -f3) slope $(slope 3) fds/min"

agent_uids=$(curl -s "$api/api/v1/pods" | python3 -c 'import json,sys; print("\n".join(sorted(p["uid"] for p in json.load(sys.stdin))))')
list_uids=$("$C/kubectl" "$TMP/cluster" get pods -o json | python3 -c 'import json,sys; print("\n".join(sorted(p["metadata"]["uid"] for p in json.load(sys.stdin)["items"])))')
if [ "$agent_uids" = "$list_uids" ]; then
	echo "pods: the agent holds exactly the $(wc -l <<<"$list_uids") pods a fresh LIST returns: none lost"
else
	echo "pods: MISMATCH between the agent and a fresh LIST:"
	diff <(echo "$agent_uids") <(echo "$list_uids") | head
	exit 1
fi
