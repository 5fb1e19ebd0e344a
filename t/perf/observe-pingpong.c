/*
 * t/perf/observe-pingpong.c - context switches at a chosen rate: two
 * processes pass a byte back and forth over two pipes.
 *
 *	observe-pingpong RATE SECONDS
 *
 * RATE is the round trips per second to aim for (0: as fast as possible);
 * each round trip is two wakeups, so two to four context switches
 * depending on whether the two sides share a CPU.  Round trips go in
 * batches every millisecond, paced by the monotonic clock.  Prints one
 * line: round_trips=N seconds=S context_switches=C (from /proc/stat, the
 * whole machine) and the CPU time both processes used.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t
pingpong_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static uint64_t
pingpong_context_switches(void)
{
	char line[256];
	unsigned long long value = 0;
	FILE *file = fopen("/proc/stat", "re");

	if (file == NULL)
		return 0;
	while (fgets(line, sizeof line, file) != NULL)
		if (sscanf(line, "ctxt %llu", &value) == 1)
			break;
	fclose(file);
	return value;
}

static double
pingpong_cpu_seconds(int who)
{
	struct rusage usage;

	getrusage(who, &usage);
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	    (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	int there[2], back[2];
	uint64_t rate, start, end, next, trips = 0, switches;
	double seconds, cpu;
	pid_t child;
	char byte = 'x';

	if (argc != 3) {
		fprintf(stderr, "usage: observe-pingpong RATE SECONDS\n");
		return 2;
	}
	rate = strtoull(argv[1], NULL, 10);
	seconds = strtod(argv[2], NULL);
	if (pipe(there) != 0 || pipe(back) != 0)
		return 1;
	if ((child = fork()) == -1)
		return 1;
	if (child == 0) {
		close(there[1]);
		close(back[0]);
		while (read(there[0], &byte, 1) == 1)
			if (write(back[1], &byte, 1) != 1)
				break;
		_exit(0);
	}
	close(there[0]);
	close(back[1]);

	switches = pingpong_context_switches();
	start = pingpong_now_ns();
	end = start + (uint64_t)(seconds * 1e9);
	next = start;
	while (pingpong_now_ns() < end) {
		uint64_t batch = rate ? (rate + 999) / 1000 : 1000;

		for (uint64_t i = 0; i < batch; i++) {
			if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1)
				return 1;
			trips++;
		}
		if (rate == 0)
			continue;
		/* Pace: the batch for the next millisecond waits for it. */
		next += 1000000;
		for (uint64_t now = pingpong_now_ns(); now < next; now = pingpong_now_ns()) {
			struct timespec nap = { 0, (long)(next - now) };

			nanosleep(&nap, NULL);
		}
	}
	end = pingpong_now_ns();
	switches = pingpong_context_switches() - switches;
	close(there[1]);
	waitpid(child, NULL, 0);
	cpu = pingpong_cpu_seconds(RUSAGE_SELF) + pingpong_cpu_seconds(RUSAGE_CHILDREN);
	seconds = (double)(end - start) / 1e9;
	printf("round_trips=%" PRIu64 " seconds=%.3f context_switches=%" PRIu64
	    " switches_per_second=%.0f cpu_seconds=%.3f\n", trips, seconds, switches,
	    (double)switches / seconds, cpu);
	return 0;
}
