#!/bin/bash
# t/11-http-limits.sh - every HTTP limit answered as documented, over raw sockets.
. "$(dirname "$0")/lib.sh"

raw() { python3 "$TOP_SRCDIR/t/rawhttp.py" "$@"; }

port=$(free_port)
cat >"$TMP/temper.conf" <<CONF
[daemon]
listen = "127.0.0.1:$port"
[http]
max_header_bytes = 1024
max_body_bytes = 4096
request_timeout_ms = 1000
idle_timeout_ms = 1500
max_connections = 4
CONF
start_temperd d --config="$TMP/temper.conf"
ok "temperd answers" wait_for curl -sf "http://127.0.0.1:$port/healthz"

out=$(raw send "$port" 'GARBAGE\r\n\r\n')
is "$out" $'HTTP/1.1 400 Bad Request\nbody {"error":"malformed request: Invalid method encountered"}\nclosed' \
	"a malformed request line is answered 400 and closed"

out=$(raw send "$port" 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')
like "$out" $'^HTTP/1.1 400 Bad Request\n.*closed$' "a header line without a colon is 400"

long=$(printf 'a%.0s' $(seq 1 1100))
out=$(raw send "$port" "GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nX-Long: $long\\r\\n\\r\\n")
is "$out" $'HTTP/1.1 431 Request Header Fields Too Large\nbody {"error":"request headers too large"}\nclosed' \
	"headers over max_header_bytes are answered 431 and closed"

out=$(raw send "$port" "GET /$long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
like "$out" '^HTTP/1.1 431 ' "a request target over the limit counts as header bytes: 431"

out=$(raw send "$port" 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n')
is "$out" $'HTTP/1.1 413 Content Too Large\nbody {"error":"request body too large"}\nclosed' \
	"a Content-Length over max_body_bytes is answered 413 before the body is sent"

chunk=$(printf 'b%.0s' $(seq 1 3000))
out=$(raw send "$port" "POST /healthz HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nbb8\\r\\n$chunk\\r\\nbb8\\r\\n$chunk\\r\\n0\\r\\n\\r\\n")
like "$out" '^HTTP/1.1 413 ' "a chunked body growing over the limit is answered 413"

out=$(raw send "$port" 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
is "$(grep '^HTTP' <<<"$out")" $'HTTP/1.1 405 Method Not Allowed\nHTTP/1.1 200 OK\nHTTP/1.1 200 OK' \
	"a chunked request and two more, pipelined in one write, are answered in order"
like "$out" '"version"' "... the last one by /version"
like "$out" 'closed$' "... and Connection: close is honoured"

out=$(raw send "$port" 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' 1)
is "$(grep -c '^HTTP' <<<"$out")" 2 "a Content-Length body does not swallow the next request"
like "$out" 'open$' "... and the connection stays open for keep-alive"

out=$(raw dribble "$port" 6 0.2)
is "$(head -1 <<<"$out")" "HTTP/1.1 408 Request Timeout" \
	"a slowloris client gets 408 once the request timeout passes"
is "$(tail -1 <<<"$out")" "closed" "... and its connection is closed"

out=$(raw silent "$port" 5)
is "$out" "closed" "a connection that never sends a byte is closed"

out=$(raw idle "$port" 5)
is "$out" $'HTTP/1.1 200 OK\nbody ok\nclosed' "an idle keep-alive connection is closed after the idle timeout"

out=$(raw cap "$port" 4)
is "$out" $'extra closed\nafter one left served' \
	"over max_connections a new connection is closed, and served again once one leaves"
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
like "$metrics" 'temper_http_connections_rejected_total [1-9]' "the refusal is counted"
like "$metrics" 'temper_http_refused_total\{reason="request headers too large"\} [1-9]' \
	"431s are counted by reason"

is "$(http_status "http://127.0.0.1:$port/healthz")" 200 "the daemon still serves after all of it"
kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "and stops cleanly"
done_testing
