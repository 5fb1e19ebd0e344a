#!/bin/bash
# t/51-cgroup-enforce.sh - the cgroup enforcement backend on real cgroups.
#
# Kubelet-shaped pod cgroups (systemd names) below a private prefix in the
# hierarchy that holds cpu.idle - the v1 cpu controller on this hybrid
# machine, the cgroup2 tree on a v2 one - with a `sleep` in each.  Through
# t/cgroup-enforce-probe (the real cgroup_enforce code): Low and Background
# pods get cpu.idle=1 and nothing else changes; values go back on stand-down,
# on SIGTERM, when a pod leaves its tier or vanishes, and - after a SIGKILL -
# on the next start, from the journal.  Exclusive CPUs on v1 are refused
# with the reason.  Everything created is removed at exit.

. "${TOP_SRCDIR:-$(dirname "$0")/..}/t/lib.sh"

PROBE=$TOP_BUILDDIR/t/cgroup-enforce-probe
ROOT=${CGROUP_ROOT:-/sys/fs/cgroup}

[ "$(id -u)" -eq 0 ] || skip_all "needs root to create cgroups"
[ -x "$PROBE" ] || skip_all "t/cgroup-enforce-probe is not built"
command -v jq >/dev/null || skip_all "needs jq"
if [ -e "$ROOT/cgroup.controllers" ]; then
	CPU=$ROOT V1=false
	grep -qw cpu "$ROOT/cgroup.subtree_control" ||
		skip_all "the cpu controller is not enabled at $ROOT"
else
	CPU=$ROOT/cpu V1=true
	[ -e "$CPU/cpu.shares" ] || CPU=$ROOT/cpu,cpuacct
	[ -e "$CPU/cpu.shares" ] || skip_all "no v1 cpu controller at $ROOT/cpu"
fi
[ -e "$CPU/cpu.idle" ] || skip_all "no cpu.idle at $CPU (kernel older than 5.15?)"

PREFIX=temper-test-$$
STATE=$TMP/state
PIDS=()
cleanup() {
	local pid
	# Put back whatever a failed step left applied, then remove it all.
	"$PROBE" restore --state-dir "$STATE" >/dev/null 2>&1
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	[ -d "$CPU/$PREFIX" ] && find "$CPU/$PREFIX" -depth -type d -exec rmdir {} \; 2>/dev/null
	true
}
at_exit cleanup

uid() { printf '%08x-%04x-4000-8000-%012x' $$ "$1" "$1"; }
slice() { # slice QOS N: the pod's relative path
	local u=$(uid "$2")
	case $1 in
	guaranteed) echo "$PREFIX/kubepods.slice/kubepods-pod${u//-/_}.slice" ;;
	*) echo "$PREFIX/kubepods.slice/kubepods-$1.slice/kubepods-$1-pod${u//-/_}.slice" ;;
	esac
}

LOW=$(slice burstable 1) BG=$(slice besteffort 2) NORMAL=$(slice burstable 3)
CRIT=$(slice guaranteed 4) GONE=$(slice besteffort 5)
for pod in "$LOW" "$BG" "$NORMAL" "$CRIT" "$GONE"; do
	mkdir -p "$CPU/$pod/cri-containerd-$(printf '%064x' $RANDOM).scope" ||
		bail "cannot create cgroups under $CPU"
	sleep 600 &
	PIDS+=($!)
	echo $! >"$(echo "$CPU/$pod"/cri-containerd-*.scope)/cgroup.procs" ||
		bail "cannot move a process into $pod"
done
GONE_PID=${PIDS[4]}

idle() { cat "$CPU/$1/cpu.idle"; }
if $V1; then WEIGHT=cpu.shares IDLE_WEIGHT=3; else WEIGHT=cpu.weight IDLE_WEIGHT=0; fi
weight() { cat "$CPU/$1/$WEIGHT"; }
quota() { # the bandwidth files the kubelet owns, which must never change
	local pod
	for pod in "$LOW" "$BG" "$NORMAL" "$CRIT"; do
		if $V1; then
			cat "$CPU/$pod/cpu.cfs_quota_us" "$CPU/$pod/cpu.cfs_period_us"
		else
			cat "$CPU/$pod/cpu.max"
		fi
	done
}
shares() { quota; for pod in "$LOW" "$BG" "$NORMAL" "$CRIT"; do weight "$pod"; done; }
# A kubelet value that is not the default, to see that it stays.
if $V1; then echo 512 >"$CPU/$LOW/cpu.shares"; else echo 50 >"$CPU/$LOW/cpu.weight"; fi
KUBELET_BEFORE=$(shares)

PODS=(--pod "$(uid 1):low:500:$LOW" --pod "$(uid 2):background:0:$BG"
	--pod "$(uid 3):normal:1000:$NORMAL" --pod "$(uid 4):critical:1000:$CRIT")
probe() { "$PROBE" "$@" --state-dir "$STATE" 2>>"$TMP/probe.log"; }
journal_lines() { [ -e "$STATE/cgroup-journal" ] && grep -vc '^#' "$STATE/cgroup-journal" || echo 0; }

plan 39

# Apply and leave applied (exit without restoring).
probe apply "${PODS[@]}" --then exit >"$TMP/out"
is "$(grep -c apply=0 "$TMP/out")" 1 "apply succeeds"
is "$(idle "$LOW")" 1 "low pod: cpu.idle 1"
is "$(idle "$BG")" 1 "background pod: cpu.idle 1"
is "$(idle "$NORMAL")" 0 "normal pod untouched"
is "$(idle "$CRIT")" 0 "critical pod untouched"
is "$(quota)" "$(sed -n "1,$(quota | wc -l)p" <<<"$KUBELET_BEFORE")" "CPU bandwidth (what the kubelet owns) unchanged"
if $V1; then
	is "$(weight "$LOW")" "$IDLE_WEIGHT" "while idle the kernel shows the minimum weight"
else
	skip "v2 shows the idle weight differently"
fi
is "$(weight "$NORMAL")/$(weight "$CRIT")" "$(weight "$NORMAL")/$(weight "$CRIT")" "other pods' weights untouched"
is "$(journal_lines)" 2 "two values journalled"
STATUS=$(sed '/^apply=/,$d' "$TMP/out")
is "$(jq -r '.intended' <<<"$STATUS")/$(jq -r '.in_effect' <<<"$STATUS")" 2/2 \
	"status: two intended, two read back in effect"
is "$(jq -r ".writes[] | select(.pod == \"$(uid 2)\") | .actual" <<<"$STATUS")" 1 \
	"status shows the background pod's cpu.idle as read back"

# Idempotent: a second apply journals nothing new.
probe apply "${PODS[@]}" --then exit >/dev/null
is "$(journal_lines)" 2 "a second apply is idempotent"

# A start finds the journal and restores it first.
probe restore >"$TMP/out"
is "$(cat "$TMP/out")" "journal_entries=0" "the next start restores the journal"
is "$(idle "$LOW")/$(idle "$BG")" 0/0 "  both cpu.idle back to 0"
is "$(shares)" "$KUBELET_BEFORE" "  the kubelet's weight (reset by the kernel on cpu.idle=0) is back"
ok "  journal file removed" test ! -e "$STATE/cgroup-journal"
like "$(cat "$TMP/probe.log")" "holds 2 values from an earlier run" "  and says so in the log"

# Apply then stand down in the same process.
probe apply "${PODS[@]}" --then restore >"$TMP/out"
like "$(cat "$TMP/out")" "restored=0 journal_entries=0" "apply then stand down"
is "$(idle "$LOW")/$(idle "$BG")" 0/0 "  values put back"

# SIGKILL after applying: the values stay, the journal survives, the
# next start restores them.
probe apply "${PODS[@]}" --then kill >/dev/null
is "$?" 137 "the probe died of SIGKILL after applying"
is "$(idle "$LOW")/$(idle "$BG")" 1/1 "  values still applied"
is "$(journal_lines)" 2 "  journal still on disk"
probe apply --pod "$(uid 3):normal:1000:$NORMAL" --then exit >"$TMP/out"
is "$(idle "$LOW")/$(idle "$BG")" 0/0 "the restarted agent restored the killed one's values"
is "$(weight "$LOW")" "$(weight "$LOW" >/dev/null; sed -n "$(( $(quota | wc -l) + 1 ))p" <<<"$KUBELET_BEFORE")" "  with the kubelet's weight"
is "$(journal_lines)" 0 "  and keeps no journal for a plan with nothing to write"

# Hold until SIGTERM (the agent's shutdown), then restore.
"$PROBE" apply "${PODS[@]}" --state-dir "$STATE" --then hold >"$TMP/hold.out" 2>>"$TMP/probe.log" &
HOLD=$!
wait_for grep -q holding "$TMP/hold.out"
is "$(idle "$LOW")/$(idle "$BG")" 1/1 "held: applied"
kill -TERM "$HOLD"
wait "$HOLD"
is "$?" 0 "SIGTERM: clean exit"
is "$(idle "$LOW")/$(idle "$BG")" 0/0 "  values put back on shutdown"

# A pod leaves its tier; another vanishes.
probe apply "${PODS[@]}" --pod "$(uid 5):background:0:$GONE" --then exit >/dev/null
is "$(idle "$GONE")" 1 "a fifth pod, background"
is "$(journal_lines)" 3 "  three values journalled"
kill -9 "$GONE_PID"; wait "$GONE_PID" 2>/dev/null
find "$CPU/$GONE" -depth -type d -exec rmdir {} \;
probe apply --pod "$(uid 1):normal:500:$LOW" --pod "$(uid 2):background:0:$BG" --then exit >"$TMP/out"
is "$(grep -c apply=0 "$TMP/out")" 1 "apply after one pod left its tier and one vanished"
is "$(idle "$LOW")" 0 "  the pod that left the tier is put back"
is "$(idle "$BG")" 1 "  the one still background keeps cpu.idle 1"
is "$(journal_lines)" 1 "  the vanished pod's entry is dropped"

# Someone else resets our value: the next apply enforces it again.
echo 0 >"$CPU/$BG/cpu.idle"
probe apply --pod "$(uid 2):background:0:$BG" --then exit >/dev/null
is "$(idle "$BG")" 1 "a value reset behind our back is written again"
probe restore >/dev/null
is "$(idle "$BG")" 0 "stand down"

# Exclusive CPUs.
probe apply --exclusive --pod "$(uid 4):critical:1000:$CRIT" --then exit >"$TMP/out"
if $V1; then
	like "$(jq -r '.notes[0]' <<<"$(sed '/^apply=/,$d' "$TMP/out")")" "no exclusive CPUs on cgroup v1" \
		"v1: exclusive CPUs refused, with the reason"
	is "$(journal_lines)" 0 "  nothing written"
else
	skip "v1 only"
	skip "v1 only"
fi
probe restore >/dev/null
is "$(shares)" "$KUBELET_BEFORE" "after everything, what the kubelet owns is unchanged"
