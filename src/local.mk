# src/local.mk - the daemon, the CLI and the library both link.
#
# libtemper.a holds every module but the two mains, so unit tests and fuzz
# targets link exactly the code the daemon runs.  One list per area.

noinst_LIBRARIES += libtemper.a libllhttp.a

# Foundation: logging, buffers, TOML, config, HTTP(S) server, metrics.
core_sources = \
	src/log.c src/log.h \
	src/buf.c src/buf.h \
	src/cause.c src/cause.h \
	src/backoff.c src/backoff.h \
	src/toml.c src/toml.h \
	src/conf.c src/conf.h \
	src/tls.c src/tls.h \
	src/http-parser.c src/http-parser.h \
	src/http-server.c src/http-server.h \
	src/http-router.c src/http-router.h \
	src/metrics.c src/metrics.h \
	src/number-format.c src/number-format.h \
	src/readiness.c src/readiness.h \
	src/common-routes.c src/common-routes.h \
	src/daemon.c src/daemon.h

# The agent role: the engine on the loop, generations, node annotations, API.
agent_sources = \
	src/qos-distribution.c src/qos-distribution.h \
	src/generations.c src/generations.h \
	src/engine.c src/engine.h \
	src/agent.c src/agent.h \
	src/agent-api.c

# Kubernetes client: configuration, HTTP client, reflector, pods.
kube_sources = \
	src/pod.c src/pod.h \
	src/kube-quantity.c src/kube-quantity.h \
	src/kube-object.c src/kube-object.h \
	src/kube-pod.c src/kube-pod.h \
	src/kube-node.c src/kube-node.h \
	src/kube-yaml.c src/kube-yaml.h \
	src/kube-config.c src/kube-config.h \
	src/kube-stream.c src/kube-stream.h \
	src/kube-list.c src/kube-list.h \
	src/kube-store.c src/kube-store.h \
	src/kube-http.c src/kube-http.h \
	src/kube-client.c src/kube-client.h \
	src/kube-reflector.c src/kube-reflector.h \
	src/kube-patch.c src/kube-patch.h

# Node engine: tiers, topology, cgroups, planner, generations.
engine_sources = \
	src/tier.c src/tier.h \
	src/topology.c src/topology.h \
	src/engine-config.c src/engine-config.h \
	src/planner.c src/planner.h \
	src/layered-gen.c src/layered-gen.h \
	src/layered-schema.c src/layered-schema.h

# cgroups: pod cgroup discovery and the cgroup enforcement backend.
cgroup_sources = \
	src/cgroup-discovery.c src/cgroup-discovery.h \
	src/cgroup-enforce.c src/cgroup-enforce.h

# Observation: BPF placement figures, PSI, the placement linter, traces.
observe_sources = \
	src/observe.c src/observe.h \
	src/observe-hist.c src/observe-hist.h \
	src/observe-record.c src/observe-record.h \
	src/observe-psi.c src/observe-psi.h \
	src/observe-linter.c src/observe-linter.h \
	src/observe-trace.c src/observe-trace.h
src/observe.$(OBJEXT): bpf/placement.skel.h

# Scheduler supervisor: the kernel gate, scx_layered on the loop, the hint writer.
supervisor_sources = \
	src/scx-gate.c src/scx-gate.h \
	src/hint-map.c src/hint-map.h \
	src/supervisor.c src/supervisor.h
src/hint-map.$(OBJEXT): bpf/hint.skel.h
# Runs scx_layered with PR_SET_PDEATHSIG (src/scx-exec.c); the supervisor
# looks for it beside temperd.
sbin_PROGRAMS += src/temper-scx-exec
src_temper_scx_exec_SOURCES = src/scx-exec.c
src_temper_scx_exec_LDADD =

# Cluster roles: scheduler extender, overcommit webhook, safe-mode controller.
cluster_sources = \
	src/cluster-config.c src/cluster-config.h \
	src/extender-args.c src/extender-args.h \
	src/extender-index.c src/extender-index.h \
	src/extender-policy.c src/extender-policy.h \
	src/extender.c src/extender.h \
	src/admission.c src/admission.h \
	src/webhook.c src/webhook.h \
	src/controller-policy.c src/controller-policy.h \
	src/controller.c src/controller.h

# Workload profiles: the parser, the builtins, the directory (inotify),
# selection and training.
profile_sources = \
	src/profile.c src/profile.h \
	src/profile-builtin.c \
	src/profile-train.c src/profile-train.h \
	src/profile-config.c src/profile-config.h \
	src/profiles.c src/profiles.h

libtemper_a_SOURCES = $(core_sources) $(agent_sources) $(kube_sources) $(engine_sources) $(cgroup_sources) $(observe_sources) $(ctl_sources) $(supervisor_sources) $(cluster_sources) $(profile_sources)

# llhttp is compiled from the sources Debian's node-llhttp installs; they are
# copied into the build tree at build time, never into the repository.
nodist_libllhttp_a_SOURCES = llhttp/llhttp.c llhttp/api.c llhttp/http.c
libllhttp_a_CFLAGS = -w $(SANITIZER_CFLAGS)
llhttp/%.c: $(LLHTTP_SRCDIR)/%.c
	$(AM_V_GEN)$(MKDIR_P) llhttp && cp $< $@
CLEANFILES += $(nodist_libllhttp_a_SOURCES)

sbin_PROGRAMS += src/temperd
src_temperd_SOURCES = src/temperd.c

# temperctl: the operator CLI, its blocking API client, and the agent API's
# OpenAPI document (src/openapi.json, embedded as a C string at build time
# and served by openapi.c).
ctl_sources = \
	src/api-client.c src/api-client.h \
	src/openapi.c src/openapi.h
nodist_libtemper_a_SOURCES = src/openapi-document.c
BUILT_SOURCES += src/openapi-document.c
CLEANFILES += src/openapi-document.c
EXTRA_DIST += src/openapi.json
src/openapi-document.c: $(top_srcdir)/src/openapi.json
	$(AM_V_GEN)$(MKDIR_P) src && { \
	  echo '/* Generated from src/openapi.json by src/local.mk: do not edit. */'; \
	  echo '#include "config.h"'; echo '#include "openapi.h"'; \
	  echo 'const char openapi_document[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $(top_srcdir)/src/openapi.json; \
	  echo ';'; \
	  echo 'const size_t openapi_document_len = sizeof openapi_document - 1;'; \
	} >$@.tmp && mv $@.tmp $@
bin_PROGRAMS += src/temperctl
src_temperctl_SOURCES = src/temperctl.c src/temperctl.h \
	src/temperctl-simulate.c src/temperctl-top.c
