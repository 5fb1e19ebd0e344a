#!/bin/bash
# t/86-profile-scx.sh - plans of profiled pods through the REAL scx_layered
# parser (t/scx/build): the profile goldens and a sample of the random
# profiled plans t/test-profile-planner generates.  On this host the binary
# parses and verifies every config and then fails at the missing sched_ext
# ("sched_ext_ops.dump() missing, kernel too old?"): that message and no
# parse or verification error is "accepted".  Enforcement itself is t/vm's.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"

NO_SCHED_EXT='sched_ext_ops.dump() missing, kernel too old?'
SAMPLE=${TEMPER_PROFILE_SCX_SAMPLE:-40}
PLANNER=$TOP_BUILDDIR/t/test-profile-planner

[ -e /sys/kernel/sched_ext ] &&
	skip_all "this kernel has sched_ext: scx_layered would attach for real (run it in t/vm)"
[ "$(id -u)" = 0 ] || skip_all "scx_layered loads BTF and BPF only as root"
why=$("$TOP_SRCDIR/t/scx/available") || skip_all "$why"
[ -x "$PLANNER" ] || skip_all "build t/test-profile-planner first (make check)"

verdict() {
	local out rc
	out=$(timeout 60 "$SCX_LAYERED_BIN" "f:$1" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "$NO_SCHED_EXT" <<<"$out" &&
		! grep -qE 'Failed to parse|Caused by|verify|invalid|panicked' <<<"$out"; then
		echo accepted
	else
		echo "exit $rc: $(grep -E 'Error|Caused|panicked|unknown variant' <<<"$out" | head -n 3 | tr '\n' ' ')"
	fi
}

goldens=("$TOP_SRCDIR"/t/golden/profile-*.json)
plan $((${#goldens[@]} + 2))

# A control: a profile block with a misspelt condition is a parse error.
echo '[{"name":"x","matches":[[{"CgroupPrefix":"a/"},{"CommPrefx":"b"}]],"kind":{"Open":{}}},{"name":"o","matches":[[]],"kind":{"Open":{}}}]' >"$TMP/control.json"
like "$(verdict "$TMP/control.json")" 'exit 1: Error: Failed to parse.*unknown variant .CommPrefx.' "control: a misspelt condition in an AND block is refused before the boundary"

for f in "${goldens[@]}"; do
	is "$(verdict "$f")" accepted "$(basename "$f"): scx_layered parses and verifies it"
done

mkdir "$TMP/random"
TOP_SRCDIR=$TOP_SRCDIR TEMPER_PROPERTY_DUMP=$TMP/random "$PLANNER" >"$TMP/planner.tap" 2>&1
total=0 accepted=0
for f in $(ls "$TMP/random"/*.json | awk -v n="$SAMPLE" 'NR % int(300 / n) == 0'); do
	total=$((total + 1))
	v=$(verdict "$f")
	if [ "$v" = accepted ]; then accepted=$((accepted + 1)); else diag "$(basename "$f"): $v"; fi
done
ok "scx_layered accepts $accepted of $total random profiled plans" test "$accepted" -eq "$total" -a "$total" -gt 0
