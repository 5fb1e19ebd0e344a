# t/observe-lib.sh - shared by the observation scripts (t/6N-*.sh) and
# t/perf/observe.sh: test cgroups with known processes in them, and the
# probe that serves /observe over them.  Source it after t/lib.sh.
#
# Every cgroup made here is killed (cgroup.kill) and removed at exit, and
# the probe stopped, however the script ends.

OBSERVE_PROBE=${OBSERVE_PROBE:-$TOP_BUILDDIR/t/observe-probe}
OBSERVE_CGROUP2=${OBSERVE_CGROUP2:-}

# observe_require: skip the whole script unless this machine can run it.
observe_require() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (BPF programs, cgroups)"
	if [ -z "$OBSERVE_CGROUP2" ]; then
		if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
			OBSERVE_CGROUP2=/sys/fs/cgroup/unified
		elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
			OBSERVE_CGROUP2=/sys/fs/cgroup
		else
			skip_all "no cgroup2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup"
		fi
	fi
	[ -f "$OBSERVE_CGROUP2/cpu.pressure" ] || skip_all "no PSI in $OBSERVE_CGROUP2 (kernel without CONFIG_PSI)"
	[ -x "$OBSERVE_PROBE" ] || skip_all "no $OBSERVE_PROBE (make check builds it)"
	[ -r /sys/kernel/btf/vmlinux ] || skip_all "no kernel BTF at /sys/kernel/btf/vmlinux"
	command -v curl >/dev/null || skip_all "no curl"
	OBSERVE_BASE="temper-$(basename "$0" .sh)-$$"
	mkdir "$OBSERVE_CGROUP2/$OBSERVE_BASE" || bail "cannot create a cgroup in $OBSERVE_CGROUP2"
	at_exit "observe_cleanup_cgroups"
	# A harness that goes away (a closed pipe, a hangup) must not leave
	# busy loops behind: exit through the cleanup instead of dying.
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}

# Kill everything in our cgroups, leaves first, then remove them.
observe_cleanup_cgroups() {
	local dir deadline
	[ -n "${OBSERVE_BASE:-}" ] && [ -d "$OBSERVE_CGROUP2/$OBSERVE_BASE" ] || return 0
	for dir in $(find "$OBSERVE_CGROUP2/$OBSERVE_BASE" -mindepth 1 -type d | sort -r); do
		echo 1 >"$dir/cgroup.kill" 2>/dev/null ||
			xargs -r kill -9 <"$dir/cgroup.procs" 2>/dev/null
	done
	deadline=$((SECONDS + 10))
	for dir in $(find "$OBSERVE_CGROUP2/$OBSERVE_BASE" -mindepth 1 -type d | sort -r); do
		# cgroupfs files report a size of 0: read them.
		while [ -n "$(cat "$dir/cgroup.procs")" ] && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		rmdir "$dir"
	done
	rmdir "$OBSERVE_CGROUP2/$OBSERVE_BASE"
}

# observe_cgroup NAME: make a test cgroup; prints its path relative to the hierarchy.
observe_cgroup() {
	mkdir "$OBSERVE_CGROUP2/$OBSERVE_BASE/$1" || return 1
	echo "$OBSERVE_BASE/$1"
}

# observe_spin COUNT COMM CGROUP: COUNT busy loops named COMM in CGROUP.
observe_spin() {
	local i
	for ((i = 0; i < $1; i++)); do
		"$OBSERVE_PROBE" spin "$2" "$OBSERVE_CGROUP2/$3/cgroup.procs" &
	done
}

# observe_nap COMM USEC CGROUP: a process waking every USEC in CGROUP.
observe_nap() {
	"$OBSERVE_PROBE" nap "$1" "$2" "$OBSERVE_CGROUP2/$3/cgroup.procs" &
}

# observe_start_probe ARGS...: serve on a free port; sets PROBE_PID, PROBE_URL.
observe_start_probe() {
	local port
	port=$(free_port)
	"$OBSERVE_PROBE" serve --listen="127.0.0.1:$port" \
		--cgroup-root="$OBSERVE_CGROUP2" "$@" \
		>"$TMP/probe.out" 2>"$TMP/probe.log" &
	PROBE_PID=$!
	PROBE_URL="http://127.0.0.1:$port"
	at_exit "kill -9 $PROBE_PID"
	wait_for curl -sf "$PROBE_URL/healthz"
}

# observe_stop_probe: SIGTERM, and the probe's exit status (0: clean loop close).
observe_stop_probe() {
	kill -TERM "$PROBE_PID"
	wait "$PROBE_PID"
}

# observe_get FILE: GET /observe into FILE.
observe_get() {
	curl -sf --max-time 10 "$PROBE_URL/observe" >"$1"
}

# jpy FILE EXPRESSION: evaluate a Python expression over the JSON in FILE as d.
jpy() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
