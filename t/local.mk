# t/local.mk - the test suite.
#
# Every test speaks TAP: C unit tests (t/test-*.c, using t/tap.h) and
# integration scripts (t/NN-name.sh, using t/lib.sh).  One list per area.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = bash
AM_TESTS_ENVIRONMENT = \
	TOP_SRCDIR='$(abs_top_srcdir)'; TOP_BUILDDIR='$(abs_top_builddir)'; \
	export TOP_SRCDIR TOP_BUILDDIR;

# Foundation.
core_unit_tests = t/test-toml t/test-conf t/test-router t/test-metrics \
	t/test-number-format t/test-backoff t/test-bpf-pipeline
core_helper_scripts = t/rawhttp.py
core_scripts = t/10-daemon.sh t/11-http-limits.sh t/12-tls.sh \
	t/13-signals.sh t/14-toml-test.sh t/15-fuzz-smoke.sh t/16-man.sh
# Programs the scripts drive, built by make check.
core_helpers = t/toml-decoder
check_PROGRAMS += $(core_helpers)

# Control plane (Go-built, cached).
cluster_scripts = t/30-cluster.sh
EXTRA_DIST += t/cluster

# The agent role against the real control plane.
agent_scripts = t/35-agent.sh t/36-agent-cgroup.sh

# Kubernetes client.
kube_unit_tests = t/test-kube-quantity t/test-kube-pod t/test-kube-config \
	t/test-kube-stream t/test-kube-list t/test-kube-store \
	t/test-kube-reflector
kube_scripts = t/40-kube-list-watch.sh t/41-kube-apiserver-restart.sh \
	t/42-kube-expired.sh t/43-kube-token.sh t/44-kube-patch.sh
check_PROGRAMS += t/kube-probe
t_kube_probe_SOURCES = t/kube-probe.c
# Decoding benchmark, built and run standalone (-O2, no sanitizers).
EXTRA_DIST += t/kube-lib.sh t/perf/kube.sh t/perf/kube.c
t_test_kube_quantity_SOURCES = t/test-kube-quantity.c t/tap.h
t_test_kube_pod_SOURCES = t/test-kube-pod.c t/tap.h
t_test_kube_config_SOURCES = t/test-kube-config.c t/tap.h
t_test_kube_stream_SOURCES = t/test-kube-stream.c t/tap.h
t_test_kube_list_SOURCES = t/test-kube-list.c t/tap.h
t_test_kube_store_SOURCES = t/test-kube-store.c t/tap.h
t_test_kube_reflector_SOURCES = t/test-kube-reflector.c t/tap.h

# Node engine.
engine_unit_tests = t/test-tier t/test-topology t/test-engine-config \
	t/test-planner t/test-planner-property
engine_scripts =

# cgroups: discovery and enforcement on real cgroups (t/5N), the probe
# the scripts and t/perf/colocation.sh drive.
cgroup_unit_tests = t/test-cgroup-discovery t/test-cgroup-enforce
cgroup_scripts = t/50-cgroup-discovery.sh t/51-cgroup-enforce.sh
check_PROGRAMS += t/cgroup-enforce-probe t/perf/loadgen
t_cgroup_enforce_probe_SOURCES = t/cgroup-enforce-probe.c
t_perf_loadgen_SOURCES = t/perf/loadgen.c
EXTRA_DIST += t/perf/colocation.sh
t_test_cgroup_discovery_SOURCES = t/test-cgroup-discovery.c t/tap.h
t_test_cgroup_enforce_SOURCES = t/test-cgroup-enforce.c t/tap.h

# Observation: BPF placement figures, PSI, the linter, traces (t/6N); the
# probe the scripts drive; t/perf/observe.sh measures the overhead.
observe_unit_tests = t/test-observe-hist t/test-observe-record \
	t/test-observe-linter t/test-observe
observe_scripts = t/60-observe.sh t/61-observe-psi.sh t/62-observe-trace.sh
check_PROGRAMS += t/observe-probe t/perf/observe-pingpong
t_observe_probe_SOURCES = t/observe-probe.c
t_perf_observe_pingpong_SOURCES = t/perf/observe-pingpong.c
t_test_observe_hist_SOURCES = t/test-observe-hist.c t/tap.h
t_test_observe_record_SOURCES = t/test-observe-record.c t/tap.h
t_test_observe_linter_SOURCES = t/test-observe-linter.c \
	t/planner-scenario.h t/tap.h
t_test_observe_SOURCES = t/test-observe.c t/planner-scenario.h t/tap.h
EXTRA_DIST += t/perf/observe.sh t/observe-lib.sh

# Scheduler supervisor: the kernel gate, scx_layered supervision, the hint
# writer (t/7N), the real scx_layered from t/scx/build.
supervisor_unit_tests = t/test-scx-gate t/test-hint-map t/test-supervisor \
	t/test-supervisor-real
supervisor_scripts = t/70-scx-validate.sh
t_test_scx_gate_SOURCES = t/test-scx-gate.c t/tap.h
t_test_hint_map_SOURCES = t/test-hint-map.c t/tap.h
t_test_supervisor_SOURCES = t/test-supervisor.c t/supervisor-lib.h t/tap.h
t_test_supervisor_real_SOURCES = t/test-supervisor-real.c t/supervisor-lib.h t/tap.h
# A stand-in for scx_layered (not a scheduler) the supervisor tests drive.
check_PROGRAMS += t/scx-standin t/scx-schema-check
t_scx_standin_SOURCES = t/scx-standin.c
t_scx_schema_check_SOURCES = t/scx-schema-check.c
EXTRA_DIST += t/scx/README.md t/scx/versions.sh t/scx/build t/scx/available

# Workload profiles (t/85-89): parser, directory reload, planner, training.
profile_unit_tests = t/test-profile t/test-profile-planner \
	t/test-profile-train t/test-profiles
t_test_profiles_SOURCES = t/test-profiles.c t/tap.h
profile_scripts = t/85-profile-train.sh t/86-profile-scx.sh
check_PROGRAMS += t/profile-workload t/profile-probe
t_profile_workload_SOURCES = t/profile-workload.c
t_profile_probe_SOURCES = t/profile-probe.c
t_profile_workload_LDADD = -lpthread
t_test_profile_train_SOURCES = t/test-profile-train.c t/tap.h
t_test_profile_SOURCES = t/test-profile.c t/tap.h
t_test_profile_planner_SOURCES = t/test-profile-planner.c \
	t/planner-scenario.h t/tap.h

unit_tests = $(core_unit_tests) $(kube_unit_tests) $(engine_unit_tests) \
	$(cgroup_unit_tests) $(observe_unit_tests) $(supervisor_unit_tests) \
	$(profile_unit_tests)
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests) $(core_scripts) $(cluster_scripts) $(agent_scripts) $(kube_scripts) \
	$(engine_scripts) $(cgroup_scripts) $(observe_scripts) $(supervisor_scripts) \
	$(profile_scripts)
EXTRA_DIST += t/lib.sh t/tap.h $(core_helper_scripts) $(core_scripts) $(cluster_scripts) $(agent_scripts) \
	$(kube_scripts) $(engine_scripts) $(cgroup_scripts) $(observe_scripts) $(supervisor_scripts)

t_test_toml_SOURCES = t/test-toml.c t/tap.h
t_toml_decoder_SOURCES = t/toml-decoder.c
t_test_conf_SOURCES = t/test-conf.c t/tap.h
t_test_router_SOURCES = t/test-router.c t/tap.h
t_test_metrics_SOURCES = t/test-metrics.c t/tap.h
t_test_number_format_SOURCES = t/test-number-format.c t/tap.h
t_test_number_format_LDADD = $(LDADD) -lm
t_test_backoff_SOURCES = t/test-backoff.c t/tap.h
t_test_bpf_pipeline_SOURCES = t/test-bpf-pipeline.c t/tap.h

# Node engine: tiers, topology, planner (goldens in t/golden, sysfs trees
# written by t/fixtures/mksysfs.sh at test time).
t_test_tier_SOURCES = t/test-tier.c t/tap.h
t_test_topology_SOURCES = t/test-topology.c t/tap.h
t_test_engine_config_SOURCES = t/test-engine-config.c t/tap.h
t_test_planner_SOURCES = t/test-planner.c t/planner-scenario.h t/tap.h
t_test_planner_property_SOURCES = t/test-planner-property.c \
	t/planner-scenario.h t/tap.h
EXTRA_DIST += t/golden t/fixtures

# Node engine benchmarks, built and run by `make perf-plan` only (or
# standalone, -O2 without sanitizers: t/perf/plan.sh).  Other areas'
# benchmarks can join EXTRA_PROGRAMS with +=.
engine_perf_programs = t/perf/plan
EXTRA_PROGRAMS = $(engine_perf_programs)
t_perf_plan_SOURCES = t/perf/plan.c t/planner-scenario.h
CLEANFILES += $(engine_perf_programs)
EXTRA_DIST += t/perf/plan.sh
perf-plan: t/perf/plan$(EXEEXT)
	$(SHELL) $(srcdir)/t/perf/plan.sh ./t/perf/plan$(EXEEXT)
.PHONY: perf-plan

# Scheduler supervisor benchmark: pod event to hint beside the restart it
# replaces (make perf-hint, as root).
EXTRA_PROGRAMS += t/perf/hint
t_perf_hint_SOURCES = t/perf/hint.c t/supervisor-lib.h
CLEANFILES += t/perf/hint
perf-hint: t/perf/hint$(EXEEXT) t/scx-standin$(EXEEXT) src/temper-scx-exec$(EXEEXT)
	TOP_SRCDIR='$(abs_top_srcdir)' TOP_BUILDDIR='$(abs_top_builddir)' ./t/perf/hint$(EXEEXT)
.PHONY: perf-hint

include t/fuzz/local.mk

# Reliability: faults against the real control plane and real cgroups
# (t/45-49, t/55-59), their helpers; every unit test under valgrind
# (make check-valgrind, in a build without sanitizers).
fault_scripts = t/45-fault-apiserver.sh t/46-fault-api-outage.sh \
	t/47-fault-agent-kill.sh t/48-fault-state-full.sh t/49-fault-tls-garbage.sh
fault_helper_scripts = t/fault-lib.sh t/fault-churn.py
TESTS += $(fault_scripts)
EXTRA_DIST += $(fault_scripts) $(fault_helper_scripts) t/valgrind.mk \
	t/valgrind.supp
include t/valgrind.mk

# temperctl: the CLI against a running agent and offline (t/8N); the
# OpenAPI checker t/80 runs against the agent; the scripted agent of t/82.
ctl_scripts = t/80-temperctl.sh t/81-temperctl-simulate.sh t/82-temperctl-client.sh \
	t/83-temperctl-observe.sh
ctl_helper_scripts = t/openapi-check.py t/fake-agent.py
TESTS += $(ctl_scripts)
EXTRA_DIST += $(ctl_scripts) $(ctl_helper_scripts)

# Cluster roles: scheduler extender, overcommit webhook, safe-mode controller
# (unit tests of the pure deciders; t/9N scripts against the real control plane).
cluster_unit_tests = t/test-extender t/test-webhook t/test-controller
cluster_role_scripts = t/90-webhook.sh t/91-extender.sh t/92-controller.sh
t_test_extender_SOURCES = t/test-extender.c t/tap.h
t_test_webhook_SOURCES = t/test-webhook.c t/tap.h
t_test_controller_SOURCES = t/test-controller.c t/tap.h
check_PROGRAMS += $(cluster_unit_tests)
TESTS += $(cluster_unit_tests) $(cluster_role_scripts)
EXTRA_DIST += $(cluster_role_scripts)

# Deployment: the helm chart, dashboards, image and unit (t/2N); helm, the
# control plane and promtool come from t/cluster.  The deploy tree ships whole.
deploy_scripts = t/20-deploy-helm.sh t/21-deploy-apiserver.sh t/22-deploy-rbac.sh \
	t/23-deploy-dashboards.sh t/24-deploy-container.sh t/25-deploy-systemd.sh \
	t/26-deploy-tls-rotation.sh
deploy_helper_scripts = t/deploy/objects.py t/deploy/dashboard-metrics.py \
	t/deploy/containerfile.py
TESTS += $(deploy_scripts)
EXTRA_DIST += $(deploy_scripts) $(deploy_helper_scripts) deploy
include t/vm/local.mk
