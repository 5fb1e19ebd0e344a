#!/bin/bash
# t/perf/webhook.sh [REPETITIONS] - the webhook's admission latency over TLS.
#
# temperd --role=webhook (run from a build tree without sanitizers, or set
# TEMPERD) with an ECDSA P-256 certificate; t/perf/webhook-load.c sends
# AdmissionReview POSTs open-loop (latency from each request's due time) at
# 500 and 2,000 admissions/s over 4 keep-alive TLS connections, cycling
# through a scaled Burstable pod, a critical pod and a Guaranteed pod.  The
# comparison arm, interleaved in every repetition: GET /healthz on the same
# daemon, same TLS, same rate.  Prints, per arm, the median over the
# repetitions of p50 and p99 (with min-max), the achieved requests/s and the
# daemon's CPU (utime+stime over wall time).  Logging stays at info, one
# line per admission, as in production.  Never fails on timing.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
TEMPERD=${TEMPERD:-$TOP_BUILDDIR/src/temperd}
REPS=${1:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
RATES=${RATES:-500 2000}
CONNECTIONS=${CONNECTIONS:-4}

for tool in openssl python3 cc curl; do
	command -v "$tool" >/dev/null || { echo "webhook.sh: $tool is missing"; exit 0; }
done
[ -x "$TEMPERD" ] || { echo "webhook.sh: no temperd at $TEMPERD"; exit 1; }
if nm "$TEMPERD" 2>/dev/null | grep -q __asan_init; then
	echo "webhook.sh: warning: $TEMPERD is built with sanitizers; figures will be slow" >&2
fi
TMP=$(mktemp -d /tmp/temper-perf-webhook.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

cc -O2 -o "$TMP/load" "$TOP_SRCDIR/t/perf/webhook-load.c" -lssl -lcrypto
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 2>/dev/null
python3 - "$TMP" <<'PY'
import json, sys
d = sys.argv[1]
def review(name, spec):
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "9f2c1d7e-%s" % name, "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "resource": {"group": "", "version": "v1", "resource": "pods"},
                        "operation": "CREATE", "namespace": "batch", "name": name,
                        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
                        "object": {"apiVersion": "v1", "kind": "Pod",
                                   "metadata": {"name": name, "namespace": "batch",
                                                "labels": {"app": "worker", "pod-template-hash": "7d9f8c6b5"},
                                                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-22T10:00:00Z"}},
                                   "spec": spec}}}
c = lambda n, req, lim=None: {"name": n, "image": "registry.example/%s:1.2.3" % n,
    "resources": dict({"requests": req}, **({"limits": lim} if lim else {}))}
bodies = {
  "burstable": review("worker-7d9f8c6b5-x2x4q", {"priority": 0, "containers": [
      c("app", {"cpu": "1500m", "memory": "512Mi"}, {"cpu": "3"}), c("sidecar", {"cpu": "100m"})]}),
  "critical": review("db-0", {"priority": 1000000, "priorityClassName": "temper-critical",
      "containers": [c("db", {"cpu": "2", "memory": "4Gi"}, {"cpu": "2", "memory": "4Gi"})]}),
  "guaranteed": review("cache-1", {"priority": 0, "containers": [
      c("cache", {"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})]}),
}
for k, v in bodies.items():
    open("%s/%s.json" % (d, k), "w").write(json.dumps(v))
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[daemon]\nlisten = "127.0.0.1:%s"\nstate_dir = "%s/state"\n[tls]\ncert = "%s"\nkey = "%s"\n' \
	"$port" "$TMP" "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/temper.conf"
"$TEMPERD" --role=webhook --config="$TMP/temper.conf" 2>"$TMP/temperd.log" &
pid=$!
for _ in $(seq 100); do
	curl -sfk "https://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# run ARM RATE: one open-loop run; prints "p50 p99 rps cpu%".
run() {
	local arm=$1 rate=$2 before after t0 t1 line path=/mutate
	local bodies=("$TMP/burstable.json" "$TMP/critical.json" "$TMP/guaranteed.json")
	[ "$arm" = healthz ] && { path=/healthz; bodies=(-); }
	before=$(cpu_ticks)
	t0=$(date +%s.%N)
	line=$("$TMP/load" 127.0.0.1 "$port" "$path" "$rate" "$SECONDS_PER_RUN" "$CONNECTIONS" \
		"$TMP/cert.pem" "${bodies[@]}")
	t1=$(date +%s.%N)
	after=$(cpu_ticks)
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

echo "# $(uname -m), $(nproc) CPUs online, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# temperd --role=webhook over TLS (ECDSA P-256); $CONNECTIONS keep-alive connections; $REPS x ${SECONDS_PER_RUN}s per arm"
"$TMP/load" 127.0.0.1 "$port" /mutate 200 1 2 "$TMP/cert.pem" "$TMP/burstable.json" >/dev/null # warm up
for rate in $RATES; do
	: >"$TMP/mutate.$rate"; : >"$TMP/healthz.$rate"
	for r in $(seq "$REPS"); do
		run mutate "$rate" >>"$TMP/mutate.$rate"
		run healthz "$rate" >>"$TMP/healthz.$rate"
	done
	for arm in mutate healthz; do
		python3 - "$arm" "$rate" "$TMP/$arm.$rate" <<'PY'
import statistics, sys
arm, rate, path = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [list(map(float, l.split())) for l in open(path) if l.strip()]
col = lambda i: [r[i] for r in rows]
med = lambda i: statistics.median(col(i))
name = "POST /mutate " if arm == "mutate" else "GET /healthz "
print("%s at %5s/s: p50 %6.0f us (%.0f-%.0f)  p99 %6.0f us (%.0f-%.0f)  %5.0f req/s  CPU %5.1f%% (%4.0f us/call)  errors %d" % (
    name, rate, med(0), min(col(0)), max(col(0)), med(1), min(col(1)), max(col(1)),
    med(2), med(3), med(5), sum(col(4))))
PY
	done
done
admissions=$(grep -c 'webhook: pod ' "$TMP/temperd.log" || true)
echo "# $admissions admissions logged, e.g.: $(grep -m1 'webhook: pod batch/worker' "$TMP/temperd.log" | sed 's/.*msg=//')"
