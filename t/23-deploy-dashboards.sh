#!/bin/bash
# t/23-deploy-dashboards.sh - the Grafana dashboards: regenerating them from
# deploy/grafana/dashboards.py gives the checked-in bytes; every temper_*
# metric their PromQL names is exported by the real temperd (every role,
# /metrics) or listed in deploy/grafana/pending-metrics.txt with the
# subsystem it awaits, never both; the labels they group by exist; promtool
# parses every query and lints the real /metrics text.
. "$(dirname "$0")/lib.sh"

GRAFANA=$TOP_SRCDIR/deploy/grafana
CHECK=$TOP_SRCDIR/t/deploy/dashboard-metrics.py
command -v python3 >/dev/null || skip_all "python3 is missing"
command -v curl >/dev/null || skip_all "curl is missing"
[ -x "$TEMPERD" ] || skip_all "temperd is not built ($TEMPERD)"
. "$TOP_SRCDIR/t/cluster/versions.sh"

# verdicts FILE: one TAP point per PASS/FAIL line of dashboard-metrics.py.
verdicts() {
	local verdict text
	while IFS=$'\t' read -r verdict text; do
		case $verdict in
		PASS) ok "$text" true ;;
		FAIL) ok "$text" false ;;
		DIAG) diag "$text" ;;
		esac
	done <"$1"
}

# --- one source ---------------------------------------------------------
mkdir -p "$TMP/regenerated"
ok "dashboards.py runs" python3 "$GRAFANA/dashboards.py" "$TMP/regenerated"
for f in "$GRAFANA"/*.json; do
	name=$(basename "$f")
	ok "$name is what dashboards.py generates (byte for byte)" \
		cmp "$f" "$TMP/regenerated/$name"
done
is "$(ls "$TMP/regenerated" | sort | tr '\n' ' ')" "$(cd "$GRAFANA" && ls ./*.json | sed 's|^\./||' | sort | tr '\n' ' ')" \
	"every generated dashboard is checked in, and nothing else"
for f in "$GRAFANA"/*.json; do
	ok "$(basename "$f") is a dashboard with panels and PromQL targets" \
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["uid"] and d["title"] and d["schemaVersion"] >= 36
targets = [t for p in d["panels"] for t in p.get("targets", [])]
assert targets and all(t["expr"] for t in targets)
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids))' "$f"
done

# --- the metrics temperd really exports ----------------------------------
port=$(free_port)
: >"$TMP/empty.conf"
mkdir -p "$TMP/cgroup"
# Every role that exports metrics, in one process: the agent (with the
# scheduler supervisor, observing here without sched_ext) and the cluster
# roles (they keep serving /metrics without a cluster).
start_temperd roles --role=agent,extender,webhook,controller --config="$TMP/empty.conf" --node-name=node-a \
	--listen="127.0.0.1:$port" --state-dir="$TMP/state" --cgroup-root="$TMP/cgroup" \
	--enforcement=auto
ok "temperd (agent, extender, webhook, controller) serves /metrics without a cluster" \
	wait_eq 200 http_status "http://127.0.0.1:$port/metrics"
# Requests first, so the per-route series exist to have their labels read.
curl -s -o /dev/null "http://127.0.0.1:$port/healthz"
curl -s -o /dev/null "http://127.0.0.1:$port/readyz"
curl -s "http://127.0.0.1:$port/metrics" >"$TMP/metrics"
like "$(grep -c '^# TYPE temper_' "$TMP/metrics")" '^[1-9][0-9]*$' "/metrics has temper_* families"

python3 "$CHECK" check "$GRAFANA" "$GRAFANA/pending-metrics.txt" "$TMP/metrics" \
	>"$TMP/verdicts" 2>"$TMP/check.err"
is "$?" 0 "dashboard-metrics.py check ran"
verdicts "$TMP/verdicts"

# The check itself is live: a dashboard naming an unknown metric fails it,
# and so does a pending entry that temperd exports already.
mkdir -p "$TMP/bad"
python3 - "$GRAFANA/temper-node.json" "$TMP/bad/bad.json" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["panels"][1]["targets"][0]["expr"] = "rate(temper_no_such_metric_total[5m])"
	json.dump(d, open(sys.argv[2], "w"))
	PY
python3 "$CHECK" check "$TMP/bad" "$GRAFANA/pending-metrics.txt" "$TMP/metrics" >"$TMP/bad.out"
like "$(grep '^FAIL' "$TMP/bad.out")" 'temper_no_such_metric_total is neither exported nor pending' \
	"a metric neither exported nor pending fails the check"
{ cat "$GRAFANA/pending-metrics.txt"; echo "temper_pods engine"; } >"$TMP/pending-stale"
python3 "$CHECK" check "$GRAFANA" "$TMP/pending-stale" "$TMP/metrics" >"$TMP/stale.out"
like "$(grep '^FAIL' "$TMP/stale.out")" 'temper_pods is exported now' \
	"a pending entry that temperd exports fails the check"

# --- promtool ----------------------------------------------------------------
if component_built promtool; then
	"$PROMTOOL" check metrics <"$TMP/metrics" >"$TMP/promtool-metrics.out" 2>&1
	is "$?" 0 "promtool check metrics accepts temperd's /metrics"
	[ -s "$TMP/promtool-metrics.out" ] && diag "$(head -n 20 "$TMP/promtool-metrics.out")"
	python3 "$CHECK" rules "$GRAFANA" >"$TMP/rules.yml"
	"$PROMTOOL" check rules "$TMP/rules.yml" >"$TMP/promtool-rules.out" 2>&1
	is "$?" 0 "promtool parses every dashboard query (as recording rules)"
	diag "$(grep -E 'SUCCESS|FAILED|error' "$TMP/promtool-rules.out" | head -n 10)"
else
	skip "promtool $PROMTOOL_VERSION is not built (t/cluster/build promtool)"
	skip "promtool $PROMTOOL_VERSION is not built (t/cluster/build promtool)"
fi

kill -TERM "$TEMPERD_PID" 2>/dev/null
wait "$TEMPERD_PID"
is "$?" 0 "temperd stops cleanly"
done_testing
