/*
 * conf.h - temper.conf: what every role reads at start and on SIGHUP.
 *
 * Pure: conf_parse turns TOML text into a struct conf or a reason
 * naming line and column; nothing is half-applied.  Command-line options
 * override what the file says (temperd.c does that).
 */
#ifndef TEMPER_CONF_H
#define TEMPER_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster-config.h"
#include "engine-config.h"
#include "http-server.h"
#include "profile-config.h"

#define CONF_DEFAULT_PATH TEMPER_SYSCONFDIR "/temper/temper.conf"
#define CONF_DEFAULT_LISTEN "0.0.0.0:9470"
#define CONF_DEFAULT_STATE_DIR "/run/temper"

enum conf_role {
	CONF_ROLE_AGENT = 1 << 0,
	CONF_ROLE_EXTENDER = 1 << 1,
	CONF_ROLE_WEBHOOK = 1 << 2,
	CONF_ROLE_CONTROLLER = 1 << 3,
	CONF_ROLE_DASHBOARD = 1 << 4,
};

enum conf_enforcement {
	CONF_ENFORCEMENT_AUTO,
	CONF_ENFORCEMENT_SCX,
	CONF_ENFORCEMENT_CGROUP,
	CONF_ENFORCEMENT_OFF,
};

struct conf {
	/* [daemon] */
	unsigned roles;			/* CONF_ROLE_* bits */
	char *listen;
	char *state_dir;
	char *log_level;		/* error, warn, info, debug */
	char *api_token_file;		/* bearer token for /api/v1 over TCP, or NULL */

	/* [tls] */
	char *tls_cert;
	char *tls_key;

	/* [http] */
	struct http_server_limits http;

	/* [kubernetes] */
	char *kubeconfig;		/* NULL: in-cluster service account */
	char *node_name;
	bool legacy_annotations;	/* also read and write infera.io/ keys */

	/* [node] */
	char *cgroup_root;
	char *sysfs_root;

	/* [enforcement] */
	enum conf_enforcement enforcement;
	bool fallback_cgroup;		/* auto without sched_ext: the cgroup backend */
	bool exclusive_critical;	/* cgroup backend: fence Critical on whole cores */
	char *cpu_manager_state;	/* the kubelet's, to leave its pods alone */
	char *scheduler_bin;
	uint64_t attach_timeout_ms;	/* scx_layered spawn to attached; 0: 30 s */

	/* [priority_mapping] and [planner], read by engine-config.c */
	struct engine_config engine;
	/* [profiles], read by profile-config.c */
	struct profile_config profiles;
	/* [extender], [webhook], [controller], read by cluster-config.c */
	struct cluster_config cluster;
};

void conf_init(struct conf *conf);
void conf_free(struct conf *conf);

/*
 * Parse TOML text over the defaults.  On error returns a negative errno,
 * leaves *conf untouched, and sets *cause to "PATH: line L, column C:
 * reason".
 */
int conf_parse(struct conf *conf, const char *text, size_t len,
    const char *path, char **cause);

/* Read and parse a file. */
int conf_load(struct conf *conf, const char *path, char **cause);

/* "agent,webhook" <-> bits. 0 or -EINVAL with *cause naming the bad role. */
int conf_parse_roles(const char *text, unsigned *roles, char **cause);
/* The roles as "agent,webhook" into a caller buffer. */
void conf_format_roles(unsigned roles, char *out, size_t size);
int conf_parse_enforcement(const char *text, enum conf_enforcement *mode);
const char *conf_enforcement_name(enum conf_enforcement mode);

#endif
