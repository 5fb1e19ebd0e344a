#!/bin/bash
# t/91-extender.sh - the real kube-scheduler, configured with the extender
# over HTTPS in node-cache mode, binds critical, high and batch pods across
# fake Nodes whose temper.io/qos-distribution annotations differ, and the
# placements follow the policy: protected pods go where protected load is
# lowest and never where fenceable cores are exhausted, in safe mode or
# unreported; batch pods pack onto the node already carrying batch.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"

why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
	skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
command -v jq >/dev/null || skip_all "jq is missing"
command -v openssl >/dev/null || skip_all "openssl is missing"

# The extender's own CA and serving certificate (IP SAN 127.0.0.1); the
# scheduler verifies it with tlsConfig.caFile.
P=$TMP/pki
mkdir -p "$P"
ossl() { openssl "$@" 2>/dev/null; }
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/ca.key"
ossl req -x509 -key "$P/ca.key" -subj /CN=temper-extender-ca -days 2 -out "$P/ca.crt" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/extender.key"
ossl req -new -key "$P/extender.key" -subj /CN=temper-extender -out "$P/extender.csr"
printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' >"$P/ext"
ossl x509 -req -in "$P/extender.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
	-days 2 -extfile "$P/ext" -out "$P/extender.crt" || bail "cannot make the extender's certificate"

port=$(free_port)
cat >"$TMP/scheduler.yaml" <<YAML
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: "@KUBECONFIG@"}
leaderElection: {leaderElect: false}
extenders:
- urlPrefix: "https://127.0.0.1:$port"
  filterVerb: filter
  prioritizeVerb: prioritize
  # Large enough that the extender's 0..10 outweighs the in-tree scores.
  weight: 100
  enableHTTPS: true
  tlsConfig: {caFile: "$P/ca.crt"}
  nodeCacheCapable: true
  httpTimeout: 5s
YAML
kube_up --scheduler "$TMP/scheduler.yaml"
for pc in critical:1000000 high:100000 normal:0 low:-100 background:-1000; do
	printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
		"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
done

dist() { # CRITICAL_PODS CRITICAL_M HIGH_PODS HIGH_M BATCH_PODS BATCH_M
	printf '{"critical":{"pods":%s,"cpu_millis":%s},"high":{"pods":%s,"cpu_millis":%s},"normal":{"pods":0,"cpu_millis":0},"low":{"pods":0,"cpu_millis":0},"background":{"pods":%s,"cpu_millis":%s}}' "$@"
}
for n in n-free n-crit n-batch n-safe n-bare; do
	"$CLUSTER_TOOLS/mknode" "$CD" $n --cpus 8 --memory 32Gi --pods 110 >/dev/null || bail "mknode $n failed"
done
annotate() { k annotate node "$1" --overwrite "$2" >/dev/null; }
annotate n-free "temper.io/qos-distribution=$(dist 0 0 0 0 0 0)"
annotate n-crit "temper.io/qos-distribution=$(dist 1 5000 0 0 0 0)"
annotate n-batch "temper.io/qos-distribution=$(dist 0 0 2 2000 4 3000)"
annotate n-safe "temper.io/qos-distribution=$(dist 0 0 0 0 0 0)"
annotate n-safe temper.io/safe-mode-requested=true

cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
[tls]
cert = "$P/extender.crt"
key = "$P/extender.key"
[kubernetes]
kubeconfig = "$KUBECONFIG"
CONF
api="https://127.0.0.1:$port"
start_temperd extender --role=extender --config="$TMP/temper.conf" -d
ok "the extender is ready once its node cache is listed" \
	wait_eq 200 http_status "$api/readyz" --cacert "$P/ca.crt"

pod() { # NAME CLASS CPU
	cat <<POD | k create -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  priorityClassName: $2
  containers: [{name: c, image: registry.invalid/app:1, resources: {requests: {cpu: "$3", memory: 64Mi}}}]
POD
}
node_of() { k get pod "$1" -o jsonpath='{.spec.nodeName}'; }
placed() { # NAME: wait for a binding, print the node
	local deadline=$((SECONDS + 60)) n
	while [ $SECONDS -lt $deadline ]; do
		n=$(node_of "$1")
		[ -n "$n" ] && { echo "$n"; return 0; }
		sleep 0.2
	done
	return 1
}

pod db temper-critical 2
is "$(placed db)" n-free "a critical pod goes to the node with the least protected load"
pod api temper-high 1
is "$(placed api)" n-free "a high pod too (n-batch carries 2 CPUs of high, n-crit's fence is full)"
for i in 1 2 3; do pod batch-$i temper-background 500m; done
pod report temper-normal 500m
for p in batch-1 batch-2 batch-3 report; do
	is "$(placed $p)" n-batch "batch pod $p packs onto the node already carrying batch"
done
# Without a preemptVerb the scheduler's preemption does not ask the
# extender, so it could evict batch pods from a node the extender will still
# refuse; this pod's class does not preempt.
printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: critical-no-preempt}\nvalue: 1000000\npreemptionPolicy: Never\n' |
	k apply -f - >/dev/null
pod huge critical-no-preempt 6500m
sleep 2
is "$(node_of huge)" "" "a critical pod that no node can fence stays pending"
ok "... the scheduler reports the extender's reason" wait_eq true bash -c \
	"$(declare -f k); k get pod huge -o json | jq '[.status.conditions[]? | select(.type==\"PodScheduled\") | .message | test(\"fenceable cores exhausted\")] | any'"

# The extender follows annotation changes through its watch.
annotate n-free "temper.io/qos-distribution=$(dist 2 5600 0 0 0 0)"
sleep 1
pod db2 temper-critical 1
is "$(placed db2)" n-batch "once n-free's fence fills up, the next critical pod goes to n-batch"

log=$TMP/extender.log
like "$(cat "$log")" 'filter default/db \(critical, 2000m\): 2 of 5 nodes pass, 1 refused, 2 unresolvable; e.g. n-(crit|safe|bare)' \
	"each filter decision is logged with its counts and a reason"
like "$(cat "$log")" 'prioritize default/db \(critical, 2000m\): 2 nodes scored, best n-free with 7' \
	"... each prioritize decision with the best node"
like "$(cat "$log")" 'prioritize default/batch-1 \(background, 500m\): [0-9]+ nodes scored, best n-batch' \
	"... batch pods scored packing-aware"
metrics=$(curl -s --cacert "$P/ca.crt" "$api/metrics")
like "$metrics" 'temper_extender_node_decisions_total\{verb="filter",reason="fenceable_exhausted"\} [1-9]' \
	"the metrics count refusals by reason"
like "$metrics" 'temper_extender_node_decisions_total\{verb="filter",reason="safe_mode"\} [1-9]' \
	"... safe mode"
like "$metrics" 'temper_extender_cached_nodes 5' "... and the cached nodes"
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the extender stops cleanly"
done_testing
