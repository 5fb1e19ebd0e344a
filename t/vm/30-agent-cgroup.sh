#!/bin/bash
# t/vm/30-agent-cgroup.sh - temperd --role=agent --enforcement=cgroup in the
# sched_ext guest (pure cgroup v2, the production layout) against the real
# control plane of t/cluster on the host (its apiserver's port forwarded to
# the guest's 127.0.0.1, so the certificate's IP SAN 127.0.0.1 verifies).
# The guest plays the kubelet: pod cgroups under kubepods.slice with real
# processes.  The background pod gets cpu.idle=1 and the critical one keeps
# 0; a background pod arriving later is enforced and the time from its
# cgroup appearing to cpu.idle=1 is printed; safe mode (the node annotation)
# puts cpu.idle back and leaving it applies it again; a clean stop restores.
. "$(dirname "$0")/../lib.sh"
. "$TOP_SRCDIR/t/vm/lib.sh"
vm_require
[ -x "$TEMPERD" ] || skip_all "$TEMPERD is not built"
vm_cluster

read -r db_uid db_qos <<<"$(vm_pod db temper-critical 500m)"
read -r batch_uid batch_qos <<<"$(vm_pod batch temper-background)"

cat >"$TMP/guest.sh" <<'GUEST'
. "$TOP_SRCDIR/t/vm/guest-lib.sh"
W=$(dirname "$0")
db=$(pod_cgroup "$DB_UID" "$DB_QOS")
batch=$(pod_cgroup "$BATCH_UID" "$BATCH_QOS")
in_pod "$db" sleep 600 >/dev/null
in_pod "$batch" sleep 600 >/dev/null
report idle_before "$(cat "$CG/$batch/cpu.idle")"
report weight_before "$(cat "$CG/$batch/cpu.weight")"

agent_start agent cgroup 8081
wait_until 180000 agent_ready
report ready "$(agent_ready && echo yes)"
wait_until 60000 file_is "$CG/$batch/cpu.idle" 1
report idle_batch "$(cat "$CG/$batch/cpu.idle")"
report idle_db "$(cat "$CG/$db/cpu.idle")"
report state "$(curl -s "$API/api/v1/status" | jq -r .enforcement.state)"
report layer_batch "$(curl -s "$API/api/v1/pods" | jq -r '.. | objects | select(.name? == "batch") | .tier' | head -n1)"

# A pod arriving as a kubelet brings it up: the API object, then its cgroup
# and process, then the Running status; timed from the cgroup.
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
start=$(now_ms)
late=$(pod_cgroup "$late_uid" besteffort)
in_pod "$late" sleep 600 >/dev/null
k patch pod late --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
wait_until 120000 file_is "$CG/$late/cpu.idle" 1
report arrival_ms $(($(now_ms) - start))
report idle_late "$(cat "$CG/$late/cpu.idle")"

start=$(now_ms)
k annotate node node-a temper.io/safe-mode-requested=true >/dev/null
wait_until 60000 file_is "$CG/$batch/cpu.idle" 0
report safe_mode_ms $(($(now_ms) - start))
report idle_safe "$(cat "$CG/$batch/cpu.idle")"
report weight_safe "$(cat "$CG/$batch/cpu.weight")"
k annotate node node-a temper.io/safe-mode-requested- >/dev/null
wait_until 60000 file_is "$CG/$batch/cpu.idle" 1
report idle_resumed "$(cat "$CG/$batch/cpu.idle")"

kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
report exit "$?"
report idle_stopped "$(cat "$CG/$batch/cpu.idle")"
report weight_stopped "$(cat "$CG/$batch/cpu.weight")"
GUEST
vm_guest agent $(vm_cluster_options) --timeout 900 \
	--env "DB_UID=$db_uid" --env "DB_QOS=$db_qos" --env "BATCH_UID=$batch_uid" --env "BATCH_QOS=$batch_qos" \
	-- "$TMP/guest.sh"
is "$VM_STATUS" 0 "the guest ran the scenario"
is "$(vm_value agent idle_before)" 0 "before the agent, the background pod's cpu.idle is 0"
is "$(vm_value agent ready)" yes "the agent in the guest becomes ready against the host's apiserver"
is "$(vm_value agent idle_batch)" 1 "the background pod gets cpu.idle=1 (cgroup v2)"
is "$(vm_value agent idle_db)" 0 "the critical pod's cpu.idle stays 0"
is "$(vm_value agent state)" cgroup "status says the cgroup backend enforces"
is "$(vm_value agent layer_batch)" background "the agent's pod list puts the batch pod in the background tier"
is "$(vm_value agent idle_late)" 1 "a background pod arriving later is enforced"
diag "arrival: $(vm_value agent arrival_ms) ms from its cgroup to cpu.idle=1 (TCG)"
is "$(vm_value agent idle_safe)" 0 "safe mode puts cpu.idle back"
is "$(vm_value agent weight_safe)" "$(vm_value agent weight_before)" "... and the kubelet's cpu.weight"
diag "safe mode: $(vm_value agent safe_mode_ms) ms from the annotation to cpu.idle=0 (TCG)"
is "$(vm_value agent idle_resumed)" 1 "leaving safe mode applies it again"
is "$(vm_value agent exit)" 0 "the agent stops cleanly"
is "$(vm_value agent idle_stopped)" 0 "... putting cpu.idle back"
is "$(vm_value agent weight_stopped)" "$(vm_value agent weight_before)" "... and cpu.weight"
if [ "$(vm_value agent ready)" != yes ] || [ "$(vm_value agent idle_batch)" != 1 ]; then
	diag "the agent's log:"
	diag "$(tail -n 30 "$TMP/agent.log" 2>/dev/null)"
fi
done_testing
