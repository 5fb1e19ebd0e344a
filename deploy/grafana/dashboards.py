#!/usr/bin/env python3
"""deploy/grafana/dashboards.py - Temper's Grafana dashboards from one description.

    python3 deploy/grafana/dashboards.py [OUTDIR]     (default: beside this file)

Writes temper-node.json, temper-fleet.json and temper-control-plane.json.
The JSON files are checked in; t/23-deploy-dashboards.sh regenerates them
and fails unless the bytes are identical, and checks every metric their
PromQL names against what temperd exports (or pending-metrics.txt).

Labels the queries rely on: `tier`, `route`, `invariant`, `scope` come from
temperd; `node` is added by the scrape (ServiceMonitor relabelling from
__meta_kubernetes_pod_node_name, see deploy/README.md); `job` is
Prometheus's own.
"""

import json
import os
import sys

RATE = "$__rate_interval"
NODE = 'node=~"$node"'
JOB = 'job=~"$job"'
TIERS = ["critical", "high", "normal", "low", "background"]
TIER_COLOURS = {"critical": "red", "high": "orange", "normal": "green",
                "low": "blue", "background": "purple"}


def ts(title, targets, unit="short", description="", width=12, height=8,
       stack=False, overrides_by_tier=False, legend="table", kind="timeseries"):
    """One panel: a title, [(expr, legend)...] and display options."""
    return {"kind": kind, "title": title, "targets": targets, "unit": unit,
            "description": description, "width": width, "height": height,
            "stack": stack, "tiers": overrides_by_tier, "legend": legend}


def stat(title, targets, unit="short", description="", width=6, height=4,
         mappings=None, thresholds=None):
    panel = ts(title, targets, unit, description, width, height, kind="stat")
    panel["mappings"] = mappings or []
    panel["thresholds"] = thresholds
    return panel


def row(title):
    return {"kind": "row", "title": title}


def p99(metric, by, selector):
    return ("histogram_quantile(0.99, sum by (%s, le) (rate(%s_bucket{%s}[%s])))"
            % (by, metric, selector, RATE))


def quantile(q, metric, by, selector):
    return ("histogram_quantile(%s, sum by (%s, le) (rate(%s_bucket{%s}[%s])))"
            % (q, by, metric, selector, RATE))


SEL = "%s, %s" % (JOB, NODE)

NODE_DASHBOARD = {
    "uid": "temper-node",
    "title": "Temper / Node QoS",
    "description": "One node's tiers: runqueue latency, CPU, pressure, placement "
                   "linter, enforcement and the scheduler under it.",
    "variables": ["datasource", "job", "node"],
    "panels": [
        row("Tiers"),
        ts("Runqueue latency p99 by tier",
           [(p99("temper_runqueue_latency_seconds", "tier", SEL), "{{tier}}")],
           unit="s", overrides_by_tier=True,
           description="Wakeup to running, 99th percentile over the rate window. "
                       "The protected tiers (critical, high) are the promise."),
        ts("CPU used by tier",
           [("sum by (tier) (rate(temper_tier_cpu_seconds_total{%s}[%s]))" % (SEL, RATE),
             "{{tier}}")],
           unit="cores", stack=True, overrides_by_tier=True,
           description="On-CPU time of each tier's threads, in cores."),
        ts("CPU requested by tier",
           [("sum by (tier) (temper_cpu_requests_cores{%s})" % SEL, "{{tier}}")],
           unit="cores", stack=True, overrides_by_tier=True,
           description="What the pods of each tier asked for (the planner's input)."),
        ts("Pods by tier",
           [("sum by (tier) (temper_pods{%s})" % SEL, "{{tier}}")],
           stack=True, overrides_by_tier=True),
        row("Pressure and placement"),
        ts("CPU pressure (PSI some, avg10)",
           [("max by (scope) (temper_psi_cpu_some_avg10_ratio{%s})" % SEL, "{{scope}}")],
           unit="percentunit",
           description="Share of the last 10 s in which some task waited for a CPU, "
                       "node-wide and for the tiers' cgroups."),
        ts("CPU stall time rate (PSI some)",
           [("sum by (scope) (rate(temper_psi_cpu_some_stall_seconds_total{%s}[%s]))"
             % (SEL, RATE), "{{scope}}")],
           unit="percentunit"),
        ts("Placement linter violations",
           [("sum by (invariant) (increase(temper_linter_violations_total{%s}[%s]))"
             % (SEL, RATE), "{{invariant}}")],
           description="Verdicts of the placement linter per invariant; any "
                       "non-zero line is a tier promise broken on this node."),
        ts("SMT collisions",
           [("sum(rate(temper_smt_collisions_total{%s}[%s]))" % (SEL, RATE), "collisions/s")],
           description="Protected and Open-layer threads seen on SMT siblings at once."),
        row("Enforcement"),
        stat("Enforcement state",
             [("max by (state) (temper_enforcement_state{%s})" % SEL, "{{state}}")],
             description="1 for the state the agent is in (scx, cgroup, off, ...)."),
        stat("Safe mode",
             [("max(temper_safe_mode{%s})" % SEL, "safe mode")],
             mappings=[{"type": "value", "options": {
                 "0": {"text": "off", "color": "green"},
                 "1": {"text": "ON", "color": "red"}}}]),
        stat("Scheduler restarts (1h)",
             [("sum(increase(temper_scheduler_restarts_total{%s}[1h]))" % SEL, "restarts")],
             thresholds=[("green", None), ("orange", 1), ("red", 5)]),
        ts("Scheduler restarts and crashes",
           [("sum(increase(temper_scheduler_restarts_total{%s}[%s]))" % (SEL, RATE), "restarts"),
            ("sum(increase(temper_scheduler_crashes_total{%s}[%s]))" % (SEL, RATE), "crashes")],
           description="Restarts for a new sizing or new matches, and exits nobody asked for."),
        ts("Scheduler restart gap p99",
           [(p99("temper_scheduler_gap_seconds", "job", SEL), "p99")], unit="s",
           description="SIGTERM to the old scx_layered until the new one is attached: "
                       "the time tasks ran under CFS."),
        stat("Generation",
             [("max(temper_generation{%s})" % SEL, "generation")]),
        ts("Planning passes and new generations",
           [("sum(rate(temper_plan_passes_total{%s}[%s]))" % (SEL, RATE), "passes/s"),
            ("sum(rate(temper_generations_total{%s}[%s]))" % (SEL, RATE), "generations/s"),
            ("sum(rate(temper_plan_failures_total{%s}[%s]))" % (SEL, RATE), "failures/s")]),
        ts("Planning time p99",
           [(p99("temper_plan_duration_seconds", "job", SEL), "p99")], unit="s"),
        row("Agent"),
        ts("Kubernetes watches",
           [("max by (watch) (temper_kube_watch_state{%s})" % SEL, "{{watch}}")],
           description="0 stopped, 1 listing, 2 watching, 3 backing off."),
        ts("Node annotation patches",
           [("sum by (result) (rate(temper_node_patches_total{%s}[%s]))" % (SEL, RATE),
             "{{result}}")]),
        ts("Agent CPU",
           [("sum(rate(temper_process_cpu_seconds_total{%s}[%s]))" % (SEL, RATE), "agent"),
            ("sum(rate(temper_observe_cpu_seconds_total{%s}[%s]))" % (SEL, RATE),
             "observation")],
           unit="cores"),
        ts("Agent memory",
           [("sum(temper_process_resident_memory_bytes{%s})" % SEL, "resident")],
           unit="bytes"),
    ],
}

FLEET_DASHBOARD = {
    "uid": "temper-fleet",
    "title": "Temper / Fleet",
    "description": "Every node at once: where the protected tiers suffer, which "
                   "nodes stand down, and what versions run.",
    "variables": ["datasource", "job"],
    "panels": [
        row("Fleet"),
        stat("Agents up", [('count(up{%s} == 1)' % JOB, "up")]),
        stat("Nodes in safe mode", [("sum(temper_safe_mode{%s})" % JOB, "nodes")],
             thresholds=[("green", None), ("red", 1)]),
        stat("Scheduler restarts (1h)",
             [("sum(increase(temper_scheduler_restarts_total{%s}[1h]))" % JOB, "restarts")],
             thresholds=[("green", None), ("orange", 1), ("red", 10)]),
        stat("Linter violations (1h)",
             [("sum(increase(temper_linter_violations_total{%s}[1h]))" % JOB, "violations")],
             thresholds=[("green", None), ("red", 1)]),
        ts("Worst nodes: critical-tier runqueue p99",
           [("topk(10, %s)" % p99("temper_runqueue_latency_seconds", "node",
                                  '%s, tier="critical"' % JOB), "{{node}}")],
           unit="s"),
        ts("Worst nodes: high-tier runqueue p99",
           [("topk(10, %s)" % p99("temper_runqueue_latency_seconds", "node",
                                  '%s, tier="high"' % JOB), "{{node}}")],
           unit="s"),
        ts("Fleet CPU by tier",
           [("sum by (tier) (rate(temper_tier_cpu_seconds_total{%s}[%s]))" % (JOB, RATE),
             "{{tier}}")],
           unit="cores", stack=True, overrides_by_tier=True),
        ts("Fleet CPU requested by tier",
           [("sum by (tier) (temper_cpu_requests_cores{%s})" % JOB, "{{tier}}")],
           unit="cores", stack=True, overrides_by_tier=True),
        ts("Most pressured nodes (PSI some avg10)",
           [('topk(10, max by (node) (temper_psi_cpu_some_avg10_ratio{%s, scope="node"}))' % JOB,
             "{{node}}")],
           unit="percentunit"),
        ts("Enforcement state across nodes",
           [("count by (state) (temper_enforcement_state{%s} == 1)" % JOB, "{{state}}")],
           stack=True),
        ts("Scheduler restarts by node",
           [("topk(10, sum by (node) (increase(temper_scheduler_restarts_total{%s}[%s])))"
             % (JOB, RATE), "{{node}}")]),
        ts("Agent versions",
           [("count by (version) (temper_build_info{%s})" % JOB, "{{version}}")],
           stack=True),
    ],
}

CONTROL_PLANE_DASHBOARD = {
    "uid": "temper-control-plane",
    "title": "Temper / Webhook, extender and controller",
    "description": "The admission webhook and the scheduler extender sit on the "
                   "pod creation and scheduling paths: their latency is everyone's. "
                   "The controller turns TemperPolicies into safe mode.",
    "variables": ["datasource", "job"],
    "panels": [
        row("Overcommit webhook (POST /mutate)"),
        ts("Webhook decision time",
           [(quantile("0.5", "temper_webhook_request_seconds", "job", JOB), "p50"),
            (quantile("0.99", "temper_webhook_request_seconds", "job", JOB), "p99")],
           unit="s",
           description="Time to decide an admission request."),
        ts("Webhook latency seen on the wire",
           [(quantile("0.99", "temper_http_request_duration_seconds", "route",
                      '%s, route="/mutate"' % JOB), "p99")],
           unit="s",
           description="First byte to answer, TLS included; the apiserver's "
                       "timeoutSeconds bounds it."),
        ts("Webhook decisions",
           [("sum by (action) (rate(temper_webhook_admissions_total{%s}[%s]))" % (JOB, RATE),
             "{{action}}")],
           unit="reqps", stack=True,
           description="Pods whose CPU requests were scaled, and why others were left alone."),
        ts("Webhook errors",
           [("sum(rate(temper_webhook_bad_requests_total{%s}[%s]))" % (JOB, RATE),
             "bad AdmissionReviews"),
            ('sum by (code) (rate(temper_http_requests_total{%s, route="/mutate", code!="200"}[%s]))'
             % (JOB, RATE), "HTTP {{code}}")],
           unit="reqps"),
        ts("TLS certificate reloads",
           [("sum by (result) (increase(temper_tls_reloads_total{%s}[%s]))" % (JOB, RATE),
             "{{result}}")],
           description="temperd re-reads --tls-cert/--tls-key when they change "
                       "(certificate rotation)."),
        row("Scheduler extender (POST /filter, /prioritize)"),
        ts("Extender decision time p99",
           [(quantile("0.99", "temper_extender_request_seconds", "verb", JOB), "{{verb}}")],
           unit="s",
           description="kube-scheduler gives up after httpTimeout (5 s by default)."),
        ts("Extender calls",
           [("sum by (verb, result) (rate(temper_extender_requests_total{%s}[%s]))"
             % (JOB, RATE), "{{verb}} {{result}}")],
           unit="reqps"),
        ts("Extender node decisions",
           [("sum by (verb, reason) (rate(temper_extender_node_decisions_total{%s}[%s]))"
             % (JOB, RATE), "{{verb}} {{reason}}")],
           unit="reqps", stack=True,
           description="Per-node verdicts: fits, or why a node was filtered out."),
        ts("Nodes in the extender's cache",
           [("max(temper_extender_cached_nodes{%s})" % JOB, "nodes")]),
        row("Safe-mode controller"),
        ts("TemperPolicies",
           [("max(temper_controller_policies{%s})" % JOB, "policies")]),
        ts("Controller node actions",
           [("sum by (action) (increase(temper_controller_node_actions_total{%s}[%s]))"
             % (JOB, RATE), "{{action}}")],
           description="Safe mode set or cleared on nodes, or left to someone else's request."),
        ts("Controller write failures",
           [("sum(rate(temper_controller_write_failures_total{%s}[%s]))" % (JOB, RATE),
             "failures/s")]),
        ts("Refused requests (every role)",
           [("sum by (reason) (rate(temper_http_refused_total{%s}[%s]))" % (JOB, RATE),
             "{{reason}}")],
           unit="reqps"),
    ],
}

DASHBOARDS = {
    "temper-node.json": NODE_DASHBOARD,
    "temper-fleet.json": FLEET_DASHBOARD,
    "temper-control-plane.json": CONTROL_PLANE_DASHBOARD,
}


def variable(name):
    if name == "datasource":
        return {"name": "datasource", "label": "Prometheus", "type": "datasource",
                "query": "prometheus", "current": {}, "hide": 0, "refresh": 1}
    query = {"job": "label_values(temper_build_info, job)",
             "node": 'label_values(temper_build_info{job=~"$job"}, node)'}[name]
    return {"name": name, "label": name, "type": "query",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "includeAll": True, "multi": name == "node",
            "allValue": ".*", "current": {}, "hide": 0, "refresh": 2, "sort": 1}


def render_panel(panel, panel_id, x, y):
    datasource = {"type": "prometheus", "uid": "${datasource}"}
    if panel["kind"] == "row":
        return {"id": panel_id, "type": "row", "title": panel["title"], "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}
    targets = []
    for i, (expr, legend) in enumerate(panel["targets"]):
        targets.append({"refId": chr(ord("A") + i), "datasource": datasource,
                        "expr": expr, "legendFormat": legend, "range": True})
    defaults = {"unit": panel["unit"]}
    overrides = []
    options = {}
    if panel["kind"] == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity":
                              30 if panel["stack"] else 0, "showPoints": "never",
                              "stacking": {"mode": "normal" if panel["stack"] else "none",
                                           "group": "A"}}
        options = {"legend": {"displayMode": panel["legend"], "placement": "bottom",
                              "calcs": ["mean", "max", "lastNotNull"]},
                   "tooltip": {"mode": "multi", "sort": "desc"}}
        if panel["tiers"]:
            for tier in TIERS:
                overrides.append({"matcher": {"id": "byName", "options": tier},
                                  "properties": [{"id": "color", "value":
                                                  {"mode": "fixed",
                                                   "fixedColor": TIER_COLOURS[tier]}}]})
    else:
        options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                   "colorMode": "background", "graphMode": "none", "textMode": "auto"}
        if panel.get("mappings"):
            defaults["mappings"] = panel["mappings"]
        steps = panel.get("thresholds") or [("green", None)]
        defaults["thresholds"] = {"mode": "absolute", "steps": [
            {"color": colour, "value": value} for colour, value in steps]}
    result = {"id": panel_id, "type": panel["kind"], "title": panel["title"],
              "datasource": datasource, "targets": targets,
              "gridPos": {"h": panel["height"], "w": panel["width"], "x": x, "y": y},
              "fieldConfig": {"defaults": defaults, "overrides": overrides},
              "options": options}
    if panel["description"]:
        result["description"] = panel["description"]
    return result


def render(spec):
    panels = []
    x = y = row_height = 0
    for panel_id, panel in enumerate(spec["panels"], start=1):
        if panel["kind"] == "row":
            if x:
                y += row_height
            x = row_height = 0
            panels.append(render_panel(panel, panel_id, 0, y))
            y += 1
            continue
        if x + panel["width"] > 24:
            y += row_height
            x = row_height = 0
        panels.append(render_panel(panel, panel_id, x, y))
        x += panel["width"]
        row_height = max(row_height, panel["height"])
    return {
        "uid": spec["uid"], "title": spec["title"], "description": spec["description"],
        "tags": ["temper"], "editable": True, "graphTooltip": 1,
        "schemaVersion": 39, "version": 1, "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"}, "timezone": "",
        "templating": {"list": [variable(v) for v in spec["variables"]]},
        "annotations": {"list": []}, "links": [
            {"title": "Temper", "type": "dashboards", "tags": ["temper"], "asDropdown": True}],
        "panels": panels,
    }


def main(argv):
    outdir = argv[1] if len(argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, spec in DASHBOARDS.items():
        text = json.dumps(render(spec), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
