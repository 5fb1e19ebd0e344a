/*
 * temperd.c - the Temper daemon: options, configuration, the loop, signals.
 *
 * One process, one uv_loop, no threads.  Roles (--role) decide which
 * subsystems start; every role serves /healthz, /readyz, /version and
 * /metrics.  SIGTERM and SIGINT stop gracefully: every handle is closed and
 * uv_loop_close() must succeed.  SIGHUP re-reads the configuration and
 * applies it only when the whole file parses.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common-routes.h"
#include "conf.h"
#include "daemon.h"
#include "http-server.h"
#include "log.h"
#include "metrics.h"
#include "readiness.h"

/* Exit statuses: 0 success, 1 failure at run time, 2 bad usage or config. */
#define TEMPERD_EXIT_FAILURE 1
#define TEMPERD_EXIT_USAGE 2

/* What the command line said; each set field overrides the config file. */
struct temperd_options {
	char *config_path;
	bool config_given;
	unsigned roles;
	char *kubeconfig;
	char *node_name;
	char *listen;
	char *tls_cert;
	char *tls_key;
	char *state_dir;
	char *cgroup_root;
	char *sysfs_root;
	char *scheduler_bin;
	bool enforcement_given;
	enum conf_enforcement enforcement;
	bool debug;
	bool check_only;
};

static const struct option temperd_long_options[] = {
	{ "role", required_argument, NULL, 'r' },
	{ "config", required_argument, NULL, 'c' },
	{ "kubeconfig", required_argument, NULL, 'k' },
	{ "node-name", required_argument, NULL, 'N' },
	{ "listen", required_argument, NULL, 'l' },
	{ "tls-cert", required_argument, NULL, 'C' },
	{ "tls-key", required_argument, NULL, 'K' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "cgroup-root", required_argument, NULL, 'g' },
	{ "sysfs-root", required_argument, NULL, 'y' },
	{ "scheduler-bin", required_argument, NULL, 'b' },
	{ "enforcement", required_argument, NULL, 'e' },
	{ "debug", no_argument, NULL, 'd' },
	{ "check", no_argument, NULL, 'n' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
temperd_usage(FILE *out)
{
	fprintf(out,
	    "usage: temperd [-dnVh] [--role=ROLE[,ROLE...]] [--config=FILE]\n"
	    "               [--kubeconfig=FILE] [--node-name=NAME] [--listen=ADDR:PORT]\n"
	    "               [--tls-cert=FILE --tls-key=FILE] [--state-dir=DIR]\n"
	    "               [--cgroup-root=DIR] [--sysfs-root=DIR] [--scheduler-bin=PATH]\n"
	    "               [--enforcement=auto|scx|cgroup|off]\n"
	    "roles: agent, extender, webhook, controller, dashboard\n");
}

__attribute__((format(printf, 1, 2)))
static void
temperd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("temperd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TEMPERD_EXIT_USAGE);
}

static void
temperd_options_free(struct temperd_options *options)
{
	free(options->config_path);
	free(options->kubeconfig);
	free(options->node_name);
	free(options->listen);
	free(options->tls_cert);
	free(options->tls_key);
	free(options->state_dir);
	free(options->cgroup_root);
	free(options->sysfs_root);
	free(options->scheduler_bin);
}

static void
temperd_set(char **field, const char *value)
{
	free(*field);
	if ((*field = strdup(value)) == NULL)
		log_fatal("out of memory");
}

static void
temperd_parse_options(int argc, char **argv, struct temperd_options *options)
{
	char *cause = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "dnVh", temperd_long_options, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (conf_parse_roles(optarg, &options->roles, &cause) != 0)
				temperd_usage_error("--role=%s: %s", optarg, cause);
			break;
		case 'c':
			temperd_set(&options->config_path, optarg);
			options->config_given = true;
			break;
		case 'k':
			temperd_set(&options->kubeconfig, optarg);
			break;
		case 'N':
			if (optarg[0] == '\0')
				temperd_usage_error("--node-name must not be empty");
			temperd_set(&options->node_name, optarg);
			break;
		case 'l':
			temperd_set(&options->listen, optarg);
			break;
		case 'C':
			temperd_set(&options->tls_cert, optarg);
			break;
		case 'K':
			temperd_set(&options->tls_key, optarg);
			break;
		case 's':
			temperd_set(&options->state_dir, optarg);
			break;
		case 'g':
			temperd_set(&options->cgroup_root, optarg);
			break;
		case 'y':
			temperd_set(&options->sysfs_root, optarg);
			break;
		case 'b':
			temperd_set(&options->scheduler_bin, optarg);
			break;
		case 'e':
			if (conf_parse_enforcement(optarg, &options->enforcement) != 0)
				temperd_usage_error("--enforcement=%s: expected auto, scx, cgroup or off",
				    optarg);
			options->enforcement_given = true;
			break;
		case 'd':
			options->debug = true;
			break;
		case 'n':
			options->check_only = true;
			break;
		case 'V':
			printf("temperd %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			temperd_usage(stdout);
			exit(0);
		default:
			temperd_usage(stderr);
			exit(TEMPERD_EXIT_USAGE);
		}
	}
	if (optind < argc)
		temperd_usage_error("unexpected argument '%s'", argv[optind]);
	if ((options->tls_cert == NULL) != (options->tls_key == NULL))
		temperd_usage_error("--tls-cert and --tls-key go together");
}

/* Command-line options win over the file. */
static void
temperd_apply_options(const struct temperd_options *options, struct conf *conf)
{
	const char *node_name = getenv("NODE_NAME");

	if (options->roles != 0)
		conf->roles = options->roles;
	if (conf->node_name == NULL && node_name != NULL && node_name[0] != '\0')
		temperd_set(&conf->node_name, node_name);
	if (options->kubeconfig)
		temperd_set(&conf->kubeconfig, options->kubeconfig);
	if (options->node_name)
		temperd_set(&conf->node_name, options->node_name);
	if (options->listen)
		temperd_set(&conf->listen, options->listen);
	if (options->tls_cert) {
		temperd_set(&conf->tls_cert, options->tls_cert);
		temperd_set(&conf->tls_key, options->tls_key);
	}
	if (options->state_dir)
		temperd_set(&conf->state_dir, options->state_dir);
	if (options->cgroup_root)
		temperd_set(&conf->cgroup_root, options->cgroup_root);
	if (options->sysfs_root)
		temperd_set(&conf->sysfs_root, options->sysfs_root);
	if (options->scheduler_bin)
		temperd_set(&conf->scheduler_bin, options->scheduler_bin);
	if (options->enforcement_given)
		conf->enforcement = options->enforcement;
	if (options->debug)
		temperd_set(&conf->log_level, "debug");
}

static void
temperd_apply_options_cb(struct conf *conf, void *arg)
{
	temperd_apply_options(arg, conf);
}

/*
 * Read the configuration: the named file must exist; the default path is
 * optional, and without it the built-in defaults apply.
 */
static int
temperd_load_conf(const struct temperd_options *options, struct conf *conf,
    char **cause, bool *from_file)
{
	const char *path = options->config_path ? options->config_path : CONF_DEFAULT_PATH;
	int error;

	*from_file = false;
	if (!options->config_given && access(path, F_OK) != 0) {
		temperd_apply_options(options, conf);
		return 0;
	}
	if ((error = conf_load(conf, path, cause)) != 0)
		return error;
	*from_file = true;
	temperd_apply_options(options, conf);
	return 0;
}

/* --- the running daemon --------------------------------------------------- */

static void
temperd_on_signal(uv_signal_t *handle, int signum)
{
	struct daemon *daemon = handle->data;

	if (signum == SIGHUP) {
		daemon_reload(daemon);
		return;
	}
	log_info("received %s; stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	daemon_stop(daemon);
}

int
main(int argc, char **argv)
{
	struct temperd_options options = { 0 };
	struct daemon daemon;
	struct conf conf;
	char *cause = NULL;
	bool from_file;
	int status = 0, error;

	log_init("temperd", LOG_LEVEL_INFO);
	temperd_parse_options(argc, argv, &options);

	conf_init(&conf);
	if (temperd_load_conf(&options, &conf, &cause, &from_file) != 0) {
		fprintf(stderr, "temperd: %s\n", cause ? cause : "cannot read the configuration");
		free(cause);
		conf_free(&conf);
		temperd_options_free(&options);
		return TEMPERD_EXIT_USAGE;
	}
	if (options.check_only) {
		char roles[128];

		conf_format_roles(conf.roles, roles, sizeof roles);
		printf("configuration %s is valid (roles %s, listen %s)\n",
		    from_file ? (options.config_path ? options.config_path : CONF_DEFAULT_PATH) :
		    "(built-in defaults)", roles, conf.listen);
		conf_free(&conf);
		temperd_options_free(&options);
		return 0;
	}
	log_set_level(log_level_from_name(conf.log_level));
	log_route_libbpf();
	/* A client that goes away mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	error = daemon_init(&daemon, &conf, from_file ?
	    (options.config_path ? options.config_path : CONF_DEFAULT_PATH) : NULL,
	    temperd_apply_options_cb, &options, &cause);
	if (error != 0) {
		log_error("cannot start: %s; exiting", cause ? cause : strerror(-error));
		free(cause);
		daemon_free(&daemon);
		temperd_options_free(&options);
		return TEMPERD_EXIT_FAILURE;
	}
	daemon_watch_signals(&daemon, temperd_on_signal);
	status = daemon_run(&daemon);
	daemon_free(&daemon);
	temperd_options_free(&options);
	return status;
}
