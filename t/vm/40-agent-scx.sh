#!/bin/bash
# t/vm/40-agent-scx.sh - temperd --role=agent --enforcement=scx in the
# sched_ext guest against the real control plane of t/cluster on the host:
# the kernel gate passes, the agent starts the real scx_layered (t/scx's
# cache) with its generated configuration, /sys/kernel/sched_ext/state reads
# enabled and root/ops layered, the pods' tasks are in their tiers' layers
# (scx_layered's stats socket), a pod arriving and leaving takes effect (the
# time is printed, and whether the scheduler restarted for it), safe mode
# and a SIGKILL of the agent each return the guest to the fair class within
# a printed time.  scx_layered's attach takes 40-60 s under TCG (its BPF
# verified in emulation), so the agent's attach_timeout_ms is raised.
#
# MEMBERSHIP (cgroup, the default, or hint) is the planner's membership:
# with cgroup the tier layers match each pod's CgroupPrefix and a pod
# arriving restarts scx_layered (the gap is measured); with hint they match
# HintEquals and the agent's task-hint map moves the pod's tasks with no
# restart (t/vm/41-agent-scx-hint.sh).
. "$(dirname "$0")/../lib.sh"
. "$TOP_SRCDIR/t/vm/lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
vm_require
[ -x "$TEMPERD" ] || skip_all "$TEMPERD is not built"
why=$("$TOP_SRCDIR/t/scx/available" 2>&1) || skip_all "$why"
MEMBERSHIP=${MEMBERSHIP:-cgroup}
case $MEMBERSHIP in
cgroup) match=CgroupPrefix ;;
hint) match=HintEquals ;;
*) bail "MEMBERSHIP must be cgroup or hint, not '$MEMBERSHIP'" ;;
esac
vm_cluster

read -r db_uid db_qos <<<"$(vm_pod db temper-critical 500m)"
read -r batch_uid batch_qos <<<"$(vm_pod batch temper-background)"

cat >"$TMP/guest.sh" <<'GUEST'
. "$TOP_SRCDIR/t/vm/guest-lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"
W=$(dirname "$0")
db=$(pod_cgroup "$DB_UID" "$DB_QOS")
batch=$(pod_cgroup "$BATCH_UID" "$BATCH_QOS")
in_pod "$db" $WAKER >/dev/null
in_pod "$batch" $SPINNER >/dev/null
report state_before "$(scx_state)"

agent_start agent scx 8081 "scheduler_bin = \"$SCX_LAYERED_BIN\"
attach_timeout_ms = 240000
[planner]
membership = \"$MEMBERSHIP\""
wait_until 180000 agent_ready
report ready "$(agent_ready && echo yes)"
wait_until 180000 state_is enabled
report state "$(scx_state)"
report ops "$(scx_ops)"
report enforcement "$(curl -s "$API/api/v1/status" | jq -r '.enforcement | .mode + "/" + .state')"
report config_layers "$(curl -s "$API/api/v1/config" | jq -r '[.[].name] | join(",")')"
report config_match "$(curl -s "$API/api/v1/config" | jq -r '.[0].matches[0][0] | keys[0]')"

counts_match() {
	local s
	s=$(scx_stats) || return 1
	[ "$(echo "$s" | jq -r '.args.resp.layers.critical.tasks // -1')" = "$(threads_in "$db")" ] &&
		[ "$(echo "$s" | jq -r '.args.resp.layers.background.tasks // -1')" = "$(threads_in "$batch")" ]
}
wait_until 120000 counts_match
report critical_tasks "$(layer_tasks critical) of $(threads_in "$db")"
report background_tasks "$(layer_tasks background) of $(threads_in "$batch")"

# A pod arriving: the scheduler's PID before and after says whether it was
# restarted; the longest stretch with sched_ext not enabled is the gap.
scx_pid() { pgrep -x scx_layered | head -n1; }
pid_before=$(scx_pid)
watch_gap() {
	local longest=0 start= t
	while [ ! -f "$W/stop-watch" ]; do
		t=$(now_ms)
		if state_is enabled; then
			[ -n "$start" ] && [ $((t - start)) -gt "$longest" ] && longest=$((t - start))
			start=
		else
			[ -n "$start" ] || start=$t
		fi
		sleep 0.01
	done
	echo "$longest" >"$W/gap"
}
watch_gap &
watcher=$!
k apply -f - >/dev/null <<POD
apiVersion: v1
kind: Pod
metadata: {name: late, namespace: default}
spec:
  nodeName: node-a
  priorityClassName: temper-background
  containers: [{name: c, image: registry.invalid/app:1}]
POD
late_uid=$(k get pod late -o jsonpath='{.metadata.uid}')
late=$(pod_cgroup "$late_uid" besteffort)
start=$(now_ms)
late_pid=$(in_pod "$late" $WAKER)
k patch pod late --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
late_in_background() {
	[ "$(layer_tasks background)" = "$(($(threads_in "$batch") + $(threads_in "$late")))" ]
}
wait_until 120000 late_in_background
report arrival_ms $(($(now_ms) - start))
report background_with_late "$(layer_tasks background) of $(($(threads_in "$batch") + $(threads_in "$late")))"
touch "$W/stop-watch"
wait "$watcher"
report arrival_gap_ms "$(cat "$W/gap")"
report restarted_for_arrival "$([ "$(scx_pid)" = "$pid_before" ] && echo no || echo yes)"

# ... and leaving.
start=$(now_ms)
k delete pod late --wait=false >/dev/null
kill -KILL "$late_pid"
sleep 0.2
rmdir "$CG/$late/$POD_CONTAINER" "$CG/$late"
background_back() {
	[ "$(layer_tasks background)" = "$(threads_in "$batch")" ]
}
wait_until 120000 background_back
report leaving_ms $(($(now_ms) - start))
report background_after_leaving "$(layer_tasks background) of $(threads_in "$batch")"
report state_after_leaving "$(scx_state)"

start=$(now_ms)
k annotate node node-a temper.io/safe-mode-requested=true >/dev/null
wait_until 120000 state_is disabled
report safe_mode_ms $(($(now_ms) - start))
report state_safe "$(scx_state)"
k annotate node node-a temper.io/safe-mode-requested- >/dev/null
wait_until 180000 state_is enabled
report state_resumed "$(scx_state)"

start=$(now_ms)
kill -KILL "$AGENT_PID"
wait_until 120000 state_is disabled
report sigkill_ms $(($(now_ms) - start))
report state_killed "$(scx_state)"
report scx_left "$(pgrep -x scx_layered | wc -l)"
GUEST
vm_guest scx $(vm_cluster_options) --timeout 1200 \
	--env "MEMBERSHIP=$MEMBERSHIP" --env "DB_UID=$db_uid" --env "DB_QOS=$db_qos" --env "BATCH_UID=$batch_uid" --env "BATCH_QOS=$batch_qos" \
	-- "$TMP/guest.sh"
is "$VM_STATUS" 0 "the guest ran the scenario"
is "$(vm_value scx state_before)" disabled "sched_ext is disabled before the agent"
is "$(vm_value scx ready)" yes "the agent becomes ready against the host's apiserver"
is "$(vm_value scx state)" enabled "the gate passes and the agent's scx_layered attaches: state enabled"
like "$(vm_value scx ops)" '^layered(_|$)' "... root/ops names layered"
is "$(vm_value scx enforcement)" scx/enforcing "status says scx_layered enforces (mode scx, state enforcing)"
like "$(vm_value scx config_layers)" '^critical,background,.*open$' "the served configuration has the critical, background and system layers"
is "$(vm_value scx config_match)" "$match" "membership $MEMBERSHIP: the tier layers match by $match"
like "$(vm_value scx critical_tasks)" '^([1-9][0-9]*) of \1$' "the critical pod's tasks are in the critical layer (stats socket)"
like "$(vm_value scx background_tasks)" '^([1-9][0-9]*) of \1$' "the background pod's tasks are in the background layer"
like "$(vm_value scx background_with_late)" '^([1-9][0-9]*) of \1$' "a pod arriving joins the background layer"
if [ "$MEMBERSHIP" = cgroup ]; then
	is "$(vm_value scx restarted_for_arrival)" yes "... by a restart of scx_layered (a new CgroupPrefix match)"
else
	is "$(vm_value scx restarted_for_arrival)" no "... through the hint map, with no restart"
	is "$(vm_value scx arrival_gap_ms)" 0 "... and no gap: sched_ext stays enabled throughout"
fi
diag "arrival: $(vm_value scx arrival_ms) ms to its layer; scheduler restarted: $(vm_value scx restarted_for_arrival); longest gap with sched_ext not enabled: $(vm_value scx arrival_gap_ms) ms (TCG)"
like "$(vm_value scx background_after_leaving)" '^([1-9][0-9]*) of \1$' "a pod leaving leaves the layer"
is "$(vm_value scx state_after_leaving)" enabled "... with the scheduler still attached"
diag "leaving: $(vm_value scx leaving_ms) ms"
is "$(vm_value scx state_safe)" disabled "safe mode returns the guest to the fair class"
diag "safe mode: $(vm_value scx safe_mode_ms) ms from the annotation to state disabled (TCG)"
is "$(vm_value scx state_resumed)" enabled "leaving safe mode attaches again"
is "$(vm_value scx state_killed)" disabled "a SIGKILL of the agent returns the guest to the fair class"
is "$(vm_value scx scx_left)" 0 "... leaving no scx_layered behind"
diag "SIGKILL of the agent to state disabled: $(vm_value scx sigkill_ms) ms (TCG)"
if [ "$(vm_value scx state)" != enabled ]; then
	diag "the agent's log:"
	diag "$(tail -n 30 "$TMP/agent.log" 2>/dev/null)"
fi
done_testing
