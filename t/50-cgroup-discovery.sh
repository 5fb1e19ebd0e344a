#!/bin/bash
# t/50-cgroup-discovery.sh - pod cgroup discovery on real cgroups.
#
# Builds kubelet-shaped trees below a private prefix (temper-test-PID) in
# this machine's real hierarchies - the cgroup2 tree and, on hybrid or v1
# machines, the v1 cpu controller - moves real `sleep` processes into them
# and asks the discovery code (through t/cgroup-enforce-probe) for each pod:
# systemd + containerd (Burstable, Guaranteed), cgroupfs + containerd,
# systemd + CRI-O with a conmon scope, a static pod found through its
# config.mirror hash, a container restart and a pod that went away.
# Everything created is removed at exit, however the script ends.

. "${TOP_SRCDIR:-$(dirname "$0")/..}/t/lib.sh"

PROBE=$TOP_BUILDDIR/t/cgroup-enforce-probe
ROOT=${CGROUP_ROOT:-/sys/fs/cgroup}

[ "$(id -u)" -eq 0 ] || skip_all "needs root to create cgroups"
[ -x "$PROBE" ] || skip_all "t/cgroup-enforce-probe is not built"
command -v jq >/dev/null || skip_all "needs jq"
if [ -e "$ROOT/cgroup.controllers" ]; then
	V2=$ROOT CPU=$ROOT LAYOUT=v2
elif [ -e "$ROOT/unified/cgroup.controllers" ]; then
	V2=$ROOT/unified LAYOUT=hybrid
	CPU=$ROOT/cpu
	[ -e "$CPU/cpu.shares" ] || CPU=$ROOT/cpu,cpuacct
else
	skip_all "no cgroup2 hierarchy at $ROOT or $ROOT/unified"
fi
[ -e "$CPU/cgroup.procs" ] || skip_all "no cpu controller hierarchy at $CPU"

PREFIX=temper-test-$$
PIDS=()
cleanup() {
	local pid dir
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for dir in "$V2/$PREFIX" "$CPU/$PREFIX"; do
		# Bottom-up: a cgroup goes only once its children have.
		[ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	true
}
at_exit cleanup

# uid N: a UID unique to this run.
uid() { printf '%08x-%04x-4000-8000-%012x' $$ "$1" "$1"; }
# cid N: a 64-hex container id unique to this run.
cid() { printf '%056x%08x' "$1" $$; }

# mkpod RELATIVE...: create each cgroup in the v2 tree and the cpu tree.
mkpod() {
	local relative
	for relative in "$@"; do
		mkdir -p "$V2/$PREFIX/$relative" "$CPU/$PREFIX/$relative" || return 1
	done
}

# run_in RELATIVE: start `sleep` in that cgroup (both hierarchies); the pid
# lands in LAST_PID.
run_in() {
	sleep 600 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	echo "$LAST_PID" >"$V2/$PREFIX/$1/cgroup.procs" &&
	[ "$V2" = "$CPU" ] || echo "$LAST_PID" >"$CPU/$PREFIX/$1/cgroup.procs"
}

discover() {
	"$PROBE" discover "$@" 2>"$TMP/discover.err" >"$TMP/discover.out"
	DISCOVER_RC=$?
	# The probe prints the pod's report, then the layout as a second object.
	REPORT=$(jq -s '.[0]' "$TMP/discover.out" 2>/dev/null)
}

field() { jq -r "$1" <<<"$REPORT"; }

plan 38

# 1. systemd + containerd, Burstable.
U1=$(uid 1) C1=$(cid 1) C1B=$(cid 11)
S1=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U1//-/_}.slice
mkpod "$S1/cri-containerd-$C1.scope" "$S1/cri-containerd-$C1B.scope" ||
	bail "cannot create cgroups under $V2 and $CPU"
run_in "$S1/cri-containerd-$C1.scope"; P1=$LAST_PID
run_in "$S1/cri-containerd-$C1B.scope"; P1B=$LAST_PID
discover --uid "$U1" --container "$C1" --container "$C1B"
is "$DISCOVER_RC" 0 "systemd/containerd burstable pod found"
is "$(jq -rs '.[1].layout' "$TMP/discover.out")" "$LAYOUT" "layout detected as $LAYOUT"
is "$(field .relative)" "$PREFIX/$S1/" "relative path, for CgroupPrefix"
is "$(field .path)" "$V2/$PREFIX/$S1" "absolute v2 path"
is "$(field .cpu_path)" "$CPU/$PREFIX/$S1" "cpu.idle directory"
ok "cpu.idle exists there" test -e "$(field .cpu_path)/cpu.idle"
is "$(field .cgroup_id)" "$(stat -c %i "$V2/$PREFIX/$S1")" "cgroup id is the v2 inode"
is "$(field .driver)/$(field .qos)" "systemd/Burstable" "driver and QoS from the path"
is "$(field '.pids | join(" ")')" "$(printf '%s\n' "$P1" "$P1B" | sort -n | tr '\n' ' ' | sed 's/ $//')" \
	"both sleep processes found"
is "$(field ".containers[] | select(.id == \"$C1\") | .name")" c0 "container id matched to the pod's first container"
is "$(field ".containers[] | select(.id == \"$C1\") | .pids[0]")" "$P1" "  with its process"
is "$(field '.missing_containers')" 0 "no container missing"

# A container restarts: its old scope goes, a new one appears.
C1N=$(cid 12)
kill -9 "$P1B"; wait "$P1B" 2>/dev/null
rmdir "$V2/$PREFIX/$S1/cri-containerd-$C1B.scope" "$CPU/$PREFIX/$S1/cri-containerd-$C1B.scope"
mkpod "$S1/cri-containerd-$C1N.scope"
run_in "$S1/cri-containerd-$C1N.scope"; P1N=$LAST_PID
discover --uid "$U1" --container "$C1" --container "$C1N"
is "$(field '[.containers[].id] | sort | join(",")')" "$(printf '%s\n' "$C1" "$C1N" | sort | paste -sd,)" \
	"after a restart the new container cgroup is found"
ok "  with the new process" grep -qw "$P1N" <<<"$(field '.pids[]')"
is "$(field '.missing_containers')" 0 "  nothing missing"
discover --uid "$U1" --container "$C1" --container "$C1B"
is "$(field '.missing_containers')" 1 "the restarted container's old id is reported missing"

# 2. systemd + containerd, Guaranteed: directly under kubepods.slice.
U2=$(uid 2) C2=$(cid 2)
S2=kubepods.slice/kubepods-pod${U2//-/_}.slice
mkpod "$S2/cri-containerd-$C2.scope"
run_in "$S2/cri-containerd-$C2.scope"; P2=$LAST_PID
discover --uid "$U2" --container "$C2"
is "$DISCOVER_RC" 0 "guaranteed pod found"
is "$(field .relative)" "$PREFIX/$S2/" "  directly under kubepods.slice"
is "$(field .qos)" Guaranteed "  QoS Guaranteed"
is "$(field '.pids[0]')" "$P2" "  its process"

# 3. cgroupfs + containerd, Burstable: kubepods/burstable/pod<uid>/<id>.
U3=$(uid 3) C3=$(cid 3)
S3=kubepods/burstable/pod$U3
mkpod "$S3/$C3"
run_in "$S3/$C3"; P3=$LAST_PID
discover --uid "$U3" --container "$C3"
is "$DISCOVER_RC" 0 "cgroupfs pod found"
is "$(field .driver)" cgroupfs "  cgroupfs driver"
is "$(field .relative)" "$PREFIX/$S3/" "  relative path"
is "$(field ".containers[0].id")/$(field ".containers[0].name")" "$C3/c0" "  bare container id matched"
is "$(field '.pids[0]')" "$P3" "  its process"

# 4. systemd + CRI-O, BestEffort, with conmon beside the container.
U4=$(uid 4) C4=$(cid 4)
S4=kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${U4//-/_}.slice
mkpod "$S4/crio-$C4.scope" "$S4/crio-conmon-$C4.scope"
run_in "$S4/crio-$C4.scope"; P4=$LAST_PID
run_in "$S4/crio-conmon-$C4.scope"; P4C=$LAST_PID
discover --uid "$U4" --container "$C4"
is "$DISCOVER_RC" 0 "CRI-O pod found"
is "$(field '.containers | length')" 1 "  conmon is not a container"
is "$(field '.containers[0].runtime')" cri-o "  runtime cri-o"
is "$(field '.pids | join(" ")')" "$P4" "  the container's process only, not conmon's ($P4C)"
is "$(field .qos)" BestEffort "  QoS BestEffort"

# 5. A static pod: the cgroup is named for the config hash, not the API UID.
HASH=$(printf '%024x%08x' 5 $$)
API_UID=$(uid 5)
S5=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$HASH.slice
mkpod "$S5/cri-containerd-$(cid 5).scope"
run_in "$S5/cri-containerd-$(cid 5).scope"; P5=$LAST_PID
discover --uid "$API_UID"
is "$DISCOVER_RC" 2 "a static pod is not found by its API UID"
discover --uid "$API_UID" --mirror "$HASH"
is "$DISCOVER_RC" 0 "a static pod is found through kubernetes.io/config.mirror"
is "$(field .uid)/$(field .cgroup_uid)" "$API_UID/$HASH" "  both UIDs reported"
is "$(field '.pids[0]')" "$P5" "  its process"

# 6. A pod that went away, and one that never was.
kill -9 "$P3"; wait "$P3" 2>/dev/null
find "$V2/$PREFIX/kubepods" "$CPU/$PREFIX/kubepods" -depth -type d -exec rmdir {} \;
discover --uid "$U3"
is "$DISCOVER_RC" 2 "a removed pod is no longer found"
is "$(cat "$TMP/discover.out")" "errno=ENOENT" "  ENOENT"
like "$(cat "$TMP/discover.err")" "no cgroup named for UID $U3" "  with a cause naming the UID"
discover --uid "../../etc"
is "$(cat "$TMP/discover.out")" "errno=EINVAL" "a UID that is no cgroup name is refused"
