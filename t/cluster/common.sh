# t/cluster/common.sh - helpers shared by the t/cluster scripts (sourced).
# shellcheck shell=bash

CLUSTER_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$CLUSTER_HERE/versions.sh"

_prog=cluster/$(basename "$0")

say() { printf '[%s %s] %s\n' "$_prog" "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	printf '%s: %s\n' "$_prog" "$*" >&2
	exit 1
}

# cluster_dir DIR: absolute path of an existing cluster directory.
cluster_dir() {
	[ -n "${1-}" ] || die "usage: $0 DIR ..."
	[ -d "$1" ] || die "no cluster directory $1"
	(cd "$1" && pwd)
}

# load_env DIR: source DIR/env (written by up) into the environment.
load_env() {
	[ -f "$1/env" ] || die "$1/env missing: was t/cluster/up run on $1?"
	set -a
	# shellcheck disable=SC1091
	. "$1/env"
	set +a
}

# kc ARGS...: the pinned kubectl as cluster admin.
kc() { "$KUBECTL" --kubeconfig="$KUBECONFIG" --request-timeout=30s "$@"; }

# api METHOD PATH [BODY [CONTENT-TYPE]]: one request as admin with curl;
# prints the HTTP status, leaves the body in $API_OUT.
api() {
	local data=()
	[ $# -lt 3 ] || data=(--data-binary "$3")
	API_OUT=${API_OUT:-$D/run/api.out.$$}
	curl -sS -o "$API_OUT" -w '%{http_code}' --max-time 30 \
		--cacert "$CA_CERT" --cert "$ADMIN_CERT" --key "$ADMIN_KEY" \
		-X "$1" -H "Content-Type: ${4:-application/json}" \
		${data[@]+"${data[@]}"} "$APISERVER_URL$2" || true
}

pid_alive() { [ -n "${1-}" ] && kill -0 "$1" 2>/dev/null; }

# pid_is PID PATTERN: PID is alive and its command line contains PATTERN.
pid_is() {
	pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# pid_running PID: alive and not a zombie.
pid_running() {
	local st
	pid_alive "${1-}" || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# stop_pid PID SIGNAL SECONDS: send SIGNAL, wait up to SECONDS, then SIGKILL.
# A process that exited but is not reaped yet (a zombie: our daemons are
# re-parented to init) counts as stopped; we still give init up to 2 s to
# reap it so that callers checking `kill -0` see it gone.
stop_pid() {
	local pid=$1 sig=$2 secs=$3 i
	pid_alive "$pid" || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		pid_running "$pid" || break
		sleep 0.1
	done
	if pid_running "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			pid_running "$pid" || break
			sleep 0.1
		done
		! pid_running "$pid" || return 1
	fi
	for ((i = 0; i < 20; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	return 0
}

# free_ports N: N distinct free TCP ports on 127.0.0.1 (all bound at once,
# so they differ from each other), one per line.
free_ports() {
	python3 - "$1" <<-'EOF'
		import socket, sys
		socks = []
		for _ in range(int(sys.argv[1])):
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    socks.append(s)
		for s in socks:
		    print(s.getsockname()[1])
		for s in socks:
		    s.close()
	EOF
}

# http_code URL [CURL ARGS...]: HTTP status of GET URL ("000" if none).
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# Process records: DIR/run/NAME.pid, NAME.args (NUL-separated argv), NAME.log
# in DIR/logs.  start_proc NAME ARGV...: start it in the background.
start_proc() {
	local name=$1 pid
	shift
	mkdir -p "$D/run" "$D/logs"
	printf '%s\0' "$@" >"$D/run/$name.args"
	{
		echo "=== $(date -u +%FT%TZ) start:"
		printf ' %q' "$@"
		echo
	} >>"$D/logs/$name.log"
	"$@" </dev/null >>"$D/logs/$name.log" 2>&1 &
	pid=$!
	echo "$pid" >"$D/run/$name.pid"
	echo "$pid"
}

# restart_proc NAME: start NAME again with the argv it was first started with.
restart_proc() {
	local name=$1 args=()
	[ -f "$D/run/$name.args" ] || die "$name was never started in $D"
	mapfile -d '' args <"$D/run/$name.args"
	start_proc "$name" "${args[@]}"
}

proc_pid() { cat "$D/run/$1.pid" 2>/dev/null || true; }

# wait_ready NAME URL SECONDS [CURL ARGS...]: poll URL until 200; fail early
# when process NAME has died.  Shows the log tail on failure.
wait_ready() {
	local name=$1 url=$2 secs=$3 pid code=000 deadline
	shift 3
	pid=$(proc_pid "$name")
	deadline=$(($(date +%s) + secs))
	while :; do
		code=$(http_code "$url" "$@")
		[ "$code" != 200 ] || return 0
		if ! pid_alive "$pid"; then
			say "$name (pid $pid) exited before $url answered 200; last log lines:"
			tail -n 25 "$D/logs/$name.log" | sed 's/^/    | /' >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "$name: $url still answers $code after $secs s; last log lines:"
			tail -n 25 "$D/logs/$name.log" | sed 's/^/    | /' >&2
			return 1
		fi
		sleep 0.2
	done
}

# set_env KEY VALUE: replace or add KEY=VALUE in DIR/env.
set_env() {
	local tmp=$D/env.tmp.$$
	{
		grep -v "^$1=" "$D/env" 2>/dev/null || true
		echo "$1=$2"
	} >"$tmp"
	mv -f "$tmp" "$D/env"
}

apiserver_ready() { # SECONDS
	wait_ready kube-apiserver "$APISERVER_URL/readyz" "$1" --cacert "$CA_CERT"
}
