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
	t/test-backoff t/test-bpf-pipeline
core_helper_scripts = t/rawhttp.py
core_scripts = t/10-daemon.sh t/11-http-limits.sh t/12-tls.sh \
	t/13-signals.sh t/14-toml-test.sh t/15-fuzz-smoke.sh
# Programs the scripts drive, built by make check.
core_helpers = t/toml-decoder
check_PROGRAMS += $(core_helpers)

# Control plane (Go-built, cached).
cluster_scripts = t/30-cluster.sh

# Kubernetes client.
kube_unit_tests =
kube_scripts =

# Node engine.
engine_unit_tests =
engine_scripts =

unit_tests = $(core_unit_tests) $(kube_unit_tests) $(engine_unit_tests)
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests) $(core_scripts) $(cluster_scripts) $(kube_scripts) \
	$(engine_scripts)
EXTRA_DIST += t/lib.sh t/tap.h $(core_helper_scripts) $(core_scripts) $(cluster_scripts) \
	$(kube_scripts) $(engine_scripts)

t_test_toml_SOURCES = t/test-toml.c t/tap.h
t_toml_decoder_SOURCES = t/toml-decoder.c
t_test_conf_SOURCES = t/test-conf.c t/tap.h
t_test_router_SOURCES = t/test-router.c t/tap.h
t_test_metrics_SOURCES = t/test-metrics.c t/tap.h
t_test_backoff_SOURCES = t/test-backoff.c t/tap.h
t_test_bpf_pipeline_SOURCES = t/test-bpf-pipeline.c t/tap.h

include t/fuzz/local.mk
