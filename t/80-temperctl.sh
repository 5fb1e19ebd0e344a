#!/bin/bash
# t/80-temperctl.sh - every temperctl command against a running agent with
# real pods (the real kube-apiserver; the test plays the kubelet as
# t/35-agent.sh does), over the agent's unix socket and over TCP:
# status, pods, explain, config show/generations/diff, reload, safe-mode,
# trace, profiles, top (driven under tmux, its screen captured), the exit
# codes, and the strongest check of simulate: the agent's own pods, the
# same sysfs fixture, cgroups and allocatable CPU give the agent's
# /api/v1/config byte for byte.  Last, every route is checked against the
# OpenAPI document (t/openapi-check.py).
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"

why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
	skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
[ -x "$TEMPERCTL" ] || skip_all "src/temperctl is not built"
command -v jq >/dev/null || skip_all "jq is missing"
command -v python3 >/dev/null || skip_all "python3 is missing"
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 --allocatable-cpu 7500m >/dev/null ||
	bail "mknode failed"
for pc in critical:1000000 high:100000 normal:0 low:-100 background:-1000; do
	printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
		"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
done

sh "$TOP_SRCDIR/t/fixtures/mksysfs.sh" "$TMP/sysfs" >/dev/null || bail "mksysfs.sh failed"
SYSFS=$TMP/sysfs/8cpu-smt
CGROOT=$TMP/cgroup
mkdir -p "$CGROOT/kubepods.slice"
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
[profiles]
dir = "$TMP/profiles"
CONF
mkdir "$TMP/profiles"
api="http://127.0.0.1:$port"
SOCK=$TMP/state/agent.sock
start_temperd agent --config="$TMP/temper.conf" --sysfs-root="$SYSFS"
ok "the agent becomes ready" wait_eq 200 http_status "$api/readyz"

# The kubelet's part: the pod's cgroup where its QoS class puts it, then Running.
kubelet() {
	local uid qos dir
	uid=$(k get pod "$1" -o jsonpath='{.metadata.uid}' | tr - _)
	qos=$(k get pod "$1" -o jsonpath='{.status.qosClass}' | tr A-Z a-z)
	case $qos in
	guaranteed) dir=kubepods.slice/kubepods-pod$uid.slice ;;
	*) dir=kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod$uid.slice ;;
	esac
	mkdir -p "$CGROOT/$dir"
	k patch pod "$1" --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
}
pod() { # NAME CLASS REQUEST [LIMIT]
	local limits=
	[ -n "${4-}" ] && limits=", limits: {cpu: \"$4\"}"
	cat <<POD | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  nodeName: node-a
  priorityClassName: $2
  containers: [{name: c, image: registry.invalid/app:1, resources: {requests: {cpu: "$3"}$limits}}]
POD
	kubelet "$1"
}
ctl() { "$TEMPERCTL" --agent "$SOCK" "$@"; }
layer_names() { curl -s "$api/api/v1/config" | jq -r '[.[].name] | join(",")'; }

pod db temper-critical 2 2
pod web temper-high 1
pod batch temper-background 500m
ok "the agent plans the four layers" wait_eq "critical,high,background,system,open" layer_names
ok "... with every pod in a layer" wait_eq 0 \
	eval "curl -s '$api/api/v1/pods' | jq '[.[] | select(.layer == null)] | length'"

# --- status ------------------------------------------------------------------
out=$(ctl status)
is "$?" 0 "status over the unix socket: exit 0"
like "$out" "agent: +$SOCK" "status names the agent it asked"
like "$out" 'node: +node-a \(temperd [0-9.]+, roles agent\)' "... the node and version"
like "$out" 'layers: +critical high background system open' "... the plan's layers"
like "$out" 'note: +node: 8 CPUs in whole cores of 2 threads, 7500m allocatable' "... and its notes"
is "$("$TEMPERCTL" --agent "$api" status --json | jq -r .node)" node-a "status --json over TCP is the agent's JSON"
is "$(TEMPER_AGENT=$SOCK "$TEMPERCTL" --json status | jq -r .plan.membership)" cgroup \
	"\$TEMPER_AGENT names the agent when --agent is absent"
is "$(TEMPER_AGENT=unix:$SOCK "$TEMPERCTL" --json status | jq -r .node)" node-a "... also as unix:PATH"

# --- pods ----------------------------------------------------------------------
out=$(ctl pods)
like "$out" $'^POD +TIER +LAYER +REQUEST +WHY\n' "pods prints a header"
like "$out" $'\ndefault/db +critical +critical +2000m +priority 1000000 \\(class temper-critical\\)' \
	"... each pod's tier, layer, request and why, critical first"
like "$out" $'default/web +high +high +1000m .*\ndefault/batch +background +background +500m' \
	"... then by tier"
is "$(ctl pods --json | jq -r '.[] | select(.name == "web") | .layer')" high "pods --json is the agent's list"

# --- explain -------------------------------------------------------------------
out=$(ctl explain db)
is "$?" 0 "explain db: exit 0"
like "$out" $'^pod default/db\n  uid: +[0-9a-f-]{36}\ntier critical\n  because: +priority 1000000 \\(class temper-critical\\) >= critical threshold 1000000' \
	"explain: the tier and the rule that chose it"
like "$out" $'requests 2000m CPU, limit 2000m\n  sizing: +layer critical is sized for its 1 pod requesting 2000m in total' \
	"... the request and what the layer is sized for"
like "$out" 'layer critical \(generation [0-9]+, membership cgroup\)' "... the layer and the generation"
like "$out" 'kind: +Confined, 2 to 2 CPUs, utilisation kept between [0-9.]+ and [0-9.]+, slice 5000 us, weight [0-9]+, protected, preempts, exclusive cores' \
	"... the layer's kind and sizing"
uid=$(k get pod db -o jsonpath='{.metadata.uid}' | tr - _)
# Requests = limits for CPU only, no memory: Burstable, as the kubelet places it.
like "$out" "matched: +\\[\\{\"CgroupPrefix\":\"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$uid.slice/\"\\}\\]" \
	"... the match block that selects its cgroup"
like "$out" "cgroup kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$uid.slice/" "... the cgroup"
like "$out" 'profile \(not reported by this agent' "... and says what the agent does not report"
like "$out" $'\nnotes\n  node: 8 CPUs .*\n  critical: 1 pod requesting 2000m confined to 2 CPUs' \
	"... with the plan's notes on the node's budget and on its tier"
is "$(ctl explain default/web --json | jq -r '.layer.name + " " + (.layer_members|tostring)')" "high 1" \
	"explain NAMESPACE/NAME --json: the layer object and its members"
is "$(ctl explain "$(k get pod batch -o jsonpath='{.metadata.uid}')" --json | jq -r .pod.name)" batch \
	"explain takes a UID"
ctl explain nosuchpod >/dev/null 2>"$TMP/err"
is "$?" 1 "explain of an unknown pod: exit 1"
like "$(cat "$TMP/err")" "the agent at $SOCK plans no pod nosuchpod" "... naming the agent"

# --- config ----------------------------------------------------------------------
curl -s "$api/api/v1/config" >"$TMP/agent-config.json"
ctl config show >"$TMP/ctl-config.json"
ok "config show prints /api/v1/config byte for byte" cmp -s "$TMP/ctl-config.json" "$TMP/agent-config.json"
is "$(ctl config show --generation 1 | jq -r '[.[].name] | join(",")')" "system,open" \
	"config show --generation 1: the first generation"
ctl config show --generation 999999 >/dev/null 2>"$TMP/err"
is "$?" 1 "config show of an unknown generation: exit 1"
like "$(cat "$TMP/err")" "^temperctl: the agent at $SOCK answered 404 to GET /api/v1/config\\?generation=999999: no generation 999999" \
	"... naming the agent, the request and the agent's reason"
last=$(ctl config generations --json | jq '.[-1].generation')
ok "config generations --json lists them" test "$last" -ge 4
like "$(ctl config generations)" $'GENERATION +CREATED \\(UTC\\) +REASON\n +1  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +pods listed' \
	"config generations: a table with times and reasons"
is "$(ctl config diff 1 "$last")" "$(curl -s "$api/api/v1/config/diff?from=1&to=$last")" \
	"config diff prints the agent's unified diff"
like "$(ctl config diff 1 "$last")" $'^--- generation 1\n\\+\\+\\+ generation' "... which is a unified diff"
is "$(ctl config diff 1 "$last" --json | jq -r .from)" 1 "config diff --json"
ctl config diff 1 >/dev/null 2>&1
is "$?" 2 "config diff with one generation: usage error (exit 2)"

# --- reload, safe mode ----------------------------------------------------------------
like "$(ctl reload)" '^planned; generation [0-9]+ is current$' "reload plans now"
passes=$(ctl status --json | jq .plan.passes)
ctl reload --json >/dev/null
ok "... and the agent made a pass" test "$(ctl status --json | jq .plan.passes)" -gt "$passes"
is "$(ctl safe-mode on)" "safe mode ON: enforcement stands down" "safe-mode on"
is "$(ctl status --json | jq -c '.safe_mode | [.active, .api]')" "[true,true]" "... the agent is in safe mode"
like "$(ctl status)" 'safe mode: +ON \(node annotation no, API yes' "... and status says so"
is "$(ctl safe-mode off --json | jq -c .)" '{"active":false,"api":false,"annotation":false}' \
	"safe-mode off --json: the agent's answer"
ctl safe-mode maybe >/dev/null 2>&1
is "$?" 2 "safe-mode maybe: exit 2"

# --- trace: whatever this agent can capture ----------------------------------------------
trace_status=$(http_status "$api/api/v1/trace?seconds=0" -X POST)
if [ "$trace_status" = 404 ]; then
	ctl trace --seconds 1 -o "$TMP/trace.json" 2>"$TMP/err"
	is "$?" 4 "trace on an agent without tracing: exit 4"
	is "$(cat "$TMP/err")" "temperctl: not supported by this agent: POST /api/v1/trace?seconds=1 answered 404 (agent at $SOCK)" \
		"... saying so"
	ok "... and writes no file" test ! -e "$TMP/trace.json"
else
	ctl trace --seconds 1 -o "$TMP/trace.json" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" = 0 ]; then
		ok "trace writes a Chrome JSON trace" eval "jq -e '.traceEvents | type == \"array\"' '$TMP/trace.json' >/dev/null"
		like "$(cat "$TMP/out")" "^wrote $TMP/trace.json: [0-9]+ bytes" "... and says how much"
	else
		is "$rc" 1 "trace where the agent refuses to trace: exit 1"
		like "$(cat "$TMP/err")" "answered (503|409) to POST /api/v1/trace" "... with the agent's reason"
	fi
fi
ctl trace --seconds 1 >/dev/null 2>&1
is "$?" 2 "trace without -o: exit 2"

# --- profiles: the builtins, and a training on a pod's threads ----------------------------
# The pod cgroups here are plain directories: a cgroup.procs naming a
# sleeping process stands in for the pod's processes, so training reads
# real threads from /proc for a second (a sleeper's habit is "yield").
sleep 600 </dev/null >/dev/null 2>&1 &
SLEEPER=$!
at_exit "kill $SLEEPER"
db_cgroup=$(curl -s "$api/api/v1/pods" | jq -r '.[] | select(.name == "db") | .cgroup')
echo "$SLEEPER" >"$CGROOT/$db_cgroup/cgroup.procs"
ctl profiles train >/dev/null 2>&1
is "$?" 2 "profiles train without NAMESPACE/POD: exit 2"
out=$(ctl profiles list)
is "$?" 0 "profiles list: exit 0"
is "$(jq -r '[.profiles[].name] | join(",")' <<<"$out")" "pytorch,mysql,jvm" "... the builtins"
is "$(jq -r .dir <<<"$out")" "$TMP/profiles" "... and the directory the agent watches"
is "$(ctl profiles show mysql | jq -r .name)" mysql "profiles show mysql"
ctl profiles show web >/dev/null 2>"$TMP/err"
is "$?" 1 "profiles show of an unknown profile: exit 1"
like "$(cat "$TMP/err")" "answered 404 to GET /api/v1/profiles/web: no profile named \"web\"" \
	"... with the agent's reason"
out=$(ctl profiles train default/db 1)
is "$?" 0 "profiles train default/db 1: exit 0"
is "$(jq -r '.name + " " + .path' <<<"$out")" "trained-db $TMP/profiles/trained-db.toml.trained" \
	"... a profile named for the pod, written beside the profiles"
is "$(jq -r '.groups[] | select(.comm_prefix == "sleep") | [.leader, .treatment] | join(" ")' <<<"$out")" \
	"true yield" "... from the sleeper's habit"

# --- errors --------------------------------------------------------------------------------
"$TEMPERCTL" --agent "$TMP/nothing.sock" status >/dev/null 2>"$TMP/err"
is "$?" 3 "an agent socket that is not there: exit 3"
like "$(cat "$TMP/err")" "cannot connect to the agent at $TMP/nothing.sock: No such file or directory" \
	"... naming the address and the failure"
"$TEMPERCTL" --agent "http://127.0.0.1:$(free_port)" pods >/dev/null 2>"$TMP/err"
is "$?" 3 "a TCP port nobody listens on: exit 3"
like "$(cat "$TMP/err")" "cannot connect to the agent at http://127.0.0.1:[0-9]+: Connection refused" "... said so"
"$TEMPERCTL" --agent "ftp://x" status >/dev/null 2>&1
is "$?" 2 "an address that is no agent address: exit 2"
ctl frobnicate >/dev/null 2>&1
is "$?" 2 "an unknown command: exit 2"
ctl status --seconds 3 >/dev/null 2>&1
is "$?" 2 "an option the command does not take: exit 2"

# --- simulate: the agent's pods, topology, cgroups and config give its configuration -------
k get pods -A -o json >"$TMP/pods.json"
curl -s "$api/api/v1/config" >"$TMP/agent-config.json"
"$TEMPERCTL" simulate --pods "$TMP/pods.json" --topology "$SYSFS" --allocatable 7500m \
	--cgroup-root "$CGROOT" --config "$TMP/temper.conf" --node node-a -o "$TMP/sim.json" >"$TMP/sim.out"
is "$?" 0 "simulate on the agent's pods: exit 0"
ok "simulate gives the agent's /api/v1/config byte for byte" cmp -s "$TMP/sim.json" "$TMP/agent-config.json" ||
	diag "$(diff "$TMP/agent-config.json" "$TMP/sim.json" | head -n 20)"
"$TEMPERCTL" simulate --pods "$TMP/pods.json" --topology "$SYSFS" --allocatable 7500m \
	--node node-a -o "$TMP/sim-derived.json" >/dev/null
ok "... and so do the cgroups derived from the kubelet's systemd naming" \
	cmp -s "$TMP/sim-derived.json" "$TMP/agent-config.json"
is "$("$TEMPERCTL" simulate --json --pods "$TMP/pods.json" --topology "$SYSFS" --allocatable 7500m \
	--node node-a | jq -c '[.pods[] | [.name, .tier, .layer]] | sort')" \
	"$(ctl pods --json | jq -c '[.[] | [.name, .tier, .layer]] | sort')" \
	"simulate --json places every pod in the tier and layer the agent reports"

# --- top under tmux ---------------------------------------------------------------------
if command -v tmux >/dev/null; then
	TMUX_SOCKET=$TMP/tmux.sock
	tm() { tmux -S "$TMUX_SOCKET" "$@"; }
	at_exit "tmux -S '$TMUX_SOCKET' kill-server"
	tm new-session -d -s top -x 110 -y 40 \
		"'$TEMPERCTL' --agent '$SOCK' top --interval 300; echo \$? >'$TMP/top.rc'; sleep 60"
	screen() { tm capture-pane -p -t top; }
	ok "top draws its view in a terminal" wait_for eval "screen | grep -q '^default/batch'"
	screen >"$TMP/screen"
	like "$(cat "$TMP/screen")" "^temperctl top - $SOCK - node node-a - [0-9:]{8} +\\(q quits\\)" \
		"top: the header names the agent and the node"
	like "$(cat "$TMP/screen")" $'\nplan generation [0-9]+, 3 pods, membership cgroup; safe mode off; enforcement plan-only' \
		"... the plan line"
	like "$(cat "$TMP/screen")" $'\nTIER +PODS +REQUEST +LAYERS +CORES +P50 us +P99 us\ncritical +1 +2000m +critical ' \
		"... the tier table, critical first"
	like "$(cat "$TMP/screen")" $'\nhigh +1 +1000m +high .*\nnormal +0 +0m +- .*\nlow +0 +0m +- .*\nbackground +1 +500m +background ' \
		"... every tier, with pods, requests and layers"
	like "$(cat "$TMP/screen")" $'\nBUSY THREADS\n' "... the busy threads section"
	like "$(cat "$TMP/screen")" 'default/db +critical +critical +2000m' "... and the pods"
	# The view follows the agent: a new pod appears at a later refresh.
	pod extra temper-high 250m
	ok "top refreshes: a new pod shows up" wait_for eval "screen | grep -q '^default/extra '"
	like "$(screen)" $'\nhigh +2 +1250m +high ' "... and its tier's count and request follow"
	tm send-keys -t top q
	ok "q quits top" wait_for test -s "$TMP/top.rc"
	is "$(cat "$TMP/top.rc")" 0 "... with exit 0"
	ok "... and restores the terminal (the alternate screen is gone)" \
		wait_for eval "! tmux -S '$TMUX_SOCKET' capture-pane -p -t top | grep -q 'BUSY THREADS'"
else
	skip "tmux is not installed: top is not driven (apt-get install tmux)"
fi
out=$(ctl top --iterations 1 --json)
is "$(jq -r '.status.node' <<<"$out")" node-a "top --json --iterations 1: one snapshot of status ..."
is "$(jq '.pods | length' <<<"$out")" 4 "... and pods"

# --- the OpenAPI document against every route --------------------------------------------
curl -s "$api/api/v1/openapi.json" >"$TMP/served.json"
ok "the agent serves src/openapi.json byte for byte" cmp -s "$TMP/served.json" "$TOP_SRCDIR/src/openapi.json"
# --train-pod: one more training of a second on the sleeper, answering 200.
python3 "$TOP_SRCDIR/t/openapi-check.py" "$TOP_SRCDIR/src/openapi.json" "$api" \
	"$TOP_SRCDIR/src/agent-api.c" "$TOP_SRCDIR/src/common-routes.c" "$TOP_SRCDIR/src/observe.c" \
	"$TOP_SRCDIR/src/openapi.c" "$TOP_SRCDIR/src/profiles.c" --train-pod default/db >"$TMP/openapi.tap"
ok "every route answers as src/openapi.json describes ($(grep -c '^ok' "$TMP/openapi.tap") checks)" \
	test "$(grep -c '^not ok' "$TMP/openapi.tap")" = 0 ||
	diag "$(grep -A5 '^not ok' "$TMP/openapi.tap" | head -n 30)"
done_testing
