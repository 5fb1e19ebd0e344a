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
#
# A memory error or a definite leak fails the target.  A program whose own
# checks fail under valgrind while valgrind reports nothing (timing under
# a 20-50x slowdown, a syscall valgrind does not implement) is listed as a
# NOTE and fails the target only with VALGRIND_STRICT=1: make check runs
# those checks at full speed.

VALGRIND = valgrind
# Children forked without exec (test helpers that move themselves into
# cgroups) share the parent's heap: their exit is not a leak report.
VALGRIND_FLAGS = --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes \
	--suppressions=$(abs_top_srcdir)/t/valgrind.supp --quiet
VALGRIND_PROPERTY_ITERATIONS = 500
VALGRIND_TESTS = $(unit_tests) $(cluster_unit_tests)

# The build is checked first, before the test programs are made.
check-valgrind:
	@case ' $(SANITIZER_CFLAGS) $(CFLAGS) $(LDFLAGS) ' in \
	*sanitize=address*) \
		echo "check-valgrind: this build has AddressSanitizer ($(SANITIZER_CFLAGS) $(CFLAGS)); valgrind cannot run ASan programs: configure a separate build directory without --enable-sanitizers"; \
		exit 1 ;; \
	esac; \
	command -v $(VALGRIND) >/dev/null || { echo "check-valgrind: $(VALGRIND) is not installed"; exit 1; }; \
	$(MAKE) $(AM_MAKEFLAGS) $(check_PROGRAMS) || exit 1; \
	$(MKDIR_P) t/valgrind || exit 1; \
	passed=0; failed=0; failures=; other=0; others=; \
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
		errors=$$(grep -c '^==[0-9]*== ' $$log.valgrind); \
		cat $$log.valgrind >>$$log; rm -f $$log.valgrind; \
		if [ $$status -eq 0 ]; then \
			passed=$$((passed + 1)); \
			echo "PASS: $$test (valgrind clean)"; \
		elif [ $$errors -eq 0 ]; then \
			other=$$((other + 1)); others="$$others $$test"; \
			echo "NOTE: $$test: its own checks failed under valgrind (exit $$status) with no memory error reported; see $$log"; \
			grep '^not ok' $$log | head -n 5; \
		else \
			failed=$$((failed + 1)); failures="$$failures $$test"; \
			echo "FAIL: $$test (exit $$status, $$errors valgrind lines; see $$log)"; \
			grep '^==[0-9]*== ' $$log | head -n 30; \
		fi; \
	done; \
	echo "check-valgrind: $$passed clean, $$failed with memory errors$${failures:+:$$failures}, $$other failing their own checks under valgrind only$${others:+:$$others}"; \
	test $$failed -eq 0 && { test $$other -eq 0 || test '$(VALGRIND_STRICT)' != 1; }

.PHONY: check-valgrind
