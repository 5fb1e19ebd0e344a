/* selftest.h - shared between bpf/selftest.bpf.c and its loader. */
#ifndef TEMPER_BPF_SELFTEST_H
#define TEMPER_BPF_SELFTEST_H

/* x86_64's getpgid; the BPF side cannot include <sys/syscall.h>. */
#define SELFTEST_NR_GETPGID 121
#define SELFTEST_MAX_CALLS 1024

#endif
