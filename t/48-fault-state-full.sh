#!/bin/bash
# t/48-fault-state-full.sh - --state-dir full: a 64 KiB tmpfs mounted for
# the test holds the agent's state.  Filled up while the agent runs, new
# pods need a new generation that cannot be stored: the agent reports it
# (log, /api/v1/status, the failures metric), keeps running and serving
# the last good generation, and leaves nothing half-written.  Restarted
# while the disk is still full it starts and serves the same generation.
# Once space is freed the next change is stored, numbered on, and the
# agent holds exactly the LIST's pods again.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/fault-lib.sh"

[ "$(id -u)" = 0 ] || skip_all "mounting a tmpfs needs root"
fault_require_cluster
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 >/dev/null || bail "mknode failed"
fault_priority_classes
sh "$TOP_SRCDIR/t/fixtures/mksysfs.sh" "$TMP/sysfs" >/dev/null || bail "mksysfs.sh failed"

S=$TMP/state
mkdir -p "$S" "$TMP/cgroup"
mount -t tmpfs -o size=64k,mode=0700 temper-test-state "$S" || skip_all "cannot mount a tmpfs"
at_exit "umount '$S'"
port=$(free_port)
api="http://127.0.0.1:$port"
fault_agent_conf "$TMP/temper.conf" "$port" "$S" "$TMP/cgroup"
# pods PREFIX CLASS COUNT: pods bound to node-a with their cgroups; the
# cgroups come after the pod events, so the agent is asked to plan again
# (as temperctl reload does) rather than waiting for its periodic rescan.
pods() {
	local i
	for ((i = 0; i < $3; i++)); do
		fault_pod "$1-$i" "$2" 100m
	done
	fault_fake_cgroups "$TMP/cgroup"
	sleep 0.5
	curl -s -X POST "$api/api/v1/reload" >/dev/null
}
generation() { curl -s --max-time 5 "$api/api/v1/status" | jq .plan.generation; }

fault_pod batch-0 temper-background 100m
fault_fake_cgroups "$TMP/cgroup"
start_temperd agent --config="$TMP/temper.conf" --sysfs-root="$TMP/sysfs/8cpu-smt"
WAIT_SECONDS=60 ok "the agent becomes ready with its state on a 64 KiB tmpfs" \
	wait_eq 200 http_status "$api/readyz"
WAIT_SECONDS=30 ok "it plans the pods" wait_for fault_plan_matches "$api"
pods web temper-high 2
WAIT_SECONDS=30 ok "a change makes a new generation" wait_for fault_plan_matches "$api"
good=$(generation)
good_config=$(curl -s "$api/api/v1/config")
diag "last good generation $good; $(df -k "$S" | tail -n1 | awk '{print $3 " KiB used of " $2}')"

# Fill the tmpfs to the last block.
dd if=/dev/zero of="$S/filler" bs=1k 2>/dev/null
ok "the state directory is full" test "$(df -k "$S" | tail -n1 | awk '{print $4}')" -eq 0
pods db temper-critical 1
WAIT_SECONDS=30 ok "a change that needs a new generation is reported in the log" \
	grep -q 'engine: cannot store a new generation: cannot write .*No space left on device; the running one stays' "$TMP/agent.log"
like "$(curl -s "$api/api/v1/status" | jq -r .plan.error)" 'No space left on device' \
	"... and in /api/v1/status"
like "$(curl -s "$api/metrics")" 'temper_plan_failures_total [1-9]' "... and counted"
is "$(http_status "$api/healthz")" 200 "the agent keeps running"
is "$(generation)" "$good" "... on the last good generation"
is "$(curl -s "$api/api/v1/config")" "$good_config" "... whose configuration it keeps serving"
ok "nothing half-written is left" fault_generation_files_whole "$S"
is "$(ls "$S/generations" | tail -n1)" "$(printf '%06d.json' "$good")" "... the newest file on disk is the last good generation"

# A restart while the disk is still full.
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly with its state directory full"
start_temperd agent2 --config="$TMP/temper.conf" --sysfs-root="$TMP/sysfs/8cpu-smt"
WAIT_SECONDS=60 ok "restarted with the disk still full, it becomes ready" wait_eq 200 http_status "$api/readyz"
is "$(generation)" "$good" "... keeping the last good generation"
is "$(curl -s "$api/api/v1/config")" "$good_config" "... and serving it"
ok "... and still leaves nothing half-written" fault_generation_files_whole "$S"

# Space again.
rm -f "$S/filler"
pods more temper-low 1
WAIT_SECONDS=30 ok "once space is freed the next change is stored" wait_for test "$(generation)" -gt "$good"
WAIT_SECONDS=30 ok "the agent's pods equal a fresh LIST: nothing lost" wait_for fault_store_matches "$api"
WAIT_SECONDS=30 ok "... with the plan the LIST implies" wait_for fault_plan_matches "$api"
fault_plan_matches "$api" || fault_show_plan "$api"
is "$(curl -s "$api/api/v1/status" | jq -r '.plan.error // "none"')" none "the error is cleared"
ok "every generation file is whole" fault_generation_files_whole "$S"
numbers=$(curl -s "$api/api/v1/config/generations" | jq -c '[.[].generation]')
consecutive() { jq -e '. == (. | unique) and (.[-1] - .[0] + 1) == length' <<<"$1" >/dev/null; }
ok "generations are numbered on without a gap or reuse ($numbers)" consecutive "$numbers"

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly"
done_testing
