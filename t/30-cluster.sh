#!/usr/bin/env bash
# t/30-cluster.sh - the real test control plane (t/cluster/): etcd,
# kube-apiserver and kube-scheduler of the pinned release come up on
# 127.0.0.1, the real apiserver sets spec.priority (Priority admission) and
# status.qosClass (pod strategy) for pods with and without the temper-*
# PriorityClasses, and the real scheduler binds pods to fake Nodes.
#
# When the binaries are not cached, it builds them (t/cluster/build k8s, many
# minutes when cold) if `go` exists, and skips when go is missing or the build
# fails -- unless CI or TEMPER_REQUIRE_CLUSTER is set, where a failed build
# fails the test instead of hiding behind a skip.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP_SRCDIR/t/lib.sh"
C=$TOP_SRCDIR/t/cluster
. "$C/versions.sh"

if ! why=$("$C/available" k8s); then
	command -v go >/dev/null 2>&1 || skip_all "no go to build the control plane: $(echo "$why" | head -n1)"
	echo "# building the control plane (t/cluster/build k8s); progress on stderr" >&2
	"$C/build" k8s 2> >(tee "$TMP/build.err" >&2)
	rc=$?
	wait # for tee
	if [ $rc -ne 0 ]; then
		step=$(sed -n 's/^t\/cluster\/build: failed step: //p' "$TMP/build.err" | tail -n1)
		if [ -n "${CI-}${TEMPER_REQUIRE_CLUSTER-}" ]; then
			bail "t/cluster/build failed at: ${step:-unknown step}"
		fi
		skip_all "t/cluster/build failed at: ${step:-unknown step}"
	fi
fi

plan 57

CD=$TMP/cluster
at_exit "'$C/down' '$CD'"

# ---------------------------------------------------------------- up
t0=$(date +%s.%N)
ok "t/cluster/up starts etcd, kube-apiserver and kube-scheduler" \
	"$C/up" "$CD" --scheduler default --namespace temper-t
up_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
diag "start-to-ready (warm binaries): $up_secs s"
[ -f "$CD/env" ] || bail "no $CD/env; see $CD/logs"
set -a
. "$CD/env"
set +a
k() { "$KUBECTL" --kubeconfig="$KUBECONFIG" --request-timeout=30s "$@"; }

# The target is 20 s on a 2-core machine (6-9 s measured at load ~7).  On
# a saturated machine (make -j, fuzzers, load generators) the apiserver alone
# can take minutes, so the time is a pass/fail check only when a budget is
# given, e.g. TEMPER_CLUSTER_START_BUDGET=20 on a quiet machine.
if [ -n "${TEMPER_CLUSTER_START_BUDGET-}" ]; then
	ok "start-to-ready $up_secs s within TEMPER_CLUSTER_START_BUDGET=$TEMPER_CLUSTER_START_BUDGET s" \
		awk -v t="$up_secs" -v b="$TEMPER_CLUSTER_START_BUDGET" 'BEGIN { exit !(t < b) }'
else
	skip "start-to-ready is $up_secs s; set TEMPER_CLUSTER_START_BUDGET=SECONDS to check it"
fi


# env file: what C tests use directly
for v in KUBECONFIG KUBECACHEDIR APISERVER_URL ETCD_URL CA_CERT ADMIN_CERT ADMIN_KEY ETCD_PID APISERVER_PID SCHEDULER_PID; do
	[ -n "${!v-}" ] || echo "# $v missing from $CD/env"
done
ok "env file has the URLs, cert paths and PIDs" \
	test -n "${KUBECONFIG-}" -a -n "${APISERVER_URL-}" -a -n "${ETCD_URL-}" -a -f "${CA_CERT-}" \
	-a -f "${ADMIN_CERT-}" -a -f "${ADMIN_KEY-}" -a -n "${ETCD_PID-}" -a -n "${APISERVER_PID-}" -a -n "${SCHEDULER_PID-}"
like "$APISERVER_URL" '^https://127\.0\.0\.1:[0-9]+$' "APISERVER_URL is https on 127.0.0.1"
is "$(http_status "$APISERVER_URL/api/v1/namespaces/default/serviceaccounts/default" \
	--cacert "$CA_CERT" --cert "$ADMIN_CERT" --key "$ADMIN_KEY")" 200 \
	"admin client cert from env works with curl; default ServiceAccount exists"
is "$(http_status "$APISERVER_URL/api/v1/namespaces/default/pods" --cacert "$CA_CERT")" 403 \
	"anonymous request is authenticated as system:anonymous and forbidden"
is "$(openssl x509 -in "$ADMIN_CERT" -noout -subject -nameopt RFC2253)" \
	"subject=CN=temper-admin,O=system:masters" "admin cert is O=system:masters"
like "$(openssl x509 -in "$CD/pki/apiserver.crt" -noout -ext subjectAltName)" \
	'IP Address:127\.0\.0\.1' "serving cert has IP SAN 127.0.0.1"

tok=$(curl -s --cacert "$CA_CERT" --cert "$ADMIN_CERT" --key "$ADMIN_KEY" -X POST -H 'Content-Type: application/json' \
	"$APISERVER_URL/api/v1/namespaces/temper-t/serviceaccounts/default/token" \
	-d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["token"])' 2>/dev/null)
is "$(curl -s --cacert "$CA_CERT" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -X POST \
	"$APISERVER_URL/apis/authentication.k8s.io/v1/selfsubjectreviews" -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["userInfo"]["username"])' 2>&1)" \
	"system:serviceaccount:temper-t:default" "a TokenRequest token (signed with SA_KEY) authenticates as the ServiceAccount"

# ---------------------------------------------------------------- versions
is "$(k version -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["clientVersion"]["gitVersion"], d["serverVersion"]["gitVersion"])')" \
	"v$K8S_VERSION v$K8S_VERSION" "kubectl version: client and server are v$K8S_VERSION"
is "$(k version -o json | python3 -c 'import json,sys; d=json.load(sys.stdin)["serverVersion"]; print(d["major"], d["minor"])')" \
	"1 $(echo "$K8S_VERSION" | cut -d. -f2)" "server reports major and minor"
is "$(curl -s "$ETCD_URL/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["etcdserver"])')" \
	"$ETCD_VERSION" "etcd reports $ETCD_VERSION"
is "$("$KUBE_SCHEDULER" --version)" "Kubernetes v$K8S_VERSION" "kube-scheduler --version"
is "$(k get ns temper-t -o jsonpath='{.status.phase}') $(k -n temper-t get sa default -o name)" \
	"Active serviceaccount/default" "namespace from --namespace has its default ServiceAccount"

# ---------------------------------------------------------------- PriorityClasses
k apply -f - >/dev/null <<-'EOF'
	apiVersion: v1
	kind: List
	items:
	- {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: temper-critical},   value: 1000000, description: "Temper critical tier"}
	- {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: temper-high},       value: 100000,  description: "Temper high tier"}
	- {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: temper-normal},     value: 0,       description: "Temper normal tier"}
	- {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: temper-low},        value: -100,    description: "Temper low tier"}
	- {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: temper-background}, value: -1000,   description: "Temper background tier"}
EOF
is "$(k get priorityclass -o jsonpath='{range .items[?(@.metadata.name)]}{.metadata.name}={.value} {end}' |
	tr ' ' '\n' | grep '^temper-' | sort | tr '\n' ' ')" \
	"temper-background=-1000 temper-critical=1000000 temper-high=100000 temper-low=-100 temper-normal=0 " \
	"five temper-* PriorityClasses with their values"
is "$(k get priorityclass system-node-critical -o jsonpath='{.value}')" 2000001000 \
	"apiserver bootstrapped system-node-critical"

# ---------------------------------------------------------------- fake nodes
q() { "$@" >&2; } # keep helpers' stdout out of the TAP stream
ok "mknode node-a (8 cpus)" q "$C/mknode" "$CD" node-a --cpus 8 --label temper.test/pool=a
ok "mknode node-b (4 cpus, 1 allocatable, label pool=b, tainted)" \
	q "$C/mknode" "$CD" node-b --cpus 4 --allocatable-cpu 1 --label temper.test/pool=b \
	--taint temper.test/pool=b:NoSchedule
is "$(k get node node-a -o jsonpath='{.status.capacity.cpu} {.status.allocatable.cpu} {.metadata.labels.temper\.test/pool} {.status.conditions[?(@.type=="Ready")].status} taints=[{.spec.taints}]')" \
	"8 8 a True taints=[]" "node-a: capacity, allocatable, label, Ready, not-ready taint removed"
is "$(k get node node-b -o jsonpath='{.status.capacity.cpu} {.status.allocatable.cpu} {.metadata.labels.temper\.test/pool} {.status.conditions[?(@.type=="Ready")].status} taints={.spec.taints}')" \
	'4 1 b True taints=[{"effect":"NoSchedule","key":"temper.test/pool","value":"b"}]' \
	"node-b: capacity, allocatable, label, Ready, only its own taint"

# ---------------------------------------------------------------- pods
# pod NAME CLASS QOS-SHAPE [EXTRA-SPEC-JSON]: a pod manifest (JSON).
pod() {
	local name=$1 class=$2 shape=$3 extra=${4-'{}'}
	python3 - "$name" "$class" "$shape" "$extra" <<-'PY'
		import json, sys
		name, klass, shape, extra = sys.argv[1:]
		shapes = {
		    "guaranteed": [{"requests": {"cpu": "500m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}}],
		    "limits-only": [{"limits": {"cpu": "250m", "memory": "32Mi"}}],
		    "burstable": [{"requests": {"cpu": "100m"}}],
		    "mixed": [{"requests": {"cpu": "100m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "16Mi"}}, {}],
		    "besteffort": [{}],
		}
		ctrs = [{"name": "c%d" % i, "image": "registry.k8s.io/pause:3.10", "resources": r}
		        for i, r in enumerate(shapes[shape])]
		spec = {"containers": ctrs, "terminationGracePeriodSeconds": 30}
		if klass != "-":
		    spec["priorityClassName"] = klass
		spec.update(json.loads(extra))
		print(json.dumps({"apiVersion": "v1", "kind": "Pod",
		                  "metadata": {"name": name, "namespace": "temper-t"}, "spec": spec}))
	PY
}
# expected "name class shape priority qosClass"
cases=(
	"crit-g temper-critical guaranteed 1000000 Guaranteed"
	"high-bu temper-high burstable 100000 Burstable"
	"normal-be temper-normal besteffort 0 BestEffort"
	"low-bu temper-low burstable -100 Burstable"
	"bg-be temper-background besteffort -1000 BestEffort"
	"bg-g temper-background guaranteed -1000 Guaranteed"
	"none-g - guaranteed 0 Guaranteed"
	"none-lim - limits-only 0 Guaranteed"
	"none-mixed - mixed 0 Burstable"
	"none-be - besteffort 0 BestEffort"
)
for c in "${cases[@]}"; do
	set -- $c
	pod "$1" "$2" "$3" | k create -f - >/dev/null 2>"$TMP/create.err" || diag "create $1: $(cat "$TMP/create.err")"
done
for c in "${cases[@]}"; do
	set -- $c
	got=$(k -n temper-t get pod "$1" -o jsonpath='{.spec.priority} {.status.qosClass}' 2>&1)
	[ "$2" != - ] || set -- "$1" "no class" "$3" "$4" "$5"
	is "$got" "$4 $5" "pod $1 ($2, $3): spec.priority and status.qosClass"
done
is "$(k -n temper-t get pod crit-g -o jsonpath='{.spec.preemptionPolicy} {.spec.serviceAccountName}')" \
	"PreemptLowerPriority default" "Priority admission set preemptionPolicy; ServiceAccount admission set default SA"

# The real Priority admission rejects what it must.
pod bad-class temper-nonexistent besteffort | k create -f - >/dev/null 2>"$TMP/err"
like "$(cat "$TMP/err")" 'no PriorityClass with name temper-nonexistent was found' \
	"pod with an unknown PriorityClass is rejected"
pod bad-prio temper-high besteffort '{"priority": 5}' | k create -f - >/dev/null 2>"$TMP/err"
like "$(cat "$TMP/err")" 'must not be provided in pod spec' \
	"pod with a spec.priority differing from its class is rejected"
pod no-ns-sa - besteffort | sed 's/"temper-t"/"no-sa"/' >"$TMP/no-sa.json"
k create namespace no-sa >/dev/null
k create -f "$TMP/no-sa.json" >/dev/null 2>"$TMP/err"
like "$(cat "$TMP/err")" 'serviceaccount "default" not found' \
	"without mkns, the ServiceAccount admission plugin rejects pods (the gap mkns closes)"
ok "mkns closes it" q "$C/mkns" "$CD" no-sa
ok "pod in no-sa created after mkns" q k create -f "$TMP/no-sa.json"

# ---------------------------------------------------------------- scheduling
tol='"tolerations": [{"key": "temper.test/pool", "operator": "Equal", "value": "b", "effect": "NoSchedule"}]'
pod pin-b - burstable '{"nodeSelector": {"temper.test/pool": "b"}, '"$tol"'}' | k create -f - >/dev/null
pod toobig-b - guaranteed '{"nodeSelector": {"temper.test/pool": "b"}, '"$tol"', "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "2"}}}]}' |
	k create -f - >/dev/null
bound() { # all pods in temper-t except toobig-b have a node
	[ -z "$(k -n temper-t get pods -o jsonpath='{range .items[*]}{.metadata.name}={.spec.nodeName}{"\n"}{end}' | grep -v '^toobig-b=' | grep '=$')" ]
}
WAIT_SECONDS=180 wait_for bound
is "$(k -n temper-t get pods -o jsonpath='{range .items[*]}{.metadata.name}={.spec.nodeName} {end}' | tr ' ' '\n' | grep -v '^toobig-b=' | grep -c '=node-a$')" \
	"${#cases[@]}" "kube-scheduler bound all ${#cases[@]} pods without a toleration to node-a"
is "$(k -n temper-t get pod pin-b -o jsonpath='{.spec.nodeName}')" node-b "pod with nodeSelector pool=b bound to node-b"
unsched() { [ "$(k -n temper-t get pod toobig-b -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}')" = Unschedulable ]; }
WAIT_SECONDS=120 wait_for unsched
like "$(k -n temper-t get pod toobig-b -o jsonpath='{.spec.nodeName}|{.status.conditions[?(@.type=="PodScheduled")].reason}: {.status.conditions[?(@.type=="PodScheduled")].message}')" \
	'^\|Unschedulable: .*Insufficient cpu' "pod asking for more than node-b's allocatable cpu stays unscheduled (Insufficient cpu)"
is "$(k get events -n temper-t --field-selector reason=Scheduled,involvedObject.name=crit-g -o jsonpath='{.items[0].source.component}{.items[0].reportingComponent}')" \
	"default-scheduler" "Scheduled event from default-scheduler"

# ---------------------------------------------------------------- deletes
k -n temper-t delete pod none-be --wait=false >/dev/null
sleep 1
like "$(k -n temper-t get pod none-be -o jsonpath='{.metadata.deletionTimestamp}' 2>&1)" '^20[0-9][0-9]-' \
	"graceful delete of a bound pod only sets deletionTimestamp (no kubelet)"
ok "kdelete removes pods with grace period 0" q "$C/kdelete" "$CD" -n temper-t pod none-be crit-g
is "$(k -n temper-t get pods none-be crit-g -o name --ignore-not-found)" "" "both are gone"

# ---------------------------------------------------------------- apiserver restart
old_pid=$APISERVER_PID
t0=$(date +%s.%N)
ok "restart-apiserver --kill" "$C/restart-apiserver" "$CD" --kill
diag "apiserver kill+restart to ready: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
. "$CD/env"
ok "old apiserver pid $old_pid is gone" bash -c "! kill -0 $old_pid 2>/dev/null"
ok "new apiserver pid $APISERVER_PID runs" kill -0 "$APISERVER_PID"
is "$(k get priorityclass temper-low -o jsonpath='{.value}')" -100 "objects survive the apiserver restart"
ok "ctl stop-apiserver" "$C/ctl" "$CD" stop-apiserver
is "$(http_status "$APISERVER_URL/readyz" --cacert "$CA_CERT")" 000 "apiserver is down"
ok "ctl start-apiserver" "$C/ctl" "$CD" start-apiserver
is "$(http_status "$APISERVER_URL/readyz" --cacert "$CA_CERT")" 200 "apiserver ready again on the same URL"
pod after-restart - besteffort | k create -f - >/dev/null
after_bound() { [ -n "$(k -n temper-t get pod after-restart -o jsonpath='{.spec.nodeName}')" ]; }
WAIT_SECONDS=120 wait_for after_bound
ok "scheduler still binds after the apiserver restart" after_bound

# ---------------------------------------------------------------- etcd compaction
rev=$("$C/compact" "$CD")
like "$rev" '^[0-9]+$' "compact prints the compacted revision ($rev)"
old=$((rev - 1))
like "$(curl -s -X POST "$ETCD_URL/v3/kv/range" -d "{\"key\":\"AA==\",\"revision\":\"$old\"}")" \
	'required revision has been compacted' "etcd refuses reads below the compacted revision"

# ---------------------------------------------------------------- down
pids="$ETCD_PID $APISERVER_PID $SCHEDULER_PID"
ok "down" "$C/down" "$CD"
alive=
for p in $pids; do
	# A zombie not yet reaped by init is no process left behind.
	st=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$st" ] || [ "$st" = Z ] || alive="$alive $p($st)"
done
is "$alive" "" "no control-plane process left after down"
ok "down is idempotent" "$C/down" "$CD"
