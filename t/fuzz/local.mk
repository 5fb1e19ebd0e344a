# t/fuzz/local.mk - libFuzzer targets, one per parser of untrusted input.
#
# Each target t/fuzz/fuzz-NAME.c is compiled by $(FUZZ_CC) together with the
# src/*.c files it exercises, so that the code under test carries libFuzzer's
# coverage instrumentation (libtemper.a is built by $(CC) without it).
# Adding a target is a two-line edit here, plus its seed corpus (sources are
# relative to the top of the tree, or absolute):
#
#	fuzz_targets += fuzz-NAME
#	fuzz_NAME_sources = src/name.c src/log.c src/buf.c
#
#	t/fuzz/corpus/NAME/	small real inputs, kept in git
#
# make fuzz-build	builds every target
# make fuzz		runs each for FUZZ_SECONDS over its corpus, new findings
#			going to t/fuzz/findings/NAME/ and crashes to
#			t/fuzz/artifacts/NAME/ in the build tree
# t/15-fuzz-smoke.sh	a short run of each during make check

fuzz_targets = fuzz-toml
fuzz_toml_sources = src/toml.c src/log.c src/buf.c
fuzz_targets += fuzz-watch-stream fuzz-kubeconfig
fuzz_watch_stream_sources = src/kube-stream.c src/kube-list.c src/kube-object.c \
	src/kube-pod.c src/kube-node.c src/kube-quantity.c src/pod.c \
	src/log.c src/buf.c
fuzz_kubeconfig_sources = src/kube-yaml.c src/kube-config.c src/cause.c src/log.c \
	src/buf.c
t/fuzz/fuzz-watch-stream: FUZZ_LIBS += $(LIBCJSON_LIBS)
fuzz_targets += fuzz-http
fuzz_http_sources = src/http-parser.c src/buf.c $(LLHTTP_SRCDIR)/llhttp.c \
	$(LLHTTP_SRCDIR)/api.c $(LLHTTP_SRCDIR)/http.c
fuzz_targets += fuzz-placement-record
fuzz_placement_record_sources = src/observe-record.c src/observe-trace.c src/buf.c

fuzz_targets += fuzz-extender fuzz-admission
fuzz_extender_sources = src/extender-args.c src/extender-policy.c src/cluster-config.c \
	src/engine-config.c src/toml.c src/tier.c src/qos-distribution.c \
	src/kube-pod.c src/kube-node.c src/kube-object.c src/kube-quantity.c \
	src/pod.c src/cause.c src/log.c src/buf.c
fuzz_admission_sources = src/admission.c src/tier.c src/kube-object.c \
	src/kube-quantity.c src/pod.c src/cause.c src/log.c src/buf.c
t/fuzz/fuzz-extender t/fuzz/fuzz-admission: FUZZ_LIBS += $(LIBCJSON_LIBS)

fuzz_targets += fuzz-profile
fuzz_profile_sources = src/profile.c src/toml.c src/log.c src/buf.c

FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIBS = $(LIBBPF_LIBS) -lm
fuzz_programs = $(fuzz_targets:%=t/fuzz/%)

# The sources a target needs are looked up from its name when the recipe
# runs; any change under src/ rebuilds the targets.
t/fuzz/fuzz-%: $(srcdir)/t/fuzz/fuzz-%.c $(wildcard $(srcdir)/src/*.[ch])
	$(AM_V_CC)$(MKDIR_P) t/fuzz && $(FUZZ_CC) $(FUZZ_CFLAGS) \
		$(AM_CPPFLAGS) -I$(top_builddir) -o $@ $< \
		$(foreach f,$(fuzz_$(subst -,_,$*)_sources),$(if $(filter /%,$(f)),$(f),$(srcdir)/$(f))) \
		$(FUZZ_LIBS)

if HAVE_LIBFUZZER
fuzz-build: $(fuzz_programs)
else
fuzz-build:
	@echo "fuzz: libFuzzer unavailable: configure found no $(FUZZ_CC) that links -fsanitize=fuzzer (install clang-16 and libclang-rt-16-dev)"; exit 1
endif

# Print the target names, for t/15-fuzz-smoke.sh.
fuzz-list:
	@echo $(fuzz_targets)

fuzz: fuzz-build
	@status=0; \
	for target in $(fuzz_targets); do \
		name=$${target#fuzz-}; \
		findings=t/fuzz/findings/$$name; \
		artifacts=t/fuzz/artifacts/$$name; \
		log=t/fuzz/$$target.log; \
		$(MKDIR_P) $$findings $$artifacts || exit 1; \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s over $(srcdir)/t/fuzz/corpus/$$name"; \
		if ! t/fuzz/$$target -max_total_time=$(FUZZ_SECONDS) \
		    -print_final_stats=1 -artifact_prefix=$$artifacts/ \
		    $$findings $(srcdir)/t/fuzz/corpus/$$name >$$log 2>&1; then \
			status=1; \
			tail -n 40 $$log; \
			echo "fuzz: $$target FAILED: input in $$artifacts/, log in $$log"; \
		fi; \
		execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
		echo "fuzz: $$target: $${execs:-?} executions, $$(ls $$findings | wc -l) inputs in $$findings"; \
	done; \
	exit $$status

.PHONY: fuzz fuzz-build fuzz-list
CLEANFILES += $(fuzz_programs) $(fuzz_targets:%=t/fuzz/%.log)
EXTRA_DIST += t/fuzz/corpus $(fuzz_targets:%=t/fuzz/%.c)
