#!/usr/bin/env bash
# t/14-toml-test.sh - the official toml-test suite (TOML 1.0) against
# Temper's TOML reader, through t/toml-decoder.
#
# toml-test is built from the Go module proxy into a cache and reused:
#   $TEMPER_CACHE/toml-test-<version>/toml-test   (TEMPER_CACHE defaults to
#   ~/.cache/temper).  The pin is the v2 module of toml-lang/toml-test: its
#   last v1 release (v1.6.0) requires a BurntSushi/toml pseudo-version that
#   the module proxy does not serve, so it cannot be built.
#
# Known exceptions live in t/toml-test.skip, one test name and its reason per
# line; a listed test that starts passing fails this script, so the list
# cannot go stale.

. "$(dirname "$0")/lib.sh"

TOML_TEST_VERSION=2.2.0
TOML_TEST_MODULE=github.com/toml-lang/toml-test/v2
TEMPER_CACHE=${TEMPER_CACHE:-$HOME/.cache/temper}
TOML_TEST_DIR=$TEMPER_CACHE/toml-test-$TOML_TEST_VERSION
TOML_TEST=$TOML_TEST_DIR/toml-test
DECODER=$TOP_BUILDDIR/t/toml-decoder
SKIP_FILE=$TOP_SRCDIR/t/toml-test.skip

[ -x "$DECODER" ] || bail "$DECODER is not built: run make check"

if [ ! -x "$TOML_TEST" ]; then
	command -v go >/dev/null 2>&1 ||
		skip_all "go is not installed, so toml-test $TOML_TEST_VERSION cannot be built"
	mkdir -p "$TOML_TEST_DIR" ||
		skip_all "cannot create $TOML_TEST_DIR"
	if ! GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN=$TOML_TEST_DIR \
	    go install "$TOML_TEST_MODULE/cmd/toml-test@v$TOML_TEST_VERSION" \
	    >"$TMP/go-install.log" 2>&1; then
		skip_all "building toml-test $TOML_TEST_VERSION failed: $(tail -n 1 "$TMP/go-install.log")"
	fi
fi

version=$("$TOML_TEST" version 2>&1)
like "$version" "^toml-test v$TOML_TEST_VERSION[;[:space:]]" \
	"the cached toml-test is version $TOML_TEST_VERSION"

# Known exceptions: "valid/x/y  reason" or "invalid/x/y  reason".
declare -A known=()
if [ -r "$SKIP_FILE" ]; then
	while read -r name reason; do
		case $name in '' | '#'*) continue ;; esac
		known[$name]=$reason
	done <"$SKIP_FILE"
fi
diag "known exceptions listed in t/toml-test.skip: ${#known[@]}"

# Every test runs, listed exceptions too, so their state is checked.  The
# timeout is generous: make check may run under sanitizers on a busy machine.
"$TOML_TEST" test -toml 1.0 -v -color never -timeout 20s \
	-decoder "$DECODER" >"$TMP/report" 2>&1
status=$?
ok "toml-test ran to its summary (exit $status)" \
	grep -q '^ *valid tests:' "$TMP/report"

count() {
	grep -c "^$1 $2/" "$TMP/report"
}
valid_passed=$(count PASS valid)
valid_failed=$(count FAIL valid)
invalid_passed=$(count PASS invalid)
invalid_failed=$(count FAIL invalid)
diag "TOML 1.0 valid tests: $valid_passed/$((valid_passed + valid_failed)) decoded correctly"
diag "TOML 1.0 invalid tests: $invalid_passed/$((invalid_passed + invalid_failed)) rejected"

ok "the suite has valid and invalid tests" \
	test "$valid_passed" -gt 0 -a "$invalid_passed" -gt 0

# Failures not listed as known exceptions, and listed ones that now pass.
unexpected() {
	local kind=$1 name
	grep "^FAIL $kind/" "$TMP/report" | while read -r _ name; do
		[ -n "${known[$name]+set}" ] || echo "$name"
	done
}
stale() {
	local name
	for name in "${!known[@]}"; do
		grep -qx "PASS $name" "$TMP/report" && echo "$name"
	done
}

# The first few failures in full: enough to start from, short enough to read.
show_failures() {
	local names=$1 name
	for name in $(echo "$names" | head -n 5); do
		diag "$(sed -n "/^FAIL ${name//\//\\/}\$/,/^\(PASS\|FAIL\) /p" \
			"$TMP/report" | sed '$d' | head -n 40)"
	done
}

bad_valid=$(unexpected valid)
is "$bad_valid" "" "every valid test decodes to the expected JSON, except listed ones"
show_failures "$bad_valid"

bad_invalid=$(unexpected invalid)
is "$bad_invalid" "" "every invalid test is rejected, except listed ones"
show_failures "$bad_invalid"

is "$(stale)" "" "every listed exception still fails (t/toml-test.skip is current)"

# The decoder passes the reader's reason on: line, column, what is wrong.
printf 'a = 1\nb = [1, 2\n' >"$TMP/bad.toml"
"$DECODER" <"$TMP/bad.toml" >/dev/null 2>"$TMP/bad.err"
is "$?" 1 "the decoder exits 1 on invalid TOML"
like "$(cat "$TMP/bad.err")" "line 3, column 1: expected ',' or ']' in an array, found end of input" \
	"its message names line and column"

done_testing
