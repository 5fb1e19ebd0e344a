#!/bin/bash
# t/81-temperctl-simulate.sh - `temperctl simulate` on the planner's golden
# scenarios: each scenario of t/test-planner.c written as the pod list
# `kubectl get pods -o json` would give (same UIDs, names, namespaces,
# classes, priorities, QoS classes and requests), planned offline on the
# same machine shape and config, must give t/golden/NAME.json and
# t/golden/NAME.notes byte for byte.  Then the input forms and the errors.
#
# pod-without-cgroup is left out: it hands the planner "/" as a pod's
# cgroup and a pod listed twice, which no pod list or cgroup tree expresses.
. "$(dirname "$0")/lib.sh"

[ -x "$TEMPERCTL" ] || skip_all "src/temperctl is not built"
command -v python3 >/dev/null || skip_all "python3 is missing"
command -v jq >/dev/null || skip_all "jq is missing"
GOLDEN=$TOP_SRCDIR/t/golden

# scenarios.py DIR: DIR/NAME.pods.json and DIR/NAME.args per scenario,
# mirroring t/planner-scenario.h's scenario_add() and t/test-planner.c.
python3 - "$TMP" <<'PY'
import json, os, sys
out = sys.argv[1]

class Scenario:
    def __init__(self, name, seed, args):
        self.name, self.seed, self.args, self.pods, self.config = name, seed, args, [], ""
        self.profiles = {}

    def add(self, namespace, cls, priority, qos, request, limit):
        i = len(self.pods)
        uid = "%08x-0000-4000-8000-%012x" % (self.seed, i + 1)
        resources = {}
        if request >= 0:
            resources["requests"] = {"cpu": "%dm" % request}
        if limit >= 0:
            resources["limits"] = {"cpu": "%dm" % limit}
        spec = {"nodeName": "node-a", "priority": priority,
                "containers": [{"name": "main", "image": "registry.invalid/app:1",
                                "resources": resources}]}
        if cls is not None:
            spec["priorityClassName"] = cls
        self.pods.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": "pod-%d" % (i + 1), "namespace": namespace,
                                       "uid": uid},
                          "spec": spec,
                          "status": {"phase": "Running", "qosClass": qos}})
        return uid

    def guaranteed(self, cls, priority, millis):
        return self.add("prod", cls, priority, "Guaranteed", millis, millis)

    def burstable(self, cls, priority, request):
        return self.add("apps", cls, priority, "Burstable", request, -1)

    def besteffort(self, cls, priority):
        return self.add("batch", cls, priority, "BestEffort", -1, -1)

    # The last pod added: its profile by annotation, or its image for detection.
    def annotate(self, key, value):
        self.pods[-1]["metadata"]["annotations"] = {key: value}

    def image(self, image):
        self.pods[-1]["spec"]["containers"][0]["image"] = image

    def write(self):
        json.dump({"apiVersion": "v1", "kind": "List", "items": self.pods},
                  open("%s/%s.pods.json" % (out, self.name), "w"), indent=1)
        args = list(self.args)
        if self.profiles:
            directory = "%s/%s.profiles" % (out, self.name)
            os.mkdir(directory)
            for name, text in self.profiles.items():
                open("%s/%s.toml" % (directory, name), "w").write(text)
            self.config += '[profiles]\ndir = "%s"\n' % directory
        if self.config:
            open("%s/%s.conf" % (out, self.name), "w").write(self.config)
            args += ["--config", "%s/%s.conf" % (out, self.name)]
        open("%s/%s.args" % (out, self.name), "w").write("\n".join(args) + "\n")

EIGHT = ["--cpus", "8"]
names = []
def done(s):
    s.write()
    names.append(s.name)

done(Scenario("empty-node", 1, EIGHT))
s = Scenario("only-besteffort", 2, EIGHT)
for _ in range(5):
    s.besteffort(None, 0)
done(s)
s = Scenario("critical-2cpu-on-8", 3, EIGHT)
s.guaranteed("temper-critical", 1000000, 2000)
s.burstable(None, 0, 500)
done(s)
s = Scenario("critical-demoted", 4, EIGHT)
s.guaranteed("temper-critical", 1000000, 3000)
s.guaranteed("temper-critical", 1000000, 3000)
s.burstable("temper-normal", 0, 1000)
done(s)
s = Scenario("dense-200-pods-64cpu", 5, ["--cpus", "64", "--llcs", "4"])
for _ in range(10): s.guaranteed("temper-critical", 1000000, 500)
for _ in range(40): s.burstable("temper-high", 100000, 200)
for _ in range(80): s.burstable("temper-normal", 0, 100)
for _ in range(30): s.besteffort("temper-low", -100)
for _ in range(40): s.besteffort("temper-background", -1000)
done(s)
s = Scenario("legacy-infera", 6, ["--cpus", "16"])
s.guaranteed("infera-critical", 1000000, 1000)
s.burstable("infera-high", 100000, 1000)
s.burstable("infera-normal", 0, 1000)
s.besteffort("infera-low", -100)
s.besteffort("infera-background", -1000)
done(s)
for name, seed, args in (("smt-on", 7, EIGHT),
                         ("smt-off", 8, ["--cpus", "8", "--threads-per-core", "1"])):
    s = Scenario(name, seed, args)
    s.guaranteed("temper-critical", 1000000, 500)
    s.burstable("temper-high", 100000, 1500)
    done(s)
for name, hint in (("mixed-five-tiers", False), ("hint-membership", True)):
    s = Scenario(name, 9, ["--cpus", "16", "--llcs", "2", "--agent-cgroup",
                           "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podagent.slice"])
    if hint:
        s.config = '[planner]\nmembership = "hint"\n'
    s.guaranteed("temper-critical", 1000000, 2000)
    s.add("prod", "temper-critical", 1000000, "Burstable", 1000, 3000)
    s.burstable("temper-high", 100000, 2000)
    s.burstable("temper-high", 150000, 1000)
    s.burstable(None, 0, 1500)
    s.guaranteed(None, 0, 500)
    s.burstable("temper-low", -100, 250)
    s.besteffort("temper-low", -50)
    s.besteffort(None, 0)
    s.besteffort("temper-background", -1000)
    done(s)
s = Scenario("numa-192cpu", 11, ["--cpus", "192", "--numa-nodes", "2", "--llcs", "4"])
for _ in range(12): s.guaranteed("temper-critical", 1000000, 4000)
for _ in range(30): s.burstable("temper-high", 100000, 2000)
for _ in range(20): s.burstable(None, 0, 1000)
for _ in range(20): s.besteffort(None, 0)
done(s)
s = Scenario("custom-thresholds", 12, EIGHT)
s.config = ("[priority_mapping]\ncritical = 5000\nhigh = 1000\nnormal = 10\nlow = -10\n"
            "[planner.slice_us]\nhigh = 8000\n")
s.guaranteed("team-gold", 5000, 1000)
s.burstable("team-silver", 1000, 500)
s.burstable("temper-normal", 0, 500)
s.burstable("team-bronze", 10, 500)
s.besteffort("team-scavenger", -11)
done(s)
s = Scenario("tiny-2cpu", 13, ["--cpus", "2"])
s.guaranteed("temper-critical", 1000000, 500)
s.burstable(None, 0, 500)
done(s)
s = Scenario("layer-budget-overflow", 14, ["--cpus", "128", "--llcs", "4"])
for _ in range(250): s.burstable("temper-high", 100000, 50)
for _ in range(250): s.burstable("temper-normal", 0, 50)
for _ in range(250): s.burstable("temper-low", -100, 50)
done(s)
s = Scenario("agent-pod", 16, EIGHT)
agent = s.add("temper-system", "system-node-critical", 2000001000, "Burstable", 100, -1)
s.args = EIGHT + ["--agent-cgroup", "/kubepods.slice/kubepods-burstable.slice/"
                  "kubepods-burstable-pod%s.slice/cri-containerd-0123abcd.scope" %
                  agent.replace("-", "_")]
s.guaranteed("temper-critical", 1000000, 2000)
s.burstable(None, 0, 500)
done(s)
# Profiled pods: t/test-profile-planner.c's scenarios, each pod's profile
# chosen the ways the agent chooses one (an image the profile detects, the
# temper.io/profile annotation or its legacy infera.io/ twin, a profile file
# of the [profiles] directory).
s = Scenario("profile-builtins", 801, ["--cpus", "32", "--llcs", "2"])
s.guaranteed("temper-critical", 1000000, 4000)
s.image("docker.io/pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime")
s.burstable("temper-high", 100000, 2000)
s.annotate("temper.io/profile", "mysql")
s.burstable(None, 0, 1000)
s.annotate("infera.io/profile", "jvm")
s.burstable(None, 0, 500)
done(s)
s = Scenario("profile-merged", 802, ["--cpus", "16"])
s.burstable("temper-high", 100000, 1000)
s.image("mysql:8.0")
s.burstable("temper-high", 100000, 1000)
s.annotate("temper.io/profile", "mysql")
done(s)
s = Scenario("profile-tier-bounds", 803, EIGHT)
s.burstable(None, 0, 1000)
s.image("nvcr.io/nvidia/pytorch:24.05-py3")
done(s)
s = Scenario("profile-over-budget", 804, ["--cpus", "32", "--llcs", "2"])
s.profiles["all-three"] = (
    'name = "all-three"\n'
    '[[group]]\nname = "hot"\ncomm_prefix = "hot"\ntreatment = "exclusive"\n'
    '[[group]]\nname = "chain"\ncomm_prefix = "chain"\ntreatment = "latency"\n'
    '[[group]]\nname = "idle"\ncomm_prefix = "idle"\ntreatment = "yield"\n'
    '[[group]]\nname = "joined"\ncmd_join = "bg"\ngroup_leader = false\n'
    'treatment = "yield"\n')
for add in (lambda: s.guaranteed("temper-critical", 1000000, 2000),
            lambda: s.burstable("temper-high", 100000, 1000),
            lambda: s.burstable(None, 0, 1000),
            lambda: s.besteffort("temper-low", -100),
            lambda: s.besteffort("temper-background", -1000)):
    add()
    s.annotate("temper.io/profile", "all-three")
done(s)
s = Scenario("profile-hint-membership", 805, ["--cpus", "16"])
s.config = '[planner]\nmembership = "hint"\n'
s.guaranteed("temper-critical", 1000000, 2000)
s.image("eclipse-temurin:21-jre")
done(s)
open(out + "/scenarios", "w").write("\n".join(names) + "\n")
PY

while read -r name; do
	mapfile -t args <"$TMP/$name.args"
	"$TEMPERCTL" simulate --pods "$TMP/$name.pods.json" "${args[@]}" \
		-o "$TMP/$name.out.json" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	if ! is "$rc" 0 "$name: simulate succeeds"; then
		diag "$(cat "$TMP/$name.err")"
		continue
	fi
	ok "$name: the configuration is t/golden/$name.json byte for byte" \
		cmp -s "$TMP/$name.out.json" "$GOLDEN/$name.json" ||
		diag "$(diff "$GOLDEN/$name.json" "$TMP/$name.out.json" | head -n 20)"
	# The human output: notes, then the configuration as generated.
	sed -n '/^notes:$/,/^scx_layered configuration:$/p' "$TMP/$name.out" |
		sed '1d;$d' | sed '$d' >"$TMP/$name.notes"
	ok "$name: the notes are t/golden/$name.notes byte for byte" \
		cmp -s "$TMP/$name.notes" "$GOLDEN/$name.notes" ||
		diag "$(diff "$GOLDEN/$name.notes" "$TMP/$name.notes" | head -n 10)"
	sed -n '/^scx_layered configuration:$/,$p' "$TMP/$name.out" | sed 1d >"$TMP/$name.tail"
	ok "$name: the printed configuration is the same bytes" \
		cmp -s "$TMP/$name.tail" "$GOLDEN/$name.json"
done <"$TMP/scenarios"

# The plan table names every layer of the golden configuration.
out=$(cat "$TMP/critical-2cpu-on-8.out")
like "$out" $'machine: 8 CPUs \\(4 cores x 2 threads\\), 1 LLC, 1 NUMA node; 8000 m allocatable' \
	"the plan says what machine it planned"
like "$out" $'\ncritical +Confined +2-2 ' "... the critical layer confined to one core"
like "$out" 'prod/pod-1 +critical +critical +priority 1000000 \(class temper-critical\)' \
	"... and each pod's tier, layer and why"

# Profile layers in the table: each match block with every condition ANDed
# with it, whatever its kind.
cg1="CgroupPrefix kubepods.slice/kubepods-pod00000324_0000_4000_8000_000000000001.slice/"
like "$(cat "$TMP/profile-over-budget.out")" \
	$'\ncritical-yield +Open .*\n +'"$cg1"$' AND CommPrefix idle\n +'"$cg1"$' AND CmdJoin bg AND IsGroupLeader false\n' \
	"the plan table shows a profile block's CmdJoin and IsGroupLeader conditions"
like "$(cat "$TMP/profile-builtins.out")" \
	$'\ncritical-exclusive +Grouped +2-4 .*\n +CgroupPrefix kubepods.slice/kubepods-pod00000321_0000_4000_8000_000000000001.slice/ AND CommPrefix python AND IsGroupLeader true\n' \
	"... IsGroupLeader true beside a CommPrefix (pytorch's training loop)"
like "$(cat "$TMP/profile-hint-membership.out")" $'\ncritical +Confined +2-2 .*\n +HintEquals 1\n' \
	"... and a tier layer's HintEquals"

# A profile file the agent would refuse: planned without it, with a warning.
mkdir "$TMP/broken.profiles"
printf 'name = "broken"\n' >"$TMP/broken.profiles/broken.toml"
printf '[profiles]\ndir = "%s"\n' "$TMP/broken.profiles" >"$TMP/broken.conf"
"$TEMPERCTL" simulate --pods "$TMP/profile-builtins.pods.json" --cpus 32 --llcs 2 \
	--config "$TMP/broken.conf" -o "$TMP/broken.json" >/dev/null 2>"$TMP/err"
is "$?" 0 "a broken profile file: simulate still plans"
like "$(cat "$TMP/err")" '^temperctl: simulate: warning: profile file broken.toml is not planned: .*/broken.toml: .*no \[\[group\]\]' \
	"... warning, with the file and the reason"
ok "... and plans what the agent plans without it" cmp -s "$TMP/broken.json" "$GOLDEN/profile-builtins.json"

# --json: the agent's /api/v1/pods fields for each pod, and the configuration.
json=$("$TEMPERCTL" simulate --json --pods "$TMP/critical-2cpu-on-8.pods.json" --cpus 8)
is "$(jq -r '.pods[0] | [.namespace, .name, .tier, .layer, .cpu_request_millis] | join(" ")' <<<"$json")" \
	"prod pod-1 critical critical 2000" "--json lists each pod like GET /api/v1/pods"
is "$(jq -c '[.config[].name]' <<<"$json")" '["critical","normal","system","open"]' \
	"... and holds the configuration"

# A JSON array of pods, on stdin, works as well as a List.
jq '.items' "$TMP/critical-2cpu-on-8.pods.json" |
	"$TEMPERCTL" simulate --pods - --cpus 8 -o "$TMP/array.json" >/dev/null
ok "a JSON array of pods on stdin plans the same" cmp -s "$TMP/array.json" "$GOLDEN/critical-2cpu-on-8.json"

# The same scenario on a sysfs tree of the same shape.
sh "$TOP_SRCDIR/t/fixtures/mksysfs.sh" "$TMP/sysfs" >/dev/null
"$TEMPERCTL" simulate --pods "$TMP/critical-2cpu-on-8.pods.json" --topology "$TMP/sysfs/8cpu-smt" \
	-o "$TMP/sysfs.json" >/dev/null
ok "--topology reads a sysfs tree: the 8-CPU SMT fixture plans like --cpus 8" \
	cmp -s "$TMP/sysfs.json" "$GOLDEN/critical-2cpu-on-8.json"

# --node keeps one node's pods; finished pods are left out like the agent does.
jq '.items[1].spec.nodeName = "node-b" | .items[0].status.phase = "Succeeded"' \
	"$TMP/critical-2cpu-on-8.pods.json" >"$TMP/other.json"
out=$("$TEMPERCTL" simulate --pods "$TMP/other.json" --cpus 8 --node node-a)
like "$out" 'pods: +0 planned, 1 on other nodes skipped, 1 finished skipped' \
	"--node skips other nodes' pods and finished pods are not planned"

# A hand-written pod without uid, namespace or status: QoS from the spec.
cat >"$TMP/hand.json" <<'JSON'
[{"kind": "Pod", "metadata": {"name": "db"}, "spec": {"priority": 1000000,
  "priorityClassName": "temper-critical", "containers": [{"name": "c",
  "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}]}}]
JSON
out=$("$TEMPERCTL" simulate --pods "$TMP/hand.json" --cpus 8 --cgroup-driver cgroupfs)
like "$out" '1 with the QoS class derived from the spec' "a pod without status gets its QoS class from the spec"
like "$out" 'CgroupPrefix kubepods/pod00000000-0000-4000-8000-000000000001/' \
	"... Guaranteed, so its cgroupfs path is right under kubepods"

# Errors: usage 2, unusable input 5, each saying what is wrong.
"$TEMPERCTL" simulate --pods "$TMP/hand.json" >/dev/null 2>"$TMP/err"
is "$?" 2 "no machine shape: usage error (exit 2)"
like "$(cat "$TMP/err")" 'give the machine as --cpus N or --topology DIR' "... saying what is missing"
"$TEMPERCTL" simulate --pods "$TMP/hand.json" --cpus 6 --llcs 4 >/dev/null 2>"$TMP/err"
is "$?" 2 "a shape that does not divide: exit 2"
echo '{"items": [{"metadata": {"name": "x"}, "spec": {"priority": "high"}}]}' >"$TMP/bad.json"
"$TEMPERCTL" simulate --pods "$TMP/bad.json" --cpus 8 >/dev/null 2>"$TMP/err"
is "$?" 5 "a pod the decoder refuses: exit 5"
like "$(cat "$TMP/err")" 'bad.json: pod 1: .*spec.priority' "... naming the file, the pod and the field"
"$TEMPERCTL" simulate --pods "$TMP/missing.json" --cpus 8 >/dev/null 2>"$TMP/err"
is "$?" 5 "a missing file: exit 5"
"$TEMPERCTL" simulate --agent /nowhere --pods "$TMP/hand.json" --cpus 8 >/dev/null 2>&1
is "$?" 2 "simulate talks to no agent: --agent is a usage error"
done_testing
