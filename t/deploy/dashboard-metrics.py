#!/usr/bin/env python3
"""t/deploy/dashboard-metrics.py - what the Grafana dashboards ask of temperd.

    dashboard-metrics.py check DASHBOARD_DIR PENDING METRICS_TEXT
        One line per verdict, "PASS<TAB>text" or "FAIL<TAB>text" (the
        calling script turns them into TAP points), "DIAG<TAB>text" for
        notes:
        - every temper_* name a dashboard's PromQL uses is exported by
          temperd (its /metrics text, histograms by family) or listed in
          PENDING, and not both;
        - every PENDING name is used by some dashboard;
        - labels a query groups or matches by exist on the exported metric
          (when /metrics has series for it), beside the scrape's own
          labels job, node, instance and le.
    dashboard-metrics.py rules DASHBOARD_DIR
        A Prometheus rules file with every panel query (Grafana variables
        replaced by literals) as a recording rule, for `promtool check rules`
        to parse the PromQL.
"""

import glob
import json
import os
import re
import sys

NAME = re.compile(r"\b(temper_[a-z0-9_]+)\b")
SCRAPE_LABELS = {"job", "node", "instance", "le"}
SUFFIXES = ("_bucket", "_sum", "_count")


def queries(directory):
    """(dashboard file, panel title, expr) for every target."""
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                yield os.path.basename(path), panel["title"], target["expr"]


def exported(metrics_path):
    """family -> type, and family -> set of label names seen in series."""
    types, labels = {}, {}
    series = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ")
    with open(metrics_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split()[:4]
                types[name] = kind
                labels.setdefault(name, set())
                continue
            m = series.match(line)
            if not m:
                continue
            name = m.group(1)
            if name not in types:
                for suffix in SUFFIXES:
                    if name.endswith(suffix) and name[: -len(suffix)] in types:
                        name = name[: -len(suffix)]
                        break
            names = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
            labels.setdefault(name, set()).update(names)
    return types, labels


def pending(path):
    listed = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                fields = line.split(None, 2)
                listed[fields[0]] = fields[1] if len(fields) > 1 else "?"
    return listed


def family(name, types, listed):
    """The family a referenced series name belongs to."""
    if name in types or name in listed:
        return name
    for suffix in SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and (types.get(base) in ("histogram", "summary")
                                      or base in listed):
            return base
    return name


def used_labels(expr):
    """Labels named in by (...) clauses and in selector matchers."""
    names = set()
    for group in re.findall(r"\bby\s*\(([^)]*)\)", expr):
        names.update(x.strip() for x in group.split(",") if x.strip())
    for selector in re.findall(r"\{([^}]*)\}", expr):
        names.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", selector))
    return names


def check(directory, pending_path, metrics_path):
    types, labels = exported(metrics_path)
    listed = pending(pending_path)
    used = {}
    label_checked = set()
    for dashboard, title, expr in queries(directory):
        families = {family(n, types, listed) for n in NAME.findall(expr)}
        for name in families:
            used.setdefault(name, set()).add(dashboard)
        # Labels: only against exported families with series to look at.
        wanted = used_labels(expr) - SCRAPE_LABELS
        known = set()
        checkable = True
        for name in families:
            if name in types and labels.get(name):
                known |= labels[name]
            else:
                checkable = False
        if wanted and families and checkable:
            missing = sorted(wanted - known)
            verdict = "FAIL" if missing else "PASS"
            text = "%s: \"%s\" uses labels temperd exports (%s)" % (
                dashboard, title, ", ".join(sorted(wanted)))
            if missing:
                text += "; missing: " + ", ".join(missing)
            if text not in label_checked:
                label_checked.add(text)
                print("%s\t%s" % (verdict, text))
    for name in sorted(used):
        where = ", ".join(sorted(used[name]))
        if name in types and name in listed:
            print("FAIL\t%s is exported now: delete it from pending-metrics.txt (%s)" % (
                name, listed[name]))
        elif name in types:
            print("PASS\t%s is exported (%s)" % (name, where))
        elif name in listed:
            print("PASS\t%s is pending on %s (%s)" % (name, listed[name], where))
        else:
            print("FAIL\t%s is neither exported nor pending (%s)" % (name, where))
    for name in sorted(set(listed) - set(used)):
        print("FAIL\t%s is listed as pending but no dashboard uses it" % name)
    print("DIAG\t%d metrics used, %d exported, %d pending" % (
        len(used), len([n for n in used if n in types]),
        len([n for n in used if n in listed])))
    return 0


def rules(directory):
    replace = {"$__rate_interval": "5m", "$__interval": "1m", "$node": ".*",
               "$job": ".*"}
    out = ["groups:", "  - name: temper-dashboards", "    rules:"]
    for i, (dashboard, title, expr) in enumerate(queries(directory)):
        for key, value in replace.items():
            expr = expr.replace(key, value)
        out.append("      - record: temper:dashboard_query:%d" % i)
        out.append("        expr: %s" % json.dumps(expr))
    print("\n".join(out))
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4])
    if len(argv) == 3 and argv[1] == "rules":
        return rules(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
