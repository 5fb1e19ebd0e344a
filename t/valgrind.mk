# t/valgrind.mk - every C unit test program under valgrind.
#
# make check-valgrind	runs each program of $(unit_tests) and
#			$(cluster_unit_tests) under memcheck; a memory error
#			or a definite leak fails it.  Logs go to
#			t/valgrind/NAME.log in the build tree.
#
# Suppressions (t/valgrind.supp) cover libbpf's partial bpf(2) attributes
# only.  Valgrind and AddressSanitizer cannot share a process, so this needs a
# build configured WITHOUT --enable-sanitizers (the target checks and says
# so).  VALGRIND_PROPERTY_ITERATIONS shortens the planner's property test
# (TEMPER_PROPERTY_ITERATIONS, default 10000, which takes minutes under
# valgrind); VALGRIND_TESTS picks a subset, e.g.
# `make check-valgrind VALGRIND_TESTS='t/test-toml t/test-conf'`.

VALGRIND = valgrind
# Children forked without exec (test helpers that move themselves into
# cgroups) share the parent's heap: their exit is not a leak report.
VALGRIND_FLAGS = --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes \
	--suppressions=$(abs_top_srcdir)/t/valgrind.supp --quiet
VALGRIND_PROPERTY_ITERATIONS = 500
VALGRIND_TESTS = $(unit_tests) $(cluster_unit_tests)

check-valgrind: $(check_PROGRAMS)
	@case ' $(SANITIZER_CFLAGS) $(CFLAGS) $(LDFLAGS) ' in \
	*sanitize=address*) \
		echo "check-valgrind: this build has AddressSanitizer ($(SANITIZER_CFLAGS) $(CFLAGS)); valgrind cannot run ASan programs: configure a separate build directory without --enable-sanitizers"; \
		exit 1 ;; \
	esac; \
	command -v $(VALGRIND) >/dev/null || { echo "check-valgrind: $(VALGRIND) is not installed"; exit 1; }; \
	$(MKDIR_P) t/valgrind || exit 1; \
	passed=0; failed=0; failures=; \
	for test in $(VALGRIND_TESTS); do \
		name=$${test#t/}; log=t/valgrind/$$name.log; \
		if TOP_SRCDIR='$(abs_top_srcdir)' TOP_BUILDDIR='$(abs_top_builddir)' \
		    TEMPER_PROPERTY_ITERATIONS=$(VALGRIND_PROPERTY_ITERATIONS) \
		    $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$$log.valgrind \
		    ./$$test >$$log 2>&1; then \
			status=0; \
		else \
			status=$$?; \
		fi; \
		cat $$log.valgrind >>$$log; rm -f $$log.valgrind; \
		errors=$$(grep -c '^==[0-9]*== ' $$log); \
		if [ $$status -eq 0 ]; then \
			passed=$$((passed + 1)); \
			echo "PASS: $$test (valgrind clean)"; \
		else \
			failed=$$((failed + 1)); failures="$$failures $$test"; \
			echo "FAIL: $$test (exit $$status, $$errors valgrind lines; see $$log)"; \
			grep '^==[0-9]*== ' $$log | head -n 30; \
		fi; \
	done; \
	echo "check-valgrind: $$passed passed, $$failed failed$${failures:+:$$failures}"; \
	test $$failed -eq 0

.PHONY: check-valgrind
