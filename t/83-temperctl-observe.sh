#!/bin/bash
# t/83-temperctl-observe.sh - the commands that read the observation layer,
# against the real BPF observer (t/observe-probe serves /observe and
# POST /api/v1/trace the way the agent wires them) with real threads in
# real cgroups: `temperctl trace` writes the Chrome JSON trace, and
# `temperctl top`, driven under tmux, shows each tier's cores and runqueue
# latency and the busiest threads by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe-lib.sh"

[ -x "$TEMPERCTL" ] || skip_all "src/temperctl is not built"
command -v jq >/dev/null || skip_all "jq is missing"
observe_require
busy=$(observe_cgroup busy)
sleepy=$(observe_cgroup sleepy)
observe_spin 1 t83-spin "$busy"
observe_nap t83-nap 1000 "$sleepy"
observe_start_probe --interval-ms=500 --pod="busy:normal:$busy" --pod="sleepy:high:$sleepy"
ok "the observer answers" wait_for curl -sf "$PROBE_URL/observe"
if [ "$(curl -s "$PROBE_URL/observe" | jq -r .bpf.state)" != running ]; then
	skip_all "the placement BPF program does not run here: $(curl -s "$PROBE_URL/observe" | jq -r .bpf.error)"
fi
ctl() { "$TEMPERCTL" --agent "$PROBE_URL" "$@"; }
# json_true FILTER FILE: jq's -e verdict, quietly.
json_true() { jq -e "$1" "$2" >/dev/null; }

# --- trace ---------------------------------------------------------------------
out=$(ctl trace --seconds 1 -o "$TMP/trace.json")
is "$?" 0 "trace --seconds 1: exit 0"
like "$out" "^wrote $TMP/trace.json: [0-9]+ bytes, [0-9]+ trace events over 1 s" "... saying what it wrote"
ok "the file is a Chrome JSON trace" json_true '.traceEvents | length > 0' "$TMP/trace.json"
ok "... holding runs of the spinning thread, by name" \
	json_true '[.traceEvents[] | select(.ph == "M" and .args.name == "t83-spin")] | length > 0' "$TMP/trace.json"
is "$(jq .traceEvents\|length "$TMP/trace.json")" "$(sed -n 's/.*bytes, \([0-9]*\) trace events.*/\1/p' <<<"$out")" \
	"... as many events as it said"
ctl trace --seconds 1 -o - --json >"$TMP/stdout.json"
ok "-o - writes the trace to standard output" json_true '.traceEvents | type == "array"' "$TMP/stdout.json"
ctl trace --seconds 3 -o "$TMP/long.json" >/dev/null &
long=$!
capturing() { [ "$(curl -s "$PROBE_URL/observe" | jq -r .bpf.capturing)" = true ]; }
wait_for capturing
ctl trace --seconds 1 -o "$TMP/second.json" >/dev/null 2>"$TMP/err"
is "$?" 1 "a second capture while one runs: exit 1"
like "$(cat "$TMP/err")" "answered 409 to POST /api/v1/trace\\?seconds=1: a trace capture is already running" \
	"... with the agent's reason"
wait "$long"
is "$?" 0 "... while the first completes"
ctl trace --seconds 100000 -o "$TMP/x.json" >/dev/null 2>&1
is "$?" 2 "a capture longer than an hour: usage error"

# --- top under tmux: latency and busy threads from /observe -------------------------
if command -v tmux >/dev/null; then
	TMUX_SOCKET=$TMP/tmux.sock
	tm() { tmux -S "$TMUX_SOCKET" "$@"; }
	at_exit "tmux -S '$TMUX_SOCKET' kill-server"
	tm new-session -d -s top -x 120 -y 40 \
		"'$TEMPERCTL' --agent '$PROBE_URL' top --interval 500; echo \$? >'$TMP/top.rc'; sleep 60"
	screen() { tm capture-pane -p -t top; }
	ok "top shows the spinning thread among the busy threads" \
		wait_for eval "screen | grep -Eq '^ +[0-9]+  t83-spin +normal +[0-9.]+  t/busy'"
	screen >"$TMP/screen"
	like "$(cat "$TMP/screen")" $'\nobservation: BPF running, window [0-9.]+ s' "top: the observation line"
	like "$(cat "$TMP/screen")" $'\nagent: GET /api/v1/status answered 404' \
		"... says what this agent does not serve"
	like "$(cat "$TMP/screen")" $'\nnormal +1 +0m +- +[0-9]+\\.[0-9]{2} +[0-9]+ +[0-9]+' \
		"... the normal tier: its pod, cores used and runqueue latency p50 and p99"
	like "$(cat "$TMP/screen")" $'\nhigh +1 +0m +- +[0-9]+\\.[0-9]{2} ' "... and the high tier"
	like "$(cat "$TMP/screen")" $'\nBUSY THREADS\n +TID  COMM .*\n +[0-9]+  t83-spin ' \
		"... the spinning thread ranked busiest"
	diag "$(cat "$TMP/screen")"
	tm send-keys -t top q
	ok "q quits top" wait_for test -s "$TMP/top.rc"
	is "$(cat "$TMP/top.rc")" 0 "... with exit 0"
else
	skip "tmux is not installed: top is not driven (apt-get install tmux)"
fi
ok "the observer stops cleanly" observe_stop_probe
done_testing
