#!/usr/bin/env bash
# t/70-scx-validate.sh - every config Temper generates, checked by the REAL
# scx_layered parser (t/scx/build) and by Temper's strict schema checker:
# the goldens (t/golden/*.json) and the planner's property-generated plans
# (TEMPER_PROPERTY_DUMP).  This kernel has no sched_ext, so a config the
# parser accepts fails later, at the sched_ext boundary, with exit status 1
# and "sched_ext_ops.dump() missing, kernel too old?" (scx_layered parses
# the JSON, applies defaults and runs verify_layer_specs() first; see
# reference/scx_layered.md §2.4).  That message, and no other, is what a
# valid config must end with here.  Two broken configs show that a parse
# error and a verification error are told apart.
#
# Skips when scx_layered is not built (t/scx/build; TEMPER_BUILD_SCX=1 lets
# this test build it when cargo exists), and on a kernel WITH sched_ext,
# where the binary would attach and take over the machine's scheduling.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TOP_BUILDDIR=${TOP_BUILDDIR:-$TOP_SRCDIR}
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/scx/versions.sh"

NO_SCHED_EXT='sched_ext_ops.dump() missing, kernel too old?'
COUNT=${TEMPER_SCX_VALIDATE_COUNT:-100}

[ -e /sys/kernel/sched_ext ] &&
	skip_all "this kernel has sched_ext: scx_layered would attach for real (run it in t/vm)"
[ "$(id -u)" = 0 ] || skip_all "scx_layered loads BTF and BPF only as root"
if ! why=$("$TOP_SRCDIR/t/scx/available"); then
	if [ -n "${TEMPER_BUILD_SCX-}" ] && scx_cargo >/dev/null; then
		echo "# building scx_layered (t/scx/build); progress on stderr" >&2
		"$TOP_SRCDIR/t/scx/build" || bail "t/scx/build failed"
	else
		skip_all "$why; TEMPER_BUILD_SCX=1 builds it here (cold: see t/scx/README.md)"
	fi
fi
CHECK=$TOP_BUILDDIR/t/scx-schema-check
PROPERTY=$TOP_BUILDDIR/t/test-planner-property
[ -x "$CHECK" ] && [ -x "$PROPERTY" ] || skip_all "build t/scx-schema-check and t/test-planner-property first (make check)"

# The verdict on one file: "accepted" (failed only at the sched_ext
# boundary), or what else happened.
verdict() {
	local out rc
	out=$(RUST_BACKTRACE=0 NO_COLOR=1 timeout 60 "$SCX_LAYERED_BIN" "f:$1" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "$NO_SCHED_EXT" <<<"$out" &&
		! grep -qE 'Failed to parse|Caused by|panicked' <<<"$out"; then
		echo accepted
	else
		# The Error: line and what Caused by: says.
		echo "exit $rc: $(awk '/^Error:|panicked/ { printf "%s ", $0 }
			c { sub(/^ +/, ""); printf "(%s) ", $0; c = 0 }
			/^Caused by:/ { c = 1 }' <<<"$out")"
	fi
}

mkdir -p "$TMP/property"
TEMPER_PROPERTY_DUMP=$TMP/property TEMPER_PROPERTY_ITERATIONS=$COUNT \
	"$PROPERTY" >"$TMP/property.tap" 2>&1
ok "the planner's property test dumped its plans ($(grep -m1 -o 'seed [0-9]*' "$TMP/property.tap"))" \
	test "$(ls "$TMP/property" | wc -l)" -gt 0
diag "$("$SCX_LAYERED_BIN" --version 2>&1 | head -n1)"

# Negative controls: what a parse error and a verification error look like.
echo '[{"name":"x","matches":[[]],"kind":{"Confned":{}}}]' >"$TMP/parse-error.json"
v=$(verdict "$TMP/parse-error.json")
like "$v" 'exit 1: .*unknown variant `Confned`' "a misspelt kind is a parse error, not the boundary: $v"
echo '[{"name":"x","matches":[[{"NiceAbove":0}]],"kind":{"Open":{}}}]' >"$TMP/verify-error.json"
v=$(verdict "$TMP/verify-error.json")
like "$v" 'exit 1: .*Terminal spec' "a last layer that is not [[]] fails verify_layer_specs: $v"

# The goldens, one by one.
for f in "$TOP_SRCDIR"/t/golden/*.json; do
	name=${f##*/}
	s=$("$CHECK" "$f")
	is "$s" "ok $f" "$name: the strict schema accepts it"
	v=$(verdict "$f")
	is "$v" accepted "$name: scx_layered parses and verifies it, failing only at the sched_ext boundary"
done

# The property-generated plans, counted.
total=0 accepted=0 schema=0
for f in "$TMP"/property/*.json; do
	total=$((total + 1))
	if "$CHECK" "$f" >/dev/null; then schema=$((schema + 1)); else diag "schema: $("$CHECK" "$f")"; fi
	v=$(verdict "$f")
	if [ "$v" = accepted ]; then accepted=$((accepted + 1)); else diag "${f##*/}: $v"; fi
done
is "$schema" "$total" "the strict schema accepts all $total property-generated configs"
is "$accepted" "$total" "scx_layered accepts all $total property-generated configs (each failed only at the sched_ext boundary)"

done_testing
