/*
 * kube-config.h - where the API server is and how to authenticate to it.
 *
 * Two sources: the in-cluster service account (token, CA and namespace
 * files plus KUBERNETES_SERVICE_HOST/PORT) and the kubeconfig subset
 * people use (current-context -> cluster server, certificate-authority
 * (-data), client-certificate/key(-data), token, tokenFile).  Parsing is
 * pure (kube_config_parse_kubeconfig); reading the files it names is a
 * separate step (kube_config_load_files) so fuzzers reach the parser alone.
 */
#ifndef TEMPER_KUBE_CONFIG_H
#define TEMPER_KUBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_CONFIG_SERVICE_ACCOUNT_DIR \
	"/var/run/secrets/kubernetes.io/serviceaccount"
/* Token, certificate and key files are small; bigger is not one of them. */
#define KUBE_CONFIG_MAX_FILE (1024 * 1024)

struct kube_config {
	char *server;		/* the URL as configured */
	bool tls;		/* https */
	char *host;		/* name or address, IPv6 without brackets */
	char *port;
	char *path_prefix;	/* "" or "/prefix", never a trailing slash */
	char *server_name;	/* the name the certificate must carry */

	/* PEM text, NUL-terminated (len excludes the NUL); NULL for none. */
	char *ca_pem;
	size_t ca_len;
	char *cert_pem;
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	/* Files still to read by kube_config_load_files; NULL when inline. */
	char *ca_path;
	char *cert_path;
	char *key_path;

	char *token;		/* bearer token, or NULL */
	char *token_path;	/* re-read periodically and after a 401 */
	bool insecure;		/* skip verification: only when allowed */
	char *namespace;	/* the context's or the service account's */
	char *context;		/* the context used, NULL in-cluster */
};

/*
 * Resolve the kubeconfig text (YAML) for context (NULL: current-context).
 * Relative file names are taken from base_dir.  insecure-skip-tls-verify
 * is refused unless allow_insecure.  NULL + *cause on failure.
 */
struct kube_config *kube_config_parse_kubeconfig(const char *text, size_t len,
    const char *base_dir, const char *context, bool allow_insecure,
    char **cause);

/* Read the certificate, key and token files a parsed config names. */
int kube_config_load_files(struct kube_config *config, char **cause);

/* Parse and load the kubeconfig at path. */
struct kube_config *kube_config_from_kubeconfig(const char *path,
    const char *context, bool allow_insecure, char **cause);

/*
 * The in-cluster configuration from the service-account directory dir
 * (NULL: KUBE_CONFIG_SERVICE_ACCOUNT_DIR) and KUBERNETES_SERVICE_HOST/PORT.
 */
struct kube_config *kube_config_in_cluster(const char *dir, char **cause);

/* Split an http(s) URL into the config's server fields.  0 or -EINVAL. */
int kube_config_set_server(struct kube_config *config, const char *url,
    char **cause);

/* Read a token file: whitespace trimmed, empty refused.  0 or -errno. */
int kube_config_read_token(const char *path, char **token, char **cause);

/* Read a whole small file (at most KUBE_CONFIG_MAX_FILE).  0 or -errno. */
int kube_config_read_file(const char *path, char **data, size_t *len,
    char **cause);

void kube_config_free(struct kube_config *config);

#endif
