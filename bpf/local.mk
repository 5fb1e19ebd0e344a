# bpf/local.mk - BPF programs: bpf/NAME.bpf.c -> bpf/NAME.bpf.o -> bpf/NAME.skel.h
#
# vmlinux.h is generated from the running kernel's BTF at build time.

bpf_programs = bpf/selftest.bpf.c bpf/placement.bpf.c bpf/hint.bpf.c
bpf_skeletons = $(bpf_programs:.bpf.c=.skel.h)
bpf_objects = $(bpf_programs:.bpf.c=.bpf.o)

EXTRA_DIST += $(bpf_programs) bpf/selftest.h bpf/placement.h bpf/hint.h
BUILT_SOURCES += bpf/vmlinux.h $(bpf_skeletons)
CLEANFILES += bpf/vmlinux.h $(bpf_skeletons) $(bpf_objects)

BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	-I$(top_builddir)/bpf -I$(top_srcdir)/bpf -I$(top_srcdir)/src

bpf/vmlinux.h:
	$(AM_V_GEN)$(MKDIR_P) bpf && $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

bpf/%.bpf.o: $(srcdir)/bpf/%.bpf.c bpf/vmlinux.h
	$(AM_V_GEN)$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

bpf/%.skel.h: bpf/%.bpf.o
	$(AM_V_GEN)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@
t/test-bpf-pipeline.$(OBJEXT): bpf/selftest.skel.h
