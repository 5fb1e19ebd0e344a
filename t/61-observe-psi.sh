#!/bin/bash
# t/61-observe-psi.sh - a CPU pressure trigger fired by real pressure: busy
# loops in a pod's cgroup whose cpu.pressure carries the observer's trigger,
# beside a calm pod; and the fallback to periodic reads where the kernel
# refuses a trigger.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe-lib.sh"

observe_require
pressured=$(observe_cgroup pressured)
calm=$(observe_cgroup calm)
observe_spin $(($(nproc) * 2)) t61-spin "$pressured"
observe_nap t61-nap 500000 "$calm"

# 100 ms of stall within 2 s (windows must be multiples of 2 s here).
observe_start_probe --interval-ms=1000 --no-bpf \
	--psi-stall-us=100000 --psi-window-us=2000000 \
	--pod="pressured:low:$pressured" --pod="calm:critical:$calm"

json=$TMP/observe.json
pod() { jpy "$json" "[p for p in d['pods'] if p['name'] == '$1'][0]$2"; }
fired() { observe_get "$json" && [ "$(pod pressured '["psi"]["triggers_fired"]')" -ge 1 ]; }
WAIT_SECONDS=30 wait_for fired
ok "the pressured pod's trigger fired" fired
is "$(pod pressured '["psi"]["mode"]')" "trigger" "its mode is trigger"
is "$(pod calm '["psi"]["mode"]')" "trigger" "the calm pod is armed too"
pressured_total=$(pod pressured '["psi"]["some"]["total_us"]')
calm_total=$(pod calm '["psi"]["some"]["total_us"]')
diag "stall so far: pressured ${pressured_total} us, calm ${calm_total} us; calm fired $(pod calm '["psi"]["triggers_fired"]') times"
ok "the pressured pod stalled longer than the calm one" \
	python3 -c "import sys; sys.exit(not $pressured_total > $calm_total)"
ok "its avg10 shows the pressure" \
	python3 -c "import sys; sys.exit(not $(pod pressured '["psi"]["some"]["avg10"]') > 0)"
like "$(cat "$TMP/probe.log")" 'CPU pressure trigger fired for pod t/pressured' \
	"the firing is logged"
curl -sf "$PROBE_URL/metrics" >"$TMP/metrics.txt"
like "$(grep '^temper_psi_triggers_total{scope="pod",cgroup="t/pressured"}' "$TMP/metrics.txt")" \
	' [1-9][0-9]*$' "temper_psi_triggers_total counts it"
like "$(grep '^temper_psi_cpu_some_avg10_ratio{scope="pod",cgroup="t/pressured"}' "$TMP/metrics.txt")" \
	' 0?\.[0-9]+|1$' "temper_psi_cpu_some_avg10_ratio is a ratio"

# The node: a trigger where the kernel takes one, periodic reads otherwise.
mode=$(jpy "$json" 'd["psi"]["node"]["mode"]')
if python3 -c 'import os, sys
fd = os.open("/proc/pressure/cpu", os.O_RDWR | os.O_NONBLOCK)
try:
    os.write(fd, b"some 500000 2000000\0")
except OSError:
    sys.exit(1)'; then
	is "$mode" "trigger" "the node takes a trigger on this kernel, and says so"
else
	is "$mode" "periodic" "the node refuses triggers here: periodic reads, and says so"
	like "$(jpy "$json" 'd["psi"]["node"]["why_periodic"]')" "refused" "with the kernel's reason"
fi
ok "the probe stops cleanly" observe_stop_probe

# A window the kernel refuses for cgroups (not a multiple of 2 s without
# CAP_SYS_RESOURCE): the observer falls back and says why.
observe_start_probe --interval-ms=1000 --no-bpf \
	--psi-stall-us=100000 --psi-window-us=1000000 --pod="calm:critical:$calm"
first_tick() { observe_get "$json" && [ "$(jpy "$json" 'd["window"]["ticks"]')" -ge 1 ]; }
WAIT_SECONDS=10 wait_for first_tick
mode=$(pod calm '["psi"]["mode"]')
if python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
try:
    os.write(fd, b"some 100000 1000000\0")
except OSError:
    sys.exit(1)' "$OBSERVE_CGROUP2/$calm/cpu.pressure"; then
	is "$mode" "trigger" "a 1 s window is allowed here (CAP_SYS_RESOURCE), and used"
else
	is "$mode" "periodic" "a 1 s window is refused: periodic reads"
	like "$(pod calm '["psi"]["why_periodic"]')" 'trigger "some 100000 1000000" refused' \
		"with the trigger and the kernel's reason"
fi
ok "figures are still read periodically" \
	python3 -c "import sys; sys.exit(not 'avg10' in $(pod calm '["psi"]["some"]'))"
ok "the probe stops cleanly" observe_stop_probe
done_testing
