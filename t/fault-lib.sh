# t/fault-lib.sh - shared steps of the fault tests (t/45-49, t/55-59).
#
# Source after t/lib.sh and t/kube-lib.sh.  fault_agent_conf writes an
# agent configuration; the fault_* checks compare what the running agent
# holds with what a fresh LIST from the real kube-apiserver says, so that
# each fault test ends by showing that nothing was lost.

# fault_require_cluster: skip unless the control plane and jq exist.
fault_require_cluster() {
	local why
	why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
		skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
	command -v jq >/dev/null || skip_all "jq is missing"
	[ -x "$TEMPERD" ] || skip_all "temperd is not built"
}

# fault_priority_classes: the five temper-* PriorityClasses.
fault_priority_classes() {
	local pc
	for pc in critical:1000000 high:100000 normal:0 low:-100 background:-1000; do
		printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
			"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
	done
}

# fault_agent_conf FILE PORT STATE_DIR CGROUP_ROOT [EXTRA TOML LINES]
fault_agent_conf() {
	cat >"$1" <<-CONF
	[daemon]
	listen = "127.0.0.1:$2"
	state_dir = "$3"
	[kubernetes]
	kubeconfig = "$KUBECONFIG"
	node_name = "node-a"
	[node]
	cgroup_root = "$4"
	[planner]
	debounce_ms = 100
	${5-}
	CONF
}

# fault_agent_uids API: the uids the agent plans with.
fault_agent_uids() {
	curl -s --max-time 10 "$1/api/v1/pods" | jq -r '.[].uid' | LC_ALL=C sort
}

# fault_list_uids: the uids of node-a's pods not finished, per a fresh LIST.
fault_list_uids() {
	k get pods -A --field-selector spec.nodeName=node-a -o json |
		jq -r '.items[] | select(.status.phase != "Succeeded" and .status.phase != "Failed") |
		  .metadata.uid' | LC_ALL=C sort
}

# fault_store_matches API: the agent's pods are exactly the LIST's.
fault_store_matches() {
	local a l
	a=$(fault_agent_uids "$1") || return 1
	l=$(fault_list_uids) || return 1
	[ -n "$l" ] && [ "$a" = "$l" ]
}

# fault_show_store_diff API: diagnostics after a mismatch.
fault_show_store_diff() {
	diag "$(diff <(fault_agent_uids "$1") <(fault_list_uids) | head -n 20)"
}

# fault_expected_tiers: "tier count" lines from the LIST's priorities,
# with the default thresholds and the BestEffort rule (what the agent
# must have derived).
fault_expected_tiers() {
	k get pods -A --field-selector spec.nodeName=node-a -o json |
		jq -r '.items[] | select(.status.phase != "Succeeded" and .status.phase != "Failed") |
		  (.spec.priority // 0) as $p |
		  if $p >= 1000000 then "critical" elif $p >= 100000 then "high"
		  elif $p >= 0 then (if $p == 0 and .status.qosClass == "BestEffort" and
		    (.spec.priorityClassName // "") == "" then "background" else "normal" end)
		  elif $p >= -100 then "low" else "background" end' |
		LC_ALL=C sort | uniq -c | awk '{print $2, $1}'
}

# fault_agent_tiers API: the same from the agent's /api/v1/pods.
fault_agent_tiers() {
	curl -s --max-time 10 "$1/api/v1/pods" | jq -r '.[].tier' | LC_ALL=C sort | uniq -c |
		awk '{print $2, $1}'
}

# fault_plan_matches API: per-tier counts agree with the LIST; every pod
# is a member of a layer of its own tier (a tier may span layers "normal",
# "normal-2", ...); the configuration has layers for exactly the tiers
# with pods, in tier order, then the two system layers.
fault_plan_matches() {
	local expected got pods layers want
	expected=$(fault_expected_tiers) || return 1
	got=$(fault_agent_tiers "$1") || return 1
	[ "$expected" = "$got" ] || return 1
	pods=$(curl -s --max-time 10 "$1/api/v1/pods") || return 1
	jq -e 'all(.[]; . as $p | ($p.layer // "") | test("^" + $p.tier + "(-[0-9]+)?$"))' \
		<<<"$pods" >/dev/null || return 1
	layers=$(curl -s --max-time 10 "$1/api/v1/config" | jq -r '[.[].name | sub("-[0-9]+$"; "")] |
		reduce .[] as $n ([]; if (length > 0 and .[-1] == $n) then . else . + [$n] end) | join(",")')
	want=$(for t in critical high normal low background; do
		grep -q "^$t " <<<"$expected" && printf '%s,' "$t"
	done)system,open
	[ "$layers" = "$want" ]
}

# fault_show_plan API: diagnostics.
fault_show_plan() {
	diag "expected tiers: $(fault_expected_tiers | tr '\n' ' ')"
	diag "agent tiers:    $(fault_agent_tiers "$1" | tr '\n' ' ')"
	diag "layers:         $(curl -s --max-time 10 "$1/api/v1/config" | jq -r '[.[].name] | join(",")')"
}

# fault_distribution_matches API: the node annotation carries the
# agent's per-tier pod counts.
fault_distribution_matches() {
	local annotation t n want
	annotation=$(k get node node-a -o 'jsonpath={.metadata.annotations.temper\.io/qos-distribution}')
	[ -n "$annotation" ] || return 1
	for t in critical high normal low background; do
		want=$(fault_agent_tiers "$1" | awk -v t="$t" '$1 == t { print $2 }')
		n=$(jq -r ".$t.pods" <<<"$annotation")
		[ "$n" = "${want:-0}" ] || return 1
	done
}

# fault_generation_files_whole DIR: every generation file parses as JSON
# with its own number, and no temporary file is left.
fault_generation_files_whole() {
	local f
	[ -z "$(find "$1" -name '*.tmp' 2>/dev/null)" ] || return 1
	for f in "$1"/generations/*.json; do
		[ -e "$f" ] || continue
		jq -e --arg n "$(basename "$f" .json)" '.generation == ($n | tonumber) and (.config | type) == "string"' \
			"$f" >/dev/null || return 1
	done
}

# fault_kubelet POD: play the kubelet on this machine's real cgroups, as
# t/36 does: the pod's cgroup in the unified and the v1 cpu trees with a
# real process in it, the pod reported Running.  Sets POD_CPU (the v1 cpu
# cgroup); fault_cleanup_cgroups, registered with at_exit by the caller
# before any pod, removes every cgroup made after the processes are gone.
FAULT_MADE=()
fault_kubelet() {
	local uid qos dir tree
	uid=$(k get pod "$1" -o jsonpath='{.metadata.uid}' | tr - _)
	qos=$(k get pod "$1" -o jsonpath='{.status.qosClass}' | tr '[:upper:]' '[:lower:]')
	case $qos in
	guaranteed) dir=kubepods.slice/kubepods-pod$uid.slice ;;
	*) dir=kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod$uid.slice ;;
	esac
	for tree in unified cpu; do
		mkdir -p "/sys/fs/cgroup/$tree/$dir"
		FAULT_MADE+=("/sys/fs/cgroup/$tree/$dir")
	done
	sleep 100000 >/dev/null 2>&1 &
	at_exit "kill $!"
	echo $! >"/sys/fs/cgroup/cpu/$dir/cgroup.procs"
	echo $! >"/sys/fs/cgroup/unified/$dir/cgroup.procs"
	k patch pod "$1" --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
	POD_CPU=/sys/fs/cgroup/cpu/$dir
}
fault_cleanup_cgroups() {
	local i d
	for ((i = ${#FAULT_MADE[@]} - 1; i >= 0; i--)); do
		d=${FAULT_MADE[i]}
		while [ "$d" != /sys/fs/cgroup/unified ] && [ "$d" != /sys/fs/cgroup/cpu ]; do
			rmdir "$d" 2>/dev/null || break
			d=$(dirname "$d")
		done
	done
}

# fault_require_cgroups: skip unless root with the hybrid tree t/36 uses.
fault_require_cgroups() {
	[ "$(id -u)" = 0 ] || skip_all "writing cgroups needs root"
	[ -f /sys/fs/cgroup/cpu/cpu.idle ] || skip_all "no cgroup v1 cpu.idle at /sys/fs/cgroup/cpu"
	[ -d /sys/fs/cgroup/unified ] || skip_all "no cgroup2 tree at /sys/fs/cgroup/unified"
}

# fault_pod NAME CLASS [CPU]: a pod on node-a.
fault_pod() {
	local resources="{}"
	[ -n "${3-}" ] && resources="{requests: {cpu: \"$3\"}, limits: {cpu: \"$3\"}}"
	k apply -f - >/dev/null <<-POD
	apiVersion: v1
	kind: Pod
	metadata: {name: $1, namespace: default}
	spec:
	  nodeName: node-a
	  priorityClassName: $2
	  containers: [{name: c, image: registry.invalid/app:1, resources: $resources}]
	POD
}

# fault_fake_cgroups ROOT: the cgroup directory of every pod of node-a
# under ROOT, a plain directory standing in for /sys/fs/cgroup (the layout
# t/cluster/fake-kubelet makes), so that the planner has members.
fault_fake_cgroups() {
	[ -f "$1/cgroup.controllers" ] || echo "cpu cpuset memory" >"$1/cgroup.controllers"
	k get pods -A --field-selector spec.nodeName=node-a -o json | jq -r '.items[] |
	  (.metadata.uid | gsub("-"; "_")) as $u | (.status.qosClass // "BestEffort" | ascii_downcase) as $q |
	  if $q == "guaranteed" then "kubepods.slice/kubepods-pod\($u).slice"
	  else "kubepods.slice/kubepods-\($q).slice/kubepods-\($q)-pod\($u).slice" end' |
		while read -r d; do mkdir -p "$1/$d"; done
}
