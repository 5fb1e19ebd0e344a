#!/bin/bash
# t/82-temperctl-client.sh - temperctl's HTTP client and exit codes against
# a scripted agent (t/fake-agent.py): the bearer token from --token-file or
# $TEMPER_TOKEN, https with --ca-file or --insecure, chunked bodies, and
# every way an answer can fail - an error status, a missing route, a body
# that is not JSON, a connection closed early, no answer at all, no HTTP.
. "$(dirname "$0")/lib.sh"

[ -x "$TEMPERCTL" ] || skip_all "src/temperctl is not built"
command -v python3 >/dev/null || skip_all "python3 is missing"
command -v openssl >/dev/null || skip_all "openssl is missing"
command -v jq >/dev/null || skip_all "jq is missing"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || bail "openssl failed"
port=$(free_port)
tls_port=$(free_port)
python3 "$TOP_SRCDIR/t/fake-agent.py" "$port" "$tls_port" "$TMP/cert.pem" "$TMP/key.pem" \
	"$TMP/requests.log" 2>"$TMP/fake.err" &
at_exit "kill $!"
ok "the scripted agent listens" wait_for eval "curl -s http://127.0.0.1:$port/api/v1/status"
api=http://127.0.0.1:$port
ctl() { "$TEMPERCTL" --agent "$api" "$@"; }
last_header() { grep "^$1: " "$TMP/requests.log" | tail -n 1 | cut -d' ' -f2-; }

# Token and headers.
echo "s3cret-token" >"$TMP/token"
ctl --token-file "$TMP/token" status >/dev/null
is "$(last_header Authorization)" "Bearer s3cret-token" "--token-file: the first line is sent as a bearer token"
TEMPER_TOKEN=from-env ctl status >/dev/null
is "$(last_header Authorization)" "Bearer from-env" "\$TEMPER_TOKEN is the token otherwise"
TEMPER_TOKEN=from-env ctl --token-file "$TMP/token" status >/dev/null
is "$(last_header Authorization)" "Bearer s3cret-token" "--token-file wins over \$TEMPER_TOKEN"
is "$(last_header Host)" "127.0.0.1:$port" "the Host header names the agent"
like "$(last_header User-Agent)" '^temperctl/' "... and the User-Agent temperctl"
ctl --token-file "$TMP/missing" status >/dev/null 2>"$TMP/err"
is "$?" 5 "an unreadable token file: exit 5"

# Bodies: chunked, and the safe-mode request body.
is "$(ctl config show)" '[{"name":"chunked"}]' "a chunked answer is read whole"
ctl safe-mode on >/dev/null
is "$(grep '^body: ' "$TMP/requests.log" | tail -n 1)" 'body: {"enabled":true}' \
	"safe-mode on posts {\"enabled\":true}"

# Failures and their exit codes.
ctl pods >/dev/null 2>"$TMP/err"
is "$?" 1 "a 500 answer: exit 1"
is "$(cat "$TMP/err")" "temperctl: the agent at $api answered 500 to GET /api/v1/pods: the pod store is on fire" \
	"... with the agent's reason"
ctl profiles list >/dev/null 2>"$TMP/err"
is "$?" 4 "a route the agent lacks (404 no such path): exit 4"
ctl reload >/dev/null 2>"$TMP/err"
is "$?" 4 "a method the route refuses (405): exit 4"
like "$(cat "$TMP/err")" "not supported by this agent: POST /api/v1/reload answered 405" "... said so"
ctl config generations >/dev/null 2>"$TMP/err"
is "$?" 1 "an answer that is not JSON: exit 1"
like "$(cat "$TMP/err")" "answered GET /api/v1/config/generations with something that is not JSON" "... said so"
ctl config diff 1 2 >/dev/null 2>"$TMP/err"
is "$?" 3 "a connection closed before the body is complete: exit 3"
like "$(cat "$TMP/err")" "closed the connection before its answer was complete" "... said so"
ctl --timeout 500 trace --seconds 1 -o "$TMP/trace.json" >/dev/null 2>"$TMP/err"
is "$?" 3 "an agent that never answers: exit 3 after the capture time and --timeout"
like "$(cat "$TMP/err")" "reading the answer of the agent at $api failed: Connection timed out" "... said so"
ctl config show --generation 7 >/dev/null 2>"$TMP/err"
is "$?" 1 "an agent that does not answer HTTP: exit 1"
like "$(cat "$TMP/err")" "did not answer HTTP" "... said so"

# https.
https=https://127.0.0.1:$tls_port
"$TEMPERCTL" --agent "$https" --ca-file "$TMP/cert.pem" --token-file "$TMP/token" status --json >"$TMP/out"
is "$?" 0 "https with --ca-file: exit 0"
is "$(jq -r .node "$TMP/out")" tls-node "... the answer came over TLS"
is "$(last_header Authorization)" "Bearer s3cret-token" "... with the token"
"$TEMPERCTL" --agent "$https" --ca-file /etc/hostname status >/dev/null 2>"$TMP/err"
rc=$?
ok "a CA file that holds no certificate: an error, not a connection (exit $rc)" test "$rc" -ne 0
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=other -keyout "$TMP/other-key.pem" -out "$TMP/other.pem" 2>/dev/null
"$TEMPERCTL" --agent "$https" --ca-file "$TMP/other.pem" status >/dev/null 2>"$TMP/err"
is "$?" 3 "https with a CA that did not sign the agent: exit 3"
like "$(cat "$TMP/err")" "TLS handshake with the agent at $https failed" "... said so"
"$TEMPERCTL" --agent "$https" --insecure status --json >"$TMP/out"
is "$?" 0 "--insecure skips verification"
done_testing
