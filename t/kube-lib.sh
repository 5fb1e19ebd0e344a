# t/kube-lib.sh - shared steps of the Kubernetes client tests (t/4N-*.sh).
#
# Source after t/lib.sh.  kube_up starts a real control plane (t/cluster/)
# in $TMP/cluster and stops it at exit; kube_pods creates pods in bulk;
# kube_expected renders `kubectl get -o json` in the line format of
# kube-probe's --dump, so a test compares the probe's store with a fresh
# LIST made by kubectl.

KUBE_PROBE=${KUBE_PROBE:-$TOP_BUILDDIR/t/kube-probe}
CLUSTER_TOOLS=$TOP_SRCDIR/t/cluster

# kube_require: skip the script unless the control plane and the probe exist.
kube_require() {
	local why
	why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
		skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
	[ -x "$KUBE_PROBE" ] || skip_all "t/kube-probe is not built"
	command -v jq >/dev/null || skip_all "jq is missing"
	command -v python3 >/dev/null || skip_all "python3 is missing"
}

# kube_up [t/cluster/up options]: start the cluster; sets CD and the env.
kube_up() {
	CD=$TMP/cluster
	at_exit "'$CLUSTER_TOOLS/down' '$CD'"
	"$CLUSTER_TOOLS/up" "$CD" "$@" >"$TMP/up.log" 2>&1 ||
		bail "t/cluster/up failed: $(tail -n 3 "$TMP/up.log")"
	set -a
	. "$CD/env"
	set +a
}

k() {
	"$KUBECTL" --kubeconfig="$KUBECONFIG" --request-timeout=60s "$@"
}

# kube_pods NODE PREFIX COUNT [NAMESPACE]: create COUNT pods bound to NODE
# (spec.nodeName set, so no scheduler is needed), with a mix of resources.
kube_pods() {
	python3 - "$@" >"$TMP/pods.json" <<-'PY'
	import json, sys
	node, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
	ns = sys.argv[4] if len(sys.argv) > 4 else "default"
	cpus = ["100m", "0.5", "1", "250m", None]
	items = []
	for i in range(count):
	    cpu = cpus[i % len(cpus)]
	    resources = {"requests": {"cpu": cpu, "memory": "64Mi"}} if cpu else {}
	    items.append({"apiVersion": "v1", "kind": "Pod",
	        "metadata": {"name": "%s-%d" % (prefix, i), "namespace": ns,
	                     "labels": {"batch": prefix}},
	        "spec": {"nodeName": node, "containers": [
	            {"name": "c", "image": "registry.invalid/pause:1", "resources": resources}]}})
	print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
	PY
	k create -f "$TMP/pods.json" >/dev/null
}

# kube_expected NODE: the node's pods per kubectl, as kube-probe dumps them.
kube_expected() {
	k get pods -A --field-selector "spec.nodeName=$1" -o json | jq -r '.items[] |
	  "\(.metadata.namespace)/\(.metadata.name) uid=\(.metadata.uid)" +
	  " rv=\(.metadata.resourceVersion) node=\(.spec.nodeName // "")" +
	  " qos=\(.status.qosClass // "Unknown")" +
	  " priority=\(if .spec.priority == null then "none:0" else (.spec.priority | tostring) end)" +
	  " phase=\(.status.phase // "Unknown")" +
	  " containers=\((.spec.containers | length) + ((.spec.initContainers // []) | length))" +
	  " cpu_request_millis=\([.spec.containers[].resources.requests.cpu // "0" |
	      if endswith("m") then (.[:-1] | tonumber) else (tonumber * 1000) end] | add // 0 | floor)"' |
	  LC_ALL=C sort
}

# start_probe NAME ARGS...: kube-probe in the background, stderr in
# $TMP/NAME.err, stdout in $TMP/NAME.out; sets PROBE_PID, stops it at exit.
start_probe() {
	local name=$1
	shift
	"$KUBE_PROBE" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	PROBE_PID=$!
	at_exit "kill $PROBE_PID"
}

# stop_probe: SIGTERM, then the exit status (the probe checks uv_loop_close).
stop_probe() {
	kill -TERM "$PROBE_PID" 2>/dev/null
	wait "$PROBE_PID"
}

# status_value FILE KEY
status_value() {
	sed -n "s/^$2=//p" "$1" 2>/dev/null
}

# status_at_least FILE KEY N
status_at_least() {
	local v
	v=$(status_value "$1" "$2")
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}

# dump_matches DUMP NODE: the probe's store equals kubectl's LIST now.
dump_matches() {
	kube_expected "$2" >"$TMP/expected"
	LC_ALL=C sort "$1" >"$TMP/got" 2>/dev/null
	cmp -s "$TMP/expected" "$TMP/got"
}

# show_dump_diff DUMP NODE: diagnostics after a failed comparison.
show_dump_diff() {
	dump_matches "$1" "$2" || diag "$(diff "$TMP/expected" "$TMP/got" | head -n 20)"
}

# KUBE_KEEP=DIR keeps the test's files (logs, dumps, statuses) for a look.
if [ -n "${KUBE_KEEP-}" ]; then
	at_exit "rm -rf '$KUBE_KEEP'; cp -a '$TMP' '$KUBE_KEEP'"
fi
