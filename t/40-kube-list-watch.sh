#!/usr/bin/env bash
# t/40-kube-list-watch.sh - the reflector against the real kube-apiserver:
# a paginated LIST of 1,000 pods on one node, then a WATCH that follows
# creations, updates and deletions; the store equals kubectl's LIST.  Pods
# on another node advance the cluster's resourceVersion without touching
# ours, so only bookmarks can move the resume point: it must follow them,
# and the next watch must start from the bookmark's resourceVersion.
set -uo pipefail
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP_SRCDIR/t/lib.sh"
. "$TOP_SRCDIR/t/kube-lib.sh"
kube_require

plan 13
kube_up
"$CLUSTER_TOOLS/mknode" "$CD" node-a --cpus 64 --pods 2000 >/dev/null
"$CLUSTER_TOOLS/mknode" "$CD" node-b --cpus 8 >/dev/null

t0=$SECONDS
kube_pods node-a a 1000
kube_pods node-b b 10
diag "created 1,010 pods in $((SECONDS - t0)) s"

start_probe watch --kubeconfig "$KUBECONFIG" --debug watch pods \
	--field-selector spec.nodeName=node-a --page-size 150 --watch-timeout 6 \
	--dump "$TMP/dump" --status "$TMP/status"
S=$TMP/status
WAIT_SECONDS=120 wait_for status_at_least "$S" syncs 1
is "$(status_value "$S" objects)" 1000 "the initial list holds the node's 1,000 pods"
is "$(status_value "$S" lists)" 7 "it took 7 pages of at most 150 (limit/continue)"
WAIT_SECONDS=10 wait_for dump_matches "$TMP/dump" node-a
ok "the store equals kubectl's LIST field by field" dump_matches "$TMP/dump" node-a
show_dump_diff "$TMP/dump" node-a
ok "no pod of node-b was taken" bash -c "! grep -q ' node=node-b ' '$TMP/dump'"

# Changes while watching: 50 new pods, 40 deleted, 30 relabelled, one
# moved into Running through the status subresource.
kube_pods node-a late 50
k delete pods --grace-period=0 --force $(seq -f 'a-%g' 0 39) >/dev/null 2>&1
k label pods $(seq -f 'a-%g' 100 129) touched=yes >/dev/null
k patch pod a-500 --subresource=status --type=merge \
	-p '{"status":{"phase":"Running"}}' >/dev/null
WAIT_SECONDS=60 wait_for dump_matches "$TMP/dump" node-a
ok "after creations, deletions and updates the store equals a fresh LIST" \
	dump_matches "$TMP/dump" node-a
show_dump_diff "$TMP/dump" node-a
like "$(grep '^default/a-500 ' "$TMP/dump")" 'phase=Running' "a status update reached the store"
ok "the watch delivered adds, updates and deletes (not relists)" \
	test "$(status_value "$S" adds)" -ge 1050 -a "$(status_value "$S" updates)" -ge 31 \
	-a "$(status_value "$S" deletes)" -ge 40 -a "$(status_value "$S" syncs)" -eq 1

# Bookmarks: activity on node-b moves the cluster's resourceVersion; the
# filtered watch sees no event, only bookmarks carry the new version.
last_object_rv=$(status_value "$S" resume_rv)
bookmarks_before=$(status_value "$S" bookmarks)
kube_pods node-b b2 20
b_rv=$(k get pods b2-19 -o jsonpath='{.metadata.resourceVersion}')
bookmark_seen() {
	local bm
	bm=$(status_value "$S" last_bookmark)
	[ -n "$bm" ] && [ "$bm" != "$last_object_rv" ] &&
		[ "$(status_value "$S" resume_rv)" = "$bm" ] &&
		[ "$(status_value "$S" bookmarks)" -gt "$bookmarks_before" ]
}
# The apiserver sends a bookmark about once a minute; a loaded machine adds.
WAIT_SECONDS=150 wait_for bookmark_seen
ok "a bookmark moved the resume point past the last object ($last_object_rv -> $(status_value "$S" last_bookmark))" bookmark_seen
bm=$(status_value "$S" last_bookmark)
# Only the test compares versions as numbers (etcd revisions here); the
# client treats them as opaque strings.
python3 -c 'import sys; sys.exit(0 if int(sys.argv[1]) >= int(sys.argv[2]) else 1)' "$bm" "$b_rv"
ok "the bookmark's resourceVersion is at least node-b's newest pod's" test $? -eq 0
resumed() { grep -q "watching pods from resourceVersion $bm\"" "$TMP/watch.err"; }
WAIT_SECONDS=30 wait_for resumed
ok "the next watch resumed from the bookmark's resourceVersion" resumed
ok "watches ended normally and were resumed without relisting" \
	test "$(status_value "$S" watch_ends)" -ge 2 -a "$(status_value "$S" syncs)" -eq 1 \
	-a "$(status_value "$S" errors)" -eq 0
is "$(status_value "$S" connects)" 1 "one kept-alive connection carried every list page and watch"

stop_probe
is "$?" 0 "the probe stops cleanly on SIGTERM (every handle closed, uv_loop_close 0)"
