#!/bin/bash
# t/36-agent-cgroup.sh - the agent enforcing through cgroups
# (--enforcement=cgroup) on this machine's real cgroup tree, pods from the
# real kube-apiserver: background pods get cpu.idle=1, critical ones stay
# as the kubelet left them; safe mode, a SIGKILL and restart, and a clean
# stop each put the values back.  (This machine's cpu controller is cgroup
# v1; pod cgroups are made in the v1 cpu tree and the unified tree, as a
# kubelet on a hybrid host would.)
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"

[ "$(id -u)" = 0 ] || skip_all "writing cgroups needs root"
[ -f /sys/fs/cgroup/cpu/cpu.idle ] || skip_all "no cgroup v1 cpu.idle at /sys/fs/cgroup/cpu"
[ -d /sys/fs/cgroup/unified ] || skip_all "no cgroup2 tree at /sys/fs/cgroup/unified"
why=$("$CLUSTER_TOOLS/available" k8s 2>&1) ||
	skip_all "control plane not built: $(echo "$why" | head -n1) (run t/cluster/build k8s)"
command -v jq >/dev/null || skip_all "jq is missing"
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 2 >/dev/null || bail "mknode failed"
for pc in critical:1000000 background:-1000; do
	printf 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: temper-%s}\nvalue: %s\n' \
		"${pc%%:*}" "${pc##*:}" | k apply -f - >/dev/null
done

# kubelet POD: the pod's cgroup in the unified and the v1 cpu trees, with a
# real process in it, and the pod reported Running; POD_CPU is the pod's v1
# cpu cgroup.
made=()
kubelet() {
	local uid qos dir tree
	uid=$(k get pod "$1" -o jsonpath='{.metadata.uid}' | tr - _)
	qos=$(k get pod "$1" -o jsonpath='{.status.qosClass}' | tr '[:upper:]' '[:lower:]')
	case $qos in
	guaranteed) dir=kubepods.slice/kubepods-pod$uid.slice ;;
	*) dir=kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod$uid.slice ;;
	esac
	for tree in unified cpu; do
		mkdir -p "/sys/fs/cgroup/$tree/$dir"
		made+=("/sys/fs/cgroup/$tree/$dir")
	done
	sleep 1000 >/dev/null 2>&1 &
	at_exit "kill $!"
	echo $! >"/sys/fs/cgroup/cpu/$dir/cgroup.procs"
	echo $! >"/sys/fs/cgroup/unified/$dir/cgroup.procs"
	k patch pod "$1" --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
	POD_CPU=/sys/fs/cgroup/cpu/$dir
}
# Remove what we made, deepest first, after the processes are gone.
cleanup_cgroups() {
	local i d
	for ((i = ${#made[@]} - 1; i >= 0; i--)); do
		d=${made[i]}
		while [ "$d" != /sys/fs/cgroup/unified ] && [ "$d" != /sys/fs/cgroup/cpu ]; do
			rmdir "$d" 2>/dev/null || break
			d=$(dirname "$d")
		done
	done
}
at_exit cleanup_cgroups

pod() { # NAME CLASS [CPU]
	local resources="{}"
	[ -n "${3-}" ] && resources="{requests: {cpu: \"$3\"}, limits: {cpu: \"$3\"}}"
	k apply -f - >/dev/null <<POD
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  nodeName: node-a
  priorityClassName: $2
  containers: [{name: c, image: registry.invalid/app:1, resources: $resources}]
POD
}
pod db temper-critical 500m
pod batch temper-background
kubelet db
db_cpu=$POD_CPU
kubelet batch
batch_cpu=$POD_CPU
is "$(cat "$batch_cpu/cpu.idle")" 0 "before the agent, the background pod's cpu.idle is 0"
shares_before=$(cat "$batch_cpu/cpu.shares")

port=$(free_port)
api="http://127.0.0.1:$port"
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$TMP/state"
[kubernetes]
kubeconfig = "$KUBECONFIG"
node_name = "node-a"
[enforcement]
mode = "cgroup"
CONF
idle_of_batch() { cat "$batch_cpu/cpu.idle"; }
start_temperd agent --config="$TMP/temper.conf"
ok "the agent enforcing through cgroups becomes ready" wait_eq 200 http_status "$api/readyz"
ok "the background pod gets cpu.idle=1" wait_eq 1 idle_of_batch
is "$(cat "$db_cpu/cpu.idle")" 0 "the critical pod's cpu.idle is left at 0"
is "$(curl -s "$api/api/v1/status" | jq -r .enforcement.state)" cgroup "status says the cgroup backend enforces"
ok "... and so does the node annotation" wait_eq cgroup \
	k get node node-a -o 'jsonpath={.metadata.annotations.temper\.io/enforcement-state}'

k annotate node node-a temper.io/safe-mode-requested=true >/dev/null
ok "safe mode puts cpu.idle back to 0" wait_eq 0 idle_of_batch
is "$(cat "$batch_cpu/cpu.shares")" "$shares_before" "... and the kubelet's cpu.shares with it"
k annotate node node-a temper.io/safe-mode-requested- >/dev/null
ok "leaving safe mode applies it again" wait_eq 1 idle_of_batch

kill -KILL "$TEMPERD_PID"; wait "$TEMPERD_PID" 2>/dev/null
is "$(idle_of_batch)" 1 "a SIGKILLed agent leaves its values behind..."
ok "... journalled in --state-dir" test -n "$(ls -A "$TMP/state" 2>/dev/null)"
printf '[daemon]\nlisten = "127.0.0.1:%s"\nstate_dir = "%s"\n[kubernetes]\nkubeconfig = "%s"\nnode_name = "node-a"\n[enforcement]\nmode = "cgroup"\n' \
	"$port" "$TMP/state" "$KUBECONFIG" >"$TMP/temper.conf"
start_temperd agent2 --config="$TMP/temper.conf"
ok "the restarted agent becomes ready" wait_eq 200 http_status "$api/readyz"
like "$(cat "$TMP/agent2.log")" 'cgroup journal .* holds 1 values from an earlier run; putting them back first' \
	"... after putting back what the journal held"
ok "... and enforces again" wait_eq 1 idle_of_batch

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly"
is "$(idle_of_batch)" 0 "... putting cpu.idle back"
is "$(cat "$batch_cpu/cpu.shares")" "$shares_before" "... and cpu.shares"
like "$(cat "$TMP/agent2.log")" 'shutdown: restored [0-9]+ cgroup values' "... and says so"
done_testing
