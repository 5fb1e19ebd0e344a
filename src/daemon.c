/* daemon.c - the running temperd: its loop, configuration and shared parts. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "controller.h"
#include "extender.h"
#include "daemon.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "webhook.h"

/*
 * temperctl talks to the agent through STATE_DIR/agent.sock (mode 0600):
 * whoever can read the state directory is the operator.  Without it the
 * agent still serves on --listen.
 */
static void
daemon_listen_socket(struct daemon *daemon)
{
	char *address = NULL, *cause = NULL;

	if (mkdir(daemon->conf.state_dir, 0700) != 0 && errno != EEXIST) {
		log_warn("cannot create the state directory %s: %s; no agent socket",
		    daemon->conf.state_dir, strerror(errno));
		return;
	}
	if (asprintf(&address, "unix:%s/%s", daemon->conf.state_dir, DAEMON_AGENT_SOCKET) < 0)
		return;
	if (http_server_listen(daemon->http, address, NULL, NULL, &cause) != 0)
		log_warn("%s; temperctl must use --agent=http://%s",
		    cause ? cause : "cannot open the agent socket", daemon->conf.listen);
	free(cause);
	free(address);
}

/* The extender, webhook and controller roles, each when asked for. */
static int
daemon_start_cluster_roles(struct daemon *daemon, char **cause)
{
	const char *kubeconfig = daemon->conf.kubeconfig;
	int error;

	if (daemon->conf.roles & CONF_ROLE_EXTENDER) {
		daemon->extender = extender_new(&daemon->loop, daemon->metrics,
		    &(struct extender_options){ .engine = &daemon->conf.engine,
		    .cluster = &daemon->conf.cluster, .kubeconfig = kubeconfig,
		    .http = daemon->http, .readiness = &daemon->readiness }, cause);
		if (daemon->extender == NULL)
			return errno ? -errno : -EINVAL;
		if ((error = extender_start(daemon->extender)) != 0)
			return error;
	}
	if (daemon->conf.roles & CONF_ROLE_WEBHOOK) {
		daemon->webhook = webhook_new(&daemon->loop, daemon->metrics,
		    &(struct webhook_options){ .engine = &daemon->conf.engine,
		    .cluster = &daemon->conf.cluster, .http = daemon->http,
		    .readiness = &daemon->readiness,
		    .tls = daemon->conf.tls_cert != NULL }, cause);
		if (daemon->webhook == NULL)
			return errno ? -errno : -EINVAL;
		if ((error = webhook_start(daemon->webhook)) != 0)
			return error;
	}
	if (daemon->conf.roles & CONF_ROLE_CONTROLLER) {
		daemon->controller = controller_new(&daemon->loop, daemon->metrics,
		    &(struct controller_options){ .cluster = &daemon->conf.cluster,
		    .kubeconfig = kubeconfig, .readiness = &daemon->readiness }, cause);
		if (daemon->controller == NULL)
			return errno ? -errno : -EINVAL;
		if ((error = controller_start(daemon->controller)) != 0)
			return error;
	}
	return 0;
}

int
daemon_init(struct daemon *daemon, struct conf *conf, const char *conf_path,
    daemon_override_fn override, void *override_arg, char **cause)
{
	int error;

	memset(daemon, 0, sizeof *daemon);
	daemon->conf = *conf;
	memset(conf, 0, sizeof *conf);
	daemon->override = override;
	daemon->override_arg = override_arg;
	if (conf_path != NULL && (daemon->conf_path = strdup(conf_path)) == NULL)
		return -ENOMEM;
	if ((error = uv_loop_init(&daemon->loop)) != 0)
		return error;
	conf_format_roles(daemon->conf.roles, daemon->roles, sizeof daemon->roles);

	if ((daemon->metrics = metrics_new()) == NULL)
		return -ENOMEM;
	metrics_register_process(daemon->metrics, PACKAGE_VERSION);
	daemon->reloads_ok = metrics_series(metrics_family(daemon->metrics,
	    METRIC_COUNTER, "temper_config_reloads_total",
	    "Configuration reloads on SIGHUP, by result.",
	    (const char *const[]){ "result", NULL }, NULL, 0),
	    (const char *const[]){ "ok", NULL });
	daemon->reloads_failed = metrics_series(metrics_family(daemon->metrics,
	    METRIC_COUNTER, "temper_config_reloads_total", "", NULL, NULL, 0),
	    (const char *const[]){ "failed", NULL });

	daemon->http = http_server_new(&daemon->loop, daemon->metrics, &daemon->conf.http);
	if (daemon->http == NULL)
		return -ENOMEM;
	daemon->routes.metrics = daemon->metrics;
	daemon->routes.readiness = &daemon->readiness;
	daemon->routes.version = PACKAGE_VERSION;
	daemon->routes.roles = daemon->roles;
	if ((error = common_routes_register(http_server_router(daemon->http),
	    &daemon->routes)) != 0)
		return error;
	if ((error = http_server_listen(daemon->http, daemon->conf.listen,
	    daemon->conf.tls_cert, daemon->conf.tls_key, cause)) != 0)
		return error;
	if (daemon->conf.roles & CONF_ROLE_AGENT) {
		daemon_listen_socket(daemon);
		if ((daemon->agent = agent_new(daemon, cause)) == NULL)
			return errno ? -errno : -EINVAL;
		if ((error = agent_start(daemon->agent)) != 0)
			return error;
	}
	if ((error = daemon_start_cluster_roles(daemon, cause)) != 0)
		return error;
	log_info("temperd %s started: roles %s, listen %s%s, config %s",
	    PACKAGE_VERSION, daemon->roles, daemon->conf.listen,
	    daemon->conf.tls_cert ? " (TLS)" : "",
	    daemon->conf_path ? daemon->conf_path : "built-in defaults");
	return 0;
}

void
daemon_watch_signals(struct daemon *daemon, uv_signal_cb on_signal)
{
	uv_signal_init(&daemon->loop, &daemon->sigterm);
	uv_signal_init(&daemon->loop, &daemon->sigint);
	uv_signal_init(&daemon->loop, &daemon->sighup);
	daemon->sigterm.data = daemon->sigint.data = daemon->sighup.data = daemon;
	uv_signal_start(&daemon->sigterm, on_signal, SIGTERM);
	uv_signal_start(&daemon->sigint, on_signal, SIGINT);
	uv_signal_start(&daemon->sighup, on_signal, SIGHUP);
	daemon->signals_started = true;
}

static void
daemon_http_closed(void *arg)
{
	log_debug("http server closed");
	(void)arg;
}

/* The roles close first, then the server they answered through. */
static void
daemon_role_stopped(void *arg)
{
	struct daemon *daemon = arg;

	if (--daemon->stopping_parts > 0)
		return;
	if (daemon->http != NULL)
		http_server_close(daemon->http, daemon_http_closed, daemon);
}

void
daemon_stop(struct daemon *daemon)
{
	if (daemon->stopping)
		return;
	daemon->stopping = true;
	if (daemon->signals_started) {
		uv_close((uv_handle_t *)&daemon->sigterm, NULL);
		uv_close((uv_handle_t *)&daemon->sigint, NULL);
		uv_close((uv_handle_t *)&daemon->sighup, NULL);
		daemon->signals_started = false;
	}
	daemon->stopping_parts = 1;
	if (daemon->agent != NULL) {
		daemon->stopping_parts++;
		agent_stop(daemon->agent, daemon_role_stopped, daemon);
	}
	if (daemon->extender != NULL) {
		daemon->stopping_parts++;
		extender_stop(daemon->extender, daemon_role_stopped, daemon);
	}
	if (daemon->webhook != NULL) {
		daemon->stopping_parts++;
		webhook_stop(daemon->webhook, daemon_role_stopped, daemon);
	}
	if (daemon->controller != NULL) {
		daemon->stopping_parts++;
		controller_stop(daemon->controller, daemon_role_stopped, daemon);
	}
	daemon_role_stopped(daemon);
}

void
daemon_reload(struct daemon *daemon)
{
	struct conf fresh;
	char *cause = NULL;

	if (daemon->conf_path == NULL) {
		log_info("SIGHUP: running on built-in defaults, no file to re-read; nothing changes");
		return;
	}
	conf_init(&fresh);
	if (conf_load(&fresh, daemon->conf_path, &cause) != 0) {
		log_warn("SIGHUP: %s; keeping the running configuration",
		    cause ? cause : "cannot read the configuration");
		metric_inc(daemon->reloads_failed);
		free(cause);
		conf_free(&fresh);
		return;
	}
	if (daemon->override != NULL)
		daemon->override(&fresh, daemon->override_arg);

	/* What a running listener cannot change is kept, and said so. */
	if (strcmp(fresh.listen, daemon->conf.listen) != 0)
		log_warn("SIGHUP: listen changed to %s; that needs a restart, still listening on %s",
		    fresh.listen, daemon->conf.listen);
	if (fresh.roles != daemon->conf.roles)
		log_warn("SIGHUP: roles changed; that needs a restart, keeping %s", daemon->roles);
	free(fresh.listen);
	fresh.listen = strdup(daemon->conf.listen);
	fresh.roles = daemon->conf.roles;
	free(fresh.tls_cert);
	free(fresh.tls_key);
	fresh.tls_cert = daemon->conf.tls_cert ? strdup(daemon->conf.tls_cert) : NULL;
	fresh.tls_key = daemon->conf.tls_key ? strdup(daemon->conf.tls_key) : NULL;

	conf_free(&daemon->conf);
	daemon->conf = fresh;
	log_set_level(log_level_from_name(daemon->conf.log_level));
	http_server_set_limits(daemon->http, &daemon->conf.http);
	if (daemon->agent != NULL)
		agent_conf_changed(daemon->agent);
	metric_inc(daemon->reloads_ok);
	log_info("SIGHUP: configuration %s re-read and applied", daemon->conf_path);
}

static void
daemon_walk_close(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle)) {
		log_warn("closing a handle of type %s left open at shutdown",
		    uv_handle_type_name(handle->type));
		uv_close(handle, NULL);
	}
}

int
daemon_run(struct daemon *daemon)
{
	int error;

	uv_run(&daemon->loop, UV_RUN_DEFAULT);
	/* Anything still open is a bug; close it so the loop can end. */
	uv_walk(&daemon->loop, daemon_walk_close, NULL);
	uv_run(&daemon->loop, UV_RUN_DEFAULT);
	if ((error = uv_loop_close(&daemon->loop)) != 0) {
		log_error("the loop did not close: %s", uv_strerror(error));
		return 1;
	}
	log_info("stopped; every handle closed");
	return daemon->exit_status;
}

void
daemon_free(struct daemon *daemon)
{
	agent_free(daemon->agent);
	daemon->agent = NULL;
	extender_free(daemon->extender);
	daemon->extender = NULL;
	webhook_free(daemon->webhook);
	daemon->webhook = NULL;
	controller_free(daemon->controller);
	daemon->controller = NULL;
	http_server_free(daemon->http);
	daemon->http = NULL;
	metrics_free(daemon->metrics);
	daemon->metrics = NULL;
	readiness_free(&daemon->readiness);
	conf_free(&daemon->conf);
	free(daemon->conf_path);
	daemon->conf_path = NULL;
}
