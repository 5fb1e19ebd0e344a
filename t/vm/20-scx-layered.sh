#!/bin/bash
# t/vm/20-scx-layered.sh - the real scx_layered (t/scx's cache) attaches in
# the sched_ext guest with a configuration the real planner generated
# (`temperctl simulate` on the guest's own topology, for a kubelet-shaped
# tree of two pods holding real processes): /sys/kernel/sched_ext/state goes
# disabled -> enabled, root/ops names layered, the per-layer task counts of
# scx_layered's stats socket match the pods' cgroups, a process started in a
# pod later lands in its layer, and a SIGKILL of the scheduler returns the
# guest to the fair class (state disabled).  The attach time and the
# SIGKILL-to-disabled time are printed (TCG: slow, only the bound matters).
#
# This drives scx_layered directly: temperd's supervisor is not involved
# (t/vm/40-agent-scx.sh drives it through the agent).
. "$(dirname "$0")/../lib.sh"
. "$TOP_SRCDIR/t/vm/lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
vm_require
why=$("$TOP_SRCDIR/t/scx/available" 2>&1) || skip_all "$why"
[ -x "$TEMPERCTL" ] || skip_all "$TEMPERCTL is not built"

cat >"$TMP/pods.json" <<'EOF_PODS'
{"apiVersion":"v1","kind":"List","items":[
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"memcached","namespace":"prod","uid":"00000014-0000-4000-8000-000000000001"},
 "spec":{"nodeName":"node-a","priority":1000000,"priorityClassName":"temper-critical","containers":[{"name":"c","image":"registry.invalid/memcached:1","resources":{"requests":{"cpu":"500m"},"limits":{"cpu":"500m"}}}]},
 "status":{"phase":"Running","qosClass":"Guaranteed"}},
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"batch","namespace":"batch","uid":"00000014-0000-4000-8000-000000000002"},
 "spec":{"nodeName":"node-a","priority":-1000,"priorityClassName":"temper-background","containers":[{"name":"c","image":"registry.invalid/batch:1"}]},
 "status":{"phase":"Running","qosClass":"BestEffort"}}]}
EOF_PODS

cat >"$TMP/guest.sh" <<'GUEST'
. "$TOP_SRCDIR/t/vm/guest-lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
W=$(dirname "$0")
crit=$(pod_cgroup 00000014-0000-4000-8000-000000000001 guaranteed)
batch=$(pod_cgroup 00000014-0000-4000-8000-000000000002 besteffort)
in_pod "$crit" $WAKER >/dev/null
in_pod "$crit" $WAKER >/dev/null
in_pod "$batch" $SPINNER >/dev/null
in_pod "$batch" $SPINNER >/dev/null
sleep 1

"$TEMPERCTL" simulate --pods "$W/pods.json" --topology /sys -o "$W/config.json" >"$W/simulate.out" 2>&1
report simulate $?
report layers "$(jq -r '[.[].name] | join(",")' "$W/config.json")"
report state_before "$(scx_state)"

start=$(now_ms)
"$SCX_LAYERED_BIN" "f:$W/config.json" >"$W/scx.log" 2>&1 &
scx=$!
wait_until 180000 state_is enabled
report attach_ms $(($(now_ms) - start))
report state "$(scx_state)"
report ops "$(scx_ops)"
report switch_all "$(cat /sys/kernel/sched_ext/switch_all 2>/dev/null)"

# The stats socket answers once the scheduler's loop runs; counts refresh
# every few seconds.
counts_match() {
	local s
	s=$(scx_stats) || return 1
	[ "$(echo "$s" | jq -r '.args.resp.layers.critical.tasks // -1')" = "$(threads_in "$crit")" ] &&
		[ "$(echo "$s" | jq -r '.args.resp.layers.background.tasks // -1')" = "$(threads_in "$batch")" ]
}
wait_until 120000 counts_match
report critical_tasks "$(layer_tasks critical) of $(threads_in "$crit")"
report background_tasks "$(layer_tasks background) of $(threads_in "$batch")"

# A container process started after the scheduler: it lands in its layer.
in_pod "$crit" $WAKER >/dev/null
wait_until 120000 counts_match
report critical_tasks_after "$(layer_tasks critical) of $(threads_in "$crit")"
report stats_layers "$(scx_stats | jq -r '.args.resp.layers | keys | join(",")')"

start=$(now_ms)
kill -KILL "$scx"
wait_until 60000 state_is disabled
report sigkill_to_disabled_ms $(($(now_ms) - start))
report state_after "$(scx_state)"
report alive_after "$(kill -0 $(head -n1 "$CG/$batch/$POD_CONTAINER/cgroup.procs") 2>/dev/null && echo yes)"
GUEST
vm_guest scx --timeout 900 -- "$TMP/guest.sh"
is "$VM_STATUS" 0 "the guest ran the scenario"
is "$(vm_value scx simulate)" 0 "temperctl simulate planned the guest's pods on its topology"
[ -f "$TMP/simulate.out" ] && diag "$(sed -n '/^LAYER/,/^$/p' "$TMP/simulate.out")"
like "$(vm_value scx layers)" '^critical,background,.*open$' "... into critical, background and the system layers"
is "$(vm_value scx state_before)" disabled "sched_ext is disabled before scx_layered"
is "$(vm_value scx state)" enabled "scx_layered attaches: /sys/kernel/sched_ext/state reads enabled"
like "$(vm_value scx ops)" '^layered(_|$)' "... and root/ops names layered"
diag "root/ops: $(vm_value scx ops)"
diag "attach: $(vm_value scx attach_ms) ms from spawn to enabled; switch_all=$(vm_value scx switch_all)"
like "$(vm_value scx critical_tasks)" '^([1-9][0-9]*) of \1$' "the critical pod's tasks are in the critical layer (stats socket)"
like "$(vm_value scx background_tasks)" '^([1-9][0-9]*) of \1$' "the background pod's tasks are in the background layer"
like "$(vm_value scx critical_tasks_after)" '^([1-9][0-9]*) of \1$' "a process started in the pod later joins its layer"
like "$(vm_value scx stats_layers)" 'background.*critical' "the stats name the generated layers"
is "$(vm_value scx state_after)" disabled "a SIGKILL of scx_layered returns the guest to the fair class"
diag "SIGKILL to disabled: $(vm_value scx sigkill_to_disabled_ms) ms"
is "$(vm_value scx alive_after)" yes "... with the batch pod's processes still running"
if [ "$(vm_value scx state)" != enabled ]; then
	diag "scx_layered's log:"
	diag "$(tail -n 30 "$TMP/scx.log" 2>/dev/null)"
fi
done_testing
