# t/lib.sh - TAP helpers for Temper's integration scripts.
#
# Source it from t/NN-name.sh.  Every script prints TAP on stdout; automake's
# TAP driver counts each test point.  A script that needs what this machine
# lacks calls skip_all with the reason, which the driver reports as SKIP.

set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
TEMPERD=${TEMPERD:-$TOP_BUILDDIR/src/temperd}
TEMPERCTL=${TEMPERCTL:-$TOP_BUILDDIR/src/temperctl}
export TOP_SRCDIR TOP_BUILDDIR TEMPERD TEMPERCTL

_tap_count=0
_tap_failed=0
_tap_planned=
_tap_exit_cmds=()

TMP=$(mktemp -d "${TMPDIR:-/tmp}/temper-t.XXXXXX")

_tap_on_exit() {
	local rc=$? i
	# Cleanups run last-registered first, like a stack of destructors.
	for ((i = ${#_tap_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_tap_exit_cmds[i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$TMP"
	if [ -z "$_tap_planned" ] && [ "$_tap_count" -gt 0 ]; then
		echo "1..$_tap_count"
	fi
	if [ "$_tap_failed" -gt 0 ] && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	exit "$rc"
}
trap _tap_on_exit EXIT
trap 'exit 130' INT TERM

# at_exit CMD: run CMD (a shell string) when the script ends, however it ends.
at_exit() {
	_tap_exit_cmds+=("$1")
}

plan() {
	_tap_planned=$1
	echo "1..$1"
}

done_testing() {
	if [ -z "$_tap_planned" ]; then
		_tap_planned=$_tap_count
		echo "1..$_tap_count"
	fi
}

diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

_tap_result() {
	_tap_count=$((_tap_count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_count - $2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_count - $2"
	fi
}

# ok DESC CMD [ARGS...]: one test point, passing when CMD exits 0.
ok() {
	local desc=$1
	shift
	"$@"
	_tap_result $? "$desc"
}

# is GOT EXPECTED DESC: one test point comparing two strings.
is() {
	if [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "got:      '$1'"
		diag "expected: '$2'"
	fi
}

# like GOT REGEX DESC: one test point matching an extended regular expression.
like() {
	if [[ $1 =~ $2 ]]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "got:      '${1:0:600}'"
		diag "expected to match: '$2'"
	fi
}

skip() {
	_tap_count=$((_tap_count + 1))
	echo "ok $_tap_count # SKIP $1"
}

skip_all() {
	echo "1..0 # SKIP $1"
	_tap_planned=0
	exit 0
}

bail() {
	echo "Bail out! $1"
	exit 1
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait_for CMD...: retry CMD every 0.1 s for up to WAIT_SECONDS (default 20).
wait_for() {
	local deadline=$((SECONDS + ${WAIT_SECONDS:-20}))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# start_temperd NAME ARGS...: start temperd in the background with its
# stderr in $TMP/NAME.log; sets TEMPERD_PID and stops it at exit.
start_temperd() {
	local name=$1
	shift
	"$TEMPERD" "$@" 2>"$TMP/$name.log" &
	TEMPERD_PID=$!
	at_exit "kill -9 $TEMPERD_PID"
}

# http_status URL [CURL ARGS...]: print the HTTP status code of a request.
http_status() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}

# wait_eq EXPECTED CMD...: retry CMD every 0.1 s until its output is
# EXPECTED, for up to WAIT_SECONDS (default 20); shows the last output on
# failure.
wait_eq() {
	local expected=$1 got deadline=$((SECONDS + ${WAIT_SECONDS:-20}))
	shift
	while :; do
		got=$("$@" 2>/dev/null)
		[ "$got" = "$expected" ] && return 0
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.1
	done
	diag "waited for '$expected', last got '${got:0:300}'"
	return 1
}
