#!/bin/bash
# t/13-signals.sh - SIGHUP applies a whole new config or nothing; SIGTERM and
# SIGINT close every handle (under --enable-sanitizers ASan also checks that
# nothing leaks on the way out).
. "$(dirname "$0")/lib.sh"

raw() { python3 "$TOP_SRCDIR/t/rawhttp.py" "$@"; }

port=$(free_port)
write_conf() {
	cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
log_level = "$1"
[http]
max_header_bytes = $2
CONF
}
write_conf info 2048
start_temperd d --config="$TMP/temper.conf"
ok "temperd answers" wait_for curl -sf "http://127.0.0.1:$port/healthz"

header=$(printf 'h%.0s' $(seq 1 1500))
is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $header" "http://127.0.0.1:$port/healthz")" 200 \
	"a 1500-byte header fits the first limit of 2048"

# A broken file: nothing of it is applied.
printf '[daemon]\nlisten = "127.0.0.1:%s"\nlog_level = "debug"\n[http]\nmax_header_bytes = 1024\nbogus = 1\n' \
	"$port" >"$TMP/temper.conf"
kill -HUP "$TEMPERD_PID"
WAIT_SECONDS=10 wait_for grep -q 'SIGHUP: .*keeping the running configuration' "$TMP/d.log"
like "$(cat "$TMP/d.log")" "SIGHUP: $TMP/temper.conf: line 6, column 9: unknown key 'bogus' in \\[http\\]; keeping the running configuration" \
	"SIGHUP with a broken file says what is wrong and keeps the old configuration"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $header" "http://127.0.0.1:$port/healthz")" 200 \
	"... the header limit is still 2048: the valid part of the broken file was not applied"
like "$(curl -s "http://127.0.0.1:$port/metrics")" 'temper_config_reloads_total\{result="failed"\} 1' \
	"... and the failure is counted"

# A valid file: all of it applies.
write_conf debug 1024
kill -HUP "$TEMPERD_PID"
WAIT_SECONDS=10 wait_for grep -q 'SIGHUP: configuration .* re-read and applied' "$TMP/d.log"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $header" "http://127.0.0.1:$port/healthz")" 431 \
	"SIGHUP with a valid file applies the new header limit"
ok "... and the new log level" grep -q 'level=debug' "$TMP/d.log"

# A listen address cannot move under a running server; say so, keep serving.
sed -i "s/127.0.0.1:$port/127.0.0.1:1/" "$TMP/temper.conf"
kill -HUP "$TEMPERD_PID"
WAIT_SECONDS=10 wait_for grep -q 'listen changed' "$TMP/d.log"
like "$(cat "$TMP/d.log")" "listen changed to 127.0.0.1:1; that needs a restart, still listening on 127.0.0.1:$port" \
	"a changed listen address is reported as needing a restart"
is "$(http_status "http://127.0.0.1:$port/healthz")" 200 "... and the old listener keeps serving"

# Stop with connections open and a request half sent.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&3
kill -TERM "$TEMPERD_PID"
wait "$TEMPERD_PID"; rc=$?
exec 3<&-
is "$rc" 0 "SIGTERM with an open connection and a half-sent request exits 0"
like "$(cat "$TMP/d.log")" 'msg="stopped; every handle closed"' "... with every handle closed"
ok "... and no sanitizer report" sh -c "! grep -q 'Sanitizer' '$TMP/d.log'"
ok "... and no handle was left for the shutdown walk" sh -c "! grep -q 'left open at shutdown' '$TMP/d.log'"

write_conf info 2048
start_temperd d2 --config="$TMP/temper.conf"
ok "temperd starts again" wait_for curl -sf "http://127.0.0.1:$port/healthz"
kill -INT "$TEMPERD_PID"
wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "SIGINT stops with status 0"
like "$(cat "$TMP/d2.log")" 'received SIGINT; stopping' "... saying why"
done_testing
