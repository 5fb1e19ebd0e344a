/* kube-config.c - in-cluster and kubeconfig client configuration. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cause.h"
#include "kube-config.h"
#include "kube-yaml.h"

void
kube_config_free(struct kube_config *config)
{
	if (config == NULL)
		return;
	free(config->server);
	free(config->host);
	free(config->port);
	free(config->path_prefix);
	free(config->server_name);
	free(config->ca_pem);
	free(config->cert_pem);
	free(config->key_pem);
	free(config->ca_path);
	free(config->cert_path);
	free(config->key_path);
	free(config->token);
	free(config->token_path);
	free(config->namespace);
	free(config->context);
	free(config);
}

int
kube_config_set_server(struct kube_config *config, const char *url,
    char **cause)
{
	const char *rest, *host_end, *port = NULL, *path;
	size_t host_len, port_len = 0;
	char *end;
	unsigned long number;

	if (strncmp(url, "https://", 8) == 0) {
		config->tls = true;
		rest = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		config->tls = false;
		rest = url + 7;
	} else {
		cause_set(cause, "server \"%s\" is not an http(s) URL", url);
		return -EINVAL;
	}
	if (strpbrk(rest, "?#@ \t\r\n") != NULL) {
		cause_set(cause, "server \"%s\": user, query, fragment or "
		    "blanks are not supported", url);
		return -EINVAL;
	}
	path = rest + strcspn(rest, "/");
	if (rest[0] == '[') {
		if ((host_end = memchr(rest, ']', (size_t)(path - rest))) == NULL) {
			cause_set(cause, "server \"%s\": unclosed '['", url);
			return -EINVAL;
		}
		rest++;
		host_len = (size_t)(host_end - rest);
		host_end++;
	} else {
		host_end = rest + strcspn(rest, ":/");
		host_len = (size_t)(host_end - rest);
	}
	if (*host_end == ':') {
		port = host_end + 1;
		port_len = (size_t)(path - port);
	} else if (host_end != path) {
		cause_set(cause, "server \"%s\": junk after the host", url);
		return -EINVAL;
	}
	if (host_len == 0) {
		cause_set(cause, "server \"%s\" has no host", url);
		return -EINVAL;
	}
	if (port != NULL) {
		errno = 0;
		number = strtoul(port, &end, 10);
		if (port_len == 0 || end != port + port_len || number == 0 ||
		    number > 65535 || !isdigit((unsigned char)port[0])) {
			cause_set(cause, "server \"%s\": bad port", url);
			return -EINVAL;
		}
	}
	free(config->server);
	free(config->host);
	free(config->port);
	free(config->path_prefix);
	config->server = strdup(url);
	config->host = strndup(rest, host_len);
	config->port = port != NULL ? strndup(port, port_len) :
	    strdup(config->tls ? "443" : "80");
	/* Paths are appended to the prefix, so drop its trailing slashes. */
	port_len = strlen(path);
	while (port_len > 0 && path[port_len - 1] == '/')
		port_len--;
	config->path_prefix = strndup(path, port_len);
	if (config->server == NULL || config->host == NULL ||
	    config->port == NULL || config->path_prefix == NULL) {
		cause_set(cause, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
kube_config_base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 with padding; line breaks tolerated.  NUL-terminated. */
static int
kube_config_base64(const char *text, char **out, size_t *out_len)
{
	size_t len = strlen(text), i, n = 0, pad = 0, bits = 0;
	uint32_t accumulator = 0;
	unsigned char *data;
	int value;

	if ((data = malloc(len / 4 * 3 + 4)) == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		if (text[i] == '\n' || text[i] == '\r')
			continue;
		if (text[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (value = kube_config_base64_value(text[i])) < 0)
			goto bad;
		accumulator = (accumulator << 6) | (uint32_t)value;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			data[n++] = (unsigned char)(accumulator >> bits);
		}
	}
	/* Leftover bits must be zero padding of a whole quantum. */
	if (pad > 2 || bits >= 6 || (accumulator & ((1u << bits) - 1)) != 0 ||
	    (pad > 0 && (bits / 2) != pad))
		goto bad;
	data[n] = '\0';
	*out = (char *)data;
	*out_len = n;
	return 0;
bad:
	free(data);
	return -EINVAL;
}

static bool
kube_config_bool(const struct kube_yaml_node *node, bool *value)
{
	const char *text = kube_yaml_scalar(node);

	if (node == NULL || node->type == KUBE_YAML_NULL) {
		*value = false;
		return true;
	}
	if (text == NULL)
		return false;
	if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0 ||
	    strcmp(text, "TRUE") == 0) {
		*value = true;
		return true;
	}
	if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0 ||
	    strcmp(text, "FALSE") == 0) {
		*value = false;
		return true;
	}
	return false;
}

/* The entry of a named list ("clusters", "contexts", "users") called name. */
static const struct kube_yaml_node *
kube_config_named(const struct kube_yaml_node *root, const char *list,
    const char *inner, const char *name, char **cause)
{
	const struct kube_yaml_node *items, *item, *found = NULL;
	const char *item_name;

	items = kube_yaml_get(root, list);
	if (items != NULL && items->type != KUBE_YAML_SEQUENCE &&
	    items->type != KUBE_YAML_NULL) {
		cause_set(cause, "%s is not a list", list);
		return NULL;
	}
	for (item = items ? items->child : NULL; item != NULL; item = item->next) {
		item_name = kube_yaml_scalar(kube_yaml_get(item, "name"));
		if (item_name == NULL || strcmp(item_name, name) != 0)
			continue;
		if (found != NULL) {
			cause_set(cause, "%s has two entries named \"%s\"",
			    list, name);
			return NULL;
		}
		found = kube_yaml_get(item, inner);
		if (found == NULL || found->type != KUBE_YAML_MAPPING) {
			cause_set(cause, "%s entry \"%s\" has no %s mapping",
			    list, name, inner);
			return NULL;
		}
	}
	if (found == NULL)
		cause_set(cause, "no %s entry named \"%s\"", list, name);
	return found;
}

/* An optional string field; -EINVAL when present but not a scalar. */
static int
kube_config_string(const struct kube_yaml_node *mapping, const char *key,
    const char **out, char **cause)
{
	const struct kube_yaml_node *node = kube_yaml_get(mapping, key);

	*out = NULL;
	if (node == NULL || node->type == KUBE_YAML_NULL)
		return 0;
	if (node->type != KUBE_YAML_SCALAR) {
		cause_set(cause, "%s is not a string", key);
		return -EINVAL;
	}
	if (node->scalar[0] != '\0')
		*out = node->scalar;
	return 0;
}

static char *
kube_config_path(const char *base_dir, const char *name)
{
	char *path;

	if (name[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
		return strdup(name);
	if (asprintf(&path, "%s/%s", base_dir, name) < 0)
		return NULL;
	return path;
}

/*
 * Data (base64 in the file) wins over a file name when both are set, as in
 * client-go; a file name is kept to read later.
 */
static int
kube_config_material(const struct kube_yaml_node *mapping, const char *key,
    const char *base_dir, char **pem, size_t *pem_len, char **path,
    char **cause)
{
	const char *file, *data;
	char data_key[64];
	int error;

	snprintf(data_key, sizeof data_key, "%s-data", key);
	if ((error = kube_config_string(mapping, data_key, &data, cause)) != 0 ||
	    (error = kube_config_string(mapping, key, &file, cause)) != 0)
		return error;
	if (data != NULL) {
		if ((error = kube_config_base64(data, pem, pem_len)) != 0) {
			cause_set(cause, "%s is not base64", data_key);
			return error;
		}
		return 0;
	}
	if (file != NULL && (*path = kube_config_path(base_dir, file)) == NULL)
		return -ENOMEM;
	return 0;
}

static const char *const kube_config_user_unsupported[] = {
	"exec", "auth-provider", "username", "password", "as", "as-groups",
	"impersonate", "impersonate-groups",
};

struct kube_config *
kube_config_parse_kubeconfig(const char *text, size_t len,
    const char *base_dir, const char *context, bool allow_insecure,
    char **cause)
{
	const struct kube_yaml_node *context_node, *cluster, *user = NULL;
	struct kube_yaml_node *root;
	struct kube_config *config = NULL;
	const char *cluster_name, *user_name, *server, *value;
	char *yaml_cause = NULL;
	size_t i;
	int error = -EINVAL;

	if ((root = kube_yaml_parse(text, len, &yaml_cause)) == NULL) {
		cause_set(cause, "kubeconfig: %s",
		    yaml_cause ? yaml_cause : "not YAML");
		free(yaml_cause);
		errno = EINVAL;
		return NULL;
	}
	if (root->type != KUBE_YAML_MAPPING) {
		cause_set(cause, "kubeconfig: not a mapping");
		goto out;
	}
	if ((config = calloc(1, sizeof *config)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	if (context == NULL) {
		if (kube_config_string(root, "current-context", &context,
		    cause) != 0)
			goto out;
		if (context == NULL) {
			cause_set(cause, "kubeconfig: no current-context");
			goto out;
		}
	}
	if ((config->context = strdup(context)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	if ((context_node = kube_config_named(root, "contexts", "context",
	    context, cause)) == NULL)
		goto out;
	if (kube_config_string(context_node, "cluster", &cluster_name,
	    cause) != 0 || kube_config_string(context_node, "user", &user_name,
	    cause) != 0 || kube_config_string(context_node, "namespace", &value,
	    cause) != 0)
		goto out;
	if (value != NULL && (config->namespace = strdup(value)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	if (cluster_name == NULL) {
		cause_set(cause, "context \"%s\" names no cluster", context);
		goto out;
	}
	if ((cluster = kube_config_named(root, "clusters", "cluster",
	    cluster_name, cause)) == NULL)
		goto out;
	if (user_name != NULL && (user = kube_config_named(root, "users", "user",
	    user_name, cause)) == NULL)
		goto out;

	if (kube_config_string(cluster, "server", &server, cause) != 0)
		goto out;
	if (server == NULL) {
		cause_set(cause, "cluster \"%s\" has no server", cluster_name);
		goto out;
	}
	if ((error = kube_config_set_server(config, server, cause)) != 0)
		goto out;
	error = -EINVAL;
	if (kube_yaml_get(cluster, "proxy-url") != NULL) {
		cause_set(cause, "cluster \"%s\": proxy-url is not supported",
		    cluster_name);
		goto out;
	}
	if (kube_config_string(cluster, "tls-server-name", &value, cause) != 0)
		goto out;
	config->server_name = strdup(value != NULL ? value : config->host);
	if (config->server_name == NULL) {
		error = -ENOMEM;
		goto out;
	}
	if (!kube_config_bool(kube_yaml_get(cluster, "insecure-skip-tls-verify"),
	    &config->insecure)) {
		cause_set(cause, "insecure-skip-tls-verify is not a boolean");
		goto out;
	}
	if (config->insecure && !allow_insecure) {
		cause_set(cause, "cluster \"%s\" asks for "
		    "insecure-skip-tls-verify, which is refused unless allowed",
		    cluster_name);
		goto out;
	}
	if ((error = kube_config_material(cluster, "certificate-authority",
	    base_dir, &config->ca_pem, &config->ca_len, &config->ca_path,
	    cause)) != 0)
		goto out;
	if (config->insecure && (config->ca_pem != NULL ||
	    config->ca_path != NULL)) {
		error = -EINVAL;
		cause_set(cause, "cluster \"%s\" sets both a CA and "
		    "insecure-skip-tls-verify", cluster_name);
		goto out;
	}

	if (user != NULL) {
		for (i = 0; i < sizeof kube_config_user_unsupported /
		    sizeof kube_config_user_unsupported[0]; i++) {
			if (kube_yaml_get(user, kube_config_user_unsupported[i]) !=
			    NULL) {
				error = -ENOTSUP;
				cause_set(cause, "user \"%s\": %s is not "
				    "supported", user_name,
				    kube_config_user_unsupported[i]);
				goto out;
			}
		}
		if ((error = kube_config_material(user, "client-certificate",
		    base_dir, &config->cert_pem, &config->cert_len,
		    &config->cert_path, cause)) != 0 ||
		    (error = kube_config_material(user, "client-key", base_dir,
		    &config->key_pem, &config->key_len, &config->key_path,
		    cause)) != 0)
			goto out;
		error = -EINVAL;
		if ((config->cert_pem || config->cert_path) !=
		    (config->key_pem || config->key_path)) {
			cause_set(cause, "user \"%s\": a client certificate "
			    "needs its key and a key its certificate", user_name);
			goto out;
		}
		if (kube_config_string(user, "token", &value, cause) != 0)
			goto out;
		if (value != NULL && (config->token = strdup(value)) == NULL) {
			error = -ENOMEM;
			goto out;
		}
		if (kube_config_string(user, "tokenFile", &value, cause) != 0)
			goto out;
		if (value != NULL && (config->token_path =
		    kube_config_path(base_dir, value)) == NULL) {
			error = -ENOMEM;
			goto out;
		}
	}
	error = 0;
out:
	kube_yaml_free(root);
	if (error != 0) {
		if (error == -ENOMEM)
			cause_set(cause, "out of memory");
		kube_config_free(config);
		errno = -error;
		return NULL;
	}
	return config;
}

int
kube_config_read_file(const char *path, char **data, size_t *len, char **cause)
{
	char *buffer = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, error = 0;

	*data = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = -errno;
		cause_set(cause, "%s: %s", path, strerror(errno));
		return error;
	}
	if ((buffer = malloc(KUBE_CONFIG_MAX_FILE + 1)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buffer + used, KUBE_CONFIG_MAX_FILE + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = -errno;
			cause_set(cause, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > KUBE_CONFIG_MAX_FILE) {
			error = -EFBIG;
			cause_set(cause, "%s: larger than %d bytes", path,
			    KUBE_CONFIG_MAX_FILE);
			goto out;
		}
	}
	buffer[used] = '\0';
	*data = buffer;
	*len = used;
	buffer = NULL;
out:
	free(buffer);
	close(fd);
	return error;
}

int
kube_config_read_token(const char *path, char **token, char **cause)
{
	size_t len, start = 0;
	char *data;
	int error;

	*token = NULL;
	if ((error = kube_config_read_file(path, &data, &len, cause)) != 0)
		return error;
	while (start < len && isspace((unsigned char)data[start]))
		start++;
	while (len > start && isspace((unsigned char)data[len - 1]))
		len--;
	if (len == start || memchr(data + start, '\n', len - start) != NULL ||
	    memchr(data + start, '\0', len - start) != NULL) {
		cause_set(cause, "%s: %s", path, len == start ?
		    "empty token" : "a token must be one line");
		free(data);
		return -EINVAL;
	}
	memmove(data, data + start, len - start);
	data[len - start] = '\0';
	*token = data;
	return 0;
}

static int
kube_config_load_one(char **path, char **pem, size_t *len, char **cause)
{
	int error;

	if (*path == NULL || *pem != NULL)
		return 0;
	if ((error = kube_config_read_file(*path, pem, len, cause)) != 0)
		return error;
	return 0;
}

int
kube_config_load_files(struct kube_config *config, char **cause)
{
	char *token;
	int error;

	if ((error = kube_config_load_one(&config->ca_path, &config->ca_pem,
	    &config->ca_len, cause)) != 0 ||
	    (error = kube_config_load_one(&config->cert_path, &config->cert_pem,
	    &config->cert_len, cause)) != 0 ||
	    (error = kube_config_load_one(&config->key_path, &config->key_pem,
	    &config->key_len, cause)) != 0)
		return error;
	/* A token file wins over an inline token, as in client-go. */
	if (config->token_path != NULL) {
		if ((error = kube_config_read_token(config->token_path, &token,
		    cause)) != 0)
			return error;
		free(config->token);
		config->token = token;
	}
	return 0;
}

static char *
kube_config_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

struct kube_config *
kube_config_from_kubeconfig(const char *path, const char *context,
    bool allow_insecure, char **cause)
{
	struct kube_config *config = NULL;
	char *text = NULL, *dir = NULL, *inner = NULL;
	size_t len;
	int error;

	if ((error = kube_config_read_file(path, &text, &len, cause)) != 0)
		goto out;
	if ((dir = kube_config_dirname(path)) == NULL) {
		error = -ENOMEM;
		goto out;
	}
	config = kube_config_parse_kubeconfig(text, len, dir, context,
	    allow_insecure, &inner);
	if (config == NULL) {
		error = -errno;
		cause_set(cause, "%s: %s", path, inner ? inner : "invalid");
		goto out;
	}
	if ((error = kube_config_load_files(config, cause)) != 0)
		goto out;
out:
	free(inner);
	free(text);
	free(dir);
	if (error != 0) {
		kube_config_free(config);
		errno = -error;
		return NULL;
	}
	return config;
}

struct kube_config *
kube_config_in_cluster(const char *dir, char **cause)
{
	struct kube_config *config = NULL;
	const char *host, *port;
	char *url = NULL, *namespace_path = NULL, *namespace = NULL;
	size_t len;
	int error = -EINVAL;

	if (dir == NULL)
		dir = KUBE_CONFIG_SERVICE_ACCOUNT_DIR;
	host = getenv("KUBERNETES_SERVICE_HOST");
	port = getenv("KUBERNETES_SERVICE_PORT");
	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0') {
		cause_set(cause, "not in a cluster: KUBERNETES_SERVICE_HOST "
		    "or KUBERNETES_SERVICE_PORT is unset");
		goto out;
	}
	if ((config = calloc(1, sizeof *config)) == NULL)
		goto nomem;
	if (asprintf(&url, strchr(host, ':') != NULL ? "https://[%s]:%s" :
	    "https://%s:%s", host, port) < 0) {
		url = NULL;
		goto nomem;
	}
	if ((error = kube_config_set_server(config, url, cause)) != 0)
		goto out;
	if ((config->server_name = strdup(config->host)) == NULL ||
	    asprintf(&config->ca_path, "%s/ca.crt", dir) < 0 ||
	    asprintf(&config->token_path, "%s/token", dir) < 0 ||
	    asprintf(&namespace_path, "%s/namespace", dir) < 0)
		goto nomem;
	if ((error = kube_config_load_files(config, cause)) != 0)
		goto out;
	/* The namespace file is optional, as in client-go. */
	if (kube_config_read_file(namespace_path, &namespace, &len, NULL) == 0) {
		while (len > 0 && isspace((unsigned char)namespace[len - 1]))
			namespace[--len] = '\0';
		config->namespace = namespace;
		namespace = NULL;
	}
	error = 0;
	goto out;
nomem:
	error = -ENOMEM;
	cause_set(cause, "out of memory");
out:
	free(url);
	free(namespace_path);
	free(namespace);
	if (error != 0) {
		kube_config_free(config);
		errno = -error;
		return NULL;
	}
	return config;
}
