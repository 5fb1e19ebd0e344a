#!/bin/bash
# t/perf/observe.sh - what always-on observation costs: the agent's CPU and
# the BPF programs' run time at several context-switch rates, beside the
# same load with observation off.
#
#   t/perf/observe.sh [REPETITIONS]    (root; run from a build tree, or set TOP_BUILDDIR)
#
# Loads (pipe ping-pong, t/perf/observe-pingpong.c, in a watched pod's
# cgroup so the sampled ring-buffer path runs too): none ("idle": whatever
# the shared machine runs anyway), and about 10k, 100k and 300k context
# switches per second.  Arms, interleaved in each repetition (MEASURING.md):
# off (nothing loaded), on (t/observe-probe serving with the BPF program
# attached, BPF run-time statistics enabled, the default 2 s tick) and bare
# (the same without BPF statistics, which cost two clock reads per program
# run themselves: the load's own CPU time shows what observation costs it).
#
# Per arm: the machine's context switches per second (/proc/stat), the
# ping-pong's CPU time per 1,000 round trips (the in-kernel cost lands on
# the tasks that switch), the agent's CPU time as a share of one core
# (/proc/PID/schedstat), and, for "on", BPF ns per program run and BPF CPU as a
# share of one core (bpf_prog_info run_time_ns / run_cnt, the same figures
# /observe reports, read with bpftool around the load for the probe's own
# programs).  Other agents on a shared machine may have the same programs
# attached: then "off" is not free of BPF, and the ratios understate.
# Prints medians with min-max; never fails on timing.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
PROBE=${PROBE:-$TOP_BUILDDIR/t/observe-probe}
PINGPONG=${PINGPONG:-$TOP_BUILDDIR/t/perf/observe-pingpong}
REPS=${1:-5}
DURATION=${DURATION:-4}
CGROUP2=${CGROUP2:-/sys/fs/cgroup/unified}
[ -d "$CGROUP2" ] && [ -f "$CGROUP2/cgroup.procs" ] || CGROUP2=/sys/fs/cgroup

[ "$(id -u)" -eq 0 ] || { echo "observe.sh: needs root (BPF, cgroups)"; exit 0; }
for tool in "$PROBE" "$PINGPONG"; do
	[ -x "$tool" ] || { echo "observe.sh: no $tool (make check builds it)"; exit 1; }
done
if nm "$PROBE" 2>/dev/null | grep -q __asan_init; then
	echo "observe.sh: warning: $PROBE is built with sanitizers; figures will be slow" >&2
fi

TMP=$(mktemp -d /tmp/temper-perf-observe.XXXXXX)
CG="temper-perf-observe-$$"
mkdir "$CGROUP2/$CG" "$CGROUP2/$CG/load"
probe_pid=
cleanup() {
	[ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null
	echo 1 >"$CGROUP2/$CG/load/cgroup.kill" 2>/dev/null || true
	for _ in $(seq 50); do [ -z "$(cat "$CGROUP2/$CG/load/cgroup.procs")" ] && break; sleep 0.1; done
	rmdir "$CGROUP2/$CG/load" "$CGROUP2/$CG" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ctxt() { awk '/^ctxt/ {print $2}' /proc/stat; }
now() { date +%s.%N; }
# The ids of the placement programs loaded now (other agents on this
# machine may run their own copies: only the probe's are counted).
placement_ids() {
	bpftool -j prog show | python3 -c 'import json, sys
print(" ".join(str(p["id"]) for p in json.load(sys.stdin)
               if p.get("name", "").startswith("placement_")))'
}
# BPF run time (ns) and runs of the programs with the ids given, and the time.
bpf_stats() {
	bpftool -j prog show | python3 -c 'import json, sys
ids = set(int(i) for i in sys.argv[1:])
ns = runs = 0
for p in json.load(sys.stdin):
    if p["id"] in ids:
        ns += p.get("run_time_ns", 0)
        runs += p.get("run_cnt", 0)
print(ns, runs)' "$@"
	now
}
# CPU time of a process in seconds, to the nanosecond (/proc/PID/schedstat;
# /proc/PID/stat counts in clock ticks, too coarse for a mostly idle agent).
cpu_of() { awk '{print $1 / 1e9}' "/proc/$1/schedstat"; }

# load NAME: run the named load for DURATION seconds in the watched cgroup;
# prints round trips and the load's CPU seconds.
load() {
	local pairs rate i out
	case $1 in
	idle) sleep "$DURATION"; echo "0 0"; return ;;
	10k) pairs=1 rate=4000 ;;
	100k) pairs=1 rate=45000 ;;
	300k) pairs=3 rate=50000 ;;
	esac
	for ((i = 0; i < pairs; i++)); do
		sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "$3" "$4"' sh \
			"$CGROUP2/$CG/load" "$PINGPONG" "$rate" "$DURATION" >"$TMP/pp.$i" &
	done
	wait
	cat "$TMP"/pp.* | awk -F'[ =]' '{trips += $2; cpu += $10} END {print trips, cpu}'
	rm -f "$TMP"/pp.*
}

# run ARM LOAD: one measurement, one line of results into $TMP/results.
run() {
	local arm=$1 name=$2 port others mine s0 s1 t0 t1 a0 a1 result
	if [ "$arm" != off ]; then
		port=$(port)
		others=$(placement_ids)
		"$PROBE" serve --listen="127.0.0.1:$port" --cgroup-root="$CGROUP2" \
			--interval-ms=2000 $([ "$arm" = on ] && echo --bpf-stats) \
			--pod="load:normal:$CG/load" \
			>/dev/null 2>"$TMP/probe.log" &
		probe_pid=$!
		for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
		sleep 1
		mine=$(comm -13 <(tr ' ' '\n' <<<"$others" | sort) <(placement_ids | tr ' ' '\n' | sort) | tr '\n' ' ')
		bpf_stats $mine >"$TMP/before"
		a0=$(cpu_of "$probe_pid")
	fi
	s0=$(ctxt); t0=$(now)
	result=$(load "$name")
	s1=$(ctxt); t1=$(now)
	if [ "$arm" != off ]; then
		a1=$(cpu_of "$probe_pid")
		bpf_stats $mine >"$TMP/after"
		kill -TERM "$probe_pid"; wait "$probe_pid" || true; probe_pid=
		python3 - "$TMP/before" "$TMP/after" "$a0" "$a1" "$t0" "$t1" <<'PY' >"$TMP/bpf"
import sys
lines0 = open(sys.argv[1]).read().split()
lines1 = open(sys.argv[2]).read().split()
ns0, runs0, w0 = int(lines0[0]), int(lines0[1]), float(lines0[2])
ns1, runs1, w1 = int(lines1[0]), int(lines1[1]), float(lines1[2])
runs, ns = runs1 - runs0, ns1 - ns0
agent = (float(sys.argv[4]) - float(sys.argv[3])) / (float(sys.argv[6]) - float(sys.argv[5]))
print(ns / runs if runs else 0, ns / 1e9 / (w1 - w0), agent)
PY
	else
		echo "0 0 0" >"$TMP/bpf"
	fi
	echo "$name $arm $(echo "$s1 - $s0" | bc) $(echo "$t1 - $t0" | bc) $result $(cat "$TMP/bpf")" >>"$TMP/results"
}

echo "observe.sh: $REPS repetitions x {idle,10k,100k,300k} x {off,on,bare}, ${DURATION} s each, $(nproc) CPUs"
for ((rep = 1; rep <= REPS; rep++)); do
	for name in idle 10k 100k 300k; do
		for arm in off on bare; do
			run "$arm" "$name"
		done
	done
	echo "  repetition $rep done"
done
cp "$TMP/results" "${RESULTS:-/tmp/temper-perf-observe.results}"

python3 - "$TMP/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
# name arm switches seconds trips load_cpu bpf_ns_per_run bpf_share agent_share
data = {}
for name, arm, sw, sec, trips, cpu, ns, bshare, ashare in rows:
    data.setdefault((name, arm), []).append(dict(rate=float(sw) / float(sec),
        trips=float(trips), cpu=float(cpu), ns=float(ns), bpf=float(bshare),
        agent=float(ashare)))
def med(values, fmt):
    return "%s (%s-%s)" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))
print()
print("%-5s %-22s %-22s %-24s %-24s %-22s %-22s" % ("load", "switches/s off", "switches/s on",
    "load CPU ms/1k trips off", "load CPU ms/1k trips on", "agent % of a core",
    "BPF ns/run | % core"))
for name in ("idle", "10k", "100k", "300k"):
    off, on = data[(name, "off")], data[(name, "on")]
    def per_trip(rows):
        return [r["cpu"] * 1e6 / r["trips"] for r in rows if r["trips"]]
    trips_off, trips_on = per_trip(off), per_trip(on)
    print("%-5s %-22s %-22s %-24s %-24s %-22s %s | %s" % (name,
        med([r["rate"] for r in off], "%.0f"), med([r["rate"] for r in on], "%.0f"),
        med(trips_off, "%.1f") if trips_off else "-", med(trips_on, "%.1f") if trips_on else "-",
        med([r["agent"] * 100 for r in on], "%.3f"),
        med([r["ns"] for r in on], "%.0f"), med([r["bpf"] * 100 for r in on], "%.2f")))
print()
for name in ("10k", "100k", "300k"):
    off = data[(name, "off")]
    for arm in ("on", "bare"):
        rs = [b["cpu"] / b["trips"] / (a["cpu"] / a["trips"])
              for a, b in zip(off, data[(name, arm)]) if a["trips"] and b["trips"] and a["cpu"]]
        if rs:
            print("load %-5s ping-pong CPU per round trip, %s/off: %s" % (name, arm, med(rs, "%.3f")))
print("agent % of a core without BPF statistics (bare): " + ", ".join("%s %s" % (name,
    med([r["agent"] * 100 for r in data[(name, "bare")]], "%.3f")) for name in ("idle", "10k", "100k", "300k")))
idle = data[("idle", "on")]
print()
print("targets: agent <= 0.13%% of a core idle: median %.3f%%; agent + BPF < 1%% at 100k switches/s: median %.3f%%"
      % (statistics.median(r["agent"] * 100 for r in idle),
         statistics.median((r["agent"] + r["bpf"]) * 100 for r in data[("100k", "on")])))
print("(BPF statistics add two clock reads per program run; \"idle\" is this shared machine's own load)")
PY
