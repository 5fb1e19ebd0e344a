#!/bin/bash
# t/35-agent.sh - the agent against the real kube-apiserver: pods created,
# changed and deleted drive the plan, the generations and the node
# annotation; safe mode follows the node annotation (and its legacy key);
# generations survive a restart; /readyz says why while the API is away.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"

why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
	skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
command -v jq >/dev/null || skip_all "jq is missing"
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 --allocatable-cpu 7500m >/dev/null ||
	bail "mknode failed"
for pc in critical:1000000 high:100000 normal:0 low:-100 background:-1000; do
	printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
		"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
done

# An 8-CPU machine (4 cores x 2 threads), whatever this one is.
sh "$TOP_SRCDIR/t/fixtures/mksysfs.sh" "$TMP/sysfs" >/dev/null || bail "mksysfs.sh failed"
SYSFS=$TMP/sysfs/8cpu-smt

# No kubelet runs here: the test plays its part, making each pod's cgroup
# (systemd driver, cgroup v2 layout) and then reporting the pod Running.
CGROOT=$TMP/cgroup
mkdir -p "$CGROOT"
echo "cpu cpuset memory" >"$CGROOT/cgroup.controllers"
port=$(free_port)
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$TMP/state"
[kubernetes]
kubeconfig = "$KUBECONFIG"
node_name = "node-a"
[node]
cgroup_root = "$CGROOT"
[planner]
debounce_ms = 100
CONF
api="http://127.0.0.1:$port"
start_temperd agent --config="$TMP/temper.conf" --sysfs-root="$SYSFS"
ok "the agent becomes ready once it has listed the node's pods" \
	wait_eq 200 http_status "$api/readyz"

config() { curl -s "$api/api/v1/config"; }
annotation() { k get node node-a -o "jsonpath={.metadata.annotations.$1}"; }
distribution() { annotation 'temper\.io/qos-distribution' | jq -c ".$1"; }
layer_names() { config | jq -r '[.[].name] | join(",")'; }
safe_mode_active() { curl -s "$api/api/v1/status" | jq .safe_mode.active; }

is "$(layer_names)" "system,open" "an empty node has the system and catch-all layers"
like "$(annotation 'temper\.io/enforcement-state')" '^plan-only$' \
	"the node annotation says plans are computed, not enforced"

kubelet() { "$CLUSTER_TOOLS/fake-kubelet" "$CD" "$CGROOT" "$1" >/dev/null; }

pod() { # NAME CLASS CPU
	cat <<POD | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  nodeName: node-a
  priorityClassName: $2
  containers: [{name: c, image: registry.invalid/app:1, resources: {requests: {cpu: "$3"}, limits: {cpu: "$3"}}}]
POD
	kubelet "$1"
}

pod db temper-critical 2
ok "a critical pod gets a critical layer" wait_eq "critical,system,open" layer_names
is "$(config | jq -c '.[0].kind.Confined.cpus_range')" "[2,2]" \
	"... confined to the two whole cores its 2 CPUs need"
ok "the node annotation counts it" wait_eq '{"pods":1,"cpu_millis":2000}' distribution critical
is "$(annotation 'infera\.io/qos-distribution' | jq -c .critical)" '{"pods":1,"cpu_millis":2000}' \
	"... under the legacy infera.io key too"

pod batch temper-background 500m
cat <<POD | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: besteffort, namespace: default}
spec:
  nodeName: node-a
  containers: [{name: c, image: registry.invalid/app:1}]
POD
kubelet besteffort
ok "background pods get their layer" wait_eq "critical,background,system,open" layer_names
pods=$(curl -s "$api/api/v1/pods")
is "$(jq -r '.[] | select(.name == "besteffort") | .tier' <<<"$pods")" background \
	"a BestEffort pod without a class is background"
like "$(jq -r '.[] | select(.name == "db") | .why' <<<"$pods")" \
	'priority 1000000 \(class temper-critical\) >= critical threshold 1000000' "each pod says why"
is "$(jq -r '.[] | select(.name == "db") | .layer' <<<"$pods")" critical "... and names its layer"
ok "the annotation counts two background pods" \
	wait_eq '{"pods":2,"cpu_millis":500}' distribution background

# A change: the batch pod finishes (status written as a kubelet would).
k patch pod batch --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}' >/dev/null
ok "a finished pod leaves the plan" \
	wait_eq '{"pods":1,"cpu_millis":0}' distribution background

k delete pod db --grace-period=0 --force >/dev/null 2>&1
ok "deleting the critical pod removes its layer" wait_eq "background,system,open" layer_names
ok "... and the annotation follows" wait_eq '{"pods":0,"cpu_millis":0}' distribution critical

gens=$(curl -s "$api/api/v1/config/generations")
last=$(jq '.[-1].generation' <<<"$gens")
ok "every different plan made a generation" test "$last" -ge 4
like "$(jq -r '.[1].reason' <<<"$gens")" 'pod (added|updated) default/db' "a generation records what caused it"
diff=$(curl -s "$api/api/v1/config/diff?from=1&to=2")
like "$diff" $'^--- generation 1\n\\+\\+\\+ generation 2\n@@ ' "the diff between generations is a unified diff"
like "$diff" '\+    "name": "critical",' "... showing the critical layer added"
is "$(http_status "$api/api/v1/config/diff?from=1&to=999")" 404 "a diff with an unknown generation is 404"
is "$(http_status "$api/api/v1/config/diff?from=x")" 400 "a malformed diff request is 400"
is "$(curl -s "$api/api/v1/config?generation=1" | jq -r '[.[].name] | join(",")')" "system,open" \
	"an old generation can be read back"

# Safe mode through the node annotation, then its legacy key.
k annotate node node-a temper.io/safe-mode-requested=true >/dev/null
ok "safe mode follows the node annotation" \
	wait_eq true safe_mode_active
ok "... the node says so" wait_eq safe-mode annotation 'temper\.io/enforcement-state'
like "$(curl -s "$api/metrics")" 'temper_safe_mode 1' "... and so does the metric"
k annotate node node-a temper.io/safe-mode-requested- >/dev/null
ok "removing the annotation resumes" \
	wait_eq false safe_mode_active
ok "... and the node says so" wait_eq plan-only annotation 'temper\.io/enforcement-state'
k annotate node node-a infera.io/safe-mode-requested=true >/dev/null
ok "the legacy infera.io key requests safe mode too" \
	wait_eq true safe_mode_active
k annotate node node-a infera.io/safe-mode-requested- >/dev/null
ok "... and its removal resumes" \
	wait_eq false safe_mode_active

is "$(curl -s -X POST -d '{"enabled":true}' "$api/api/v1/safe-mode" | jq -c .)" \
	'{"active":true,"api":true,"annotation":false}' "POST /api/v1/safe-mode turns it on"
is "$(http_status "$api/api/v1/safe-mode" -X POST -d 'nonsense')" 400 "... and refuses a bad body with 400"
curl -s -X POST -d '{"enabled":false}' "$api/api/v1/safe-mode" >/dev/null

# The API goes away: the agent keeps serving and says why.  (Its retries
# back off up to 30 s, so coming back may take that long after the API.)
"$CLUSTER_TOOLS/ctl" "$CD" stop-apiserver >/dev/null 2>&1
ok "with the API down /readyz turns 503" wait_eq 503 http_status "$api/readyz"
like "$(curl -s "$api/readyz" | jq -r .error)" '^kubernetes: pods of node node-a: .*retrying with backoff' \
	"... naming the reason"
is "$(http_status "$api/healthz")" 200 "... while /healthz still answers"
is "$(http_status "$api/api/v1/config")" 200 "... and the last plan is still served"
"$CLUSTER_TOOLS/ctl" "$CD" start-apiserver >/dev/null 2>&1
WAIT_SECONDS=180 ok "when the API is back the agent is ready again" \
	wait_eq 200 http_status "$api/readyz"

# The observation layer runs in the agent: /observe knows the plan's pods.
observe=$(curl -s "$api/observe")
is "$(jq -r .bpf.state <<<"$observe")" running "/observe: the placement BPF program runs in the agent"
is "$(jq -r '[.tiers[].tier] | join(",")' <<<"$observe")" "critical,high,normal,low,background,unattributed" \
	"... and reports figures for every tier and for what no pod owns"
like "$(curl -s "$api/metrics")" 'temper_runqueue_latency_seconds_bucket\{tier="' \
	"... and the runqueue latency histogram by tier"

# A restart keeps the history and the numbering.
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly"
ok "generations are on disk" test "$(ls "$TMP/state/generations" | wc -l)" -ge "$last"
start_temperd agent2 --config="$TMP/temper.conf" --sysfs-root="$SYSFS"
ok "the agent starts again" wait_eq 200 http_status "$api/readyz"
first=$(curl -s "$api/api/v1/config/generations" | jq '.[0].generation')
is "$first" 1 "the history from before the restart is still listed"
like "$(cat "$TMP/agent2.log")" "generations kept from an earlier run, the last is" "... and the log says so"
done_testing
