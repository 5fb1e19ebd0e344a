#!/bin/bash
# t/60-observe.sh - /observe over real processes in real cgroups: busy loops
# in one pod's cgroup, a sleeper in another's, figures read back through
# the BPF program and compared between the two in the same run.
#
# The cgroup id the observer is given is the cgroup2 directory's inode
# number; the BPF side reads the task's cgroup (kernfs) id.  Threads landing
# under their pod below proves the two agree on this hybrid machine.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe-lib.sh"

observe_require
contended=$(observe_cgroup contended)
quiet=$(observe_cgroup quiet)
# Twice as many busy loops as CPUs: they must queue for each other.
observe_spin $(($(nproc) * 2)) t60-spin "$contended"
observe_nap t60-nap 2000 "$quiet"

observe_start_probe --interval-ms=1000 --bpf-stats \
	--pod="contended:low:$contended" --pod="quiet:critical:$quiet"
ok "the probe serves" [ -n "$PROBE_URL" ]

json=$TMP/observe.json
ready() {
	observe_get "$json" && [ "$(jpy "$json" 'd["window"]["ticks"]')" -ge 4 ]
}
WAIT_SECONDS=30 wait_for ready
ok "/observe answers after four windows" ready

is "$(jpy "$json" 'd["bpf"]["state"]')" "running" "the BPF program runs"
is "$(jpy "$json" 'd["machine"]["online_cpus"]')" "$(nproc)" "machine shape: online CPUs"
like "$(jpy "$json" 'd["machine"]["shape"]')" "CPUs .* cores" "machine shape described"

pod() { jpy "$json" "[p for p in d['pods'] if p['name'] == '$1'][0]$2"; }
is "$(pod contended '["cgroup_id"]')" "$(stat -c %i "$OBSERVE_CGROUP2/$contended")" \
	"the pod's cgroup id is its cgroup2 directory's inode"
is "$(pod contended '["tier"]')" "low" "contended pod: tier low"
is "$(pod quiet '["tier"]')" "critical" "quiet pod: tier critical"

# CPU time: the busy loops ran (whatever else the shared machine runs),
# the sleeper barely did.
contended_cpu=$(pod contended '["total"]["cpu_seconds"]')
quiet_cpu=$(pod quiet '["total"]["cpu_seconds"]')
diag "contended ran ${contended_cpu} s on CPU, quiet ${quiet_cpu} s"
ok "busy loops accumulate CPU time (> 0.5 s)" \
	python3 -c "import sys; sys.exit(not $contended_cpu > 0.5)"
ok "the sleeper uses far less CPU than the busy loops" \
	python3 -c "import sys; sys.exit(not $quiet_cpu * 20 < $contended_cpu)"
ok "the sleeper's wakeups are counted (> 100 waits)" \
	python3 -c "import sys; sys.exit(not $(pod quiet '["total"]["runqueue_latency"]["count"]') > 100)"
is "$(pod contended '["window"]["spread"]["cpus"]')" "$(nproc)" \
	"the busy loops spread over every CPU"

# Runqueue latency: contended busy loops wait for each other.
contended_p99=$(pod contended '["total"]["runqueue_latency"]["p99_us"]')
quiet_p99=$(pod quiet '["total"]["runqueue_latency"]["p99_us"]')
diag "runqueue latency p99: contended ${contended_p99} us, quiet ${quiet_p99} us"
ok "the contended pod's p99 is above the quiet one's" \
	python3 -c "import sys; sys.exit(not $contended_p99 > $quiet_p99)"
ok "max >= p99 >= p50 for the contended pod" python3 -c "import sys
lat = $(pod contended '["total"]["runqueue_latency"]')
sys.exit(not lat['max_us'] >= lat['p99_us'] >= lat['p50_us'] > 0)"

# Per tier.
tier() { jpy "$json" "[t for t in d['tiers'] if t['tier'] == '$1'][0]$2"; }
is "$(tier low '["pods"]')" "1" "tier low holds one pod"
is "$(tier critical '["top_threads"][0]["comm"]')" "t60-nap" \
	"the critical tier's top thread is the sleeper"
is "$(tier low '["top_threads"][0]["comm"]')" "t60-spin" \
	"the low tier's top thread is a busy loop"
like "$(tier low '["top_threads"][0]["cpus"]')" '^[0-9]' "with the CPUs it ran on"
is "$(jpy "$json" 'd["top_threads"][0]["comm"]')" "t60-spin" \
	"the busiest watched thread is a busy loop"
ok "per CPU: the low tier ran on CPU 0" \
	python3 -c "import sys; sys.exit(not $(jpy "$json" 'd["cpus"][0]["tiers"].get("low", 0)') > 0)"
ok "per CPU: utilisation between 0 and 1" python3 -c "import sys
sys.exit(not all(0 < c['busy'] <= 1.05 for c in $(jpy "$json" 'd["cpus"]')))"

# Samples from the ring buffer.
like "$(jpy "$json" '" ".join(sorted(set(s["comm"] for s in d["samples"])))')" \
	"t60-spin" "sampled runs from the ring buffer name the busy loops"
ok "samples carry CPUs in range" python3 -c "import sys
sys.exit(not all(0 <= s['cpu'] < $(nproc) and -1 <= s['prev_cpu'] < $(nproc) for s in $(jpy "$json" 'd["samples"]')))"

# PSI, linter, overhead.
like "$(jpy "$json" 'd["psi"]["node"]["mode"]')" '^(trigger|periodic)$' \
	"node PSI reports its mode"
ok "node PSI figures are read" python3 -c "import sys
sys.exit(not 'avg10' in $(jpy "$json" 'd["psi"]["node"]["some"]'))"
is "$(pod contended '["psi"]["mode"]')" "trigger" \
	"a pod's cpu.pressure takes a trigger (windows of 2 s)"
like "$(jpy "$json" 'd["linter"]["note"]')" "sched_ext is not active" \
	"the linter says it checks the plan Temper would enforce"
ok "the linter ran every window" \
	python3 -c "import sys; sys.exit(not $(jpy "$json" 'd["linter"]["runs"]') >= 4)"
ok "own CPU time is measured" \
	python3 -c "import sys; sys.exit(not $(jpy "$json" 'd["overhead"]["agent_cpu_seconds"]') > 0)"
is "$(jpy "$json" 'd["overhead"]["bpf"]["stats"]')" "enabled" "BPF statistics are on (--bpf-stats)"
ok "BPF run time and count are read from bpf_prog_info" python3 -c "import sys
b = $(jpy "$json" 'd["overhead"]["bpf"]')
sys.exit(not (b['run_count'] > 0 and b['run_time_seconds'] > 0 and b['ns_per_event'] > 0))"
diag "overhead: $(jpy "$json" 'd["overhead"]')"

# Metrics.
curl -sf "$PROBE_URL/metrics" >"$TMP/metrics.txt"
like "$(grep -c '^temper_runqueue_latency_seconds_bucket{tier="low"' "$TMP/metrics.txt")" '^[1-9]' \
	"temper_runqueue_latency_seconds has buckets for tier low"
# The metric is fed window by window: read after it, /observe's total is
# from the same tick or a later one.
observe_get "$TMP/after.json"
ok "its count matches the tier's waits" python3 - "$TMP/metrics.txt" "$(jpy "$TMP/after.json" \
	'[t for t in d["tiers"] if t["tier"] == "low"][0]["total"]["runqueue_latency"]["count"]')" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'^temper_runqueue_latency_seconds_count\{tier="low"\} (\d+)', text, re.M)
print("# metric %s, /observe %s" % (m and m.group(1), sys.argv[2]))
sys.exit(not (m and 0 < int(m.group(1)) <= int(sys.argv[2])))
PY
for name in temper_psi_cpu_some_avg10_ratio temper_linter_violations_total \
	temper_tier_cpu_seconds_total temper_cpu_busy_ratio temper_pod_cpu_seconds_total \
	temper_observe_cpu_seconds_total temper_observe_bpf_run_seconds_total; do
	like "$(grep -c "^$name" "$TMP/metrics.txt")" '^[1-9]' "metric $name is exported"
done
promtool=$(ls "$HOME"/.cache/temper/*/bin/promtool 2>/dev/null | head -n 1)
if [ -n "$promtool" ]; then
	ok "promtool check metrics passes" sh -c "'$promtool' check metrics <'$TMP/metrics.txt'"
else
	skip "promtool is not built yet (t/cluster/build puts it in \$HOME/.cache/temper)"
fi

ok "the probe stops cleanly (every handle closed, uv_loop_close 0)" observe_stop_probe
done_testing
