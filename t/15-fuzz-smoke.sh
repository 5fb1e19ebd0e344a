#!/usr/bin/env bash
# t/15-fuzz-smoke.sh - every libFuzzer target replays its corpus and survives
# a short, fixed-seed mutation run.  The long runs are `make fuzz`.
#
# The targets are built here if needed (make fuzz-build in the build tree);
# when configure found no clang with libFuzzer, the whole script is skipped.

. "$(dirname "$0")/lib.sh"

SMOKE_RUNS=${FUZZ_SMOKE_RUNS:-2000}

[ -r "$TOP_BUILDDIR/Makefile" ] ||
	skip_all "no configured build tree at $TOP_BUILDDIR"

# A make started from a test must not join the jobserver of the make that
# runs the tests.
fuzz_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP_BUILDDIR" "$@"
}

targets=$(fuzz_make fuzz-list 2>/dev/null)
[ -n "$targets" ] || bail "make fuzz-list named no targets"

if ! fuzz_make fuzz-build >"$TMP/build.log" 2>&1; then
	if grep -q 'libFuzzer unavailable' "$TMP/build.log"; then
		skip_all "$(grep -o 'libFuzzer unavailable.*' "$TMP/build.log")"
	fi
	ok "make fuzz-build" false
	diag "$(tail -n 30 "$TMP/build.log")"
	done_testing
	exit 1
fi
ok "make fuzz-build builds: $targets" true

for target in $targets; do
	name=${target#fuzz-}
	binary=$TOP_BUILDDIR/t/fuzz/$target
	corpus=$TOP_SRCDIR/t/fuzz/corpus/$name
	mkdir -p "$TMP/$name/scratch" "$TMP/$name/artifacts"

	files=("$corpus"/*)
	ok "$target has a seed corpus in t/fuzz/corpus/$name" \
		test -e "${files[0]}"

	# Each corpus file once: the regression inputs.
	"$binary" -artifact_prefix="$TMP/$name/artifacts/" "${files[@]}" \
		>"$TMP/$name/replay.log" 2>&1
	replayed=$?
	is "$replayed" 0 "$target replays its ${#files[@]} corpus files cleanly"
	[ "$replayed" -eq 0 ] || diag "$(tail -n 40 "$TMP/$name/replay.log")"

	# Mutations from the corpus, with a fixed seed so a failure reproduces.
	"$binary" -runs="$SMOKE_RUNS" -seed=1 -print_final_stats=1 \
		-artifact_prefix="$TMP/$name/artifacts/" \
		"$TMP/$name/scratch" "$corpus" >"$TMP/$name/smoke.log" 2>&1
	smoked=$?
	is "$smoked" 0 "$target survives $SMOKE_RUNS mutated inputs (-seed=1)"
	if [ "$smoked" -ne 0 ]; then
		diag "$(tail -n 40 "$TMP/$name/smoke.log")"
		for crash in "$TMP/$name/artifacts"/*; do
			[ -e "$crash" ] || continue
			diag "input $(basename "$crash") (base64): $(base64 -w0 "$crash")"
		done
	fi
	diag "$target: $(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$TMP/$name/smoke.log") executions"
done

done_testing
