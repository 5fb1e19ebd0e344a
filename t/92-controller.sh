#!/bin/bash
# t/92-controller.sh - the controller role against the real kube-apiserver:
# TemperPolicy objects set temper.io/safe-mode-requested on the nodes they
# select and only there, write status conditions, and deleting a policy
# clears what it set and nothing else (also while the controller was down).
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"

why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
	skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
command -v jq >/dev/null || skip_all "jq is missing"
kube_up
mk() { "$CLUSTER_TOOLS/mknode" "$CD" "$@" >/dev/null || bail "mknode $1 failed"; }
mk gpu-1 --cpus 8 --label pool=gpu
mk gpu-2 --cpus 8 --label pool=gpu
mk web-1 --cpus 8 --label pool=web
# Someone else asked for safe mode here by hand; no policy may take it over.
mk gpu-3 --cpus 8 --label pool=gpu --annotation temper.io/safe-mode-requested=true

port=$(free_port)
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
[kubernetes]
kubeconfig = "$KUBECONFIG"
CONF
api="http://127.0.0.1:$port"
start_temperd controller --role=controller --config="$TMP/temper.conf" -d

ok "without the CRD /readyz is 503" wait_eq 503 http_status "$api/readyz"
like "$(curl -s "$api/readyz")" 'temperpolicies.*temperpolicy.yaml' "... and says the CRD is missing"
k apply -f "$TOP_SRCDIR/deploy/crd/temperpolicy.yaml" >/dev/null
k wait --for condition=established --timeout=60s crd/temperpolicies.temper.io >/dev/null
WAIT_SECONDS=90 ok "once the CRD exists the controller becomes ready" \
	wait_eq 200 http_status "$api/readyz"

safe() { k get node "$1" -o 'jsonpath={.metadata.annotations.temper\.io/safe-mode-requested}'; }
owner() { k get node "$1" -o 'jsonpath={.metadata.annotations.temper\.io/safe-mode-policy}'; }
cond() { k get temperpolicy "$1" -o json | jq -r '.status.conditions[0] | "\(.status) \(.reason)"'; }
nodes_state() {
	local n out=
	for n in gpu-1 gpu-2 gpu-3 web-1; do out+="$n=$(safe $n)/$(owner $n) "; done
	echo "${out% }"
}

policy() { # NAME SELECTOR-JSON
	k apply -f - >/dev/null <<POLICY
{"apiVersion":"temper.io/v1alpha1","kind":"TemperPolicy","metadata":{"name":"$1"},"spec":$2}
POLICY
}

policy drain-gpu '{"nodeSelector":{"matchLabels":{"pool":"gpu"}}}'
ok "a policy selecting pool=gpu sets safe mode there, and only there" \
	wait_eq "gpu-1=true/drain-gpu gpu-2=true/drain-gpu gpu-3=true/ web-1=/" nodes_state
ok "... its status says so" wait_eq "True SafeModeRequested" cond drain-gpu
is "$(k get temperpolicy drain-gpu -o json | jq -c '[.status.matchedNodes, .status.appliedNodes, .status.observedGeneration]')" \
	"[3,3,1]" "... 3 nodes matched and in safe mode, generation 1 observed"

policy everything '{"nodeSelector":{}}'
ok "a second policy with an empty selector adds the other node; owners are listed" \
	wait_eq "gpu-1=true/drain-gpu,everything gpu-2=true/drain-gpu,everything gpu-3=true/ web-1=true/everything" nodes_state

policy bad '{"nodeSelector":{"matchExpressions":[{"key":"pool","operator":"In","values":[]}]}}'
ok "a policy whose selector cannot select says why in its status" wait_eq "False InvalidSpec" cond bad
k delete temperpolicy bad >/dev/null

k delete temperpolicy everything >/dev/null
ok "deleting a policy clears only what it alone set" \
	wait_eq "gpu-1=true/drain-gpu gpu-2=true/drain-gpu gpu-3=true/ web-1=/" nodes_state

k label node gpu-2 pool=web --overwrite >/dev/null
ok "a node that stops matching is cleared" \
	wait_eq "gpu-1=true/drain-gpu gpu-2=/ gpu-3=true/ web-1=/" nodes_state
ok "... and the status counts what is matched now" \
	wait_eq 2 k get temperpolicy drain-gpu -o 'jsonpath={.status.matchedNodes}'

# Deleting the policy while the controller is down: the next start clears it.
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the controller stops cleanly (every handle closed)"
k delete temperpolicy drain-gpu >/dev/null
start_temperd controller2 --role=controller --config="$TMP/temper.conf" -d
ok "a policy deleted while the controller was down is cleared at its next start" \
	wait_eq "gpu-1=/ gpu-2=/ gpu-3=true/ web-1=/" nodes_state
is "$(safe gpu-3)" true "the safe mode someone else requested is still there"
metrics=$(curl -s "$api/metrics")
like "$metrics" 'temper_controller_node_actions_total\{action="clear"\} [1-9]' "the clears are counted"
like "$(cat "$TMP/controller.log")" 'node gpu-1: requesting safe mode .* for TemperPolicy drain-gpu' \
	"each change is logged with the node and the policy"
like "$(cat "$TMP/controller2.log")" 'node gpu-1: no policy wants safe mode any more' \
	"... and each clear"
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"
done_testing
