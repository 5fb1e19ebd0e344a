/*
 * conf.c - temper.conf.
 *
 * Each section has a table of keys; anything not in a table is an error
 * naming its line and column, so a typo never silently keeps a default.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "toml.h"

/* temper.conf is small; a bigger file is a mistake, not a config. */
#define CONF_MAX_BYTES (1024 * 1024)

static const struct {
	const char *name;
	unsigned bit;
} conf_roles[] = {
	{ "agent", CONF_ROLE_AGENT },
	{ "extender", CONF_ROLE_EXTENDER },
	{ "webhook", CONF_ROLE_WEBHOOK },
	{ "controller", CONF_ROLE_CONTROLLER },
	{ "dashboard", CONF_ROLE_DASHBOARD },
};

static const char *const conf_enforcement_names[] = {
	[CONF_ENFORCEMENT_AUTO] = "auto",
	[CONF_ENFORCEMENT_SCX] = "scx",
	[CONF_ENFORCEMENT_CGROUP] = "cgroup",
	[CONF_ENFORCEMENT_OFF] = "off",
};

void
conf_init(struct conf *conf)
{
	memset(conf, 0, sizeof *conf);
	conf->roles = CONF_ROLE_AGENT;
	conf->listen = strdup(CONF_DEFAULT_LISTEN);
	conf->state_dir = strdup(CONF_DEFAULT_STATE_DIR);
	conf->log_level = strdup("info");
	conf->legacy_annotations = true;
	conf->cgroup_root = strdup("/sys/fs/cgroup");
	conf->sysfs_root = strdup("/sys");
	conf->scheduler_bin = strdup("scx_layered");
	conf->enforcement = CONF_ENFORCEMENT_AUTO;
	http_server_limits_default(&conf->http);
	engine_config_defaults(&conf->engine);
	profile_config_defaults(&conf->profiles);
	cluster_config_defaults(&conf->cluster);
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->listen);
	free(conf->state_dir);
	free(conf->log_level);
	free(conf->api_token_file);
	free(conf->tls_cert);
	free(conf->tls_key);
	free(conf->kubeconfig);
	free(conf->node_name);
	free(conf->cgroup_root);
	free(conf->sysfs_root);
	free(conf->scheduler_bin);
	free(conf->cpu_manager_state);
	profile_config_free(&conf->profiles);
	memset(conf, 0, sizeof *conf);
}

int
conf_parse_roles(const char *text, unsigned *roles, char **cause)
{
	const char *p = text;
	unsigned bits = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < sizeof conf_roles / sizeof conf_roles[0]; i++) {
			if (strlen(conf_roles[i].name) == len &&
			    strncmp(conf_roles[i].name, p, len) == 0) {
				bits |= conf_roles[i].bit;
				found = true;
			}
		}
		if (!found) {
			if (cause != NULL && asprintf(cause,
			    "unknown role '%.*s' (roles: agent, extender, webhook, controller, dashboard)",
			    (int)len, p) < 0)
				*cause = NULL;
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (bits == 0) {
		if (cause != NULL && asprintf(cause, "no role given") < 0)
			*cause = NULL;
		return -EINVAL;
	}
	*roles = bits;
	return 0;
}

void
conf_format_roles(unsigned roles, char *out, size_t size)
{
	size_t at = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof conf_roles / sizeof conf_roles[0]; i++) {
		if ((roles & conf_roles[i].bit) == 0)
			continue;
		at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%s%s",
		    at ? "," : "", conf_roles[i].name);
		if (at >= size)
			return;
	}
}

int
conf_parse_enforcement(const char *text, enum conf_enforcement *mode)
{
	for (size_t i = 0; i < sizeof conf_enforcement_names / sizeof conf_enforcement_names[0]; i++) {
		if (strcmp(text, conf_enforcement_names[i]) == 0) {
			*mode = (enum conf_enforcement)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
conf_enforcement_name(enum conf_enforcement mode)
{
	return conf_enforcement_names[mode];
}

/* --- the table of keys ---------------------------------------------------- */

struct conf_parser {
	const char *path;
	char **cause;
};

__attribute__((format(printf, 3, 4)))
static int
conf_error(struct conf_parser *parser, const struct toml_value *at,
    const char *fmt, ...)
{
	char *reason = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	if (parser->cause != NULL) {
		if (asprintf(parser->cause, "%s: line %u, column %u: %s", parser->path,
		    at ? at->line : 1, at ? at->column : 1,
		    reason ? reason : "out of memory") < 0)
			*parser->cause = NULL;
	}
	free(reason);
	return -EINVAL;
}

enum conf_kind {
	CONF_STRING,		/* char * */
	CONF_PATH,		/* char *, must be absolute */
	CONF_BOOL,		/* bool */
	CONF_FALLBACK,		/* bool: "cgroup" true, "none" false */
	CONF_SIZE,		/* size_t, positive */
	CONF_MILLIS,		/* uint64_t, positive */
	CONF_COUNT,		/* unsigned, positive */
	CONF_ROLES,		/* unsigned bits, from an array of strings */
	CONF_ENFORCEMENT,	/* enum conf_enforcement */
	CONF_LOG_LEVEL,		/* char *, one of the levels */
};

struct conf_key {
	const char *section;
	const char *key;
	enum conf_kind kind;
	size_t offset;
};

#define CONF_KEY(section, key, kind, field) \
	{ section, key, kind, offsetof(struct conf, field) }

static const struct conf_key conf_keys[] = {
	CONF_KEY("daemon", "roles", CONF_ROLES, roles),
	CONF_KEY("daemon", "listen", CONF_STRING, listen),
	CONF_KEY("daemon", "state_dir", CONF_PATH, state_dir),
	CONF_KEY("daemon", "log_level", CONF_LOG_LEVEL, log_level),
	CONF_KEY("daemon", "api_token_file", CONF_PATH, api_token_file),
	CONF_KEY("tls", "cert", CONF_PATH, tls_cert),
	CONF_KEY("tls", "key", CONF_PATH, tls_key),
	CONF_KEY("http", "max_header_bytes", CONF_SIZE, http.max_header_bytes),
	CONF_KEY("http", "max_body_bytes", CONF_SIZE, http.max_body_bytes),
	CONF_KEY("http", "request_timeout_ms", CONF_MILLIS, http.request_timeout_ms),
	CONF_KEY("http", "idle_timeout_ms", CONF_MILLIS, http.idle_timeout_ms),
	CONF_KEY("http", "max_connections", CONF_COUNT, http.max_connections),
	CONF_KEY("kubernetes", "kubeconfig", CONF_PATH, kubeconfig),
	CONF_KEY("kubernetes", "node_name", CONF_STRING, node_name),
	CONF_KEY("kubernetes", "legacy_annotations", CONF_BOOL, legacy_annotations),
	CONF_KEY("node", "cgroup_root", CONF_PATH, cgroup_root),
	CONF_KEY("node", "sysfs_root", CONF_PATH, sysfs_root),
	CONF_KEY("enforcement", "mode", CONF_ENFORCEMENT, enforcement),
	CONF_KEY("enforcement", "scheduler_bin", CONF_STRING, scheduler_bin),
	CONF_KEY("enforcement", "attach_timeout_ms", CONF_MILLIS, attach_timeout_ms),
	CONF_KEY("enforcement", "fallback", CONF_FALLBACK, fallback_cgroup),
	CONF_KEY("enforcement", "exclusive_critical", CONF_BOOL, exclusive_critical),
	CONF_KEY("enforcement", "cpu_manager_state", CONF_PATH, cpu_manager_state),
};

static int
conf_set_string(struct conf_parser *parser, const struct toml_value *value,
    char **field, bool path)
{
	char *copy;

	if (value->type != TOML_STRING)
		return conf_error(parser, value, "expected a string, found %s",
		    toml_type_name(value->type));
	if (strlen(value->u.string.text) != value->u.string.len)
		return conf_error(parser, value, "a NUL byte is not allowed here");
	if (path && value->u.string.text[0] != '/')
		return conf_error(parser, value, "expected an absolute path, found '%s'",
		    value->u.string.text);
	if ((copy = strdup(value->u.string.text)) == NULL)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int
conf_positive(struct conf_parser *parser, const struct toml_value *value,
    int64_t max, int64_t *out)
{
	if (value->type != TOML_INTEGER)
		return conf_error(parser, value, "expected an integer, found %s",
		    toml_type_name(value->type));
	if (value->u.integer <= 0 || value->u.integer > max)
		return conf_error(parser, value, "expected 1 to %lld, found %lld",
		    (long long)max, (long long)value->u.integer);
	*out = value->u.integer;
	return 0;
}

static int
conf_set(struct conf_parser *parser, struct conf *conf, const struct conf_key *key,
    const struct toml_value *value)
{
	char *field = (char *)conf + key->offset;
	int64_t number;
	int error;

	switch (key->kind) {
	case CONF_STRING:
	case CONF_PATH:
		return conf_set_string(parser, value, (char **)field, key->kind == CONF_PATH);
	case CONF_LOG_LEVEL:
		if (value->type != TOML_STRING ||
		    (strcmp(value->u.string.text, "error") != 0 &&
		     strcmp(value->u.string.text, "warn") != 0 &&
		     strcmp(value->u.string.text, "info") != 0 &&
		     strcmp(value->u.string.text, "debug") != 0))
			return conf_error(parser, value,
			    "expected one of \"error\", \"warn\", \"info\", \"debug\"");
		return conf_set_string(parser, value, (char **)field, false);
	case CONF_FALLBACK:
		if (value->type != TOML_STRING || (strcmp(value->u.string.text, "cgroup") != 0 &&
		    strcmp(value->u.string.text, "none") != 0))
			return conf_error(parser, value, "expected \"cgroup\" or \"none\"");
		*(bool *)field = strcmp(value->u.string.text, "cgroup") == 0;
		return 0;
	case CONF_BOOL:
		if (value->type != TOML_BOOLEAN)
			return conf_error(parser, value, "expected true or false, found %s",
			    toml_type_name(value->type));
		*(bool *)field = value->u.boolean;
		return 0;
	case CONF_SIZE:
		if ((error = conf_positive(parser, value, INT64_C(1) << 40, &number)) != 0)
			return error;
		*(size_t *)field = (size_t)number;
		return 0;
	case CONF_MILLIS:
		if ((error = conf_positive(parser, value, INT64_C(1) << 40, &number)) != 0)
			return error;
		*(uint64_t *)field = (uint64_t)number;
		return 0;
	case CONF_COUNT:
		if ((error = conf_positive(parser, value, 1000000, &number)) != 0)
			return error;
		*(unsigned *)field = (unsigned)number;
		return 0;
	case CONF_ENFORCEMENT:
		if (value->type != TOML_STRING ||
		    conf_parse_enforcement(value->u.string.text, (enum conf_enforcement *)field) != 0)
			return conf_error(parser, value,
			    "expected one of \"auto\", \"scx\", \"cgroup\", \"off\"");
		return 0;
	case CONF_ROLES: {
		unsigned bits = 0, one;
		char *why = NULL;

		if (value->type != TOML_ARRAY || value->u.array.count == 0)
			return conf_error(parser, value, "expected a non-empty array of role names");
		for (size_t i = 0; i < value->u.array.count; i++) {
			const struct toml_value *item = value->u.array.items[i];

			if (item->type != TOML_STRING || strchr(item->u.string.text, ',') != NULL ||
			    conf_parse_roles(item->u.string.text, &one, &why) != 0) {
				error = conf_error(parser, item, "%s",
				    why ? why : "expected a role name");
				free(why);
				return error;
			}
			bits |= one;
		}
		*(unsigned *)field = bits;
		return 0;
	}
	}
	return -EINVAL;
}

static int
conf_parse_section(struct conf_parser *parser, struct conf *conf,
    const char *section, const struct toml_value *table)
{
	int error;

	if (table->type != TOML_TABLE)
		return conf_error(parser, table, "[%s] must be a table", section);
	for (size_t i = 0; i < table->u.table.count; i++) {
		const struct toml_pair *pair = &table->u.table.pairs[i];
		const struct conf_key *key = NULL;

		for (size_t k = 0; k < sizeof conf_keys / sizeof conf_keys[0]; k++) {
			if (strcmp(conf_keys[k].section, section) == 0 &&
			    strcmp(conf_keys[k].key, pair->key) == 0)
				key = &conf_keys[k];
		}
		if (key == NULL)
			return conf_error(parser, pair->value, "unknown key '%s' in [%s]",
			    pair->key, section);
		if ((error = conf_set(parser, conf, key, pair->value)) != 0)
			return error;
	}
	return 0;
}

/* Sections another module reads from the same document. */
static bool
conf_engine_section(const char *name)
{
	return strcmp(name, "priority_mapping") == 0 || strcmp(name, "planner") == 0 ||
	    strcmp(name, "profiles") == 0 || cluster_config_section(name);
}

static bool
conf_known_section(const char *name)
{
	for (size_t k = 0; k < sizeof conf_keys / sizeof conf_keys[0]; k++) {
		if (strcmp(conf_keys[k].section, name) == 0)
			return true;
	}
	return false;
}

int
conf_parse(struct conf *conf, const char *text, size_t len, const char *path,
    char **cause)
{
	struct conf_parser parser = { path, cause };
	struct toml_value *root;
	struct conf parsed;
	char *why = NULL;
	int error = 0;

	if ((root = toml_parse(text, len, &why)) == NULL) {
		error = errno == ENOMEM ? -ENOMEM : -EINVAL;
		if (cause != NULL && asprintf(cause, "%s: %s", path,
		    why ? why : "cannot parse") < 0)
			*cause = NULL;
		free(why);
		return error;
	}
	/* Parse into a copy of the defaults: the caller's conf is untouched on error. */
	conf_init(&parsed);
	for (size_t i = 0; i < root->u.table.count && error == 0; i++) {
		const struct toml_pair *pair = &root->u.table.pairs[i];

		if (pair->value->type != TOML_TABLE)
			error = conf_error(&parser, pair->value,
			    "key '%s' outside any section", pair->key);
		else if (conf_engine_section(pair->key))
			continue;
		else if (!conf_known_section(pair->key))
			error = conf_error(&parser, pair->value, "unknown section [%s]",
			    pair->key);
		else
			error = conf_parse_section(&parser, &parsed, pair->key, pair->value);
	}
	if (error == 0 && (error = engine_config_from_toml(root, &parsed.engine, &why)) != 0) {
		if (cause != NULL && asprintf(cause, "%s: %s", path, why ? why : "bad engine section") < 0)
			*cause = NULL;
		free(why);
		why = NULL;
	}
	if (error == 0 && (error = profile_config_from_toml(root, &parsed.profiles, &why)) != 0) {
		if (cause != NULL && asprintf(cause, "%s: %s", path, why ? why : "bad [profiles]") < 0)
			*cause = NULL;
		free(why);
		why = NULL;
	}
	if (error == 0 && (error = cluster_config_from_toml(root, &parsed.cluster, &why)) != 0) {
		if (cause != NULL && asprintf(cause, "%s: %s", path, why ? why : "bad cluster section") < 0)
			*cause = NULL;
		free(why);
		why = NULL;
	}
	if (error == 0 && (parsed.tls_cert == NULL) != (parsed.tls_key == NULL))
		error = conf_error(&parser, toml_get(root, "tls"),
		    "[tls] needs both cert and key");
	toml_free(root);
	if (error != 0) {
		conf_free(&parsed);
		return error;
	}
	conf_free(conf);
	*conf = parsed;
	return 0;
}

int
conf_load(struct conf *conf, const char *path, char **cause)
{
	struct stat st;
	char *text = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, error = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = -errno;
		if (cause != NULL && asprintf(cause, "%s: %s", path, strerror(errno)) < 0)
			*cause = NULL;
		return error;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONF_MAX_BYTES) {
		if (cause != NULL && asprintf(cause, "%s: not a regular file of at most %d bytes",
		    path, CONF_MAX_BYTES) < 0)
			*cause = NULL;
		close(fd);
		return -EINVAL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size &&
	    (n = read(fd, text + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	text[len] = '\0';
	error = conf_parse(conf, text, len, path, cause);
	free(text);
	return error;
}
