/*
 * t/profile-workload.c - a process whose threads have the three habits
 * training mode tells apart, each named with pthread_setname_np:
 *
 *   hot        spins without sleeping (a hot loop);
 *   chain-1    sleeps 1 ms, then wakes chain-2 through a pipe and waits
 *   chain-2    for its answer (a wake chain: ~1000 short runs a second);
 *   housekeep  wakes every 250 ms for a moment (housekeeping).
 *
 * Prints "ready" once every thread is named; runs until killed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int profile_workload_forward[2], profile_workload_back[2];
static volatile unsigned long profile_workload_sink;

static void
profile_workload_sleep_ns(long ns)
{
	struct timespec delay = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&delay, &delay) != 0)
		;
}

static void *
profile_workload_hot(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "hot");
	for (;;)
		profile_workload_sink++;
	return NULL;
}

static void *
profile_workload_chain_first(void *arg)
{
	char byte = 'x';

	(void)arg;
	pthread_setname_np(pthread_self(), "chain-1");
	for (;;) {
		profile_workload_sleep_ns(1000000);
		if (write(profile_workload_forward[1], &byte, 1) != 1 ||
		    read(profile_workload_back[0], &byte, 1) != 1)
			exit(1);
	}
	return NULL;
}

static void *
profile_workload_chain_second(void *arg)
{
	char byte;

	(void)arg;
	pthread_setname_np(pthread_self(), "chain-2");
	for (;;) {
		if (read(profile_workload_forward[0], &byte, 1) != 1 ||
		    write(profile_workload_back[1], &byte, 1) != 1)
			exit(1);
	}
	return NULL;
}

static void *
profile_workload_housekeep(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "housekeep");
	for (;;) {
		profile_workload_sleep_ns(250000000L);
		for (int i = 0; i < 1000; i++)
			profile_workload_sink++;
	}
	return NULL;
}

int
main(void)
{
	void *(*const bodies[])(void *) = {
		profile_workload_hot, profile_workload_chain_first,
		profile_workload_chain_second, profile_workload_housekeep,
	};
	pthread_t threads[4];

	if (pipe(profile_workload_forward) != 0 || pipe(profile_workload_back) != 0)
		return 1;
	for (int i = 0; i < 4; i++)
		if (pthread_create(&threads[i], NULL, bodies[i], NULL) != 0)
			return 1;
	/* Names are set by each thread itself: give them a moment. */
	profile_workload_sleep_ns(100000000L);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
