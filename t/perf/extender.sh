#!/bin/bash
# t/perf/extender.sh [REPETITIONS] - the scheduler extender in node-cache
# mode for 100, 1,000 and 5,000 nodes, over plain HTTP and over TLS.
#
# A stand-in API server (Python, loopback) serves a LIST of N Nodes with a
# mix of temper.io/qos-distribution annotations (empty, critical-heavy,
# batch-carrying, safe mode, none) and a watch that stays quiet, so the
# extender's cache holds N nodes; temperd --role=extender (a build without
# sanitizers, or TEMPERD) runs twice, one serving plain HTTP and one TLS,
# logging at info (a line per call) as in production.
#
# What is measured (t/perf/webhook-load.c drives every arm):
#
#   paced   What kube-scheduler does: one pod at a time, POST /filter with
#           all N NodeNames, then POST /prioritize with the nodes that
#           passed, alternating a critical and a background pod, RATE pods
#           a second (default 100) on one connection, open-loop: each
#           pair's latency runs from when it was due, so a slow answer
#           delays the pairs behind it as it would delay the scheduler.
#           Prints p50 and p99 of the filter (from its due time), of the
#           prioritize (from its send) and of the pair (p99.9 and max too),
#           and the daemon's CPU per call (its run time from
#           /proc/PID/schedstat over the calls answered).  The latency
#           target of issue #9 (p99 < 5 ms at 5,000 nodes) is about this
#           arm: latency at a realistic rate, not under overload.
#   max     The most it takes: CONNECTIONS (default 2) schedulers each
#           sending their next pair as soon as the last one is answered,
#           closed-loop; prints pairs/s and calls/s.
#   healthz GET /healthz at RATE on the same daemon, the server's own floor.
#
# The generator's TLS is OpenSSL's: its AES-256-GCM runs at 0.24 ns a byte
# here, like Go's in a real scheduler, where mbedtls 2.28's (the daemon's)
# takes 4.9.  With mbedtls on both ends, the client's own crypto was about
# 1.6 ms of a 5,000-node pair's 4.4 ms median.
#
# Earlier versions of this script timed each verb alone at 100 calls/s over TLS
# with 5,000 names in both and no throughput figure; prioritize now gets
# what filter passed, as from a real scheduler.
#
# BASELINE=/path/to/another/temperd adds the same arms for that binary,
# interleaved in every repetition, and checks that both give the same
# answers byte for byte.  Prints the median over REPETITIONS (default 5)
# with min-max.  Never fails on timing.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
TEMPERD=${TEMPERD:-$TOP_BUILDDIR/src/temperd}
BASELINE=${BASELINE:-}
REPS=${1:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
SIZES=${SIZES:-100 1000 5000}
RATE=${RATE:-100}
CONNECTIONS=${CONNECTIONS:-2}

for tool in openssl python3 cc curl; do
	command -v "$tool" >/dev/null || { echo "extender.sh: $tool is missing"; exit 0; }
done
for binary in "$TEMPERD" $BASELINE; do
	[ -x "$binary" ] || { echo "extender.sh: no temperd at $binary"; exit 1; }
	if nm "$binary" 2>/dev/null | grep -q __asan_init; then
		echo "extender.sh: warning: $binary is built with sanitizers; figures will be slow" >&2
	fi
done
TMP=$(mktemp -d /tmp/temper-perf-extender.XXXXXX)
pids=() api_pid=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -o "$TMP/load" "$TOP_SRCDIR/t/perf/webhook-load.c" -lssl -lcrypto
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

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

filter_bodies() { # N: ExtenderArgs for a critical and a background pod, every node named
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
    open("%s/%s-filter.json" % (d, name), "w").write(json.dumps({"Pod": pod(name, priority, cpu),
        "Nodes": None, "NodeNames": names}))
PY
}

# prioritize_body POD ANSWER: the same pod with the NodeNames that passed.
prioritize_body() {
	python3 - "$TMP/$1-filter.json" "$2" "$TMP/$1-prioritize.json" <<'PY'
import json, sys
args, answer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
args["NodeNames"] = answer["NodeNames"]
open(sys.argv[3], "w").write(json.dumps(args))
PY
}

cpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }

# run ARM DAEMON: one run; appends a row of key=value to $TMP/rows.
run() {
	local arm=$1 d=$2 port=${port_of[$2]} ca=${ca_of[$2]} pid=${pid_of[$2]} rate=$RATE ncon=1 before after line
	local specs=("/filter@$TMP/critical-filter.json+/prioritize@$TMP/critical-prioritize.json"
		"/filter@$TMP/batch-filter.json+/prioritize@$TMP/batch-prioritize.json")
	case $arm in
	max) rate=max ncon=$CONNECTIONS ;;
	healthz) specs=(/healthz@-) ;;
	esac
	before=$(cpu_ns "$pid")
	line=$("$TMP/load" 127.0.0.1 "$port" / "$rate" "$SECONDS_PER_RUN" "$ncon" "$ca" "${specs[@]}")
	after=$(cpu_ns "$pid")
	echo "n=$n arm=$arm daemon=$d cpu_ns=$((after - before)) $line" >>"$TMP/rows"
}

report() { # N
	python3 - "$1" "$TMP/rows" "$SECONDS_PER_RUN" <<'PY'
import statistics, sys
n, seconds = sys.argv[1], float(sys.argv[3])
rows = [dict(f.split("=", 1) for f in l.split()) for l in open(sys.argv[2]) if l.strip()]
rows = [r for r in rows if r["n"] == n]
def stat(sel, key, scale=1.0):
    v = [float(r[key]) * scale for r in sel]
    return statistics.median(v), min(v), max(v)
def fmt(t, unit=""):
    return "%.0f%s (%.0f-%.0f)" % (t[0], unit, t[1], t[2])
daemons = []
for r in rows:
    if r["daemon"] not in daemons:
        daemons.append(r["daemon"])
for d in daemons:
    for arm in ("paced", "max", "healthz"):
        sel = [r for r in rows if r["daemon"] == d and r["arm"] == arm]
        if not sel:
            continue
        errors = sum(int(r["errors"]) for r in sel)
        calls = [(2 if arm != "healthz" else 1) * int(r["requests"]) for r in sel]
        us_per_call = statistics.median([int(r["cpu_ns"]) / 1000 / max(1, c) for r, c in zip(sel, calls)])
        cpu = statistics.median([100 * int(r["cpu_ns"]) / 1e9 / seconds for r in sel])
        if arm == "paced":
            print("%-12s paced  filter p50 %s p99 %s | prioritize p50 %s p99 %s | pair p50 %s p99 %s p99.9 %s max %s us | CPU %.1f%%, %.0f us/call | errors %d" % (
                d, fmt(stat(sel, "s0_p50_us")), fmt(stat(sel, "s0_p99_us")), fmt(stat(sel, "s1_p50_us")),
                fmt(stat(sel, "s1_p99_us")), fmt(stat(sel, "p50_us")), fmt(stat(sel, "p99_us")),
                fmt(stat(sel, "p999_us")), fmt(stat(sel, "max_us")), cpu, us_per_call, errors))
        elif arm == "max":
            print("%-12s max    %s pairs/s = %s calls/s | pair p50 %s p99 %s us | CPU %.1f%%, %.0f us/call | errors %d%s" % (
                d, fmt(stat(sel, "per_second")), fmt(stat(sel, "per_second", 2.0)), fmt(stat(sel, "p50_us")),
                fmt(stat(sel, "p99_us")), cpu, us_per_call, errors,
                " (the daemon below 90% CPU: the generator is the limit)" if cpu < 90 else ""))
        else:
            print("%-12s GET /healthz p50 %s p99 %s us | errors %d" % (
                d, fmt(stat(sel, "p50_us")), fmt(stat(sel, "p99_us")), errors))
PY
}

# decision_us DAEMON: the server-side decision time, the histogram's mean per verb.
decision_us() {
	local d=$1 scheme=http
	[ "${ca_of[$d]}" = - ] || scheme=https
	curl -sk "$scheme://127.0.0.1:${port_of[$d]}/metrics" | python3 -c '
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

declare -A port_of ca_of pid_of
daemons=()
for binary in "$TEMPERD" $BASELINE; do
	label=new
	[ "$binary" = "$TEMPERD" ] || label=baseline
	for transport in plain tls; do
		daemons+=("$label-$transport")
	done
done
echo "# $(uname -m), $(nproc) CPUs online, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# temperd --role=extender, node-cache mode; paced: $RATE filter+prioritize pairs/s on 1 connection;" \
	"max: $CONNECTIONS connections closed-loop; $REPS x ${SECONDS_PER_RUN}s per arm"
echo "# new: $TEMPERD${BASELINE:+; baseline: $BASELINE}"
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
	pids=()
	for d in "${daemons[@]}"; do
		binary=$TEMPERD
		[ "${d%-*}" = new ] || binary=$BASELINE
		port=$(free_port)
		port_of[$d]=$port
		mkdir -p "$TMP/state-$d"
		printf '[daemon]\nlisten = "127.0.0.1:%s"\nstate_dir = "%s"\nlog_level = "info"\n[kubernetes]\nkubeconfig = "%s"\n' \
			"$port" "$TMP/state-$d" "$TMP/kubeconfig" >"$TMP/$d.conf"
		if [ "${d##*-}" = tls ]; then
			printf '[tls]\ncert = "%s"\nkey = "%s"\n' "$TMP/cert.pem" "$TMP/key.pem" >>"$TMP/$d.conf"
			ca_of[$d]=$TMP/cert.pem
		else
			ca_of[$d]=-
		fi
		"$binary" --role=extender --config="$TMP/$d.conf" 2>"$TMP/$d-$n.log" &
		pid_of[$d]=$!
		pids+=($!)
	done
	# Ready once listed; the gauge follows within a housekeeping tick.
	for d in "${daemons[@]}"; do
		scheme=http
		[ "${ca_of[$d]}" = - ] || scheme=https
		for _ in $(seq 600); do
			cached=$(curl -sk "$scheme://127.0.0.1:${port_of[$d]}/metrics" |
				sed -n 's/^temper_extender_cached_nodes //p')
			[ "${cached:-0}" = "$n" ] && break
			sleep 0.1
		done
		[ "${cached:-0}" = "$n" ] || { echo "extender.sh: $d caches ${cached:-no} nodes, not $n:"; tail -n 5 "$TMP/$d-$n.log"; }
	done
	filter_bodies "$n"
	for p in critical batch; do
		curl -s --data-binary "@$TMP/$p-filter.json" "http://127.0.0.1:${port_of[new-plain]}/filter" >"$TMP/$p-filter-answer.json"
		prioritize_body $p "$TMP/$p-filter-answer.json"
		if [ -n "$BASELINE" ]; then
			for verb in filter prioritize; do
				curl -s --data-binary "@$TMP/$p-$verb.json" "http://127.0.0.1:${port_of[new-plain]}/$verb" >"$TMP/a"
				curl -s --data-binary "@$TMP/$p-$verb.json" "http://127.0.0.1:${port_of[baseline-plain]}/$verb" >"$TMP/b"
				cmp -s "$TMP/a" "$TMP/b" || echo "extender.sh: $p $verb: the two binaries answer differently"
			done
		fi
	done
	# Warm up: connections, caches, the allocator.
	for d in "${daemons[@]}"; do
		"$TMP/load" 127.0.0.1 "${port_of[$d]}" / 20 1 1 "${ca_of[$d]}" \
			"/filter@$TMP/critical-filter.json+/prioritize@$TMP/critical-prioritize.json" >/dev/null
	done
	for _ in $(seq "$REPS"); do
		for arm in paced max healthz; do
			for d in "${daemons[@]}"; do
				[ $arm = healthz ] && [ "${d%-*}" != new ] && continue
				run $arm "$d"
			done
		done
	done
	echo "## $n nodes ($cached cached): ExtenderArgs of $(wc -c <"$TMP/critical-filter.json") bytes to filter," \
		"$(wc -c <"$TMP/critical-prioritize.json") and $(wc -c <"$TMP/batch-prioritize.json") to prioritize" \
		"(critical, background); load $(cut -d' ' -f1-3 /proc/loadavg)"
	for d in "${daemons[@]}"; do
		echo "#   $d server-side mean: $(decision_us "$d")"
	done
	report "$n"
	for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
	pids=()
	kill "$api_pid"; wait "$api_pid" 2>/dev/null || true; api_pid=
done
