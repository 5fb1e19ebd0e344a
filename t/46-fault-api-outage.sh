#!/bin/bash
# t/46-fault-api-outage.sh - the Kubernetes API unreachable for a long time
# while the agent enforces through this machine's real cgroups
# (--enforcement=cgroup, as t/36): through the whole outage the background
# pod's cpu.idle stays 1 (sampled every second), the last plan is served
# and enforced, /readyz says why; when the API returns, the agent catches
# up (pods equal a fresh LIST) and honours the safe-mode annotation
# written at once - cpu.idle and cpu.shares go back to the kubelet's.
#
# FAULT_OUTAGE_SECONDS sets the outage (default 60 s, to keep the suite
# short; the behaviour does not change with the length: the reflector's
# backoff is capped and the enforcement does not depend on the API).
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/fault-lib.sh"

fault_require_cgroups
fault_require_cluster
OUTAGE=${FAULT_OUTAGE_SECONDS:-60}
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 2 >/dev/null || bail "mknode failed"
fault_priority_classes

at_exit fault_cleanup_cgroups
kubelet() { fault_kubelet "$@"; }
pod() { fault_pod "$@"; }
pod db temper-critical 500m
pod batch temper-background
kubelet db
db_cpu=$POD_CPU
kubelet batch
batch_cpu=$POD_CPU
shares_before=$(cat "$batch_cpu/cpu.shares")

port=$(free_port)
api="http://127.0.0.1:$port"
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$TMP/state"
[kubernetes]
kubeconfig = "$KUBECONFIG"
node_name = "node-a"
[enforcement]
mode = "cgroup"
CONF
idle_of_batch() { cat "$batch_cpu/cpu.idle"; }
start_temperd agent --config="$TMP/temper.conf"
WAIT_SECONDS=60 ok "the agent enforcing through cgroups becomes ready" wait_eq 200 http_status "$api/readyz"
ok "the background pod gets cpu.idle=1" wait_eq 1 idle_of_batch
generation=$(curl -s "$api/api/v1/status" | jq .plan.generation)
config_before=$(curl -s "$api/api/v1/config")

# --- the outage ---------------------------------------------------------------
"$CLUSTER_TOOLS/ctl" "$CD" stop-apiserver >/dev/null 2>&1
at_exit "'$CLUSTER_TOOLS/ctl' '$CD' start-apiserver"
ok "with the API gone /readyz turns 503" wait_eq 503 http_status "$api/readyz"
samples=0 idle_ones=0 served=0 alive=0
end=$((SECONDS + OUTAGE))
while [ "$SECONDS" -lt "$end" ]; do
	samples=$((samples + 1))
	[ "$(idle_of_batch)" = 1 ] && idle_ones=$((idle_ones + 1))
	[ "$(curl -s --max-time 5 "$api/api/v1/config")" = "$config_before" ] && served=$((served + 1))
	kill -0 "$TEMPERD_PID" 2>/dev/null && alive=$((alive + 1))
	sleep 1
done
diag "outage of ${OUTAGE} s: $samples samples; cpu.idle=1 in $idle_ones, the last plan served in $served, the agent alive in $alive"
ok "the agent stayed up through the ${OUTAGE} s outage" test "$alive" -eq "$samples"
ok "cpu.idle stayed 1 at every sample (the last plan kept enforced)" test "$idle_ones" -eq "$samples"
ok "the last plan was served at every sample" test "$served" -eq "$samples"
is "$(cat "$db_cpu/cpu.idle")" 0 "the critical pod's cpu.idle stayed 0"
status=$(curl -s "$api/api/v1/status")
is "$(jq .plan.generation <<<"$status")" "$generation" "no generation was made from a half-known world"
is "$(jq -r .enforcement.state <<<"$status")" cgroup "status still says the cgroup backend enforces"
like "$(curl -s "$api/readyz" | jq -r .error)" 'pods of node node-a: .*retrying with backoff' \
	"/readyz names the reason"
ok "the agent's log says the watch failed and when it retries" \
	grep -q 'retrying in [0-9]* ms' "$TMP/agent.log"

# --- the API returns, the safe-mode annotation written at once -----------------
"$CLUSTER_TOOLS/ctl" "$CD" start-apiserver >/dev/null 2>&1 || bail "kube-apiserver did not come back"
k annotate node node-a temper.io/safe-mode-requested=true >/dev/null
WAIT_SECONDS=90 ok "when the API returns the agent is ready again" wait_eq 200 http_status "$api/readyz"
WAIT_SECONDS=60 ok "... and honours the safe-mode annotation: cpu.idle back to 0" wait_eq 0 idle_of_batch
is "$(cat "$batch_cpu/cpu.shares")" "$shares_before" "... and the kubelet's cpu.shares"
is "$(curl -s "$api/api/v1/status" | jq -c '[.safe_mode.active, .safe_mode.annotation, .enforcement.state]')" \
	'[true,true,"safe-mode"]' "status says safe mode came from the annotation"
WAIT_SECONDS=30 ok "the node annotation says safe-mode" wait_eq safe-mode \
	k get node node-a -o 'jsonpath={.metadata.annotations.temper\.io/enforcement-state}'
WAIT_SECONDS=30 ok "the agent's pods equal a fresh LIST: nothing lost" wait_for fault_store_matches "$api"
k annotate node node-a temper.io/safe-mode-requested- >/dev/null
WAIT_SECONDS=30 ok "removing the annotation enforces the plan again" wait_eq 1 idle_of_batch

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly"
is "$(idle_of_batch)" 0 "... putting cpu.idle back"
ok "... and leaves no cgroup journal behind" test -z "$(ls "$TMP/state" | grep -i journal)"
done_testing
