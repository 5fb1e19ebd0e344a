#!/bin/bash
# t/90-webhook.sh - the webhook role called by the real kube-apiserver over
# HTTPS (caBundle, a serving certificate with IP SAN 127.0.0.1): pods in
# namespaces labelled temper.io/overcommit=enabled get their CPU requests
# scaled, other namespaces are never sent; critical and Guaranteed pods stay
# whole; a second webhook entry (the legacy infera.io label) is a no-op on a
# scaled pod; a resize is taken as asked; removing the label stops it, and
# the documented command restores the originals from the annotation; with
# the webhook down, failurePolicy Ignore admits pods unscaled.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"

why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
	skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
command -v jq >/dev/null || skip_all "jq is missing"
command -v openssl >/dev/null || skip_all "openssl is missing"
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 >/dev/null || bail "mknode failed"
"$CLUSTER_TOOLS/mkns" "$CD" over --label temper.io/overcommit=enabled >/dev/null
"$CLUSTER_TOOLS/mkns" "$CD" both --label temper.io/overcommit=enabled \
	--label infera.io/overcommit=enabled >/dev/null
"$CLUSTER_TOOLS/mkns" "$CD" plain >/dev/null
for pc in critical:1000000 high:100000 normal:0 low:-100 background:-1000; do
	printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
		"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
done

# The webhook's serving certificate, from the cluster's CA.
P=$TMP/pki
mkdir -p "$P"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/webhook.key" 2>/dev/null
openssl req -new -key "$P/webhook.key" -subj /CN=temper-webhook -out "$P/webhook.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n' >"$P/ext"
openssl x509 -req -in "$P/webhook.csr" -CA "$CD/pki/ca.crt" -CAkey "$CD/pki/ca.key" \
	-CAcreateserial -days 2 -extfile "$P/ext" -out "$P/webhook.crt" 2>/dev/null ||
	bail "cannot sign the webhook certificate"

port=$(free_port)
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
[tls]
cert = "$P/webhook.crt"
key = "$P/webhook.key"
CONF
api="https://127.0.0.1:$port"
start_temperd webhook --role=webhook --config="$TMP/temper.conf" -d
ok "the webhook serves over TLS" wait_eq 200 http_status "$api/readyz" --cacert "$CD/pki/ca.crt"

ca=$(base64 -w0 "$CD/pki/ca.crt")
entry() { # NAME LABEL
	cat <<ENTRY
- name: $1
  clientConfig: {url: "https://127.0.0.1:$port/mutate", caBundle: "$ca"}
  rules:
  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods], scope: Namespaced}
  - {operations: [UPDATE], apiGroups: [""], apiVersions: [v1], resources: [pods/resize], scope: Namespaced}
  namespaceSelector: {matchLabels: {$2: enabled}}
  failurePolicy: Ignore
  reinvocationPolicy: IfNeeded
  sideEffects: None
  timeoutSeconds: 5
  admissionReviewVersions: [v1]
ENTRY
}
{
	printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\n'
	printf 'metadata: {name: temper-overcommit}\nwebhooks:\n'
	entry overcommit.temper.io temper.io/overcommit
	entry overcommit-legacy.temper.io infera.io/overcommit
} >"$TMP/webhook.yaml"
k apply -f "$TMP/webhook.yaml" >/dev/null || bail "cannot register the webhook"

pod() { # NS NAME CLASS REQUESTS LIMITS [generate]
	local meta="name: $2"
	[ "${6-}" = generate ] && meta="generateName: $2-"
	cat <<POD
apiVersion: v1
kind: Pod
metadata: {$meta, namespace: $1}
spec:
  nodeName: node-a
  ${3:+priorityClassName: $3}
  containers:
  - {name: app, image: registry.invalid/app:1, resources: {requests: {$4}${5:+, limits: {$5\}}}}
  - {name: side, image: registry.invalid/side:1, resources: {requests: {cpu: 300m}}}
POD
}
probe_cpu() { # what a dry-run creation in NS would store
	pod "$1" probe "" "cpu: 1" "" | k create --dry-run=server -o json -f - 2>/dev/null |
		jq -r '.spec.containers[0].resources.requests.cpu'
}
WAIT_SECONDS=60 ok "the apiserver calls the webhook once the configuration is active" \
	wait_eq 500m probe_cpu over

req() { k get pod -n "$1" "$2" -o json | jq -r '[.spec.containers[] | .resources.requests.cpu // "-"] | join(",")'; }
lim() { k get pod -n "$1" "$2" -o json | jq -r '[.spec.containers[] | .resources.limits.cpu // "-"] | join(",")'; }
ann() { k get pod -n "$1" "$2" -o json | jq -r '.metadata.annotations["temper.io/original-cpu-requests"] // "none"'; }
qos() { k get pod -n "$1" "$2" -o jsonpath='{.status.qosClass}'; }

pod over web "" "cpu: 1, memory: 64Mi" "cpu: 2" | k create -f - >/dev/null 2>"$TMP/web.warn"
is "$(req over web)" "500m,150m" "a Burstable pod in a labelled namespace has its CPU requests halved"
is "$(lim over web)" "2,-" "... its limits untouched"
is "$(ann over web)" '{"app":"1","side":"300m"}' "... the originals recorded in temper.io/original-cpu-requests"
like "$(cat "$TMP/web.warn")" 'Warning: temper: CPU requests of 2 containers scaled by 0.5' \
	"... and kubectl shows the webhook's warning"

pod over db temper-critical "cpu: 2" "" | k create -f - >/dev/null
is "$(req over db)" "2,300m" "a critical pod keeps its requests"
is "$(ann over db)" none "... and gets no annotation"

pod over guaranteed "" "cpu: 1, memory: 64Mi" "cpu: 1, memory: 64Mi" |
	sed 's/resources: {requests: {cpu: 300m}}/resources: {requests: {cpu: 300m, memory: 8Mi}, limits: {cpu: 300m, memory: 8Mi}}/' |
	k create -f - >/dev/null 2>"$TMP/guaranteed.warn"
is "$(req over guaranteed)" "1,300m" "a Guaranteed pod keeps its requests (guaranteed = skip)"
is "$(qos over guaranteed)" Guaranteed "... and so stays Guaranteed"
like "$(cat "$TMP/guaranteed.warn")" 'Warning: temper: Guaranteed QoS: left unscaled' "... kubectl says why"

pod over tiny temper-low "cpu: 15m" "" | k create -f - >/dev/null 2>&1
is "$(req over tiny)" "10m,150m" "requests are scaled no lower than the floor (10m)"

name=$(pod over batch "" "cpu: 1" "" generate | k create -o name -f - 2>/dev/null)
is "$(req over "${name#pod/}")" "500m,150m" "a pod named by generateName is scaled too"

pod plain web "" "cpu: 1" "" | k create -f - >/dev/null
is "$(req plain web)" "1,300m" "a pod in an unlabelled namespace keeps its requests"
is "$(ann plain web)" none "... and gets no annotation"

pod both web "" "cpu: 1" "" | k create -f - >/dev/null 2>&1
is "$(req both web)" "500m,150m" "two webhook entries matching one namespace scale only once"
log=$TMP/webhook.log
ok "... the second call found the pod already scaled" \
	grep -q 'pod both/web (normal) skip_already_scaled' "$log"
ok "the webhook was never sent the unlabelled namespace's pod" \
	bash -c "! grep -q 'pod plain/' '$log'"
like "$(cat "$log")" 'pod over/web \(normal\): CPU requests of 2 containers scaled by 0.5 \(floor 10m\): 1300m -> 650m' \
	"each change is logged with the pod's name"
like "$(cat "$log")" 'pod over/db \(critical\) skip_critical' "... and each refusal"
like "$(cat "$log")" 'pod over/batch-\*' "... a generated name as its prefix"
metrics=$(curl -s --cacert "$CD/pki/ca.crt" "$api/metrics")
like "$metrics" 'temper_webhook_admissions_total\{action="scaled"\} [1-9]' "the metric counts scaled pods"

# In-place resize: the new values are taken as asked, not scaled again.
if k patch pod web -n over --subresource resize \
	-p '{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"800m"}}}]}}' \
	>"$TMP/resize.out" 2>&1; then
	is "$(req over web)" "800m,150m" "a resize keeps the request the user asked for"
	ok "... the webhook saw it and left it" grep -q 'pod over/web (normal) skip_resize' "$log"
	is "$(ann over web)" '{"app":"1","side":"300m"}' "... the creation's originals stay recorded"
else
	ok "resize through the subresource: $(head -c 300 "$TMP/resize.out")" false
fi

# Reversal: remove the label; new pods are left alone ...
k label namespace over temper.io/overcommit- >/dev/null
WAIT_SECONDS=60 ok "without the label new pods in the namespace keep their requests" \
	wait_eq 1 probe_cpu over
# ... and the documented command restores a pod from its annotation (on a
# real cluster: `... | kubectl replace --force -f -`; here no kubelet
# finishes a delete, so the test deletes with kdelete and creates).
restore='(.metadata.annotations["temper.io/original-cpu-requests"] | fromjson) as $original
  | .spec.containers |= map(if $original[.name] then .resources.requests.cpu = $original[.name] else . end)
  | if .spec.initContainers then .spec.initContainers |= map(if $original[.name]
      then .resources.requests.cpu = $original[.name] else . end) else . end
  | del(.metadata.annotations["temper.io/original-cpu-requests"], .metadata.resourceVersion,
      .metadata.uid, .metadata.creationTimestamp, .status)'
k get pod -n over tiny -o json | jq "$restore" >"$TMP/tiny.json"
"$CLUSTER_TOOLS/kdelete" "$CD" pod -n over tiny >/dev/null 2>&1
k create -f "$TMP/tiny.json" >/dev/null
is "$(req over tiny)" "15m,300m" "the restore command brings back the original requests"
is "$(ann over tiny)" none "... and drops the annotation"

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the webhook stops cleanly"

# failurePolicy Ignore: with the webhook gone, pods are still admitted, unscaled.
k label namespace over temper.io/overcommit=enabled >/dev/null
pod over late "" "cpu: 1" "" | k create -f - >/dev/null 2>"$TMP/late.err"
is "$(req over late)" "1,300m" "with the webhook down (failurePolicy Ignore) a pod is admitted unscaled"
ok "... and the apiserver logs that it failed open" \
	grep -q 'failing open.*overcommit.temper.io' "$CD/logs/kube-apiserver.log"
done_testing
