#!/bin/bash
# t/20-deploy-helm.sh - the helm chart (deploy/helm/temper) with the real
# helm: lint and template for the default values and with every part on;
# what the rendered objects promise: complement mode by default, the tiers'
# PriorityClass values, the agent's flags, privileges, probes and mounts,
# the canary split, each role's own ServiceAccount and exact RBAC rules,
# the webhook's certificates and namespace opt-in, the second scheduler's
# extender URL; temper.conf rendered from values is accepted by temperd -n.
# The apiserver's verdict on the same objects is t/21 and t/22.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/cluster/versions.sh"

CHART=$TOP_SRCDIR/deploy/helm/temper
ALL=$CHART/ci/all-enabled-values.yaml
component_built helm ||
	skip_all "helm $HELM_VERSION is not built: $("$TOP_SRCDIR/t/cluster/available" helm | head -n1)"
command -v jq >/dev/null || skip_all "jq is missing"
python3 -c 'import yaml' 2>/dev/null || skip_all "python3 with PyYAML is missing"
command -v openssl >/dev/null || skip_all "openssl is missing"

export HELM_CACHE_HOME=$TMP/helm/cache HELM_CONFIG_HOME=$TMP/helm/config HELM_DATA_HOME=$TMP/helm/data

# render NAME [helm template args]: $TMP/NAME.yaml and $TMP/NAME.json.
render() {
	local name=$1
	shift
	"$HELM" template t "$CHART" --namespace temper-system "$@" >"$TMP/$name.yaml" 2>"$TMP/$name.err" &&
		python3 "$TOP_SRCDIR/t/deploy/objects.py" "$TMP/$name.yaml" >"$TMP/$name.json"
}
# quiet CMD...: run CMD with its output kept aside, shown only when it fails.
quiet() {
	"$@" >"$TMP/quiet.out" 2>&1 && return 0
	diag "$(tail -n 15 "$TMP/quiet.out")"
	return 1
}
# q NAME JQ: a jq query on a rendering, compact output.
q() {
	jq -c "$2" "$TMP/$1.json"
}
# conf NAME: the rendered temper.conf of a rendering.
conf() {
	jq -r '.[] | select(.kind == "ConfigMap" and .data["temper.conf"]) | .data["temper.conf"]' "$TMP/$1.json"
}

ok "helm lint --strict (default values)" quiet "$HELM" lint --strict "$CHART"
ok "helm lint --strict (every part enabled)" quiet "$HELM" lint --strict "$CHART" -f "$ALL"
ok "helm template (default values)" render default
ok "helm template (every part enabled)" render all -f "$ALL"

# --- values.schema.json --------------------------------------------------------
"$HELM" template t "$CHART" --set agent.enforcment=off >/dev/null 2>"$TMP/typo.err"
like "$(cat "$TMP/typo.err")" "additional properties 'enforcment' not allowed" \
	"values.schema.json refuses a misspelt value"
"$HELM" template t "$CHART" --set agent.enforcement=strict >/dev/null 2>"$TMP/enum.err"
like "$(cat "$TMP/enum.err")" "value must be one of 'auto', 'scx', 'cgroup', 'off'" \
	"... and an enforcement mode temperd does not have"
"$HELM" template t "$CHART" --set webhook.timeoutSeconds=60 >/dev/null 2>"$TMP/timeout.err"
like "$(cat "$TMP/timeout.err")" "/webhook/timeoutSeconds" "... and a webhook timeout the apiserver would refuse"

# --- complement mode by default -----------------------------------------
is "$(q default '[.[].kind] | unique | join(" ")')" \
	'"ClusterRole ClusterRoleBinding ConfigMap DaemonSet PriorityClass Service ServiceAccount ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding"' \
	"defaults: the agent alone (no extender, webhook, controller or dashboard)"
is "$(q all '[.[].kind] | unique | join(" ")')" \
	'"ClusterRole ClusterRoleBinding ConfigMap DaemonSet Deployment MutatingWebhookConfiguration PriorityClass Role RoleBinding Secret Service ServiceAccount ServiceMonitor ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding"' \
	"every part enabled: the kinds of all the parts"
is "$(q all '[.[] | select(.kind == "Deployment") | .metadata.name] | sort | join(" ")')" \
	'"t-temper-controller t-temper-dashboard t-temper-extender t-temper-scheduler t-temper-webhook"' \
	"every part enabled: a Deployment per optional role and the second scheduler"

# --- PriorityClasses --------------------------------------------------------
is "$(q default '[.[] | select(.kind == "PriorityClass") | "\(.metadata.name)=\(.value)"] | join(" ")')" \
	'"temper-critical=1000000 temper-high=100000 temper-normal=0 temper-low=-100 temper-background=-1000"' \
	"the five tier PriorityClasses with the contract's values"
is "$(q default '[.[] | select(.kind == "PriorityClass") | "\(.metadata.name):\(.preemptionPolicy)"] | join(" ")')" \
	'"temper-critical:PreemptLowerPriority temper-high:PreemptLowerPriority temper-normal:PreemptLowerPriority temper-low:Never temper-background:Never"' \
	"low and background never preempt"
render no-classes --set priorityClasses.create=false
is "$(q no-classes '[.[] | select(.kind == "PriorityClass")] | length')" 0 \
	"priorityClasses.create=false renders none"

# --- the agent DaemonSet -----------------------------------------------------
agent='.[] | select(.kind == "DaemonSet" and .metadata.name == "t-temper-agent") | .spec.template.spec'
is "$(q default "[$agent | .containers[0].args[]] | join(\" \")")" \
	'"--role=agent --config=/etc/temper/temper.conf --node-name=$(NODE_NAME) --listen=0.0.0.0:9470 --state-dir=/run/temper --cgroup-root=/sys/fs/cgroup --sysfs-root=/sys --enforcement=auto"' \
	"the agent's flags (temperd(8))"
is "$(q default "$agent | .containers[0].env")" \
	'[{"name":"NODE_NAME","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}]' \
	"NODE_NAME comes from the downward API"
is "$(q default "$agent | [.hostPID, .containers[0].securityContext.privileged]")" '[true,true]' \
	"privileged, with the host's PID namespace"
is "$(q default "$agent | .tolerations")" '[{"operator":"Exists"}]' "tolerates every taint"
is "$(q default '.[] | select(.kind == "DaemonSet") | .spec.updateStrategy')" \
	'{"rollingUpdate":{"maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}' \
	"rolling updates, one node at a time, never two agents on a node"
is "$(q default "$agent | .containers[0] | [.livenessProbe.httpGet.path, .readinessProbe.httpGet.path]")" \
	'["/healthz","/readyz"]' "liveness on /healthz, readiness on /readyz"
is "$(q default "$agent | [.volumes[] | select(.hostPath) | .hostPath.path] | join(\" \")")" \
	'"/sys /sys/fs/cgroup /run/temper"' "/sys, the cgroup tree and the state directory come from the host"
is "$(q default "$agent | [.containers[0].volumeMounts[] | .mountPath] | join(\" \")")" \
	'"/etc/temper /sys /sys/fs/cgroup /run/temper"' "... mounted where the flags point"
is "$(q default '.[] | select(.kind == "DaemonSet") | .spec.template.metadata.annotations | [.["prometheus.io/scrape"], .["prometheus.io/port"], .["prometheus.io/path"]]')" \
	'["true","9470","/metrics"]' "Prometheus scrape annotations"
render no-annotations --set metrics.podAnnotations=false
is "$(q no-annotations '[.[] | select(.kind == "DaemonSet") | .spec.template.metadata.annotations | keys[] | select(startswith("prometheus.io"))] | length')" 0 \
	"metrics.podAnnotations=false drops them"

is "$(q default '.[] | select(.kind == "ValidatingAdmissionPolicy") | .spec.matchConditions[0].expression')" \
	'"request.userInfo.username == \"system:serviceaccount:temper-system:t-temper-agent\""' \
	"the own-node admission policy applies to the agent's ServiceAccount"
render no-policy --set agent.ownNodeOnly=false
is "$(q no-policy '[.[] | select(.kind | startswith("ValidatingAdmissionPolicy"))] | length')" 0 \
	"agent.ownNodeOnly=false leaves it out"

# --- canary -------------------------------------------------------------------
canary='.[] | select(.kind == "DaemonSet" and .metadata.name == "t-temper-agent-canary")'
is "$(q all "$agent | .affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")" \
	'[{"matchExpressions":[{"key":"temper.io/canary","operator":"NotIn","values":["true"]}]}]' \
	"canary on: the main DaemonSet keeps off the canary nodes"
is "$(q all "$canary | .spec.template.spec.nodeSelector")" '{"temper.io/canary":"true"}' \
	"... the canary DaemonSet runs only on them"
is "$(q all "[$agent | .containers[0].image] + [$canary | .spec.template.spec.containers[0].image]")" \
	'["temper/temperd:0.1.0","temper/temperd:0.2.0-rc1"]' "... with the canary image"
is "$(q all '[.[] | select(.kind == "DaemonSet") | .spec.selector.matchLabels["app.kubernetes.io/component"]] | unique | length')" 2 \
	"... and a selector of its own"
is "$(q all '[.[] | select(.kind == "DaemonSet") | .spec.template.metadata.labels["temper.io/role"]] | unique')" '["agent"]' \
	"both are agents to the agent Service"
"$HELM" template t "$CHART" --set agent.canary.enabled=true --set agent.canary.nodeSelector=null \
	>/dev/null 2>"$TMP/canary.err"
like "$(cat "$TMP/canary.err")" 'agent.canary.nodeSelector must name the canary nodes' \
	"a canary without canary nodes is refused"

# --- temper.conf and profiles ---------------------------------------------------
like "$(conf default)" $'\\[kubernetes\\]\nlegacy_annotations = true' "legacyAnnotations (default on) reaches [kubernetes] legacy_annotations"
like "$(conf all)" $'\\[kubernetes\\]\nlegacy_annotations = false' "... and legacyAnnotations=false turns it off"
like "$(conf all)" $'\\[planner.slice_us\\]\nbackground = 2000' "nested tables become [section.sub]"
like "$(conf all)" $'\\[priority_mapping\\]\ncritical = 1000000\nlow = -100' "integers, negative ones too, stay integers"
is "$(q all '[.[] | select(.kind == "ConfigMap") | .data | keys[]] | sort | join(" ")')" \
	'"profile-latency.toml scheduler.yaml temper.conf"' "profiles from values land in the ConfigMap"
is "$(q all "$agent | .volumes[0].configMap.items | map(.path) | join(\" \")")" \
	'"temper.conf profiles/latency.toml"' "... and in /etc/temper/profiles/ of the agent"
"$HELM" template t "$CHART" --set 'profiles.Bad/Name=x' >/dev/null 2>"$TMP/profile.err"
like "$(cat "$TMP/profile.err")" 'a profile name is lower-case letters' "a profile name that is no file name is refused"
if [ -x "$TEMPERD" ]; then
	conf default >"$TMP/default.conf"
	conf all >"$TMP/all.conf"
	ok "temperd -n accepts the default temper.conf" quiet "$TEMPERD" -n --config="$TMP/default.conf"
	ok "temperd -n accepts the every-part temper.conf" quiet "$TEMPERD" -n --config="$TMP/all.conf"
	render bogus --set config.planner.no_such_key=1
	conf bogus >"$TMP/bogus.conf"
	"$TEMPERD" -n --config="$TMP/bogus.conf" >/dev/null 2>"$TMP/bogus.err"
	is "$?" 2 "temperd -n refuses a temper.conf with an unknown key (the check above is real)"
else
	for i in 1 2 3; do skip "temperd is not built ($TEMPERD)"; done
fi

# --- one ServiceAccount per role, least privilege ---------------------------------
is "$(q all '[.[] | select(.kind == "DaemonSet" or .kind == "Deployment") | "\(.metadata.name)=\(.spec.template.spec.serviceAccountName)"] | sort | join(" ")')" \
	'"t-temper-agent-canary=t-temper-agent t-temper-agent=t-temper-agent t-temper-controller=t-temper-controller t-temper-dashboard=t-temper-dashboard t-temper-extender=t-temper-extender t-temper-scheduler=t-temper-scheduler t-temper-webhook=t-temper-webhook"' \
	"each role runs as its own ServiceAccount"
is "$(q all '[.[] | select(.kind == "ServiceAccount") | .metadata.name] | sort | join(" ")')" \
	'"t-temper-agent t-temper-controller t-temper-dashboard t-temper-extender t-temper-scheduler t-temper-webhook"' \
	"... and each exists"
rules() { q all ".[] | select(.kind == \"ClusterRole\" and .metadata.name == \"t-temper-$1\") | .rules"; }
is "$(rules agent)" \
	'[{"apiGroups":[""],"resources":["pods"],"verbs":["list","watch"]},{"apiGroups":[""],"resources":["nodes"],"verbs":["get","list","watch","patch"]}]' \
	"agent: list/watch pods, get/list/watch/patch nodes, nothing else"
is "$(rules extender)" '[{"apiGroups":[""],"resources":["nodes"],"verbs":["list","watch"]}]' \
	"extender: list/watch nodes, nothing else"
is "$(rules controller)" \
	'[{"apiGroups":["temper.io"],"resources":["temperpolicies"],"verbs":["get","list","watch"]},{"apiGroups":["temper.io"],"resources":["temperpolicies/status"],"verbs":["get","update","patch"]},{"apiGroups":[""],"resources":["nodes"],"verbs":["get","list","watch","patch"]}]' \
	"controller: read TemperPolicies, write their status, patch nodes"
is "$(rules dashboard | jq -c '[.[] | select(.verbs - ["get","list","watch"] != []) | {resources, verbs: (.verbs - ["get","list","watch"])}]')" \
	'[{"resources":["nodes"],"verbs":["patch"]},{"resources":["temperpolicies"],"verbs":["create","update","patch","delete"]},{"resources":["events"],"verbs":["create","patch"]},{"resources":["events"],"verbs":["create","patch"]}]' \
	"dashboard: read-mostly; writes only safe-mode node patches, TemperPolicies and Events"
is "$(q all '[.[] | select(.kind | test("Binding$")) | .subjects[]? | select(.name == "t-temper-webhook")] | length')" 0 \
	"webhook: bound to no role"
is "$(q all '.[] | select(.kind == "ServiceAccount" and .metadata.name == "t-temper-webhook") | .automountServiceAccountToken')" false \
	"... and mounts no token"
is "$(q all '[.[] | select(.kind == "Deployment" and .metadata.name != "t-temper-scheduler") | .spec.template.spec.containers[0].securityContext | [.runAsNonRoot, .readOnlyRootFilesystem, .allowPrivilegeEscalation, .capabilities.drop[0]]] | unique')" \
	'[[true,true,false,"ALL"]]' "the Deployments run as non-root, read-only, with no capabilities"

# --- webhook ----------------------------------------------------------------------
mwc='.[] | select(.kind == "MutatingWebhookConfiguration") | .webhooks[0]'
is "$(q all "$mwc | .namespaceSelector")" '{"matchLabels":{"temper.io/overcommit":"enabled"}}' \
	"the webhook sees only namespaces labelled temper.io/overcommit=enabled"
is "$(q all "$mwc | [.clientConfig.service.name, .clientConfig.service.path, .rules[0].operations, .rules[0].resources, .sideEffects, .admissionReviewVersions]")" \
	'["t-temper-webhook","/mutate",["CREATE"],["pods"],"None",["v1"]]' "... on pod CREATE, through its Service, POST /mutate"
secret='.[] | select(.kind == "Secret" and .metadata.name == "t-temper-webhook-tls") | .data'
q all "$mwc | .clientConfig.caBundle" | jq -r . | base64 -d >"$TMP/ca.crt"
q all "$secret | .[\"tls.crt\"]" | jq -r . | base64 -d >"$TMP/tls.crt"
q all "$secret | .[\"tls.key\"]" | jq -r . | base64 -d >"$TMP/tls.key"
ok "the generated serving certificate verifies against the caBundle" \
	quiet openssl verify -CAfile "$TMP/ca.crt" "$TMP/tls.crt"
like "$(openssl x509 -in "$TMP/tls.crt" -noout -ext subjectAltName 2>/dev/null)" \
	'DNS:t-temper-webhook\.temper-system\.svc' "... and names the Service the apiserver calls"
is "$(openssl x509 -in "$TMP/tls.crt" -noout -modulus | openssl md5)" \
	"$(openssl rsa -in "$TMP/tls.key" -noout -modulus 2>/dev/null | openssl md5)" "... and the key is its key"
is "$(q all '.[] | select(.kind == "Deployment" and .metadata.name == "t-temper-webhook") | .spec.template.spec | [(.containers[0].args | map(select(startswith("--tls"))) | join(" ")), (.volumes[] | select(.name == "tls") | .secret.secretName)]')" \
	'["--tls-cert=/etc/temper-tls/tls.crt --tls-key=/etc/temper-tls/tls.key","t-temper-webhook-tls"]' \
	"the webhook serves it (--tls-cert/--tls-key from the Secret)"
"$HELM" template t "$CHART" --set webhook.enabled=true --set webhook.tls.mode=secret >/dev/null 2>"$TMP/secret.err"
like "$(cat "$TMP/secret.err")" 'needs webhook.tls.existingSecret and webhook.tls.caBundle' \
	"tls.mode=secret without a Secret is refused"
render supplied --set webhook.enabled=true --set webhook.tls.mode=secret \
	--set webhook.tls.existingSecret=my-tls --set webhook.tls.caBundle=Q0E=
is "$(q supplied "[($mwc | .clientConfig.caBundle), ([.[] | select(.kind == \"Secret\")] | length), (.[] | select(.kind == \"Deployment\") | .spec.template.spec.volumes[] | select(.name == \"tls\") | .secret.secretName)]")" \
	'["Q0E=",0,"my-tls"]' "tls.mode=secret: the given CA and Secret, no generated one"

# --- extender and second scheduler ---------------------------------------------------
q all '.[] | select(.kind == "ConfigMap" and .metadata.name == "t-temper-scheduler") | .data["scheduler.yaml"]' |
	jq -r . | python3 "$TOP_SRCDIR/t/deploy/objects.py" >"$TMP/scheduler.json"
is "$(jq -c '.[0] | [.kind, .profiles[0].schedulerName, .extenders[0].urlPrefix, .extenders[0].filterVerb, .extenders[0].prioritizeVerb, .extenders[0].nodeCacheCapable]' "$TMP/scheduler.json")" \
	'["KubeSchedulerConfiguration","temper-scheduler","http://t-temper-extender.temper-system.svc:9471","filter","prioritize",true]' \
	"the second scheduler profile calls the extender's filter and prioritize"
is "$(q all '.[] | select(.kind == "Service" and .metadata.name == "t-temper-extender") | .spec.ports[0].port')" 9471 \
	"... at the extender Service's port"

# --- metrics ---------------------------------------------------------------------------
is "$(q all '[.[] | select(.kind == "ServiceMonitor") | .metadata.name] | sort | join(" ")')" \
	'"t-temper-agent t-temper-controller t-temper-dashboard t-temper-extender t-temper-webhook"' \
	"a ServiceMonitor per role when enabled"
is "$(q all '[.[] | select(.kind == "ServiceMonitor") | .spec.endpoints[0].relabelings[0].targetLabel] | unique')" '["node"]' \
	"... each adding the node label the dashboards group by"

# --- CRD -------------------------------------------------------------------------------
"$HELM" template t "$CHART" --include-crds >"$TMP/crds.yaml" 2>/dev/null
is "$(python3 "$TOP_SRCDIR/t/deploy/objects.py" "$TMP/crds.yaml" | jq -c '.[] | select(.kind == "CustomResourceDefinition") | [.spec.group, .spec.names.kind, .spec.versions[0].name, (.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties | keys)]')" \
	'["temper.io","TemperPolicy","v1alpha1",["nodeSelector","safeMode"]]' \
	"the chart carries the TemperPolicy CRD (temper.io/v1alpha1: spec.nodeSelector, spec.safeMode)"
is "$(readlink "$CHART/crds/temperpolicy.yaml")" ../../../crd/temperpolicy.yaml \
	"crds/temperpolicy.yaml is a link to deploy/crd/temperpolicy.yaml (one CRD, not two)"
mkdir -p "$TMP/package"
ok "helm package" quiet "$HELM" package "$CHART" -d "$TMP/package"
tar -tzf "$TMP/package"/temper-*.tgz >"$TMP/package.list" 2>/dev/null
like "$(cat "$TMP/package.list")" 'temper/crds/temperpolicy\.yaml' "the package holds the CRD"
tar -xzf "$TMP/package"/temper-*.tgz -C "$TMP/package" temper/crds/temperpolicy.yaml 2>/dev/null
ok "... as a file with deploy/crd/temperpolicy.yaml's bytes (helm follows the link)" \
	cmp "$TOP_SRCDIR/deploy/crd/temperpolicy.yaml" "$TMP/package/temper/crds/temperpolicy.yaml"
is "$(grep -c '/ci/' "$TMP/package.list")" 0 "... and not the test values"
done_testing
