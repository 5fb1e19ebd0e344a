#!/bin/bash
# t/perf/extender.sh [REPETITIONS] - the extender's filter and prioritize
# latency in node-cache mode for 100, 1,000 and 5,000 nodes.
#
# A stand-in API server (Python, loopback) serves a LIST of N Nodes with a
# mix of temper.io/qos-distribution annotations (empty, critical-heavy,
# batch-carrying, safe mode, none) and a watch that stays quiet, so the
# extender's cache holds N nodes; temperd --role=extender (a build without
# sanitizers, or TEMPERD) serves over TLS.  t/perf/webhook-load.c POSTs
# ExtenderArgs with all N NodeNames, as kube-scheduler does with
# nodeCacheCapable, open-loop at RATE calls/s (default 100, the pace of a
# scheduler placing 100 pods/s), alternating a critical and a background
# pod.  Comparison arm, interleaved: GET /healthz at the same rate.  Prints
# the median over repetitions of p50 and p99 (min-max), requests/s, the
# daemon's CPU, and the server-side decision time from its own histogram.
# Never fails on timing.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
TEMPERD=${TEMPERD:-$TOP_BUILDDIR/src/temperd}
REPS=${1:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
SIZES=${SIZES:-100 1000 5000}
RATE=${RATE:-100}
CONNECTIONS=${CONNECTIONS:-2}

for tool in openssl python3 cc curl; do
	command -v "$tool" >/dev/null || { echo "extender.sh: $tool is missing"; exit 0; }
done
[ -x "$TEMPERD" ] || { echo "extender.sh: no temperd at $TEMPERD"; exit 1; }
if nm "$TEMPERD" 2>/dev/null | grep -q __asan_init; then
	echo "extender.sh: warning: $TEMPERD is built with sanitizers; figures will be slow" >&2
fi
TMP=$(mktemp -d /tmp/temper-perf-extender.XXXXXX)
pid= api_pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -o "$TMP/load" "$TOP_SRCDIR/t/perf/webhook-load.c" -lmbedtls -lmbedx509 -lmbedcrypto
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hz=$(getconf CLK_TCK)

cat >"$TMP/fake-api.py" <<'PY'
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, count = int(sys.argv[1]), int(sys.argv[2])
def dist(c, cm, h, hm, b, bm):
    return json.dumps({"critical": {"pods": c, "cpu_millis": cm}, "high": {"pods": h, "cpu_millis": hm},
        "normal": {"pods": 0, "cpu_millis": 0}, "low": {"pods": 0, "cpu_millis": 0},
        "background": {"pods": b, "cpu_millis": bm}}, separators=(",", ":"))
kinds = [dist(0, 0, 0, 0, 0, 0), dist(2, 5500, 1, 500, 0, 0), dist(0, 0, 2, 2000, 6, 3000),
         dist(1, 1000, 0, 0, 3, 1500)]
items = []
for i in range(count):
    annotations = {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    if i % 10 != 9:
        annotations["temper.io/qos-distribution"] = kinds[i % 4]
    if i % 17 == 0:
        annotations["temper.io/safe-mode-requested"] = "true"
    name = "node-%05d" % i
    items.append({"metadata": {"name": name, "uid": "uid-%d" % i, "resourceVersion": str(100 + i),
        "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                   "node.kubernetes.io/instance-type": "m6i.4xlarge", "topology.kubernetes.io/zone": "zone-%d" % (i % 3)},
        "annotations": annotations},
        "spec": {"podCIDR": "10.%d.%d.0/24" % (i // 256, i % 256)},
        "status": {"capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                   "allocatable": {"cpu": "15500m", "memory": "62Gi", "pods": "110"}}})
listing = json.dumps({"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "99999"},
                      "items": items}).encode()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_GET(self):
        if "watch=" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            try:
                while True:
                    time.sleep(3600)
            except Exception:
                return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(listing)))
        self.end_headers()
        self.wfile.write(listing)
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY

bodies() { # N: ExtenderArgs for a critical and a background pod, every node named
	python3 - "$1" "$TMP" <<'PY'
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
names = ["node-%05d" % i for i in range(n)]
def pod(name, priority, cpu):
    return {"metadata": {"name": name, "namespace": "default", "uid": "uid-" + name,
        "labels": {"app": name}}, "spec": {"priority": priority, "schedulerName": "default-scheduler",
        "containers": [{"name": "c", "image": "registry.example/app:1",
        "resources": {"requests": {"cpu": cpu, "memory": "256Mi"}}}]}, "status": {"phase": "Pending",
        "qosClass": "Burstable"}}
for name, priority, cpu in (("critical", 1000000, "2"), ("batch", -1000, "500m")):
    open("%s/%s.json" % (d, name), "w").write(json.dumps({"Pod": pod(name, priority, cpu),
        "Nodes": None, "NodeNames": names}))
PY
}

# run ARM: one open-loop run; prints "p50 p99 rps cpu% errors".
run() {
	local arm=$1 before after t0 t1 line path=/$1 b=("$TMP/critical.json" "$TMP/batch.json")
	[ "$arm" = healthz ] && b=(-)
	before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	t0=$(date +%s.%N)
	line=$("$TMP/load" 127.0.0.1 "$port" "$path" "$RATE" "$SECONDS_PER_RUN" "$CONNECTIONS" \
		"$TMP/cert.pem" "${b[@]}")
	t1=$(date +%s.%N)
	after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	python3 - "$line" "$before" "$after" "$t0" "$t1" "$hz" <<'PY'
import sys
kv = dict(x.split("=") for x in sys.argv[1].split())
before, after, t0, t1, hz = map(float, sys.argv[2:])
wall = t1 - t0
print(kv["p50_us"], kv["p99_us"], "%.0f" % (int(kv["requests"]) / wall),
      "%.1f" % (100 * (after - before) / hz / wall), kv["errors"],
      "%.0f" % (1e6 * (after - before) / hz / max(1, int(kv["requests"]))))
PY
}

# Server-side decision time: the histogram's mean per verb.
decision_us() {
	curl -sk "https://127.0.0.1:$port/metrics" | python3 -c '
import re, sys
text = sys.stdin.read()
out = []
for verb in ("filter", "prioritize"):
    s = re.search(r"temper_extender_request_seconds_sum\{verb=\"%s\"\} (\S+)" % verb, text)
    c = re.search(r"temper_extender_request_seconds_count\{verb=\"%s\"\} (\S+)" % verb, text)
    if s and c and float(c.group(1)) > 0:
        out.append("%s %.0f us" % (verb, 1e6 * float(s.group(1)) / float(c.group(1))))
print("; ".join(out))'
}

echo "# $(uname -m), $(nproc) CPUs online, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# temperd --role=extender over TLS, node-cache mode; $RATE calls/s; $REPS x ${SECONDS_PER_RUN}s per arm"
for n in $SIZES; do
	api_port=$(free_port)
	python3 "$TMP/fake-api.py" "$api_port" "$n" & api_pid=$!
	cat >"$TMP/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: "http://127.0.0.1:$api_port"
users:
- name: u
  user: {}
contexts:
- name: c
  context:
    cluster: fake
    user: u
current-context: c
KUBECONFIG
	port=$(free_port)
	printf '[daemon]\nlisten = "127.0.0.1:%s"\nstate_dir = "%s/state"\nlog_level = "warn"\n[tls]\ncert = "%s"\nkey = "%s"\n[kubernetes]\nkubeconfig = "%s"\n' \
		"$port" "$TMP" "$TMP/cert.pem" "$TMP/key.pem" "$TMP/kubeconfig" >"$TMP/temper.conf"
	"$TEMPERD" --role=extender --config="$TMP/temper.conf" 2>"$TMP/temperd-$n.log" & pid=$!
	# Ready once listed; the gauge follows within a housekeeping tick.
	for _ in $(seq 600); do
		cached=$(curl -sk "https://127.0.0.1:$port/metrics" | sed -n 's/^temper_extender_cached_nodes //p')
		[ "${cached:-0}" = "$n" ] && break
		sleep 0.1
	done
	[ "${cached:-0}" = "$n" ] || { echo "extender.sh: the cache holds ${cached:-no} nodes, not $n:"; tail -n 5 "$TMP/temperd-$n.log"; }
	bodies "$n"
	size=$(wc -c <"$TMP/critical.json")
	"$TMP/load" 127.0.0.1 "$port" /filter 50 1 1 "$TMP/cert.pem" "$TMP/critical.json" >/dev/null
	for arm in filter prioritize healthz; do : >"$TMP/$arm"; done
	for r in $(seq "$REPS"); do
		for arm in filter prioritize healthz; do run "$arm" >>"$TMP/$arm"; done
	done
	echo "## $n nodes ($cached cached), ExtenderArgs of $size bytes; server-side mean: $(decision_us)"
	for arm in filter prioritize healthz; do
		python3 - "$arm" "$TMP/$arm" <<'PY'
import statistics, sys
arm, path = sys.argv[1], sys.argv[2]
rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
col = lambda i: [r[i] for r in rows]
med = lambda i: statistics.median(col(i))
name = {"filter": "POST /filter    ", "prioritize": "POST /prioritize", "healthz": "GET /healthz    "}[arm]
print("%s p50 %6.0f us (%.0f-%.0f)  p99 %6.0f us (%.0f-%.0f)  %4.0f req/s  CPU %5.1f%% (%4.0f us/call)  errors %d" % (
    name, med(0), min(col(0)), max(col(0)), med(1), min(col(1)), max(col(1)), med(2), med(3), med(5), sum(col(4))))
PY
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
	kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; api_pid=
done
