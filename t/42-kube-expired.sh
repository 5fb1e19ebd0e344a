#!/usr/bin/env bash
# t/42-kube-expired.sh - a forced 410.  The probe is frozen (SIGSTOP) after
# its first list and kube-apiserver stopped, so no event of what follows
# can reach it, not even through socket buffers; then pods are deleted,
# created and changed, etcd is compacted and kube-apiserver restarted with
# a cold watch cache, so the probe's resourceVersion is history.  Thawed,
# the probe's resumed watch gets 410 Expired; it relists from its last seen
# version (resourceVersionMatch=NotOlderThan: served fresh, compacted or
# not, never the old snapshot), and the full replace deletes exactly the
# pods that vanished while it was away.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
kube_require

plan 11
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 64 --pods 1000 >/dev/null
kube_pods node-a old 120

start_probe watch --kubeconfig "$KUBECONFIG" --debug watch pods \
	--field-selector spec.nodeName=node-a --watch-timeout 120 --events \
	--dump "$TMP/dump" --status "$TMP/status"
S=$TMP/status
WAIT_SECONDS=60 wait_for status_at_least "$S" syncs 1
is "$(status_value "$S" objects)" 120 "listed 120 pods"
deletes_before=$(status_value "$S" deletes)

kill -STOP "$PROBE_PID"
"$CLUSTER_TOOLS/ctl" "$CD" stop-apiserver 2>"$TMP/ctl.log"
"$CLUSTER_TOOLS/ctl" "$CD" start-apiserver 2>>"$TMP/ctl.log"
k delete pods --grace-period=0 --force $(seq -f 'old-%g' 0 29) >/dev/null 2>&1
kube_pods node-a new 25
k label pods $(seq -f 'old-%g' 60 79) changed=yes >/dev/null
# Many more revisions elsewhere, so the old version is well behind.
kube_pods node-b noise 100
rev=$("$CLUSTER_TOOLS/compact" "$CD" 2>/dev/null | tail -n1)
diag "etcd compacted at revision $rev"
ok "kube-apiserver restarted with a cold watch cache" \
	"$CLUSTER_TOOLS/ctl" "$CD" restart-apiserver 2>>"$TMP/ctl.log"
lines_before=$(wc -l <"$TMP/watch.out")
kill -CONT "$PROBE_PID"

WAIT_SECONDS=90 wait_for status_at_least "$S" syncs 2
WAIT_SECONDS=30 wait_for dump_matches "$TMP/dump" node-a
ok "the store equals a fresh LIST after the relist" dump_matches "$TMP/dump" node-a
show_dump_diff "$TMP/dump" node-a
ok "the resumed watch met 410 Expired and relisted" status_at_least "$S" relists_expired 1
ok "the log names the expiry" grep -q 'expired; listing again' "$TMP/watch.err"
diag "relists_expired=$(status_value "$S" relists_expired) full_relists=$(status_value "$S" full_relists) syncs=$(status_value "$S" syncs) errors=$(status_value "$S" errors)"
is "$(status_value "$S" full_relists)" 0 \
	"the relist from the last seen version was served not older than it: no quorum relist was needed"
ok "a second full list replaced the store" status_at_least "$S" syncs 2

tail -n +"$((lines_before + 1))" "$TMP/watch.out" >"$TMP/after"
deleted=$(sed -n 's,^DELETE default/\([^ ]*\) .*,\1,p' "$TMP/after" | LC_ALL=C sort | tr '\n' ' ')
expected=$(seq -f 'old-%g' 0 29 | LC_ALL=C sort | tr '\n' ' ')
is "$deleted" "$expected" "the replace emitted deletes for exactly the 30 vanished pods"
is "$(grep -c '^ADD default/new-' "$TMP/after")" 25 "and adds for the 25 new ones"
ok "and updates for the 20 relabelled ones" \
	test "$(grep -c '^UPDATE default/old-[67][0-9] ' "$TMP/after")" -ge 20

stop_probe
is "$?" 0 "the probe stops cleanly"
