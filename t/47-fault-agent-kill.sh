#!/bin/bash
# t/47-fault-agent-kill.sh - the agent SIGKILLed, three times, while pods
# arrive and plans are made, enforcing through this machine's real cgroups
# (--enforcement=cgroup).  After each kill: the values it wrote stay (the
# pods keep their enforcement while it is away), its journal and a stale
# socket are left.  Each restart puts the journalled values back first,
# removes what a write cut short (a half-written generation and journal
# are planted to stand for one), keeps the generations and their
# numbering, serves temperctl on a fresh socket, holds exactly the LIST's
# pods and enforces again.  A last SIGTERM restores every value.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/fault-lib.sh"

fault_require_cgroups
fault_require_cluster
[ -x "$TEMPERCTL" ] || skip_all "temperctl is not built"
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 2 >/dev/null || bail "mknode failed"
fault_priority_classes
at_exit fault_cleanup_cgroups

fault_pod db temper-critical 500m
fault_kubelet db
db_cpu=$POD_CPU
fault_pod batch temper-background
fault_kubelet batch
batch_cpu=$POD_CPU
background_cpus=("$batch_cpu")

port=$(free_port)
api="http://127.0.0.1:$port"
S=$TMP/state
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
state_dir = "$S"
[kubernetes]
kubeconfig = "$KUBECONFIG"
node_name = "node-a"
[enforcement]
mode = "cgroup"
[planner]
debounce_ms = 50
CONF
# all_idle VALUE: every background pod's cpu.idle is VALUE.
all_idle() {
	local d
	for d in "${background_cpus[@]}"; do
		[ "$(cat "$d/cpu.idle")" = "$1" ] || return 1
	done
}
generation_numbers() { curl -s --max-time 5 "$api/api/v1/config/generations" | jq -c '[.[].generation]'; }
ctl() { "$TEMPERCTL" --agent "$S/agent.sock" "$@"; }
# jq_true JSON ARGS...: jq -e quietly.
jq_true() { local json=$1; shift; jq -e "$@" <<<"$json" >/dev/null; }

start_temperd agent0 --config="$TMP/temper.conf"
WAIT_SECONDS=60 ok "the agent enforcing through cgroups becomes ready" wait_eq 200 http_status "$api/readyz"
ok "the background pod gets cpu.idle=1" wait_for all_idle 1

lost=0
for round in 1 2 3; do
	# Pods arrive; the agent is killed while it plans them.
	fault_pod "bg-$round" temper-background
	fault_kubelet "bg-$round"
	background_cpus+=("$POD_CPU")
	fault_pod "low-$round" temper-low
	fault_kubelet "low-$round"
	background_cpus+=("$POD_CPU")
	WAIT_SECONDS=30 wait_for all_idle 1
	before=$(generation_numbers)
	last_before=$(jq '.[-1]' <<<"$before")
	kill -KILL "$TEMPERD_PID"; wait "$TEMPERD_PID" 2>/dev/null
	ok "round $round: SIGKILLed, the pods keep cpu.idle=1 while it is away" all_idle 1
	ok "round $round: ... its journal and a stale socket are left" \
		test -s "$S/cgroup-journal" -a -S "$S/agent.sock"
	# What a kill in the middle of a write leaves: temporary files.
	printf '{"generation":%d,"created_ms":1,"reas' "$((last_before + 1))" \
		>"$S/generations/$(printf '%06d' $((last_before + 1))).json.tmp"
	printf '# temper cgroup journal 1\n/sys/fs/cgroup/cpu/x\tcpu.id' >"$S/cgroup-journal.tmp"

	start_temperd "agent$round" --config="$TMP/temper.conf"
	WAIT_SECONDS=60 ok "round $round: restarted, it becomes ready" wait_eq 200 http_status "$api/readyz"
	like "$(cat "$TMP/agent$round.log")" \
		'cgroup journal .* holds [0-9]+ values from an earlier run; putting them back first' \
		"round $round: ... after putting back the journalled values"
	ok "round $round: ... it enforces every background pod again" wait_for all_idle 1
	after=$(generation_numbers)
	ok "round $round: the generations before the kill are all kept" \
		jq_true "$after" --argjson b "$before" '($b - .) == []'
	ok "round $round: ... numbered on, none reused" \
		jq_true "$after" --argjson l "$last_before" '. == (. | unique) and .[-1] >= $l'
	ok "round $round: nothing half-written is left in the state directory" \
		test -z "$(find "$S" -name '*.tmp')"
	ok "round $round: every generation file is whole" fault_generation_files_whole "$S"
	is "$(ctl status --json | jq -r .node)" node-a "round $round: temperctl answers on the fresh socket"
	WAIT_SECONDS=30 ok "round $round: the agent's pods equal a fresh LIST" wait_for fault_store_matches "$api"
	fault_store_matches "$api" || lost=$((lost + 1))
done
is "$lost" 0 "no pod was lost over the three kills"
is "$(cat "$db_cpu/cpu.idle")" 0 "the critical pod's cpu.idle was never touched"

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "a last SIGTERM stops the agent cleanly"
ok "... putting every background pod's cpu.idle back to 0" all_idle 0
ok "... with no journal left" test ! -e "$S/cgroup-journal"
done_testing
