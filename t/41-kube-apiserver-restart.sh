#!/usr/bin/env bash
# t/41-kube-apiserver-restart.sh - kube-apiserver killed (SIGKILL) and
# restarted in the middle of a watch while pods are created and deleted all
# along.  The reflector backs off while the server is away, resumes (or
# relists when the fresh watch cache has forgotten its version), and ends
# with a store equal to a fresh LIST, object for object.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
kube_require

plan 8
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 64 --pods 1000 >/dev/null
kube_pods node-a base 200

start_probe watch --kubeconfig "$KUBECONFIG" --debug watch pods \
	--field-selector spec.nodeName=node-a --watch-timeout 60 \
	--dump "$TMP/dump" --status "$TMP/status"
S=$TMP/status
WAIT_SECONDS=60 wait_for status_at_least "$S" syncs 1
is "$(status_value "$S" objects)" 200 "listed 200 pods"

# Churn: create and delete pods for the whole test, failures (apiserver
# down) included; each round is bounded, the loop stops on a flag file.
churn() {
	local i=0
	while [ ! -e "$TMP/stop-churn" ] && [ $i -lt 400 ]; do
		echo "$i" >"$TMP/churn-index"
		k create -f - >/dev/null 2>&1 <<-JSON
		{"apiVersion":"v1","kind":"Pod","metadata":{"name":"churn-$i"},
		 "spec":{"nodeName":"node-a","containers":[{"name":"c","image":"x"}]}}
		JSON
		if [ $((i % 3)) -eq 0 ] && [ $i -ge 3 ]; then
			k delete pod "churn-$((i - 3))" --grace-period=0 --force >/dev/null 2>&1
		fi
		i=$((i + 1))
		sleep 0.05
	done
}
churn &
CHURN_PID=$!
at_exit "touch '$TMP/stop-churn'; kill $CHURN_PID"

sleep 3
watches_before=$(status_value "$S" watches)
ok "kube-apiserver killed and restarted mid-watch" \
	"$CLUSTER_TOOLS/ctl" "$CD" restart-apiserver --kill 2>"$TMP/ctl.log"
index_at_restart=$(cat "$TMP/churn-index")
sleep 5
touch "$TMP/stop-churn"
wait "$CHURN_PID"
newest=$(k get pods -o name | sed -n 's,^pod/churn-,,p' | sort -n | tail -n1)
diag "churn index at restart $index_at_restart, newest churn pod $newest"
ok "pods were created and deleted after the restart too" \
	test "${newest:-0}" -gt "$index_at_restart"

WAIT_SECONDS=90 wait_for dump_matches "$TMP/dump" node-a
ok "afterwards the store equals a fresh LIST exactly" dump_matches "$TMP/dump" node-a
show_dump_diff "$TMP/dump" node-a
ok "the broken watch was followed by new ones" \
	test "$(status_value "$S" watches)" -gt "$watches_before"
ok "the outage went through the backoff path" status_at_least "$S" errors 1
diag "after the restart: relists_expired=$(status_value "$S" relists_expired)" \
	"full_relists=$(status_value "$S" full_relists) syncs=$(status_value "$S" syncs)" \
	"errors=$(status_value "$S" errors) connects=$(status_value "$S" connects)"
ok "the log says what failed and when it retries" \
	grep -q 'watch failed (.*); retrying in [0-9]* ms' "$TMP/watch.err"

stop_probe
is "$?" 0 "the probe stops cleanly"
