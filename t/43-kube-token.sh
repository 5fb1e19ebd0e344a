#!/usr/bin/env bash
# t/43-kube-token.sh - bearer tokens that rotate and get revoked, with the
# in-cluster configuration (service-account directory + KUBERNETES_SERVICE_*).
# Real bound service-account tokens (TokenRequest bound to a Secret; deleting
# the Secret revokes the token).
#  1. The token file is rewritten with a new token: the periodic re-read
#     picks it up without a restart, and once the old token is revoked the
#     next watches still succeed -- no 401 at all.
#  2. The token in use is revoked and the file rewritten, with the periodic
#     re-read out of the way (a minute): the next watch gets 401, the client
#     re-reads the file at once and the retry succeeds.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
kube_require
command -v curl >/dev/null || skip_all "curl is missing"

plan 12
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 8 >/dev/null
k create serviceaccount probe >/dev/null
# Its own role: the aggregated ones (view) are empty without
# kube-controller-manager's aggregation controller.
k create clusterrole temper-probe --verb=get,list,watch --resource=pods >/dev/null
k create clusterrolebinding temper-probe --clusterrole=temper-probe \
	--serviceaccount=default:probe >/dev/null
for s in s1 s2 s3; do k create secret generic "$s" >/dev/null; done
mint() {
	k create token probe --bound-object-kind Secret --bound-object-name "$1" \
		--duration 10m
}
T1=$(mint s1) T2=$(mint s2) T3=$(mint s3)
SA=$TMP/serviceaccount
mkdir -p "$SA"
cp "$CA_CERT" "$SA/ca.crt"
echo default >"$SA/namespace"
write_token() {
	printf '%s\n' "$1" >"$SA/token.new" && mv "$SA/token.new" "$SA/token"
}
write_token "$T1"
# revoked TOKEN: the API server refuses it now (it caches successes ~10 s).
revoked() {
	[ "$(http_status "$APISERVER_URL/api/v1/namespaces/default/pods" \
		--cacert "$CA_CERT" -H "Authorization: Bearer $1")" = 401 ]
}
kube_pods node-a first 1

in_cluster_probe() {
	local name=$1
	shift
	KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$APISERVER_PORT \
		start_probe "$name" --in-cluster "$SA" "$@" watch pods \
		--field-selector spec.nodeName=node-a --watch-timeout 3 \
		--dump "$TMP/$name.dump" --status "$TMP/$name.status"
}

# ---------------------------------------------------------------- 1
in_cluster_probe rotate --token-period-ms 1000
S=$TMP/rotate.status
WAIT_SECONDS=60 wait_for status_at_least "$S" syncs 1
ok "in-cluster configuration: listed with the service account's token" \
	dump_matches "$TMP/rotate.dump" node-a
write_token "$T2"
WAIT_SECONDS=10 wait_for status_at_least "$S" token_changes 1
is "$(status_value "$S" token_changes)" 1 "the rotated token file was picked up without a restart"
k delete secret s1 >/dev/null
WAIT_SECONDS=60 wait_for revoked "$T1"
ok "the old token is revoked" revoked "$T1"
w=$(status_value "$S" watches)
WAIT_SECONDS=30 wait_for status_at_least "$S" watches $((w + 2))
kube_pods node-a second 1
WAIT_SECONDS=30 wait_for dump_matches "$TMP/rotate.dump" node-a
ok "watches made after the revocation see new pods" dump_matches "$TMP/rotate.dump" node-a
is "$(status_value "$S" unauthorized)" 0 "no request was refused: the new token was already in use"
stop_probe
is "$?" 0 "the probe stops cleanly"

# ---------------------------------------------------------------- 2
in_cluster_probe refused --token-period-ms 600000
S=$TMP/refused.status
WAIT_SECONDS=60 wait_for status_at_least "$S" syncs 1
write_token "$T3"
k delete secret s2 >/dev/null
WAIT_SECONDS=60 wait_for revoked "$T2"
ok "the token in use is revoked" revoked "$T2"
WAIT_SECONDS=30 wait_for status_at_least "$S" unauthorized 1
ok "a watch was refused with 401" status_at_least "$S" unauthorized 1
ok "the 401 made the client re-read the token file at once" \
	awk '/answered 401; re-reading the token/ { hit = NR } \
	    /read a new token/ && hit && NR == hit + 1 { found = 1 } END { exit !found }' \
	"$TMP/refused.err"
kube_pods node-a third 1
WAIT_SECONDS=30 wait_for dump_matches "$TMP/refused.dump" node-a
ok "the retry with the new token succeeded: the store is current" \
	dump_matches "$TMP/refused.dump" node-a
is "$(status_value "$S" token_changes)" 1 "exactly one token change, from the 401 path"
stop_probe
is "$?" 0 "the probe stops cleanly"
