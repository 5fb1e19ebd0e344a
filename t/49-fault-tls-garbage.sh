#!/bin/bash
# t/49-fault-tls-garbage.sh - a running agent serving HTTPS (--tls-cert,
# --tls-key) has its certificate files replaced with garbage: the
# certificate, then the key, then a pair that does not match.  Each time
# the error is reported (log naming the file, the failed-reload metric),
# the old certificate keeps serving verified requests, and the agent's
# work goes on (pods equal a fresh LIST).  A good pair is then picked up
# without a restart.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
. "$TOP_SRCDIR/t/fault-lib.sh"

command -v openssl >/dev/null || skip_all "openssl is not installed"
fault_require_cluster
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 >/dev/null || bail "mknode failed"
fault_priority_classes
sh "$TOP_SRCDIR/t/fixtures/mksysfs.sh" "$TMP/sysfs" >/dev/null || bail "mksysfs.sh failed"

# mkcert NAME CN: a P-256 key and a certificate for 127.0.0.1 from the test CA.
mkcert() {
	openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/$1.key" 2>/dev/null
	openssl req -new -key "$TMP/$1.key" -subj "/CN=$2" -out "$TMP/$1.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TMP/$1.ext"
	openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/$1.ext" -out "$TMP/$1.crt" 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$TMP/ca.key" -out "$TMP/ca.crt" -subj "/CN=temper test CA" -days 2 2>/dev/null
mkcert first "agent first"
mkcert second "agent second"
mkdir "$TMP/live"
cp "$TMP/first.crt" "$TMP/live/tls.crt"
cp "$TMP/first.key" "$TMP/live/tls.key"

mkdir -p "$TMP/cgroup"
fault_pod web temper-high 100m
fault_pod batch temper-background 100m
fault_fake_cgroups "$TMP/cgroup"
port=$(free_port)
api="https://127.0.0.1:$port"
fault_agent_conf "$TMP/temper.conf" "$port" "$TMP/state" "$TMP/cgroup"
start_temperd agent --config="$TMP/temper.conf" --sysfs-root="$TMP/sysfs/8cpu-smt" \
	--tls-cert="$TMP/live/tls.crt" --tls-key="$TMP/live/tls.key"
# curl with the test CA for every check below (fault-lib's helpers use curl).
curl() { command curl --cacert "$TMP/ca.crt" "$@"; }
WAIT_SECONDS=60 ok "the agent serves HTTPS and becomes ready" wait_eq 200 http_status "$api/readyz"
served_cn() {
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$TMP/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
is "$(served_cn)" "agent first" "the first certificate is served"
WAIT_SECONDS=30 ok "the agent holds the LIST's pods" wait_for fault_store_matches "$api"

failures() { curl -s "$api/metrics" | sed -n 's/^temper_tls_reloads_total{result="failed"} //p'; }
# garbage STEP FILE_DESCRIPTION: after the files changed, the reload fails
# and is reported, the old certificate serves, the agent works on.
garbage() {
	local before=$2 n
	WAIT_SECONDS=20 wait_for test "$(grep -c 'cannot reload the TLS certificate' "$TMP/agent.log")" -gt "$before"
	n=$(grep -c 'cannot reload the TLS certificate' "$TMP/agent.log")
	ok "$1: the failed reload is reported" test "$n" -gt "$before"
	like "$(grep 'cannot reload the TLS certificate' "$TMP/agent.log" | tail -n1)" \
		"cannot reload the TLS certificate of 127.0.0.1:$port: .*$3.*; the previous certificate keeps serving" \
		"$1: ... naming what is wrong"
	is "$(served_cn)" "agent first" "$1: the previous certificate keeps serving"
	is "$(curl -s "$api/api/v1/status" | jq -r .node)" node-a "$1: ... verified API requests"
	ok "$1: ... the failure is counted" test "$(failures)" -gt "${4:-0}"
	fault_pod "pod-$n" temper-normal 100m
	fault_fake_cgroups "$TMP/cgroup"
	WAIT_SECONDS=30 ok "$1: the agent's work goes on: its pods equal a fresh LIST" \
		wait_for fault_store_matches "$api"
}

seen=$(grep -c 'cannot reload the TLS certificate' "$TMP/agent.log")
echo "this is not a certificate" >"$TMP/live/tls.crt"
garbage "garbage certificate" "$seen" "$TMP/live/tls.crt"
failed=$(failures)

seen=$(grep -c 'cannot reload the TLS certificate' "$TMP/agent.log")
cp "$TMP/first.crt" "$TMP/live/tls.crt"
head -c 300 /dev/urandom >"$TMP/live/tls.key"
garbage "garbage key" "$seen" "$TMP/live/tls.key" "$failed"
failed=$(failures)

seen=$(grep -c 'cannot reload the TLS certificate' "$TMP/agent.log")
cp "$TMP/second.crt" "$TMP/live/tls.crt"
cp "$TMP/first.key" "$TMP/live/tls.key"
garbage "a certificate and key that do not match" "$seen" "" "$failed"

# A good pair, moved into place as a Secret volume update would.
cp "$TMP/second.key" "$TMP/live/tls.key.new"
mv "$TMP/live/tls.key.new" "$TMP/live/tls.key"
WAIT_SECONDS=20 wait_for test "$(served_cn)" = "agent second"
is "$(served_cn)" "agent second" "a good pair is picked up without a restart"
is "$(curl -s "$api/api/v1/status" | jq -r .node)" node-a "... and serves verified requests"
is "$(http_status "$api/healthz")" 200 "the agent ran through it all"

kill -TERM "$TEMPERD_PID"; wait "$TEMPERD_PID"; rc=$?
is "$rc" 0 "the agent stops cleanly"
done_testing
