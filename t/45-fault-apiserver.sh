#!/bin/bash
# t/45-fault-apiserver.sh - the agent through control-plane faults under pod
# churn.  (1) kube-apiserver SIGKILLed and restarted while pods are created
# and deleted at 10 events/s: the agent ends with /api/v1/pods equal to a
# fresh LIST, the plan's tiers and layers right and the node annotation
# following.  (2) A forced 410: the agent is frozen (SIGSTOP), pods change,
# etcd is compacted and kube-apiserver restarted with a cold watch cache;
# thawed, the agent's resumed watch meets 410 Expired, it relists, and
# again holds exactly the LIST's pods - the vanished ones gone, none lost.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/fault-lib.sh"

fault_require_cluster
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 --pods 1000 >/dev/null || bail "mknode failed"
fault_priority_classes
sh "$TOP_SRCDIR/t/fixtures/mksysfs.sh" "$TMP/sysfs" >/dev/null || bail "mksysfs.sh failed"
kube_pods node-a base 30

port=$(free_port)
api="http://127.0.0.1:$port"
mkdir -p "$TMP/cgroup"
fault_fake_cgroups "$TMP/cgroup"
fault_agent_conf "$TMP/temper.conf" "$port" "$TMP/state" "$TMP/cgroup"
start_temperd agent --config="$TMP/temper.conf" --sysfs-root="$TMP/sysfs/8cpu-smt"
WAIT_SECONDS=60 ok "the agent becomes ready" wait_eq 200 http_status "$api/readyz"
WAIT_SECONDS=30 ok "it holds the 30 listed pods" wait_for fault_store_matches "$api"

# --- (1) kube-apiserver killed under churn ----------------------------------
python3 "$TOP_SRCDIR/t/fault-churn.py" "$CD/env" "$TMP/stop-churn" "$TMP/churn-index" 10 churn \
	"$TMP/cgroup" >"$TMP/churn.log" 2>&1 &
churn=$!
at_exit "touch '$TMP/stop-churn'; kill $churn"
sleep 5
ok "kube-apiserver SIGKILLed and restarted mid-churn" \
	"$CLUSTER_TOOLS/ctl" "$CD" restart-apiserver --kill 2>"$TMP/ctl.log"
at_restart=$(cat "$TMP/churn-index")
sleep 8
touch "$TMP/stop-churn"
wait "$churn"
diag "churn: $(cat "$TMP/churn.log"), event index at the restart $at_restart, at the end $(cat "$TMP/churn-index")"
ok "the churn went on after the restart" test "$(cat "$TMP/churn-index")" -gt "$((at_restart + 20))"
WAIT_SECONDS=90 ok "afterwards the agent's pods equal a fresh LIST" wait_for fault_store_matches "$api"
fault_store_matches "$api" || fault_show_store_diff "$api"
WAIT_SECONDS=30 ok "... its tiers and layers are the ones the LIST implies" wait_for fault_plan_matches "$api"
fault_plan_matches "$api" || fault_show_plan "$api"
WAIT_SECONDS=30 ok "... and the node annotation carries its counts" wait_for fault_distribution_matches "$api"
status=$(curl -s "$api/api/v1/status")
ok "the outage went through the watch's error path" test "$(jq .kubernetes.watch_errors <<<"$status")" -ge 1
is "$(jq -r .ready <<<"$status")" true "... and the agent is ready again"
diag "pods $(jq .plan.pods <<<"$status"), generation $(jq .plan.generation <<<"$status"), watch errors $(jq .kubernetes.watch_errors <<<"$status"), relists after 410 $(jq .kubernetes.relists_after_410 <<<"$status")"

# --- (2) etcd compacted: the agent's resumed watch meets 410 -----------------
relists_before=$(jq .kubernetes.relists_after_410 <<<"$status")
kill -STOP "$TEMPERD_PID"
at_exit "kill -CONT $TEMPERD_PID"
"$CLUSTER_TOOLS/ctl" "$CD" stop-apiserver 2>>"$TMP/ctl.log"
"$CLUSTER_TOOLS/ctl" "$CD" start-apiserver 2>>"$TMP/ctl.log"
gone=$(k get pods -o name | sed -n 's,^pod/,,p' | grep '^base-' | head -n 10)
k delete pods --grace-period=0 --force $gone >/dev/null 2>&1
kube_pods node-a after 15
k label pods base-20 base-21 changed=yes >/dev/null
kube_pods node-b noise 60
fault_fake_cgroups "$TMP/cgroup"
rev=$("$CLUSTER_TOOLS/compact" "$CD" 2>/dev/null | tail -n1)
diag "etcd compacted at revision $rev"
ok "kube-apiserver restarted with a cold watch cache" \
	"$CLUSTER_TOOLS/ctl" "$CD" restart-apiserver 2>>"$TMP/ctl.log"
kill -CONT "$TEMPERD_PID"
relisted() { test "$(curl -s --max-time 5 "$api/api/v1/status" | jq .kubernetes.relists_after_410)" -gt "$relists_before"; }
WAIT_SECONDS=90 ok "thawed, the agent's watch met 410 Expired and relisted" wait_for relisted
like "$(cat "$TMP/agent.log")" 'pods? watch from resourceVersion [0-9]+ expired; listing again' "... and its log says so"
WAIT_SECONDS=60 ok "the agent's pods equal a fresh LIST again" wait_for fault_store_matches "$api"
fault_store_matches "$api" || fault_show_store_diff "$api"
ok "... none of the 10 deleted while it was frozen is left" \
	test -z "$(curl -s "$api/api/v1/pods" | jq -r '.[].name' | grep -Fx -f <(echo "$gone"))"
is "$(curl -s "$api/api/v1/pods" | jq '[.[] | select(.name | startswith("after-"))] | length')" 15 \
	"... and the 15 made meanwhile are all there"
WAIT_SECONDS=30 ok "... with the plan the LIST implies" wait_for fault_plan_matches "$api"
fault_plan_matches "$api" || fault_show_plan "$api"
WAIT_SECONDS=30 ok "... and the node annotation follows" wait_for fault_distribution_matches "$api"
ok "every generation file on disk is whole" fault_generation_files_whole "$TMP/state"

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly after it all (uv_loop_close under ASan)"
done_testing
