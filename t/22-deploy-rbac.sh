#!/bin/bash
# t/22-deploy-rbac.sh - the chart installed for real (helm install into the
# real kube-apiserver, every part on): each role's ServiceAccount can do
# what its role needs and is refused the rest (kubectl auth can-i --as, a
# matrix of allowed and denied requests); the real agent, running with
# nothing but its ServiceAccount's token, becomes ready and annotates its
# node; the webhook is called only in namespaces that opted in; upgrades
# keep the generated certificate; uninstall removes what it made.  The
# chart's admission policy keeps each agent to its own Node's annotations.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/cluster/versions.sh"

CHART=$TOP_SRCDIR/deploy/helm/temper
ALL=$CHART/ci/all-enabled-values.yaml
NS=temper-system
why=$("$CLUSTER_TOOLS/available" k8s helm 2>&1) ||
	skip_all "control plane or helm not built: $(echo "$why" | head -n1) (run t/cluster/build k8s helm)"
command -v jq >/dev/null || skip_all "jq is missing"
export HELM_CACHE_HOME=$TMP/helm/cache HELM_CONFIG_HOME=$TMP/helm/config HELM_DATA_HOME=$TMP/helm/data

quiet() {
	"$@" >"$TMP/quiet.out" 2>&1 && return 0
	diag "$(tail -n 15 "$TMP/quiet.out")"
	return 1
}

kube_up
h() { "$HELM" --kubeconfig="$KUBECONFIG" "$@"; }
# prometheus-operator's CRD is not part of this control plane; the webhook
# fails closed here so that a call to it shows.
install_args=(-n "$NS" -f "$ALL" --set metrics.serviceMonitor.enabled=false
	--set webhook.failurePolicy=Fail --set webhook.timeoutSeconds=2)
ok "helm install (every part on)" quiet h install t "$CHART" --create-namespace "${install_args[@]}"
is "$(h status t -n "$NS" -o json | jq -r .info.status)" deployed "the release is deployed"
is "$(k get crd temperpolicies.temper.io -o name 2>/dev/null)" \
	"customresourcedefinition.apiextensions.k8s.io/temperpolicies.temper.io" "the CRD came with it (crds/)"

# --- the pods the workloads would make -----------------------------------------
# No controller-manager runs here, so no DaemonSet or Deployment makes a pod;
# make each one's pod by hand (dry run) to have it admitted: its
# ServiceAccount and PriorityClass exist, and Pod Security accepts it.  The
# cluster roles' pods meet the "restricted" standard; the agent needs a
# namespace that allows privileged pods.
k get daemonsets,deployments -n "$NS" -o json | jq -c '.items[] |
	{apiVersion: "v1", kind: "Pod", metadata: {name: (.metadata.name + "-probe")},
	 spec: .spec.template.spec}' >"$TMP/pods.jsonl"
k create namespace restricted >/dev/null
k label namespace restricted pod-security.kubernetes.io/enforce=restricted >/dev/null
for sa in $(k -n "$NS" get serviceaccounts -l app.kubernetes.io/instance=t -o name); do
	k -n restricted create serviceaccount "${sa#*/}" >/dev/null
done
while IFS= read -r pod; do
	name=$(jq -r .metadata.name <<<"$pod")
	out=$(k -n "$NS" create --dry-run=server -f - <<<"$pod" 2>&1)
	like "$out" 'created \(server dry run\)' "a pod of ${name%-probe} is admitted in $NS"
	out=$(k -n restricted create --dry-run=server -f - <<<"$pod" 2>&1)
	case $name in
	*agent*) like "$out" 'violates PodSecurity "restricted:latest"' \
		"... and refused where Pod Security enforces restricted (it is privileged)" ;;
	*) like "$out" 'created \(server dry run\)' "... and under Pod Security restricted too" ;;
	esac
done <"$TMP/pods.jsonl"

# --- least privilege, role by role -------------------------------------------------
# can ROLE WANT VERB RESOURCE [kubectl auth can-i args]: one test point.
can() {
	local role=$1 want=$2 got
	shift 2
	got=$(k auth can-i "$@" --as="system:serviceaccount:$NS:t-temper-$role" 2>/dev/null)
	is "$got" "$want" "$role: can-i $* -> $want"
}

can agent yes list pods -A
can agent yes watch pods -A
can agent yes get nodes
can agent yes list nodes
can agent yes watch nodes
can agent yes patch nodes
can agent no get pods -n default
can agent no create pods -n default
can agent no delete pods -n default
can agent no update pods -n default
can agent no patch nodes --subresource=status
can agent no delete nodes
can agent no list secrets -A
can agent no get configmaps -n "$NS"
can agent no list temperpolicies.temper.io

can extender yes list nodes
can extender yes watch nodes
can extender no patch nodes
can extender no list pods -A
can extender no get secrets -n "$NS"

can webhook no list namespaces
can webhook no get pods -n default
can webhook no list nodes
can webhook no get secrets -n "$NS"

can controller yes list temperpolicies.temper.io
can controller yes watch temperpolicies.temper.io
can controller yes patch temperpolicies.temper.io --subresource=status
can controller yes update temperpolicies.temper.io --subresource=status
can controller yes list nodes
can controller yes patch nodes
can controller no patch temperpolicies.temper.io
can controller no create temperpolicies.temper.io
can controller no delete nodes
can controller no list pods -A
can controller no get secrets -n "$NS"

can dashboard yes list pods -A
can dashboard yes list nodes
can dashboard yes list namespaces
can dashboard yes list priorityclasses.scheduling.k8s.io
can dashboard yes create temperpolicies.temper.io
can dashboard yes delete temperpolicies.temper.io
can dashboard yes patch nodes
can dashboard yes create events -n default
can dashboard no update nodes
can dashboard no delete nodes
can dashboard no patch nodes --subresource=status
can dashboard no delete pods -n default
can dashboard no create pods --subresource=exec -n default
can dashboard no get secrets -n "$NS"

can scheduler yes create pods --subresource=binding -n default
can scheduler yes get leases.coordination.k8s.io/temper-scheduler -n "$NS"
can scheduler yes update leases.coordination.k8s.io/temper-scheduler -n "$NS"
can scheduler no update leases.coordination.k8s.io/someone-else -n "$NS"
can scheduler no get secrets -n "$NS"

# --- the real agent with only its own token ------------------------------------------
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 4 >/dev/null || bail "mknode failed"
"$CLUSTER_TOOLS/mknode" "$CD" node-b --cpus 4 >/dev/null || bail "mknode failed"
# The token the kubelet would mount: bound to an agent pod on node-a, so it
# carries the node name the chart's admission policy checks.
cat <<POD | k apply -f - >/dev/null || bail "cannot create the agent pod"
apiVersion: v1
kind: Pod
metadata: {name: agent-on-node-a, namespace: $NS}
spec:
  nodeName: node-a
  serviceAccountName: t-temper-agent
  containers: [{name: c, image: registry.invalid/temperd:1}]
POD
token=$(k -n "$NS" create token t-temper-agent --duration=1h \
	--bound-object-kind=Pod --bound-object-name=agent-on-node-a) || bail "kubectl create token failed"
cat >"$TMP/agent.kubeconfig" <<CONF
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: "$APISERVER_URL"
    certificate-authority: "$CA_CERT"
users:
- name: agent
  user:
    token: "$token"
contexts:
- name: c
  context:
    cluster: c
    user: agent
current-context: c
CONF
at_exit "rm -f '$TMP/agent.kubeconfig' '$TMP/unbound.kubeconfig'"
agent_k() { "$KUBECTL" --kubeconfig="$TMP/agent.kubeconfig" --request-timeout=20s "$@"; }
like "$(agent_k get secrets -A 2>&1)" 'Forbidden' "the agent's token is refused secrets"
like "$(agent_k get pods -A --field-selector spec.nodeName=node-a -o name 2>&1)" '^$|^pod/' \
	"... and may list the pods of its node"

if [ -x "$TEMPERD" ]; then
	mkdir -p "$TMP/cgroup" "$TMP/state"
	echo "cpu cpuset memory" >"$TMP/cgroup/cgroup.controllers"
	port=$(free_port)
	start_temperd agent --role=agent --kubeconfig="$TMP/agent.kubeconfig" --node-name=node-a \
		--listen="127.0.0.1:$port" --state-dir="$TMP/state" --cgroup-root="$TMP/cgroup" \
		--enforcement=off
	ok "the real agent, with the chart's rights only, becomes ready" \
		wait_eq 200 http_status "http://127.0.0.1:$port/readyz"
	distribution() { k get node node-a -o 'jsonpath={.metadata.annotations.temper\.io/qos-distribution}'; }
	annotated() { [ -n "$(distribution)" ]; }
	ok "... and writes its node's temper.io/qos-distribution" wait_for annotated
	like "$(distribution)" '"critical":' \
		"... with every tier counted"
	is "$(grep -c 'level=warn.*403\|Forbidden\|forbidden' "$TMP/agent.log")" 0 \
		"the agent met no refusal"
	kill -TERM "$TEMPERD_PID" 2>/dev/null
	wait "$TEMPERD_PID"
else
	for i in 1 2 3 4; do skip "temperd is not built ($TEMPERD)"; done
fi

# --- each agent on its own node only (ValidatingAdmissionPolicy) --------------
like "$(agent_k annotate node node-b temper.io/qos-distribution=x --overwrite 2>&1)" \
	'may not change node "node-b"' "the agent of node-a may not annotate node-b (RBAC alone would let it)"
like "$(agent_k annotate node node-a example.com/other=x 2>&1)" \
	'only temper.io/ and infera.io/ annotations' "... nor write annotations other than Temper's on its own node"
like "$(agent_k label node node-a example.com/role=x 2>&1)" \
	"may not change a node's labels or spec" "... nor its labels"
like "$(agent_k annotate node node-a temper.io/safe-mode-requested- 2>&1)" 'annotated' \
	"... while Temper's own annotations on node-a are its to change"
unbound=$(k -n "$NS" create token t-temper-agent --duration=10m)
sed "s|token: .*|token: \"$unbound\"|" "$TMP/agent.kubeconfig" >"$TMP/unbound.kubeconfig"
like "$("$KUBECTL" --kubeconfig="$TMP/unbound.kubeconfig" annotate node node-a temper.io/x=1 2>&1)" \
	'may not change node "node-a"' "a token bound to no pod on a node may change no node"
like "$(k annotate node node-b temper.io/safe-mode-requested=true \
	--as="system:serviceaccount:$NS:t-temper-controller" 2>&1)" 'annotated' \
	"the policy is the agent's alone: the controller still marks any node"

# --- the webhook's namespace opt-in, live ------------------------------------------------
"$CLUSTER_TOOLS/mkns" "$CD" opted --label temper.io/overcommit=enabled >/dev/null || bail "mkns failed"
"$CLUSTER_TOOLS/mkns" "$CD" plain >/dev/null || bail "mkns failed"
pod_in() {
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: %s}\nspec: {containers: [{name: c, image: registry.invalid/app:1}]}\n' "$1" |
		k apply -f - 2>&1
}
like "$(pod_in opted)" 'failed calling webhook "overcommit.temper.io"' \
	"a pod in a namespace labelled temper.io/overcommit=enabled goes to the webhook"
like "$(pod_in plain)" 'pod/p created' "a pod elsewhere never does"

# --- upgrades and uninstall ------------------------------------------------------------------
crt() { k -n "$NS" get secret t-temper-webhook-tls -o 'jsonpath={.data.tls\.crt}'; }
before=$(crt)
ok "helm upgrade" quiet h upgrade t "$CHART" "${install_args[@]}"
is "$(crt)" "$before" "the upgrade keeps the generated webhook certificate"
is "$(k get mutatingwebhookconfiguration t-temper-webhook -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')" \
	"$(k -n "$NS" get secret t-temper-webhook-tls -o 'jsonpath={.data.ca\.crt}')" \
	"... and the caBundle still names its CA"
k -n "$NS" delete secret t-temper-webhook-tls >/dev/null
ok "helm upgrade after deleting the Secret (rotation)" quiet h upgrade t "$CHART" "${install_args[@]}"
isnt_same() { [ "$1" != "$2" ]; }
ok "... makes a new certificate" isnt_same "$(crt)" "$before"
is "$(k get mutatingwebhookconfiguration t-temper-webhook -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')" \
	"$(k -n "$NS" get secret t-temper-webhook-tls -o 'jsonpath={.data.ca\.crt}')" \
	"... and a caBundle to match"

ok "helm uninstall" quiet h uninstall t -n "$NS"
is "$(k get clusterroles,clusterrolebindings,priorityclasses,mutatingwebhookconfigurations -l app.kubernetes.io/instance=t -o name 2>&1)" "" \
	"uninstall removes the cluster-wide objects"
is "$(k -n "$NS" get all,serviceaccounts,configmaps,secrets -l app.kubernetes.io/instance=t -o name 2>&1)" "" \
	"... and the namespaced ones"
is "$(k get crd temperpolicies.temper.io -o name 2>/dev/null)" \
	"customresourcedefinition.apiextensions.k8s.io/temperpolicies.temper.io" \
	"the CRD stays (helm never deletes crds/; policies outlive the release)"
done_testing
