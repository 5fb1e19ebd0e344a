#!/usr/bin/env python3
"""t/fault-churn.py ENV_FILE STOP_FILE INDEX_FILE [RATE] [PREFIX] [CGROUP_ROOT]

Pod churn for the fault tests: creates pods bound to node-a, cycling
through the temper-* PriorityClasses (and none), and deletes the oldest
with grace period 0, at RATE events per second (default 10), until
STOP_FILE exists.  Calls that fail (the API is down) are retried later:
a create that failed is not counted alive, a delete that failed is tried
again.  INDEX_FILE holds the number of events done so far.  Prints
"created=N deleted=N failed_calls=N" at the end.  With CGROUP_ROOT (a
plain directory standing in for /sys/fs/cgroup, as t/cluster/fake-kubelet
uses) each created pod gets its cgroup directory there, as a kubelet with
the systemd driver would make it.
"""
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

env = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
stop_file, index_file = sys.argv[2], sys.argv[3]
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
prefix = sys.argv[5] if len(sys.argv) > 5 else "churn"
cgroup_root = sys.argv[6] if len(sys.argv) > 6 else None
ctx = ssl.create_default_context(cafile=env["CA_CERT"])
ctx.load_cert_chain(env["ADMIN_CERT"], env["ADMIN_KEY"])
server = env["APISERVER_URL"]
classes = ["temper-high", "temper-normal", "temper-low", "temper-background", None]


def kubelet(pod):
    uid = pod["metadata"]["uid"].replace("-", "_")
    qos = pod.get("status", {}).get("qosClass", "BestEffort").lower()
    if qos == "guaranteed":
        d = "kubepods.slice/kubepods-pod%s.slice" % uid
    else:
        d = "kubepods.slice/kubepods-%s.slice/kubepods-%s-pod%s.slice" % (qos, qos, uid)
    os.makedirs(os.path.join(cgroup_root, d), exist_ok=True)


def call(method, path, body=None):
    req = urllib.request.Request(server + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    try:
        answer = urllib.request.urlopen(req, context=ctx, timeout=5).read()
        if method == "POST" and cgroup_root:
            kubelet(json.loads(answer))
        return True
    except urllib.error.HTTPError as e:
        # A delete of a pod that is already gone is done.
        return method == "DELETE" and e.code == 404
    except Exception:
        return False


alive, pending_deletes = [], []
n = created = deleted = failed = 0
start = time.time()
while not os.path.exists(stop_file):
    time.sleep(max(0, start + n / rate - time.time()))
    if pending_deletes:
        name = pending_deletes[0]
        if call("DELETE", "/api/v1/namespaces/default/pods/%s?gracePeriodSeconds=0" % name):
            pending_deletes.pop(0)
            deleted += 1
        else:
            failed += 1
    elif len(alive) < 40 or n % 2 == 0:
        name = "%s-%d" % (prefix, n)
        pc = classes[n % len(classes)]
        spec = {"nodeName": "node-a", "containers": [{"name": "c", "image": "registry.invalid/a:1",
                "resources": {"requests": {"cpu": "10m"}} if n % 3 else {}}]}
        if pc:
            spec["priorityClassName"] = pc
        if call("POST", "/api/v1/namespaces/default/pods",
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}):
            alive.append(name)
            created += 1
        else:
            failed += 1
    else:
        pending_deletes.append(alive.pop(0))
    n += 1
    with open(index_file, "w") as f:
        f.write("%d\n" % n)
print("created=%d deleted=%d failed_calls=%d" % (created, deleted, failed))
