#!/bin/bash
# t/perf/colocation.sh - memcached's tail latency beside a CPU-bound batch,
# with and without Temper's cgroup backend.
#
#   sudo t/perf/colocation.sh        (REPS=5 ARM_SECONDS=8 RATE=5000 CONNECTIONS=4)
#
# Two kubelet-shaped Guaranteed pod cgroups side by side under kubepods.slice
# (below a private prefix, temper-bench-PID), in the hierarchy that holds
# cpu.idle (the v1 cpu controller on a hybrid machine): "critical" runs
# memcached (-t 2), "batch" runs stress-ng --cpu <every CPU>.  The open-loop
# generator t/perf/loadgen stands for remote callers, so it should not be a
# victim of this node's scheduling: it runs SCHED_FIFO (chrt -f 10, in the
# cgroup the script runs in; LOADGEN_RT=0 runs it plain in a cgroup beside
# kubepods.slice instead).  It sleeps between sends, so the real-time class
# costs little CPU.  It is not pinned: on two CPUs a pin would hand memcached
# one CPU and the generator the other, a machine unlike any node.  On a shared
# VM other people's processes compete with the whole experiment; the
# experiment's top cgroup gets cpu.shares=BENCH_SHARES (default 16384, the
# weight of 16 busy tasks) so that it, rather than the neighbours, decides
# what memcached meets - as kubepods does on a node.  Three arms,
# interleaved (A B C A B C ...):
#
#   nobatch  memcached alone: context, not the yardstick (MEASURING.md)
#   cfs      batch beside it, both cgroups plain: stock CFS
#   temper   batch beside it, after t/cgroup-enforce-probe applied the two
#            pods' tiers (critical, background) through cgroup_enforce - the
#            real code path - which sets the batch pod's cpu.idle=1; it is
#            put back after the arm, through the journal, by a second run.
#
# Reports per arm the median p50/p99/p99.9/max and the batch's bogo ops/s,
# then p99(arm)/p99(nobatch) for both batch arms (median of per-repetition
# ratios, min-max) and p99(temper)/p99(cfs) and the batch throughput ratio.
# Never fails on timing: it prints figures.

set -u
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
PROBE=$TOP_BUILDDIR/t/cgroup-enforce-probe
LOADGEN=$TOP_BUILDDIR/t/perf/loadgen
REPS=${REPS:-5}
ARM_SECONDS=${ARM_SECONDS:-8}
RATE=${RATE:-5000}
CONNECTIONS=${CONNECTIONS:-4}
ROOT=${CGROUP_ROOT:-/sys/fs/cgroup}
LOADGEN_RT=${LOADGEN_RT:-1}
BENCH_SHARES=${BENCH_SHARES:-16384}

skip() { echo "colocation: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root to create cgroups"
[ -x "$PROBE" ] || skip "build t/cgroup-enforce-probe first (make check or make t/cgroup-enforce-probe)"
[ -x "$LOADGEN" ] || skip "build t/perf/loadgen first (make t/perf/loadgen)"
command -v memcached >/dev/null || skip "needs memcached (apt-get install memcached)"
command -v stress-ng >/dev/null || skip "needs stress-ng (apt-get install stress-ng)"
if [ -e "$ROOT/cgroup.controllers" ]; then
	CPU=$ROOT
else
	CPU=$ROOT/cpu
	[ -e "$CPU/cpu.shares" ] || CPU=$ROOT/cpu,cpuacct
fi
[ -e "$CPU/cpu.idle" ] || skip "no cpu.idle under $CPU"

PREFIX=temper-bench-$$
U_CRIT=$(printf '%08x-0001-4000-8000-%012x' $$ 1)
U_BATCH=$(printf '%08x-0002-4000-8000-%012x' $$ 2)
CRIT=$PREFIX/kubepods.slice/kubepods-pod${U_CRIT//-/_}.slice
BATCH=$PREFIX/kubepods.slice/kubepods-pod${U_BATCH//-/_}.slice
CLIENT=$PREFIX/client
WORK=$(mktemp -d "${TMPDIR:-/tmp}/temper-colocation.XXXXXX")
STATE=$WORK/state
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CPUS=$(nproc)
MEMCACHED_PID=
BATCH_PID=

cleanup() {
	"$PROBE" restore --state-dir "$STATE" >/dev/null 2>&1
	[ -n "$BATCH_PID" ] && kill -9 "$BATCH_PID" 2>/dev/null
	[ -n "$MEMCACHED_PID" ] && kill -9 "$MEMCACHED_PID" 2>/dev/null
	# stress-ng's workers, if its parent died first.
	for p in $(cat "$CPU/$BATCH/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	sleep 0.2
	[ -d "$CPU/$PREFIX" ] && find "$CPU/$PREFIX" -depth -type d -exec rmdir {} \; 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$CPU/$CRIT" "$CPU/$BATCH" "$CPU/$CLIENT" || skip "cannot create cgroups under $CPU"
if [ -e "$CPU/$PREFIX/cpu.shares" ]; then
	echo "$BENCH_SHARES" >"$CPU/$PREFIX/cpu.shares"
elif [ -e "$CPU/$PREFIX/cpu.weight" ]; then
	echo $((BENCH_SHARES * 100 / 1024)) >"$CPU/$PREFIX/cpu.weight"
fi
if [ "$LOADGEN_RT" = 1 ] && chrt -f 10 true 2>/dev/null; then
	run_loadgen() { chrt -f 10 "$LOADGEN" "$@"; }
	CLIENT_WHERE="SCHED_FIFO 10 in the script's cgroup"
else
	run_loadgen() { in_cgroup "$CLIENT" "$LOADGEN" "$@"; }
	CLIENT_WHERE="SCHED_OTHER in $CLIENT"
fi

# in_cgroup DIR CMD...: run CMD inside the cgroup DIR (children follow).
# It execs, so call it only in a subshell (& or $(...)): then $! is CMD.
in_cgroup() {
	local dir=$1
	shift
	exec sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CPU/$dir" "$@"
}

in_cgroup "$CRIT" memcached -u nobody -l 127.0.0.1 -p "$PORT" -t 2 -m 64 &
MEMCACHED_PID=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
	sleep 0.1
done

start_batch() { # start_batch YAML
	in_cgroup "$BATCH" stress-ng --cpu "$CPUS" --timeout "$((ARM_SECONDS + 2))s" \
		--metrics-brief --yaml "$1" >/dev/null 2>&1 &
	BATCH_PID=$!
}

# run_arm NAME REP: one measurement; appends "NAME REP p50 p99 p999 max ops/s".
run_arm() {
	local arm=$1 rep=$2 yaml=$WORK/$1-$2.yaml line ops=- idle
	case $arm in
	temper)
		"$PROBE" apply --state-dir "$STATE" \
			--pod "$U_CRIT:critical:1000:$CRIT" \
			--pod "$U_BATCH:background:$((CPUS * 1000)):$BATCH" \
			--then exit >"$WORK/apply.out" 2>>"$WORK/probe.log"
		idle=$(cat "$CPU/$BATCH/cpu.idle")
		[ "$idle" = 1 ] || echo "colocation: warning: batch cpu.idle is $idle after apply" >&2
		start_batch "$yaml"
		;;
	cfs)
		idle=$(cat "$CPU/$BATCH/cpu.idle")
		[ "$idle" = 0 ] || echo "colocation: warning: batch cpu.idle is $idle in the CFS arm" >&2
		start_batch "$yaml"
		;;
	esac
	sleep 1
	line=$(run_loadgen --port "$PORT" --rate "$RATE" \
		--seconds "$ARM_SECONDS" --connections "$CONNECTIONS")
	if [ -n "$BATCH_PID" ]; then
		wait "$BATCH_PID"
		BATCH_PID=
		ops=$(awk '/bogo-ops-per-second-real-time:/ { s += $2 } END { printf "%.1f", s }' "$yaml")
	fi
	if [ "$arm" = temper ]; then
		# A second run restores from the journal, as after an agent restart.
		"$PROBE" restore --state-dir "$STATE" >/dev/null 2>>"$WORK/probe.log"
		idle=$(cat "$CPU/$BATCH/cpu.idle")
		[ "$idle" = 0 ] || echo "colocation: warning: batch cpu.idle is $idle after restore" >&2
	fi
	echo "$arm $rep $line ops=$ops" | sed 's/[a-z0-9_]*=//g' | awk '{ print $1, $2, $5, $6, $7, $8, $10, $3, $4, $9 }' \
		>>"$WORK/results"
	echo "  rep $rep $arm: $line batch_ops_per_s=$ops" >&2
}

echo "colocation: $CPUS CPUs, memcached GETs at $RATE/s over $CONNECTIONS connections, $ARM_SECONDS s per arm, $REPS repetitions, cgroups under $CPU/$PREFIX (cpu.shares $BENCH_SHARES), generator $CLIENT_WHERE, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for rep in $(seq "$REPS"); do
	for arm in nobatch cfs temper; do
		run_arm "$arm" "$rep"
	done
done

python3 - "$WORK/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for arm, rep, p50, p99, p999, mx, ops, sent, answered, late in rows:
    by.setdefault(arm, {})[rep] = dict(p50=float(p50), p99=float(p99), p999=float(p999),
                                      max=float(mx), ops=None if ops == '-' else float(ops),
                                      sent=int(sent), answered=int(answered), late=float(late))
reps = sorted(by['nobatch'], key=int)
def med(xs): return statistics.median(xs)
print("arm       p50_us   p99_us  p99.9_us    max_us   batch_ops/s  requests  answered  sender_late_us   (medians of %d repetitions)" % len(reps))
for arm in ('nobatch', 'cfs', 'temper'):
    r = [by[arm][k] for k in reps]
    ops = [x['ops'] for x in r if x['ops'] is not None]
    print("%-8s %8.1f %8.1f %9.1f %9.1f %13s %9d %9d %15.1f" % (arm, med([x['p50'] for x in r]), med([x['p99'] for x in r]),
          med([x['p999'] for x in r]), med([x['max'] for x in r]), "%.1f" % med(ops) if ops else "-",
          med([x['sent'] for x in r]), med([x['answered'] for x in r]), med([x['late'] for x in r])))
def ratio(name, xs):
    print("%-34s median %6.2f  (min %.2f, max %.2f)" % (name, med(xs), min(xs), max(xs)))
ratio("p99(cfs)/p99(nobatch)", [by['cfs'][k]['p99'] / by['nobatch'][k]['p99'] for k in reps])
ratio("p99(temper)/p99(nobatch)", [by['temper'][k]['p99'] / by['nobatch'][k]['p99'] for k in reps])
ratio("p99(temper)/p99(cfs)", [by['temper'][k]['p99'] / by['cfs'][k]['p99'] for k in reps])
ratio("batch ops/s temper/cfs", [by['temper'][k]['ops'] / by['cfs'][k]['ops'] for k in reps])
EOF
