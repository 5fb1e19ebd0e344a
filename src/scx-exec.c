/*
 * scx-exec.c - temper-scx-exec: run the scheduler so it dies with the agent.
 *
 *     temper-scx-exec --parent PID -- PROGRAM [ARGUMENT]...
 *
 * Sets PR_SET_PDEATHSIG to SIGKILL, checks that the parent is still PID
 * (it may have died between fork and prctl, and then no signal would come),
 * and execs PROGRAM, which keeps the death signal.  The agent spawns
 * scx_layered through it because uv_spawn runs nothing between fork and
 * exec: when the agent dies, even by SIGKILL, scx_layered is killed, its
 * struct_ops link closes and the kernel returns every task to the stock
 * scheduler instead of a plan nobody updates.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void
scx_exec_usage(void)
{
	fprintf(stderr, "usage: temper-scx-exec --parent PID -- PROGRAM [ARGUMENT]...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long parent;
	char *end;

	if (argc < 5 || strcmp(argv[1], "--parent") != 0 || strcmp(argv[3], "--") != 0)
		scx_exec_usage();
	errno = 0;
	parent = strtol(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || parent <= 1)
		scx_exec_usage();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		fprintf(stderr, "temper-scx-exec: prctl(PR_SET_PDEATHSIG): %s\n", strerror(errno));
		return 126;
	}
	if (getppid() != (pid_t)parent) {
		fprintf(stderr, "temper-scx-exec: the agent (pid %ld) is gone; not starting %s\n",
		    parent, argv[4]);
		return 125;
	}
	execv(argv[4], argv + 4);
	fprintf(stderr, "temper-scx-exec: cannot exec %s: %s\n", argv[4], strerror(errno));
	return 127;
}
