#!/bin/bash
# t/12-tls.sh - HTTPS: verification with the CA, the suites Go clients offer,
# plain HTTP refused, certificates rotated and garbage ignored.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip_all "openssl is not installed"

# mkcert NAME CN: a P-256 key and a certificate for 127.0.0.1 signed by the test CA.
mkcert() {
	openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/$1.key" 2>/dev/null
	openssl req -new -key "$TMP/$1.key" -subj "/CN=$2" -out "$TMP/$1.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$TMP/$1.ext"
	openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/$1.ext" -out "$TMP/$1.crt" 2>/dev/null
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$TMP/ca.key" -out "$TMP/ca.crt" -subj "/CN=temper test CA" -days 2 2>/dev/null
mkcert first "temper first"
mkcert second "temper second"
mkdir "$TMP/live"
cp "$TMP/first.crt" "$TMP/live/tls.crt"
cp "$TMP/first.key" "$TMP/live/tls.key"

port=$(free_port)
start_temperd d --listen="127.0.0.1:$port" --tls-cert="$TMP/live/tls.crt" --tls-key="$TMP/live/tls.key"
url="https://127.0.0.1:$port"
ok "temperd answers over TLS" wait_for curl -sf --cacert "$TMP/ca.crt" "$url/healthz"
is "$(curl -s --cacert "$TMP/ca.crt" "$url/healthz")" "ok" "curl --cacert verifies the IP SAN and gets /healthz"
is "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" "000" \
	"without the CA curl refuses the certificate"

served_cn() {
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$TMP/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
is "$(served_cn)" "temper first" "the first certificate is served"

# The TLS 1.2 suites Go's crypto/tls offers (kube-apiserver calling the
# webhook, kube-scheduler calling the extender): each must negotiate.
for suite in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
	ECDHE-ECDSA-CHACHA20-POLY1305; do
	got=$(openssl s_client -connect "127.0.0.1:$port" -CAfile "$TMP/ca.crt" \
		-tls1_2 -cipher "$suite" </dev/null 2>/dev/null | grep -E '^ *Cipher *:' | awk '{print $3}')
	is "$got" "$suite" "TLS 1.2 negotiates $suite"
done
got=$(openssl s_client -connect "127.0.0.1:$port" -CAfile "$TMP/ca.crt" -tls1_1 \
	</dev/null 2>&1 | grep -c 'Cipher is (NONE)\|alert\|no protocols' || true)
ok "TLS 1.1 is refused" test "$got" -ge 1

out=$(python3 "$TOP_SRCDIR/t/rawhttp.py" tls-pipeline "$port" "$TMP/ca.crt")
is "$out" $'TLSv1.2\nHTTP/1.1 200 OK\nHTTP/1.1 200 OK' "pipelined requests over TLS are answered in order"

out=$(python3 "$TOP_SRCDIR/t/rawhttp.py" tls-plain "$port")
is "$out" $'HTTP/1.1 400 Bad Request\nbody {"error":"plain HTTP sent to a TLS port: use https://"}\nclosed' \
	"plain HTTP on the TLS port is answered 400 in clear and closed"
is "$(curl -s "http://127.0.0.1:$port/healthz")" '{"error":"plain HTTP sent to a TLS port: use https://"}' \
	"... which curl shows as a JSON reason"

# Rotation as a Kubernetes Secret volume does it: new files moved into place.
cp "$TMP/second.crt" "$TMP/live/tls.crt.new"
cp "$TMP/second.key" "$TMP/live/tls.key.new"
mv "$TMP/live/tls.key.new" "$TMP/live/tls.key"
mv "$TMP/live/tls.crt.new" "$TMP/live/tls.crt"
WAIT_SECONDS=15 wait_for test "$(served_cn)" = "temper second"
is "$(served_cn)" "temper second" "a rotated certificate is picked up without a restart"
is "$(curl -s --cacert "$TMP/ca.crt" "$url/healthz")" "ok" "... and serves verified requests"

echo "this is not a certificate" >"$TMP/live/tls.crt"
WAIT_SECONDS=15 wait_for grep -q 'cannot reload the TLS certificate' "$TMP/d.log"
like "$(cat "$TMP/d.log")" "cannot reload the TLS certificate of 127.0.0.1:$port: cannot load certificate $TMP/live/tls.crt: .*; the previous certificate keeps serving" \
	"garbage in the certificate file is reported, naming the file"
is "$(served_cn)" "temper second" "... and the previous certificate keeps serving"
like "$(curl -s --cacert "$TMP/ca.crt" "$url/metrics")" 'temper_tls_reloads_total\{result="failed"\} [1-9]' \
	"... and counted"

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "SIGTERM stops the TLS daemon cleanly"
done_testing
