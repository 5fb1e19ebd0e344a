#!/bin/bash
# t/62-observe-trace.sh - POST /api/v1/trace: a bounded capture of every
# run on the machine into a Chrome JSON trace (Perfetto opens it), one at
# a time, within a byte cap, and abandoned cleanly when the client leaves.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe-lib.sh"

observe_require
busy=$(observe_cgroup busy)
sleepy=$(observe_cgroup sleepy)
observe_spin 2 t62-spin "$busy"
observe_nap t62-nap 1000 "$sleepy"
observe_start_probe --interval-ms=1000 \
	--pod="busy:normal:$busy" --pod="sleepy:high:$sleepy"

trace=$TMP/trace.json
# post URL FILE: POST, the body into FILE; prints the status.
post() {
	curl -s -o "$2" -w '%{http_code}' --max-time 20 -X POST "$1"
}
# A long capture; while it runs, a second one must wait its turn.
curl -s -o "$TMP/long.json" -w '%{http_code}' --max-time 30 -X POST \
	"$PROBE_URL/api/v1/trace?seconds=8" >"$TMP/long.status" &
long=$!
capturing() { observe_get "$TMP/o.json" && [ "$(jpy "$TMP/o.json" 'd["bpf"]["capturing"]')" = True ]; }
wait_for capturing
status=$(post "$PROBE_URL/api/v1/trace?seconds=1" "$TMP/second.json")
is "$status" "409" "a second concurrent capture gets 409"
like "$(jpy "$TMP/second.json" 'd["error"]')" "already running" "with a JSON reason"
wait "$long"
is "$(cat "$TMP/long.status")" "200" "the long capture answers 200 when it ends"
like "$(jpy "$TMP/long.json" 'd["otherData"]["stopped"]')" '^(time limit|byte cap) reached$' \
	"at its time limit or its byte cap, whichever came first"

# One second of everything that ran.
is "$(post "$PROBE_URL/api/v1/trace?seconds=1" "$trace")" "200" "a one-second capture answers 200"
ok "the trace parses as JSON (python3 json)" python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$trace"
summary=$(python3 - "$trace" "$(nproc)" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
cpus = int(sys.argv[2])
runs = [e for e in t["traceEvents"] if e["ph"] == "X"]
names = {e["args"]["name"] for e in t["traceEvents"] if e["ph"] == "M"}
spin = [e for e in runs if e["name"] == "t62-spin"]
nap = [e for e in runs if e["name"] == "t62-nap"]
good = all(0 <= e["args"]["cpu"] < cpus and -1 <= e["args"]["prev_cpu"] < cpus
           and e["dur"] >= 0 and 0 <= e["ts"] <= 3e6 for e in runs)
print(len(runs), len(spin), len(nap), "t62-spin" in names and "t62-nap" in names,
      good, t["otherData"]["stopped"].replace(" ", "_"),
      round(max(e["ts"] + e["dur"] for e in runs) / 1e6, 1))
PY
)
diag "runs, spin runs, nap runs, named, sane, stop reason, last end (s): $summary"
read -r runs spins naps named sane stopped last_end <<<"$summary"
ok "the trace holds runs ($runs)" [ "$runs" -gt 100 ]
ok "the busy loops' runs are there ($spins)" [ "$spins" -gt 0 ]
ok "the sleeper's runs are there, up to one per ms ($naps)" [ "$naps" -gt 100 ]
is "$named" "True" "threads are named by thread_name metadata"
is "$sane" "True" "every run has a CPU in range, a duration, a time within the capture"
is "$stopped" "time_limit_reached" "the capture stopped at its time limit"

# The byte cap ends a capture early, within the cap.
status=$(post "$PROBE_URL/api/v1/trace?seconds=10&max_bytes=20000" "$trace")
is "$status" "200" "a capped capture answers"
size=$(stat -c %s "$trace")
ok "within its cap ($size bytes)" [ "$size" -le 20000 ]
is "$(jpy "$trace" 'd["otherData"]["stopped"]')" "byte cap reached" "stopped by the cap"

# Bad requests.
is "$(http_status "$PROBE_URL/api/v1/trace" -X POST)" "400" "seconds is required"
is "$(http_status "$PROBE_URL/api/v1/trace?seconds=0" -X POST)" "400" "seconds=0 is refused"
is "$(http_status "$PROBE_URL/api/v1/trace?seconds=100000" -X POST)" "400" "too many seconds are refused"
is "$(http_status "$PROBE_URL/api/v1/trace?seconds=2x" -X POST)" "400" "seconds=2x is refused"
is "$(http_status "$PROBE_URL/api/v1/trace?seconds=1" -X GET)" "405" "GET is not a capture"

# A client that goes away: the capture is dropped, the next one works.
curl -s -o /dev/null --max-time 1 -X POST "$PROBE_URL/api/v1/trace?seconds=5"
not_capturing() { observe_get "$TMP/o.json" && [ "$(jpy "$TMP/o.json" 'd["bpf"]["capturing"]')" = False ]; }
WAIT_SECONDS=10 wait_for not_capturing
ok "an abandoned capture ends at once" not_capturing
like "$(cat "$TMP/probe.log")" "abandoned: the client went away" "and is logged"
is "$(post "$PROBE_URL/api/v1/trace?seconds=1" "$trace")" "200" \
	"the next capture works"
ok "and parses" python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$trace"
ok "the probe stops cleanly" observe_stop_probe
done_testing
