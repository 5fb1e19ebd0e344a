#!/bin/bash
# t/85-profile-train.sh - the profile API over HTTP, as the agent serves it
# (t/profile-probe runs the subsystem on its loop): training on a real
# process in a real cgroup classifies its hot loop, wake chain and
# housekeeper; the profile list and show; a profile dropped into the
# watched directory appears without a restart; and every refusal is a JSON
# error with its status.
. "$(dirname "$0")/lib.sh"

PROBE=$TOP_BUILDDIR/t/profile-probe
WORKLOAD=$TOP_BUILDDIR/t/profile-workload
[ -x "$PROBE" ] && [ -x "$WORKLOAD" ] || skip_all "build t/profile-probe and t/profile-workload first (make check)"
command -v curl >/dev/null || skip_all "no curl"
command -v jq >/dev/null || skip_all "no jq"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to make a cgroup and move the workload into it"
if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
	CGROUP2=/sys/fs/cgroup/unified
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	CGROUP2=/sys/fs/cgroup
else
	skip_all "no cgroup2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup"
fi

plan 19
CG=$CGROUP2/temper-t85-$$
mkdir "$CG" || bail "cannot make $CG"
cleanup() {
	[ -n "${PROBE_PID-}" ] && kill "$PROBE_PID" 2>/dev/null && wait "$PROBE_PID" 2>/dev/null
	[ -n "${WORKLOAD_PID-}" ] && kill -9 "$WORKLOAD_PID" 2>/dev/null
	local deadline=$((SECONDS + 10))
	while [ -n "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
	rmdir "$CG"
}
at_exit cleanup

PROFILES=$TMP/profiles
mkdir "$PROFILES"
"$WORKLOAD" >"$TMP/workload.out" &
WORKLOAD_PID=$!
echo "$WORKLOAD_PID" >"$CG/cgroup.procs" || bail "cannot move the workload into $CG"
wait_for grep -q ready "$TMP/workload.out" || bail "the workload never named its threads"

"$PROBE" "$PROFILES" 127.0.0.1:0 "test/workload=$CG" >"$TMP/probe.out" 2>"$TMP/probe.log" &
PROBE_PID=$!
wait_for grep -q '^port ' "$TMP/probe.out" || bail "the probe did not start: $(cat "$TMP/probe.log")"
BASE=http://127.0.0.1:$(sed -n 's/^port //p' "$TMP/probe.out")

list=$(curl -sf "$BASE/api/v1/profiles")
is "$(jq -r '[.profiles[].name] | join(",")' <<<"$list")" "pytorch,mysql,jvm" "GET /api/v1/profiles lists the builtins"
is "$(jq -r '.dir' <<<"$list")" "$PROFILES" "  and the directory it watches"
show=$(curl -sf "$BASE/api/v1/profiles/mysql")
is "$(jq -r '[.groups[] | select(.treatment == "yield") | .comm_prefix] | join(",")' <<<"$show")" \
	"ib_srv_purge,ib_srv_wkr,ib_pg_flush" "GET /api/v1/profiles/mysql: purge and page cleaners yield"
like "$(jq -r '.toml' <<<"$show")" 'comm_prefix = "ib_io_rd"' "  with its TOML"
is "$(http_status "$BASE/api/v1/profiles/nosuch")" 404 "an unknown profile: 404"

is "$(http_status "$BASE/api/v1/profiles/train" -X POST)" 400 "training without pod=: 400"
is "$(http_status "$BASE/api/v1/profiles/train?pod=test/gone" -X POST)" 404 "training an unknown pod: 404"
is "$(http_status "$BASE/api/v1/profiles/train?pod=test/workload&seconds=0" -X POST)" 400 "seconds=0: 400"

# Two trainings at once: the second is refused while the first runs.
curl -s --max-time 20 -X POST "$BASE/api/v1/profiles/train?pod=test/workload&seconds=3" >"$TMP/train.json" &
CURL_PID=$!
wait_eq test/workload sh -c "curl -sf '$BASE/api/v1/profiles' | jq -r '.training.pod'"
ok "the list shows the training under way" test $? -eq 0
is "$(http_status "$BASE/api/v1/profiles/train?pod=test/workload" -X POST)" 409 \
	"a second training while one runs: 409"
wait "$CURL_PID"
train=$(cat "$TMP/train.json")
diag "$(jq -c '.groups[] | {comm_prefix, threads, cpu_share, demand_share, wakeups_per_second, treatment}' <<<"$train")"
is "$(jq -r '.groups[] | select(.comm_prefix == "hot") | .treatment' <<<"$train")" exclusive "the hot loop: exclusive"
is "$(jq -r '.groups[] | select(.comm_prefix == "chain-") | .treatment' <<<"$train")" latency "the wake chain: latency"
is "$(jq -r '.groups[] | select(.comm_prefix == "housekeep") | .treatment' <<<"$train")" yield "the housekeeper: yield"
is "$(jq -r '.name' <<<"$train")" trained-workload "named for the pod"
is "$(jq -r '.path' <<<"$train")" "$PROFILES/trained-workload.toml.trained" "written beside the profiles, not applied"
like "$(cat "$PROFILES/trained-workload.toml.trained")" '# "hot": 1 thread .*a hot loop' "the file carries the evidence as comments"

# Applying it is a rename; the watch picks it up without a restart.
mv "$PROFILES/trained-workload.toml.trained" "$PROFILES/trained-workload.toml"
wait_eq "trained-workload" sh -c "curl -sf '$BASE/api/v1/profiles/trained-workload' | jq -r .name"
ok "renamed into the directory: in effect without a restart" test $? -eq 0

# A broken file is reported with its line.
printf 'name = "broken"\n[[group]]\nname = "a"\ncomm_prefix = "a"\ntreatment = "fast"\n' >"$PROFILES/broken.toml"
wait_eq "$PROFILES/broken.toml: line 5, column 13: group \"a\": treatment must be \"exclusive\", \"latency\" or \"yield\"" \
	sh -c "curl -sf '$BASE/api/v1/profiles' | jq -r '.errors[0].error'"
ok "a broken file: listed with its line and reason" test $? -eq 0

kill "$PROBE_PID"
wait "$PROBE_PID"
is "$?" 0 "the probe stops cleanly (every handle closed)"
PROBE_PID=
