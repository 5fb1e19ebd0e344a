# t/vm/local.mk - the sched_ext guest suite (included from t/local.mk).
#
# Not part of `make check`: the guest's kernel is a long cold build (see
# t/vm/README.md), so these tests run as `make check-vm`, and only when
# t/vm/build has filled the cache; otherwise check-vm says it skipped and why.

vm_scripts = t/vm/10-boot.sh t/vm/20-scx-layered.sh t/vm/30-agent-cgroup.sh \
	t/vm/40-agent-scx.sh t/vm/41-agent-scx-hint.sh
vm_files = t/vm/README.md t/vm/versions.sh t/vm/build t/vm/available t/vm/run \
	t/vm/guest.config t/vm/guest-init t/vm/lib.sh t/vm/guest-lib.sh \
	t/perf/colocation-vm.sh
EXTRA_DIST += $(vm_scripts) $(vm_files)

# The suite through the same TAP driver as make check, one test at a time
# (each boots a TCG guest; two at once would fight over 2 cores).
check-vm:
	@if why=$$($(top_srcdir)/t/vm/available 2>&1); then \
		$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(vm_scripts)'; \
	else \
		echo "check-vm: skipped: $$why"; \
	fi

# The co-location benchmark in the guest, four arms (make perf-colocation-vm).
perf-colocation-vm: t/perf/loadgen$(EXEEXT) t/cgroup-enforce-probe$(EXEEXT) src/temperctl$(EXEEXT)
	TOP_SRCDIR='$(abs_top_srcdir)' TOP_BUILDDIR='$(abs_top_builddir)' $(top_srcdir)/t/perf/colocation-vm.sh

.PHONY: check-vm perf-colocation-vm
