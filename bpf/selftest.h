/* selftest.h - shared between bpf/selftest.bpf.c and its loader. */
#ifndef TEMPER_BPF_SELFTEST_H
#define TEMPER_BPF_SELFTEST_H

/* The pid whose getpgid() calls the program counts. */
#define SELFTEST_MAX_CALLS 1024

#endif
