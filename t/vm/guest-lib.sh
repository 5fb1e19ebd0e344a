# t/vm/guest-lib.sh - sourced by the guest side of the t/vm tests (bash, as
# root, in the guest that t/vm/guest-init set up: cgroup v2 alone at
# /sys/fs/cgroup).  Plays the kubelet's part: pod cgroups in the systemd
# driver's layout under kubepods.slice, with real processes in them.

CG=/sys/fs/cgroup

# report KEY VALUE: one line the host side reads back (vm_value).
report() {
	echo "$1=$2"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# pod_cgroup UID QOS: create the pod's cgroup as the kubelet's systemd driver
# names it and print its path below /sys/fs/cgroup.  QOS: guaranteed,
# burstable or besteffort.
pod_cgroup() {
	local uid=${1//-/_} qos=$2 dir
	case $qos in
	guaranteed) dir=kubepods.slice/kubepods-pod$uid.slice ;;
	*) dir=kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod$uid.slice ;;
	esac
	mkdir -p "$CG/$dir/$POD_CONTAINER" || return 1
	# The kubelet enables the controllers down its tree, to the pod's.
	local d=$CG
	for part in ${dir//\// }; do
		echo "+cpu +cpuset +memory +pids" >"$d/cgroup.subtree_control" 2>/dev/null
		d=$d/$part
	done
	echo "+cpu +cpuset +memory +pids" >"$d/cgroup.subtree_control" 2>/dev/null
	echo "$dir"
}

# The container's cgroup below each pod's, as containerd's systemd driver
# names one: processes live there, never in the pod cgroup itself.
POD_CONTAINER=cri-containerd-0000000000000000000000000000000000000000000000000000000000000001.scope

# in_pod DIR CMD...: start CMD in the container cgroup of the pod cgroup
# DIR, in the background; prints its PID.
in_pod() {
	local dir=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$dir/$POD_CONTAINER" "$@" </dev/null >/dev/null 2>&1 &
	echo $!
}

# A container process that wakes every 50 ms and one that spins: scx_layered
# assigns a task to a layer when it next becomes runnable, so a process that
# sleeps for the whole test would never be counted in any layer.
WAKER="perl -e select(undef,undef,undef,0.05)while(1)"
SPINNER="perl -e 1while(1)"

# threads_in DIR: how many threads the cgroup DIR and its children hold.
threads_in() {
	find "$CG/$1" -name cgroup.threads -exec cat {} + 2>/dev/null | wc -l
}

# scx_state: /sys/kernel/sched_ext/state, and root/ops when enabled.
scx_state() {
	cat /sys/kernel/sched_ext/state 2>/dev/null || echo missing
}

scx_ops() {
	cat /sys/kernel/sched_ext/root/ops 2>/dev/null || echo none
}

# wait_until MS CMD...: poll CMD every 20 ms for at most MS milliseconds.
wait_until() {
	local deadline=$(($(now_ms) + $1))
	shift
	while ! "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

state_is() {
	[ "$(scx_state)" = "$1" ]
}

# scx_stats: scx_layered's stats reply (one JSON line) from its socket.
scx_stats() {
	echo '{"req":"stats","args":{"target":"top"}}' |
		timeout 10 socat -t 5 - UNIX-CONNECT:/var/run/scx/root/stats 2>/dev/null | head -n1
}

# layer_tasks LAYER: the task count scx_layered's stats give LAYER.
layer_tasks() {
	scx_stats | jq -r --arg l "$1" '.args.resp.layers[$l].tasks // "none"' 2>/dev/null
}

# k ARGS: kubectl against the host's apiserver (its port forwarded in).
k() {
	"$KUBECTL" --kubeconfig="$KUBECONFIG" --request-timeout=60s "$@"
}

# agent_start NAME MODE PORT [EXTRA CONFIG LINES]: temperd --role=agent with
# enforcement MODE, its log in $W/NAME.log; sets AGENT_PID and API.
agent_start() {
	local name=$1 mode=$2 port=$3
	mkdir -p "$W/$name.state"
	cat >"$W/$name.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$W/$name.state"
[kubernetes]
kubeconfig = "$KUBECONFIG"
node_name = "node-a"
[enforcement]
mode = "$mode"
${4-}
CONF
	"$TEMPERD" --role=agent --config="$W/$name.conf" 2>"$W/$name.log" &
	AGENT_PID=$!
	API=http://127.0.0.1:$port
}

http_ok() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1")" = 200 ]
}

agent_ready() {
	http_ok "$API/readyz"
}

# file_is FILE VALUE: FILE reads VALUE.
file_is() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}
