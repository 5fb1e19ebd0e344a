#!/usr/bin/env python3
"""t/perf/agent-latency.py - pod event to new generation, through the real
kube-apiserver.

Started by t/perf/agent-latency.sh with a running cluster and agent.  Each
pod is a static pod's mirror (annotation kubernetes.io/config.mirror), so
its cgroup -- named by the kubelet after that hash -- can exist before the
pod does: one API event then carries everything the plan needs.  The
latency is the new generation's created_ms minus the time before the POST.
Prints median, p90 and max.
"""
import json
import os
import ssl
import sys
import time
import urllib.request

env = dict(line.strip().split("=", 1) for line in open(os.path.join(sys.argv[1], "env")) if "=" in line)
api, agent, cluster_tools, cgroot, count = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
server = [l.split()[1] for l in open(env["KUBECONFIG"]) if l.strip().startswith("server:")][0]

ctx = ssl.create_default_context(cafile=env["CA_CERT"])
ctx.load_cert_chain(env["ADMIN_CERT"], env["ADMIN_KEY"])


def agent_generations():
    with urllib.request.urlopen(agent + "/api/v1/config/generations") as r:
        return json.load(r)


def request(method, path, body, content_type="application/json"):
    req = urllib.request.Request(server + path, data=json.dumps(body).encode(),
                                 method=method, headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, context=ctx) as r:
        return json.load(r)


def create(name, cls, mirror):
    os.makedirs(os.path.join(cgroot, "kubepods.slice", "kubepods-burstable.slice",
                             "kubepods-burstable-pod%s.slice" % mirror))
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default",
                        "annotations": {"kubernetes.io/config.mirror": mirror}},
           "spec": {"nodeName": "node-a", "priorityClassName": cls,
                    "containers": [{"name": "c", "image": "registry.invalid/a:1",
                                    "resources": {"requests": {"cpu": "100m"}}}]}}
    request("POST", "/api/v1/namespaces/default/pods", pod)


latencies = []
classes = ["temper-high", "temper-low", "temper-background", "temper-normal"]
for i in range(count):
    before = agent_generations()[-1]["generation"]
    t0 = time.time()
    create("lat-%d" % i, classes[i % len(classes)], "%032x" % (i + 1))
    deadline = time.time() + 10
    while time.time() < deadline:
        gens = agent_generations()
        if gens[-1]["generation"] > before:
            latencies.append(gens[-1]["created_ms"] - t0 * 1000)
            break
        time.sleep(0.002)
    time.sleep(0.2)
latencies.sort()
n = len(latencies)
print("pods=%d median_ms=%.1f p90_ms=%.1f max_ms=%.1f" % (
    n, latencies[n // 2], latencies[min(n - 1, int(n * 0.9))], latencies[-1]))
