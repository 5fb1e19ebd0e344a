#!/bin/bash
# t/perf/colocation-vm.sh - memcached's tail latency beside a CPU-bound
# batch in the sched_ext test guest (t/vm), four arms:
#
#   nobatch  memcached alone: context, not the yardstick (MEASURING.md)
#   cfs      batch beside it, both pod cgroups plain: stock CFS
#   scx      batch beside it under the real scx_layered, attached before the
#            arm with the configuration the real planner generates for the
#            two pods on the guest's topology (`temperctl simulate
#            --topology /sys`), detached (SIGINT) after it
#   cgroup   batch beside it after t/cgroup-enforce-probe applied the pods'
#            tiers through cgroup_enforce (the batch pod's cpu.idle=1), put
#            back after the arm
#
#   make perf-colocation-vm    (REPS=5 ARM_SECONDS=8 RATE=1000 CONNECTIONS=4 SMP=2)
#
# Two kubelet-shaped pod cgroups under kubepods.slice in the guest's pure
# cgroup v2 tree: "critical" (Guaranteed, 500m) runs memcached -t 2, "batch"
# (BestEffort) runs stress-ng --cpu <every CPU>.  The open-loop generator
# t/perf/loadgen runs SCHED_FIFO in the root cgroup (remote callers should
# not be victims of this node's scheduling).  Arms interleave (A B C D A B C
# D ...).  The guest runs under TCG emulation (nested KVM fails on these
# machines): absolute times are inflated and noisy, so only the ratios
# inside one run mean anything - p99(arm)/p99(nobatch) and p99(arm)/p99(cfs),
# medians of per-repetition ratios with min-max, and the batch's bogo ops/s.
# Prints figures; never fails on timing.
set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
export TOP_SRCDIR TOP_BUILDDIR
export TEMPERCTL=${TEMPERCTL:-$TOP_BUILDDIR/src/temperctl}
REPS=${REPS:-5}
ARM_SECONDS=${ARM_SECONDS:-8}
RATE=${RATE:-1000}
CONNECTIONS=${CONNECTIONS:-4}
SMP=${SMP:-2}
ARMS=${ARMS:-nobatch cfs scx cgroup}

skip() { echo "colocation-vm: skipped: $*"; exit 0; }
why=$("$TOP_SRCDIR/t/vm/available" 2>&1) || skip "$why"
why=$("$TOP_SRCDIR/t/scx/available" 2>&1) || skip "$why"
for f in t/perf/loadgen t/cgroup-enforce-probe src/temperctl; do
	[ -x "$TOP_BUILDDIR/$f" ] || skip "build $f first (make $f)"
done
command -v python3 >/dev/null || skip "needs python3"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/temper-colocation-vm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

cat >"$WORK/guest.sh" <<'GUEST'
. "$TOP_SRCDIR/t/vm/guest-lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
W=$(dirname "$0")
PROBE=$TOP_BUILDDIR/t/cgroup-enforce-probe
LOADGEN=$TOP_BUILDDIR/t/perf/loadgen
U_CRIT=00000c01-0001-4000-8000-000000000001
U_BATCH=00000c01-0002-4000-8000-000000000002
CRIT=$(pod_cgroup "$U_CRIT" guaranteed)
BATCH=$(pod_cgroup "$U_BATCH" besteffort)
CPUS=$(nproc)
PORT=11311
STATE=/run/colocation-state
cat >"$W/pods.json" <<PODS
{"apiVersion":"v1","kind":"List","items":[
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"memcached","namespace":"prod","uid":"$U_CRIT"},
 "spec":{"nodeName":"node-a","priority":1000000,"priorityClassName":"temper-critical","containers":[{"name":"c","image":"registry.invalid/memcached:1","resources":{"requests":{"cpu":"500m"},"limits":{"cpu":"500m"}}}]},
 "status":{"phase":"Running","qosClass":"Guaranteed"}},
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"batch","namespace":"batch","uid":"$U_BATCH"},
 "spec":{"nodeName":"node-a","priority":-1000,"priorityClassName":"temper-background","containers":[{"name":"c","image":"registry.invalid/batch:1"}]},
 "status":{"phase":"Running","qosClass":"BestEffort"}}]}
PODS
"$TEMPERCTL" simulate --pods "$W/pods.json" --topology /sys -o "$W/config.json" >"$W/simulate.out" 2>&1 ||
	{ echo "colocation-vm: temperctl simulate failed" >&2; cat "$W/simulate.out" >&2; exit 1; }

in_pod "$CRIT" memcached -u nobody -l 127.0.0.1 -p "$PORT" -t 2 -m 64 >/dev/null
for _ in $(seq 100); do
	[ -n "$(ss -Hltn "sport = :$PORT")" ] && break
	sleep 0.1
done
scx=
scx_start() {
	"$SCX_LAYERED_BIN" "f:$W/config.json" >>"$W/scx.log" 2>&1 &
	scx=$!
	wait_until 180000 state_is enabled || echo "colocation-vm: scx_layered did not attach" >&2
}
scx_stop() {
	kill -INT "$scx"
	wait "$scx"
	wait_until 60000 state_is disabled || echo "colocation-vm: sched_ext still $(scx_state)" >&2
	scx=
}
batch_pid=
start_batch() {
	batch_pid=$(in_pod "$BATCH" stress-ng --cpu "$CPUS" --timeout "$((ARM_SECONDS + 2))s" --metrics-brief --yaml "$1")
}
echo "colocation-vm: guest of $CPUS vCPUs (TCG), memcached GETs at $RATE/s over $CONNECTIONS connections, $ARM_SECONDS s per arm, $REPS repetitions" >&2
for rep in $(seq "$REPS"); do
	for arm in $ARMS; do
		yaml=/run/$arm-$rep.yaml ops=- note=
		case $arm in
		cfs) start_batch "$yaml" ;;
		scx)
			scx_start
			note="state=$(scx_state) ops=$(scx_ops)"
			start_batch "$yaml"
			;;
		cgroup)
			"$PROBE" apply --state-dir "$STATE" \
				--pod "$U_CRIT:critical:500:$CRIT" \
				--pod "$U_BATCH:background:$((CPUS * 1000)):$BATCH" \
				--then exit >/dev/null 2>>"$W/probe.log"
			note="cpu.idle=$(cat "$CG/$BATCH/cpu.idle")"
			start_batch "$yaml"
			;;
		esac
		sleep 1
		line=$(chrt -f 10 "$LOADGEN" --port "$PORT" --rate "$RATE" \
			--seconds "$ARM_SECONDS" --connections "$CONNECTIONS")
		if [ -n "$batch_pid" ]; then
			while kill -0 "$batch_pid" 2>/dev/null; do sleep 0.2; done
			batch_pid=
			ops=$(awk '/bogo-ops-per-second-real-time:/ { s += $2 } END { printf "%.1f", s }' "$yaml")
		fi
		case $arm in
		scx) scx_stop ;;
		cgroup) "$PROBE" restore --state-dir "$STATE" >/dev/null 2>>"$W/probe.log" ;;
		esac
		echo "$arm $rep $line ops=$ops" | sed 's/[a-z0-9_]*=//g' |
			awk '{ print $1, $2, $5, $6, $7, $8, $10, $3, $4, $9 }' >>"$W/results"
		echo "  rep $rep $arm: $line batch_ops_per_s=$ops $note" >&2
	done
done
GUEST

start=$(date +%s)
"$TOP_SRCDIR/t/vm/run" --smp "$SMP" --memory 1024 --timeout 3600 --share "$WORK" \
	--env "REPS=$REPS" --env "ARM_SECONDS=$ARM_SECONDS" --env "RATE=$RATE" \
	--env "CONNECTIONS=$CONNECTIONS" --env "ARMS=$ARMS" -- bash "$WORK/guest.sh" ||
	{ echo "colocation-vm: the guest run failed" >&2; exit 1; }
echo "colocation-vm: guest run took $(($(date +%s) - start)) s (host load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
sed -n '/^LAYER/,/^$/p' "$WORK/simulate.out" >&2

python3 - "$WORK/results" "$ARMS" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
arms = sys.argv[2].split()
by = {}
for arm, rep, p50, p99, p999, mx, ops, sent, answered, late in rows:
    by.setdefault(arm, {})[rep] = dict(p50=float(p50), p99=float(p99), p999=float(p999),
                                      max=float(mx), ops=None if ops == '-' else float(ops),
                                      sent=int(sent), answered=int(answered), late=float(late))
reps = sorted(set.intersection(*[set(by[a]) for a in arms]), key=int)
def med(xs): return statistics.median(xs)
print("TCG guest: absolute times are inflated by emulation; only the ratios compare.")
print("arm       p50_us   p99_us  p99.9_us    max_us   batch_ops/s  requests  answered  sender_late_us   (medians of %d repetitions)" % len(reps))
for arm in arms:
    r = [by[arm][k] for k in reps]
    ops = [x['ops'] for x in r if x['ops'] is not None]
    print("%-8s %8.1f %8.1f %9.1f %9.1f %13s %9d %9d %15.1f" % (arm, med([x['p50'] for x in r]), med([x['p99'] for x in r]),
          med([x['p999'] for x in r]), med([x['max'] for x in r]), "%.1f" % med(ops) if ops else "-",
          med([x['sent'] for x in r]), med([x['answered'] for x in r]), med([x['late'] for x in r])))
def ratio(name, xs):
    print("%-34s median %6.2f  (min %.2f, max %.2f)" % (name, med(xs), min(xs), max(xs)))
batch_arms = [a for a in arms if a != 'nobatch']
if 'nobatch' in arms:
    for a in batch_arms:
        ratio("p99(%s)/p99(nobatch)" % a, [by[a][k]['p99'] / by['nobatch'][k]['p99'] for k in reps])
if 'cfs' in arms:
    for a in batch_arms:
        if a != 'cfs':
            ratio("p99(%s)/p99(cfs)" % a, [by[a][k]['p99'] / by['cfs'][k]['p99'] for k in reps])
            ratio("batch ops/s %s/cfs" % a, [by[a][k]['ops'] / by['cfs'][k]['ops'] for k in reps])
EOF
