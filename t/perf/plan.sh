#!/bin/sh
# t/perf/plan.sh [BINARY] [RUNS] - the planner benchmark (t/perf/plan.c).
#
# With no BINARY, builds it here with -O2 and no sanitizers (a configured
# --enable-sanitizers tree would time ASan, not the planner), from the
# sources next to this script.  Prints the figures; never fails on timing.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-}
runs=${2:-2000}

if [ -z "$binary" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/temper-perf-plan.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# The build's config.h is not needed: the engine only wants GNU extensions.
	printf '#define _GNU_SOURCE 1\n' >"$work/config.h"
	${CC:-cc} -std=gnu11 -O2 -DNDEBUG -I"$work" -I"$top/src" -I"$top/t" \
	    $(pkg-config --cflags libcjson 2>/dev/null) \
	    "$top/t/perf/plan.c" "$top/src/planner.c" "$top/src/layered-gen.c" \
	    "$top/src/topology.c" "$top/src/tier.c" "$top/src/pod.c" \
	    "$top/src/engine-config.c" "$top/src/buf.c" \
	    $(pkg-config --libs libcjson 2>/dev/null || echo -lcjson) \
	    -o "$work/plan"
	binary=$work/plan
fi

echo "# $(uname -m), $(nproc) CPUs online, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$binary" "$runs"
echo "# target: plan+gen p99 < 1000 us at 110 pods (figures only; timing never fails a build)"
