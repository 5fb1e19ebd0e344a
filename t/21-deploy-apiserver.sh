#!/bin/bash
# t/21-deploy-apiserver.sh - the chart's objects against the real
# kube-apiserver and kube-scheduler (t/cluster): every object rendered for
# the default values and with every part on is accepted by
# `kubectl apply --dry-run=server` (full validation and admission, nothing
# stored); the TemperPolicy CRD is installed for real and validates
# policies; the second scheduler's rendered KubeSchedulerConfiguration runs
# the real kube-scheduler, which places a temper-scheduler pod even though
# the extender is unreachable (ignorable: true).
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/cluster/versions.sh"

CHART=$TOP_SRCDIR/deploy/helm/temper
ALL=$CHART/ci/all-enabled-values.yaml
why=$("$CLUSTER_TOOLS/available" k8s helm 2>&1) ||
	skip_all "control plane or helm not built: $(echo "$why" | head -n1) (run t/cluster/build k8s helm)"
command -v jq >/dev/null || skip_all "jq is missing"
python3 -c 'import yaml' 2>/dev/null || skip_all "python3 with PyYAML is missing"
export HELM_CACHE_HOME=$TMP/helm/cache HELM_CONFIG_HOME=$TMP/helm/config HELM_DATA_HOME=$TMP/helm/data

# The second scheduler's configuration, as rendered, with the two changes a
# process outside the cluster needs: the admin kubeconfig instead of the
# in-cluster account, and no leader election (t/cluster/README.md).
"$HELM" template t "$CHART" --namespace temper-system -f "$ALL" \
	--show-only templates/scheduler.yaml >"$TMP/scheduler-objects.yaml" 2>"$TMP/helm.err" ||
	bail "helm template failed"
python3 - "$TMP/scheduler-objects.yaml" "$TMP/scheduler.yaml" <<-'PY'
	import sys, yaml
	docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
	config = yaml.safe_load(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["scheduler.yaml"])
	config["clientConnection"] = {"kubeconfig": "@KUBECONFIG@"}
	config["leaderElection"] = {"leaderElect": False}
	yaml.safe_dump(config, open(sys.argv[2], "w"))
	PY
# quiet CMD...: run CMD with its output kept aside, shown only when it fails.
quiet() {
	"$@" >"$TMP/quiet.out" 2>&1 && return 0
	diag "$(tail -n 15 "$TMP/quiet.out")"
	return 1
}

kube_up --scheduler "$TMP/scheduler.yaml" --namespace temper-system
ok "the real kube-scheduler starts with the rendered KubeSchedulerConfiguration" true

# apply_each NAME FILE: the objects of FILE dry-run applied in one call,
# then one test point per object from kubectl's line for it.
apply_each() {
	local label=$1 file=$2 i count kind name line
	python3 "$TOP_SRCDIR/t/deploy/objects.py" "$file" >"$TMP/$label.json"
	# prometheus-operator's CRD is not part of this control plane.
	jq '{apiVersion: "v1", kind: "List", items: [.[] | select(.kind != "ServiceMonitor")]}' \
		"$TMP/$label.json" >"$TMP/$label-list.json"
	k apply --dry-run=server -f "$TMP/$label-list.json" >"$TMP/$label.out" 2>&1
	count=$(jq length "$TMP/$label.json")
	for ((i = 0; i < count; i++)); do
		kind=$(jq -r ".[$i].kind" "$TMP/$label.json")
		name=$(jq -r ".[$i].metadata.name" "$TMP/$label.json")
		if [ "$kind" = ServiceMonitor ]; then
			skip "$label: $kind/$name (no monitoring.coreos.com CRD here)"
			continue
		fi
		line=$(grep -i "^${kind}[a-z0-9.-]*/$name " "$TMP/$label.out")
		like "$line" ' (created|configured|unchanged) \(server dry run\)$' \
			"$label: the apiserver accepts $kind/$name"
	done
	grep -iv '(server dry run)$' "$TMP/$label.out" | while IFS= read -r line; do diag "$line"; done
}

# The CRD first, for real: cluster-scoped kinds must exist before objects
# of that kind can be validated.
ok "the chart's CRD installs" quiet k apply -f "$CHART/crds/temperpolicy.yaml"
ok "... and is established" quiet k wait --for condition=established --timeout=30s \
	crd/temperpolicies.temper.io

"$HELM" template t "$CHART" --namespace temper-system >"$TMP/default.yaml" 2>"$TMP/helm.err" || bail "helm template failed"
"$HELM" template t "$CHART" --namespace temper-system -f "$ALL" >"$TMP/all.yaml" 2>"$TMP/helm.err" || bail "helm template failed"
apply_each default "$TMP/default.yaml"
apply_each all "$TMP/all.yaml"

# --- TemperPolicy validation -------------------------------------------------
policy() { # NAME SPEC-YAML
	printf 'apiVersion: temper.io/v1alpha1\nkind: TemperPolicy\nmetadata: {name: %s}\nspec: %s\n' "$1" "$2"
}
policy calm '{nodeSelector: {matchLabels: {pool: batch}}, safeMode: true}' >"$TMP/p1.yaml"
ok "a TemperPolicy is accepted" quiet k apply -f "$TMP/p1.yaml"
policy sloppy '{safeMode: "yes"}' >"$TMP/p2.yaml"
like "$(k apply --dry-run=server -f "$TMP/p2.yaml" 2>&1)" 'spec.safeMode: Invalid value: "string": spec.safeMode in body must be of type boolean' \
	"... one whose safeMode is not a boolean is refused"
policy odd '{nodeSelector: {matchExpressions: [{key: pool, operator: Near}]}}' >"$TMP/p3.yaml"
like "$(k apply --dry-run=server -f "$TMP/p3.yaml" 2>&1)" 'Unsupported value: "Near"' \
	"... and so is a selector with an unknown operator"
is "$(k get temperpolicy calm -o jsonpath='{.spec.safeMode}')" true "the stored policy keeps safeMode"
k patch temperpolicy calm --subresource=status --type=merge \
	-p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Applied","message":"1 node","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null 2>&1
is "$(k get temperpolicy calm -o jsonpath='{.status.conditions[0].reason}')" Applied \
	"status.conditions is written through the status subresource"
is "$(k get temperpolicy calm -o jsonpath='{.spec.safeMode}')" true "... which leaves spec alone"

# --- the second scheduler -------------------------------------------------------
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 4 >/dev/null || bail "mknode failed"
cat >"$TMP/pod.yaml" <<'POD'
apiVersion: v1
kind: Pod
metadata: {name: through-temper, namespace: default}
spec:
  schedulerName: temper-scheduler
  containers: [{name: c, image: registry.invalid/app:1, resources: {requests: {cpu: 100m}}}]
POD
k apply -f "$TMP/pod.yaml" >/dev/null
ok "the temper-scheduler profile places a pod that asks for it (the unreachable extender is ignorable)" \
	wait_eq node-a k get pod through-temper -o 'jsonpath={.spec.nodeName}'
like "$(grep -i extender "$CD/logs/kube-scheduler.log" | head -n 5)" 't-temper-extender' \
	"... after trying the extender at its Service address"
sed 's/through-temper/default-scheduler/; /schedulerName/d' "$TMP/pod.yaml" | k apply -f - >/dev/null
sleep 2
is "$(k get pod default-scheduler -o 'jsonpath={.spec.nodeName}')" "" \
	"a pod that does not ask for temper-scheduler is left to the default scheduler"
done_testing
