#!/bin/bash
# t/10-daemon.sh - options, the configuration check, and what every role serves.
. "$(dirname "$0")/lib.sh"

out=$("$TEMPERD" -V)
like "$out" '^temperd [0-9]+\.[0-9]+\.[0-9]+$' "-V prints the version"

out=$("$TEMPERD" --role=agent,chef 2>&1); rc=$?
is "$rc" 2 "an unknown role exits with status 2"
like "$out" "unknown role 'chef'" "... naming the role"

out=$("$TEMPERD" --enforcement=fast 2>&1); rc=$?
is "$rc" 2 "a bad --enforcement value exits with status 2"
out=$("$TEMPERD" --tls-cert=/x 2>&1); rc=$?
is "$rc" 2 "--tls-cert without --tls-key exits with status 2"
out=$("$TEMPERD" --no-such-option 2>&1); rc=$?
is "$rc" 2 "an unknown option exits with status 2"

out=$("$TEMPERD" -n --config=/nonexistent/temper.conf 2>&1); rc=$?
is "$rc" 2 "-n with a missing named file fails"
like "$out" "/nonexistent/temper.conf: No such file" "... saying which file"

printf '[daemon]\nlisten = "127.0.0.1:1"\n[http]\nmax_connections = 7\n' >"$TMP/good.conf"
out=$("$TEMPERD" -n --config="$TMP/good.conf"); rc=$?
is "$rc" 0 "-n accepts a valid file"
like "$out" "is valid" "... and says so"

printf '[daemon]\nlisten = "127.0.0.1:1"\n\n[http]\nmax_conections = 7\n' >"$TMP/typo.conf"
out=$("$TEMPERD" -n --config="$TMP/typo.conf" 2>&1); rc=$?
is "$rc" 2 "-n refuses a misspelt key"
is "$out" "temperd: $TMP/typo.conf: line 5, column 18: unknown key 'max_conections' in [http]" \
	"... naming file, line, column and key"

printf '[daemon]\nlisten = "127.0.0.1:1\n' >"$TMP/broken.conf"
out=$("$TEMPERD" -n --config="$TMP/broken.conf" 2>&1); rc=$?
is "$rc" 2 "-n refuses broken TOML"
like "$out" "broken.conf: line 2" "... with the line"

port=$(free_port)
start_temperd d --listen="127.0.0.1:$port"
ok "temperd answers /healthz" wait_for curl -sf "http://127.0.0.1:$port/healthz"
is "$(curl -s "http://127.0.0.1:$port/healthz")" "ok" "/healthz says ok"
is "$(http_status "http://127.0.0.1:$port/readyz")" 503 "/readyz is 503 while a check is not ready"
is "$(curl -s "http://127.0.0.1:$port/readyz" | jq -r .error)" \
	"kubernetes: no node name: set --node-name or NODE_NAME" "... naming the check and the reason"
version=$(curl -s "http://127.0.0.1:$port/version")
like "$version" '"version":"[0-9.]+"' "/version is JSON with the version"
like "$version" '"roles":"agent"' "... and the roles"

metrics=$(curl -s -D "$TMP/h" "http://127.0.0.1:$port/metrics")
like "$(cat "$TMP/h")" 'Content-Type: text/plain; version=0.0.4' "/metrics is text format 0.0.4"
like "$metrics" '# TYPE temper_http_requests_total counter' "HTTP request counter"
like "$metrics" 'temper_http_requests_total\{route="/healthz",code="200"\} [0-9]+' "... counting /healthz"
like "$metrics" 'temper_http_request_duration_seconds_bucket\{route="/healthz",le="\+Inf"\}' \
	"a latency histogram per route"
like "$metrics" 'temper_process_resident_memory_bytes [1-9]' "process figures"
bad=$(grep -v '^#' <<<"$metrics" | grep -Ev '^temper_[a-z0-9_]+(\{[^}]*\})? [-+0-9.eEInfa]+$' || true)
is "$bad" "" "every sample line is well formed"

body=$(curl -s "http://127.0.0.1:$port/nope")
is "$body" '{"error":"no such path: /nope"}' "an unknown path is a JSON 404"
is "$(http_status "http://127.0.0.1:$port/nope")" 404 "... with status 404"
is "$(http_status "http://127.0.0.1:$port/healthz" -X DELETE)" 405 "a wrong method is 405"
allow=$(curl -s -D - -o /dev/null -X DELETE "http://127.0.0.1:$port/healthz" | tr -d '\r' | grep '^Allow:')
is "$allow" "Allow: GET" "... with an Allow header"
is "$(curl -s -I "http://127.0.0.1:$port/healthz" | head -1 | tr -d '\r')" "HTTP/1.1 200 OK" \
	"HEAD is answered"

out=$("$TEMPERD" --listen="127.0.0.1:$port" 2>&1); rc=$?
is "$rc" 1 "a second daemon on the same port exits with status 1"
like "$out" "cannot listen on 127.0.0.1:$port: address already in use" "... saying why"

kill -TERM "$TEMPERD_PID"
wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "SIGTERM stops with status 0"
like "$(cat "$TMP/d.log")" 'msg="stopped; every handle closed"' "... after closing every handle"

# No reachable Kubernetes API: keep serving, say why, retry with backoff.
port2=$(free_port)
start_temperd nokube --listen="127.0.0.1:$port2" --node-name=node-x \
	--kubeconfig="$TMP/missing-kubeconfig" --state-dir="$TMP/state"
ok "without an API configuration temperd still serves /healthz" \
	wait_for curl -sf "http://127.0.0.1:$port2/healthz"
is "$(http_status "http://127.0.0.1:$port2/readyz")" 503 "... /readyz is 503"
is "$(stat -c %a "$TMP/state/agent.sock")" 600 "the agent socket in --state-dir is mode 0600"
is "$(curl -s --unix-socket "$TMP/state/agent.sock" http://agent/api/v1/status | jq -r .node)" node-x \
	"... and serves the agent API"
like "$(curl -s "http://127.0.0.1:$port2/readyz" | jq -r .error)" \
	"^kubernetes: no API configuration \\($TMP/missing-kubeconfig: .*\\); retrying with backoff" \
	"... naming the kubeconfig and what is wrong with it"
like "$(curl -s "http://127.0.0.1:$port2/metrics")" 'temper_process_open_fds [0-9]+' "... /metrics still answers"
retried_three_times() { [ "$(grep -c 'no Kubernetes API configuration' "$TMP/nokube.log")" -ge 3 ]; }
WAIT_SECONDS=15 ok "... and it retries with backoff" wait_for retried_three_times
like "$(grep -o 'retrying in [0-9]* ms' "$TMP/nokube.log" | tail -1)" 'retrying in [0-9]+ ms' \
	"... saying when the next try is"
kill -TERM "$TEMPERD_PID"
wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "... and stops cleanly"

# This kernel has no sched_ext: auto observes and says why; scx refuses.
port4=$(free_port)
start_temperd gate --listen="127.0.0.1:$port4" --node-name=node-x --state-dir="$TMP/state4" \
	--kubeconfig="$TMP/missing"
ok "with --enforcement=auto the agent starts without sched_ext" \
	wait_for curl -sf "http://127.0.0.1:$port4/healthz"
like "$(curl -s "http://127.0.0.1:$port4/api/v1/status" | jq -r .enforcement.scheduler_reason)" \
	'the kernel gate refuses scx_layered: the kernel has no sched_ext' "... and its status says exactly why"
like "$(curl -s "http://127.0.0.1:$port4/metrics")" 'temper_enforcement_state\{state="observe"\} 1' \
	"... as does temper_enforcement_state"
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"
out=$("$TEMPERD" --listen="127.0.0.1:$port4" --node-name=node-x --state-dir="$TMP/state5" \
	--enforcement=scx 2>&1); rc=$?
is "$rc" 1 "--enforcement=scx without sched_ext refuses to start"
like "$out" 'cannot start: .*the kernel gate refuses scx_layered: the kernel has no sched_ext' "... loudly, saying why"

# A token guards /api/v1 on TCP; the unix socket is guarded by its mode.
port3=$(free_port)
echo "s3cret-token" >"$TMP/token"
printf '[daemon]\nlisten = "127.0.0.1:%s"\nstate_dir = "%s"\napi_token_file = "%s"\n' \
	"$port3" "$TMP/state3" "$TMP/token" >"$TMP/token.conf"
start_temperd token --config="$TMP/token.conf" --node-name=node-x --kubeconfig="$TMP/missing"
ok "with api_token_file the agent starts" wait_for curl -sf "http://127.0.0.1:$port3/healthz"
is "$(http_status "http://127.0.0.1:$port3/api/v1/status")" 401 "/api/v1 on TCP without the token is 401"
like "$(curl -s "http://127.0.0.1:$port3/api/v1/status" | jq -r .error)" 'needs "Authorization: Bearer <token>"' \
	"... saying what it needs"
is "$(http_status "http://127.0.0.1:$port3/api/v1/status" -H 'Authorization: Bearer wrong')" 401 \
	"a wrong token is 401"
is "$(http_status "http://127.0.0.1:$port3/api/v1/status" -H 'Authorization: Bearer s3cret-token')" 200 \
	"the right token is 200"
is "$(http_status "http://127.0.0.1:$port3/api/v1/reload" -X POST)" 401 "POST without the token is 401 too"
is "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$TMP/state3/agent.sock" http://agent/api/v1/status)" 200 \
	"the unix socket needs no token"
is "$(http_status "http://127.0.0.1:$port3/api/v1/openapi.json")" 200 "the API description is public"
is "$(http_status "http://127.0.0.1:$port3/metrics")" 200 "... and so are /metrics"
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"
ok "... removing its socket" test ! -e "$TMP/state/agent.sock"
done_testing
