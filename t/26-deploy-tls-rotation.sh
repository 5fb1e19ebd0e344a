#!/bin/bash
# t/26-deploy-tls-rotation.sh - the certificate rotation deploy/README.md
# documents for the webhook: a Secret mounted the way the kubelet mounts it
# (files behind a ..data symlink that is swapped atomically on update) and
# temperd --role=webhook serving from it.  After the swap the new
# certificate is served without a restart; a broken pair is refused while
# the previous one keeps serving.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip_all "openssl is missing"
command -v curl >/dev/null || skip_all "curl is missing"
[ -x "$TEMPERD" ] || skip_all "temperd is not built ($TEMPERD)"

# issue NAME: a CA-signed serving certificate for 127.0.0.1 in $TMP/NAME.{crt,key}.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=test-ca -keyout "$TMP/ca.key" -out "$TMP/ca.crt" >/dev/null 2>&1 || bail "openssl CA failed"
issue() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$TMP/$1.key" -out "$TMP/$1.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial \
			-days 1 -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$TMP/$1.crt" >/dev/null 2>&1
}
issue first && issue second || bail "openssl certificate failed"

# The kubelet's layout of a Secret volume (pkg/volume/util/atomic_writer.go):
# the files live in a timestamped directory, ..data links to it, and each
# key is a link through ..data.  An update writes a new directory and
# renames a new ..data link over the old one.
VOLUME=$TMP/volume
publish() { # NAME CERT KEY
	mkdir -p "$VOLUME/..$1"
	cp "$2" "$VOLUME/..$1/tls.crt"
	cp "$3" "$VOLUME/..$1/tls.key"
	ln -s "..$1" "$VOLUME/..data_tmp"
	mv -T "$VOLUME/..data_tmp" "$VOLUME/..data"
	[ -L "$VOLUME/tls.crt" ] || ln -s ..data/tls.crt "$VOLUME/tls.crt"
	[ -L "$VOLUME/tls.key" ] || ln -s ..data/tls.key "$VOLUME/tls.key"
}
mkdir -p "$VOLUME"
publish 2026_01 "$TMP/first.crt" "$TMP/first.key"

port=$(free_port)
: >"$TMP/temper.conf"
start_temperd webhook --role=webhook --config="$TMP/temper.conf" --listen="127.0.0.1:$port" \
	--state-dir="$TMP/state" --tls-cert="$VOLUME/tls.crt" --tls-key="$VOLUME/tls.key"
url=https://127.0.0.1:$port
ok "the webhook serves HTTPS from the mounted Secret" \
	wait_eq 200 http_status "$url/healthz" --cacert "$TMP/ca.crt"

# served: the subject CN of the certificate the server presents now.
served() {
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$TMP/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
is "$(served)" first "it presents the first certificate"

publish 2026_02 "$TMP/second.crt" "$TMP/second.key"
rm -rf "$VOLUME/..2026_01"
ok "after the kubelet-style swap it presents the second, without a restart" \
	wait_eq second served
is "$(http_status "$url/healthz" --cacert "$TMP/ca.crt")" 200 "... and new connections verify against the CA"
like "$(curl -s --cacert "$TMP/ca.crt" "$url/metrics" | grep '^temper_tls_reloads_total{result="ok"}')" ' [1-9]' \
	"temper_tls_reloads_total{result=\"ok\"} counts the reload"

# A half-written rotation: the new certificate with the old key.
publish 2026_03 "$TMP/first.crt" "$TMP/second.key"
rm -rf "$VOLUME/..2026_02"
failed() { curl -s --cacert "$TMP/ca.crt" "$url/metrics" | grep -q '^temper_tls_reloads_total{result="failed"} [1-9]'; }
ok "a certificate with a key that is not its own is refused" wait_for failed
is "$(served)" second "... and the previous pair keeps serving"
like "$(grep 'cannot reload the TLS certificate' "$TMP/webhook.log" | head -n1)" 'previous certificate keeps serving' \
	"... and the log says so"
kill -TERM "$TEMPERD_PID" 2>/dev/null
wait "$TEMPERD_PID"
is "$?" 0 "temperd stops cleanly"
done_testing
