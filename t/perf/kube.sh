#!/bin/sh
# t/perf/kube.sh [--instructions] [PODS] [EVENTS] [ROUNDS] - the Kubernetes
# decoding benchmark (t/perf/kube.c): a LIST of PODS pods (default 5,000)
# and a watch stream of EVENTS events (10,000) decoded into the compact
# store, beside a bare cJSON_Parse of the same bytes, and the memory per
# stored pod.  Builds the program here with -O2 and no sanitizers (ASan
# would be timed otherwise).
#
# Each arm runs in a fresh process (an arm inherits the allocator state the
# previous one leaves), arms interleaved, ROUNDS rounds (7); times are the
# arm's CPU time per object; printed: the median with min-max, and the
# median of the per-round ratios.  --instructions adds callgrind
# instruction counts per object (1,000 pods, 2,000 events, set-up
# subtracted), stable on a shared machine.  Never fails on timing.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
instructions=
if [ "${1-}" = --instructions ]; then
	instructions=1
	shift
fi
pods=${1:-5000}
events=${2:-10000}
rounds=${3:-7}
work=$(mktemp -d "${TMPDIR:-/tmp}/temper-perf-kube.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '#define _GNU_SOURCE 1\n' >"$work/config.h"
${CC:-cc} -std=gnu11 -O2 -DNDEBUG -I"$work" -I"$top/src" \
    $(pkg-config --cflags libcjson 2>/dev/null) \
    "$top/t/perf/kube.c" "$top/src/kube-list.c" "$top/src/kube-pod.c" \
    "$top/src/kube-object.c" "$top/src/kube-quantity.c" \
    "$top/src/kube-store.c" "$top/src/kube-stream.c" "$top/src/pod.c" \
    "$top/src/buf.c" "$top/src/log.c" \
    $(pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lbpf \
    -o "$work/kube"

echo "# $(uname -m), $(nproc) CPUs online, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$work/kube" "$pods" "$events" 1 memory >"$work/memory"
round=0
while [ "$round" -lt "$rounds" ]; do
	for arm in list-bare list-decode watch-bare watch-decode; do
		"$work/kube" "$pods" "$events" 1 "$arm" | sed "s/^/$round /"
	done
	round=$((round + 1))
done >"$work/times"

awk -v pods="$pods" -v events="$events" -v rounds="$rounds" '
function median(a, n,    i, j, t) {
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
function line(name, a, n, unit,    lo, hi, i, m) {
	lo = hi = a[1]
	for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
	m = median(a, n)
	printf "%-44s %9.3f %s  (min %.3f, max %.3f)\n", name, m, unit, lo, hi
}
FILENAME ~ /memory$/ { memory = $2; bytes = $3; next }
{ t[$2, $1] = $3 }
END {
	printf "# %d pods (%d bytes of JSON each), %d watch events, %d rounds, CPU time per object\n", pods, bytes, events, rounds
	for (r = 0; r < rounds; r++) {
		lb[r + 1] = t["list-bare", r]; ld[r + 1] = t["list-decode", r]
		wb[r + 1] = t["watch-bare", r]; wd[r + 1] = t["watch-decode", r]
		lr[r + 1] = ld[r + 1] / lb[r + 1]; wr[r + 1] = wd[r + 1] / wb[r + 1]
	}
	line("LIST: bare cJSON_Parse+Delete per pod", lb, rounds, "us")
	line("LIST: item by item, decode+store per pod", ld, rounds, "us")
	line("LIST: decode / bare (target < 2)", lr, rounds, "x ")
	line("WATCH: bare cJSON_Parse+Delete per event", wb, rounds, "us")
	line("WATCH: stream+parse+decode+store per event", wd, rounds, "us")
	line("WATCH: decode / bare (target < 2)", wr, rounds, "x ")
	printf "%-44s %9d bytes (target < 2048; mallinfo2 in-use delta / pods)\n", "memory per stored pod", memory
}' "$work/memory" "$work/times"

[ -n "$instructions" ] || exit 0
if ! command -v valgrind >/dev/null 2>&1; then
	echo "# --instructions: valgrind is missing"
	exit 0
fi
count() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null \
	    "$work/kube" 1000 2000 1 "$1" 2>&1 | sed -n 's/.*Collected : //p'
}
base=$(count none)
lb=$(count list-bare)
ld=$(count list-decode)
wb=$(count watch-bare)
wd=$(count watch-decode)
awk -v base="$base" -v lb="$lb" -v ld="$ld" -v wb="$wb" -v wd="$wd" 'BEGIN {
	printf "# callgrind instructions per object (1000 pods, 2000 events)\n"
	printf "%-44s %9.0f\n", "LIST: bare parse per pod", (lb - base) / 1000
	printf "%-44s %9.0f\n", "LIST: item by item, decode+store per pod", (ld - base) / 1000
	printf "%-44s %9.3f x\n", "LIST: decode / bare (target < 2)", (ld - base) / (lb - base)
	printf "%-44s %9.0f\n", "WATCH: bare parse per event", (wb - base) / 2000
	printf "%-44s %9.0f\n", "WATCH: stream+parse+decode+store per event", (wd - base) / 2000
	printf "%-44s %9.3f x\n", "WATCH: decode / bare (target < 2)", (wd - base) / (wb - base)
}'
