/*
 * daemon.h - the running temperd: its loop, configuration and shared parts.
 *
 * main() fills a struct conf and hands it over; daemon_init opens the HTTP
 * listener and starts each role; daemon_run runs the loop until a stop,
 * then closes every handle and the loop itself.
 */
#ifndef TEMPER_DAEMON_H
#define TEMPER_DAEMON_H

#include <stdbool.h>
#include <uv.h>

#include "common-routes.h"
#include "conf.h"
#include "readiness.h"

/* The agent's socket in --state-dir, for temperctl. */
#define DAEMON_AGENT_SOCKET "agent.sock"

struct agent;
struct controller;
struct extender;
struct http_server;
struct webhook;
struct metrics;

/* Re-applies the command line over a freshly read file on SIGHUP. */
typedef void (*daemon_override_fn)(struct conf *conf, void *arg);

struct daemon {
	uv_loop_t loop;
	struct conf conf;
	char *conf_path;		/* NULL when running on built-in defaults */
	daemon_override_fn override;
	void *override_arg;

	struct metrics *metrics;
	struct readiness readiness;
	struct http_server *http;
	struct common_routes routes;
	char roles[128];
	struct agent *agent;		/* --role=agent */
	/* [extender], [webhook], [controller]: defaults until conf.c reads them. */
	struct extender *extender;	/* --role=extender */
	struct webhook *webhook;	/* --role=webhook */
	struct controller *controller;	/* --role=controller */
	unsigned stopping_parts;	/* roles and the server still closing */

	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	bool signals_started;
	bool stopping;
	int exit_status;

	struct metric_series *reloads_ok;
	struct metric_series *reloads_failed;
};

/*
 * Take ownership of conf (moved: the caller's copy is emptied).  0 or a
 * negative errno with *cause.  daemon_free is safe after a failure.
 */
int daemon_init(struct daemon *daemon, struct conf *conf, const char *conf_path,
    daemon_override_fn override, void *override_arg, char **cause);
void daemon_watch_signals(struct daemon *daemon, uv_signal_cb on_signal);
/* Run until daemon_stop; returns the exit status. */
int daemon_run(struct daemon *daemon);
void daemon_stop(struct daemon *daemon);
/* SIGHUP: re-read the file, apply it only if all of it parses. */
void daemon_reload(struct daemon *daemon);
void daemon_free(struct daemon *daemon);

#endif
