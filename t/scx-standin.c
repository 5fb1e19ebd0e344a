/*
 * t/scx-standin.c - a STAND-IN for scx_layered, for supervisor tests on a
 * kernel without sched_ext.  It is not a scheduler and schedules nothing.
 *
 * It takes scx_layered's command line (f:PATH specs, --task-hint-map PATH,
 * anything else ignored), refuses what scx_layered would refuse first (a
 * config file that does not parse as a JSON array, a hint map path that
 * does not exist), then plays the part sched_ext would: it writes
 * "enabled" to STANDIN_SYSFS/kernel/sched_ext/state and "layered_standin"
 * to .../root/ops, and on SIGTERM (or SIGINT, SIGHUP) writes "disabled",
 * removes root/ops and exits 0, as scx_layered does.
 *
 * Environment:
 *   STANDIN_SYSFS        fixture sysfs root to write (required); enable_seq
 *                        is counted up on each attach, as the kernel does
 *   STANDIN_LOG          append "start PID ARGS..." and "stop PID" lines
 *   STANDIN_ATTACH_MS    wait this long before "attaching" (default 0)
 *   STANDIN_EXIT_AFTER_MS, STANDIN_EXIT_CODE
 *                        exit unasked after that long (a crash)
 *   STANDIN_IGNORE_TERM  ignore SIGTERM (the supervisor must SIGKILL)
 *   STANDIN_LEAVE_ENABLED
 *                        exit on SIGTERM leaving state and ops as they are
 *                        (the kernel disables a scheduler asynchronously)
 *   STANDIN_STATS        serve scx_stats-like replies on this socket path
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static volatile sig_atomic_t standin_stop;

static void
standin_on_signal(int signal_number)
{
	(void)signal_number;
	standin_stop = 1;
}

static void
standin_write(const char *root, const char *relative, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, relative);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* The kernel counts every enable in enable_seq. */
static void
standin_bump_enable_seq(const char *root)
{
	char path[4096], text[32];
	long long seq = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/kernel/sched_ext/enable_seq", root);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%lld", &seq) != 1)
			seq = 0;
		fclose(f);
	}
	snprintf(text, sizeof text, "%lld\n", seq + 1);
	standin_write(root, "kernel/sched_ext/enable_seq", text);
}

static void
standin_log(const char *word, int pid, char **argv)
{
	const char *path = getenv("STANDIN_LOG");
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s %d", word, pid);
	for (int i = 1; argv != NULL && argv[i] != NULL; i++)
		fprintf(f, " %s", argv[i]);
	fputc('\n', f);
	fclose(f);
}

static long
standin_env_number(const char *name, long fallback)
{
	const char *value = getenv(name);

	return value != NULL && *value != '\0' ? strtol(value, NULL, 10) : fallback;
}

static uint64_t
standin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *
standin_stats_reply(cJSON *config)
{
	cJSON *root = cJSON_CreateObject(), *args, *resp, *layers, *spec;
	char *text;
	int index = 0;

	cJSON_AddNumberToObject(root, "errno", 0);
	args = cJSON_AddObjectToObject(root, "args");
	resp = cJSON_AddObjectToObject(args, "resp");
	cJSON_AddNumberToObject(resp, "at", (double)time(NULL));
	cJSON_AddNumberToObject(resp, "busy", 1.5);
	layers = cJSON_AddObjectToObject(resp, "layers");
	cJSON_ArrayForEach(spec, config) {
		cJSON *name = cJSON_GetObjectItem(spec, "name"), *layer;

		if (!cJSON_IsString(name))
			continue;
		layer = cJSON_AddObjectToObject(layers, name->valuestring);
		cJSON_AddNumberToObject(layer, "index", index);
		cJSON_AddNumberToObject(layer, "util", 10.0 * (index + 1));
		cJSON_AddNumberToObject(layer, "tasks", index + 2);
		cJSON_AddNumberToObject(layer, "cur_nr_cpus", 1);
		cJSON_AddNumberToObject(layer, "min_nr_cpus", 0);
		cJSON_AddNumberToObject(layer, "max_nr_cpus", 4);
		index++;
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

int
main(int argc, char **argv)
{
	const char *sysfs = getenv("STANDIN_SYSFS"), *stats = getenv("STANDIN_STATS");
	const char *config_path = NULL, *hint_map = NULL;
	long attach_ms = standin_env_number("STANDIN_ATTACH_MS", 0);
	long exit_after = standin_env_number("STANDIN_EXIT_AFTER_MS", -1);
	struct pollfd fds[9];
	struct sigaction action;
	uint64_t started = standin_now_ms();
	cJSON *config = NULL;
	char path[4096], *text;
	int listener = -1, clients = 0, attached = 0;
	FILE *f;
	long len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--task-hint-map") == 0 && i + 1 < argc)
			hint_map = argv[++i];
		else if (strncmp(argv[i], "f:", 2) == 0)
			config_path = argv[i] + 2;
	}
	standin_log("start", (int)getpid(), argv);
	if (sysfs == NULL) {
		fprintf(stderr, "Error: STANDIN_SYSFS is not set (this is the test stand-in)\n");
		return 1;
	}
	if (config_path == NULL || (f = fopen(config_path, "r")) == NULL) {
		fprintf(stderr, "Error: Failed to parse specs[0] (\"f:%s\")\n",
		    config_path != NULL ? config_path : "");
		return 1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	if (text == NULL || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		return 1;
	}
	fclose(f);
	config = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsArray(config)) {
		fprintf(stderr, "Error: Failed to parse specs[0] (\"f:%s\"): not a JSON array\n",
		    config_path);
		return 1;
	}
	if (hint_map != NULL && access(hint_map, F_OK) != 0) {
		fprintf(stderr, "Error: task hint map %s: %s\n", hint_map, strerror(errno));
		return 1;
	}

	memset(&action, 0, sizeof action);
	action.sa_handler = getenv("STANDIN_IGNORE_TERM") != NULL ? SIG_IGN : standin_on_signal;
	sigaction(SIGTERM, &action, NULL);
	action.sa_handler = standin_on_signal;
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGHUP, &action, NULL);

	if (stats != NULL) {
		struct sockaddr_un address = { .sun_family = AF_UNIX };

		snprintf(address.sun_path, sizeof address.sun_path, "%s", stats);
		unlink(stats);
		listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 ||
		    listen(listener, 4) != 0) {
			fprintf(stderr, "Error: stats socket %s: %s\n", stats, strerror(errno));
			return 1;
		}
	}

	while (!standin_stop) {
		uint64_t elapsed = standin_now_ms() - started;
		int n = 0, ready;

		if (!attached && (long)elapsed >= attach_ms) {
			snprintf(path, sizeof path, "%s/kernel/sched_ext/root", sysfs);
			mkdir(path, 0755);
			standin_write(sysfs, "kernel/sched_ext/root/ops", "layered_standin\n");
			standin_bump_enable_seq(sysfs);
			standin_write(sysfs, "kernel/sched_ext/state", "enabled\n");
			printf("standin: attached with %d layers (this is not a scheduler)\n",
			    cJSON_GetArraySize(config));
			attached = 1;
		}
		if (exit_after >= 0 && (long)elapsed >= exit_after) {
			int code = (int)standin_env_number("STANDIN_EXIT_CODE", 1);

			standin_write(sysfs, "kernel/sched_ext/state", "disabled\n");
			snprintf(path, sizeof path, "%s/kernel/sched_ext/root/ops", sysfs);
			unlink(path);
			fprintf(stderr, "Error: EXIT: runnable task stall (the stand-in's crash)\n");
			standin_log("crash", (int)getpid(), NULL);
			return code;
		}
		if (listener >= 0)
			fds[n++] = (struct pollfd){ .fd = listener, .events = POLLIN };
		for (int i = 0; i < clients; i++)
			n++;
		ready = poll(fds, (nfds_t)n, 5);
		if (ready <= 0)
			continue;
		if (listener >= 0 && (fds[0].revents & POLLIN) && clients < 8) {
			int client = accept(listener, NULL, NULL);

			if (client >= 0)
				fds[1 + clients++] = (struct pollfd){ .fd = client, .events = POLLIN };
		}
		for (int i = 1; i < 1 + clients; i++) {
			char request[4096];
			ssize_t got;

			if (!(fds[i].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(fds[i].fd, request, sizeof request);
			if (got <= 0) {
				close(fds[i].fd);
				fds[i] = fds[clients];
				clients--;
				i--;
				continue;
			}
			if (memchr(request, '\n', (size_t)got) != NULL) {
				char *reply = standin_stats_reply(config);

				if (reply != NULL) {
					if (write(fds[i].fd, reply, strlen(reply)) < 0 ||
					    write(fds[i].fd, "\n", 1) < 0)
						fprintf(stderr, "standin: stats write: %s\n", strerror(errno));
					free(reply);
				}
			}
		}
	}
	if (getenv("STANDIN_LEAVE_ENABLED") == NULL) {
		standin_write(sysfs, "kernel/sched_ext/state", "disabled\n");
		snprintf(path, sizeof path, "%s/kernel/sched_ext/root/ops", sysfs);
		unlink(path);
	}
	if (stats != NULL)
		unlink(stats);
	fprintf(stderr, "EXIT: unregistered from user space\n");
	standin_log("stop", (int)getpid(), NULL);
	cJSON_Delete(config);
	return 0;
}
