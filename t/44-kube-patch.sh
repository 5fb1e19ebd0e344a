#!/usr/bin/env bash
# t/44-kube-patch.sh - writes through the client against the real
# kube-apiserver: merge patches of node and pod metadata guarded by
# resourceVersion, a real 409 Conflict (a stale version) retried after a
# fresh read, key removal, the node decoder reading Temper's and the legacy
# infera.io annotations back, and create/delete of a pod.  Also the
# kubeconfig forms: inline -data certificates, and insecure-skip-tls-verify
# refused unless allowed.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
kube_require

plan 17
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 --allocatable-cpu 7500m >/dev/null
probe() { "$KUBE_PROBE" --kubeconfig "$KUBECONFIG" "$@" 2>>"$TMP/probe.err"; }
annotation() {
	k get node node-a -o json | jq -r --arg k "$1" '.metadata.annotations[$k] // "<none>"'
}

dist='{"critical":{"pods":1,"cpu_millis":2000}}'
out=$(probe patch /api/v1/nodes/node-a \
	--annotation "temper.io/qos-distribution=$dist" \
	--annotation temper.io/safe-mode-requested=true --label temper.io/agent=ready)
is "$out" "status=200 attempts=1 error=0" "a patch read first goes through at once"
is "$(annotation temper.io/qos-distribution)" "$dist" "the JSON annotation is on the node"
is "$(k get node node-a -o jsonpath='{.metadata.labels.temper\.io/agent}')" ready "the label too"

# A stale resourceVersion, as a cached node would carry: 409, re-read, retry.
stale=$(k get node node-a -o jsonpath='{.metadata.resourceVersion}')
k label node node-a someone-else=was-here >/dev/null
out=$(probe patch /api/v1/nodes/node-a --resource-version "$stale" \
	--annotation temper.io/safe-mode-requested=false)
is "$out" "status=200 attempts=2 error=0" "a stale version got 409 and the retry after a fresh read succeeded"
is "$(annotation temper.io/safe-mode-requested)" false "the retried patch landed"
ok "the conflict was logged" grep -q 'changed under us (409)' "$TMP/probe.err"
is "$(k get node node-a -o jsonpath='{.metadata.labels.someone-else}')" was-here \
	"the concurrent writer's change survived"

out=$(probe patch /api/v1/nodes/node-a --annotation temper.io/safe-mode-requested-)
is "$out" "status=200 attempts=1 error=0" "a removal patch"
is "$(annotation temper.io/safe-mode-requested)" "<none>" "KEY- removed the annotation"

k annotate node node-a infera.io/safe-mode-requested=true >/dev/null
"$CLUSTER_TOOLS/mknode" "$CD" node-b --cpus 4 >/dev/null
probe watch nodes --field-selector metadata.name=node-a --exit-after-sync \
	--dump "$TMP/nodes" >/dev/null
like "$(cat "$TMP/nodes")" "^node-a uid=[-0-9a-f]+ rv=[0-9]+ cpu_millis=7500 safe_mode=true qos_distribution=$(printf '%s' "$dist" | sed 's/[{}]/\\&/g')\$" \
	"one node by field selector; the decoder reads allocatable CPU, the legacy key and Temper's annotation"

cat >"$TMP/pod.json" <<-'JSON'
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"made-by-probe","namespace":"default"},
 "spec":{"nodeName":"node-a","containers":[{"name":"c","image":"x",
  "resources":{"requests":{"cpu":"1500m","memory":"1Gi"},"limits":{"cpu":"1500m","memory":"1Gi"}}}]}}
JSON
out=$(probe create /api/v1/namespaces/default/pods "$TMP/pod.json" | head -n1)
is "$out" "status=201" "create a pod"
is "$(k get pod made-by-probe -o jsonpath='{.status.qosClass}')" Guaranteed "it exists with its QoS class"
out=$(probe patch /api/v1/namespaces/default/pods/made-by-probe \
	--annotation temper.io/original-cpu-requests='{"c":"2"}')
is "$out" "status=200 attempts=1 error=0" "pod metadata patch"
out=$(probe delete '/api/v1/namespaces/default/pods/made-by-probe?gracePeriodSeconds=0' | head -n1)
is "$out" "status=200" "delete it with grace period 0"

# The same credentials inline (base64 -data fields), as kind and cloud
# kubeconfigs carry them.
b64() { base64 -w0 <"$1"; }
cat >"$TMP/inline.yaml" <<-YAML
	apiVersion: v1
	kind: Config
	current-context: inline   # a comment
	preferences: {}
	clusters:
	- name: c
	  cluster:
	    server: "$APISERVER_URL"
	    certificate-authority-data: $(b64 "$CA_CERT")
	contexts:
	- name: inline
	  context:
	    cluster: c
	    user: u
	users:
	- name: u
	  user:
	    client-certificate-data: $(b64 "$ADMIN_CERT")
	    client-key-data: $(b64 "$ADMIN_KEY")
YAML
out=$("$KUBE_PROBE" --kubeconfig "$TMP/inline.yaml" get /api/v1/nodes/node-a 2>&1 | head -n1)
is "$out" "status=200" "a kubeconfig with inline -data certificates authenticates"

cat >"$TMP/insecure.yaml" <<-YAML
	current-context: x
	contexts:
	- name: x
	  context:
	    cluster: c
	    user: u
	clusters:
	- name: c
	  cluster:
	    server: $APISERVER_URL
	    insecure-skip-tls-verify: true
	users:
	- name: u
	  user:
	    client-certificate: $ADMIN_CERT
	    client-key: $ADMIN_KEY
YAML
out=$("$KUBE_PROBE" --kubeconfig "$TMP/insecure.yaml" get /api/v1/nodes/node-a 2>&1 | head -n1)
like "$out" 'insecure-skip-tls-verify, which is refused unless allowed' \
	"insecure-skip-tls-verify is refused by default"
out=$("$KUBE_PROBE" --kubeconfig "$TMP/insecure.yaml" --allow-insecure \
	get /api/v1/nodes/node-a 2>&1 | head -n1)
is "$out" "status=200" "and works when explicitly allowed"
