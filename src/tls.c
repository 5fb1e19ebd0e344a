/*
 * tls.c - TLS sessions over mbedtls, fed from and flushed to libuv sockets.
 *
 * A tls_config owns the current "keypair generation": an mbedtls_ssl_config
 * with its certificates.  Sessions hold a reference to the generation they
 * started with, so a certificate reload swaps the generation for new
 * sessions while established ones finish on the old one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "buf.h"
#include "tls.h"

/* Bound on ciphertext a peer may queue before the owner drains it. */
#define TLS_INPUT_MAX (1024 * 1024)

struct tls_generation {
	unsigned refs;
	mbedtls_ssl_config ssl_config;
	mbedtls_x509_crt own_cert;
	mbedtls_pk_context own_key;
	mbedtls_x509_crt ca;
	bool has_own_cert;
	bool has_ca;
};

struct tls_config {
	bool server;
	char *cert_path;
	char *key_path;
	struct tls_generation *current;
};

struct tls_session {
	struct tls_generation *generation;
	mbedtls_ssl_context ssl;
	struct buf in;		/* ciphertext fed, not yet consumed by mbedtls */
	size_t in_offset;
	struct buf out;		/* ciphertext produced, not yet flushed */
	bool established;
	bool verify_ip;		/* check the peer's IP SAN ourselves */
	unsigned char ip[16];
	size_t ip_len;
	char error[256];
};

/*
 * ECDHE suites with AEAD ciphers: what Go's crypto/tls (kube-apiserver,
 * kube-scheduler) and curl offer for TLS 1.2.  mbedtls 2.28 has no
 * production TLS 1.3, so 1.2 is the floor and the ceiling there.
 */
static const int tls_ciphersuites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};

/* One random source for the whole (single-threaded) process. */
static mbedtls_entropy_context tls_entropy;
static mbedtls_ctr_drbg_context tls_drbg;
static bool tls_drbg_ready;

static int
tls_drbg_init(char **cause)
{
	int ret;

	if (tls_drbg_ready)
		return 0;
	mbedtls_entropy_init(&tls_entropy);
	mbedtls_ctr_drbg_init(&tls_drbg);
	ret = mbedtls_ctr_drbg_seed(&tls_drbg, mbedtls_entropy_func,
	    &tls_entropy, (const unsigned char *)"temper", 6);
	if (ret != 0) {
		if (cause != NULL && asprintf(cause, "seeding the random generator failed (-0x%04x)", -ret) < 0)
			*cause = NULL;
		return -EIO;
	}
	tls_drbg_ready = true;
	return 0;
}

static void
tls_set_cause(char **cause, const char *what, const char *path, int ret)
{
	char reason[160];

	if (cause == NULL)
		return;
	mbedtls_strerror(ret, reason, sizeof reason);
	if (asprintf(cause, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
	    reason) < 0)
		*cause = NULL;
}

static void
tls_generation_unref(struct tls_generation *generation)
{
	if (generation == NULL || --generation->refs > 0)
		return;
	mbedtls_ssl_config_free(&generation->ssl_config);
	mbedtls_x509_crt_free(&generation->own_cert);
	mbedtls_pk_free(&generation->own_key);
	mbedtls_x509_crt_free(&generation->ca);
	free(generation);
}

static struct tls_generation *
tls_generation_new(int endpoint)
{
	struct tls_generation *generation;

	if ((generation = calloc(1, sizeof *generation)) == NULL)
		return NULL;
	generation->refs = 1;
	mbedtls_ssl_config_init(&generation->ssl_config);
	mbedtls_x509_crt_init(&generation->own_cert);
	mbedtls_pk_init(&generation->own_key);
	mbedtls_x509_crt_init(&generation->ca);
	if (mbedtls_ssl_config_defaults(&generation->ssl_config, endpoint,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
		tls_generation_unref(generation);
		errno = EINVAL;
		return NULL;
	}
	mbedtls_ssl_conf_rng(&generation->ssl_config, mbedtls_ctr_drbg_random, &tls_drbg);
	mbedtls_ssl_conf_min_version(&generation->ssl_config,
	    MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&generation->ssl_config, tls_ciphersuites);
	return generation;
}

static struct tls_generation *
tls_generation_load_server(const char *cert_path, const char *key_path,
    char **cause)
{
	struct tls_generation *generation;
	int ret;

	if ((generation = tls_generation_new(MBEDTLS_SSL_IS_SERVER)) == NULL) {
		tls_set_cause(cause, "creating the TLS configuration failed", NULL, 0);
		return NULL;
	}
	if ((ret = mbedtls_x509_crt_parse_file(&generation->own_cert, cert_path)) != 0) {
		tls_set_cause(cause, "cannot load certificate", cert_path, ret);
		goto fail;
	}
	if ((ret = mbedtls_pk_parse_keyfile(&generation->own_key, key_path, NULL)) != 0) {
		tls_set_cause(cause, "cannot load private key", key_path, ret);
		goto fail;
	}
	if ((ret = mbedtls_pk_check_pair(&generation->own_cert.pk, &generation->own_key)) != 0) {
		tls_set_cause(cause, "private key does not match certificate", cert_path, ret);
		goto fail;
	}
	if ((ret = mbedtls_ssl_conf_own_cert(&generation->ssl_config,
	    &generation->own_cert, &generation->own_key)) != 0) {
		tls_set_cause(cause, "cannot use certificate", cert_path, ret);
		goto fail;
	}
	generation->has_own_cert = true;
	return generation;
fail:
	tls_generation_unref(generation);
	errno = EINVAL;
	return NULL;
}

struct tls_config *
tls_config_server_new(const char *cert_path, const char *key_path, char **cause)
{
	struct tls_config *config;

	if (tls_drbg_init(cause) != 0) {
		errno = EIO;
		return NULL;
	}
	if ((config = calloc(1, sizeof *config)) == NULL)
		return NULL;
	config->server = true;
	config->cert_path = strdup(cert_path);
	config->key_path = strdup(key_path);
	if (config->cert_path == NULL || config->key_path == NULL) {
		tls_config_free(config);
		errno = ENOMEM;
		return NULL;
	}
	config->current = tls_generation_load_server(cert_path, key_path, cause);
	if (config->current == NULL) {
		tls_config_free(config);
		errno = EINVAL;
		return NULL;
	}
	return config;
}

int
tls_config_reload(struct tls_config *config, char **cause)
{
	struct tls_generation *generation;

	if (!config->server)
		return -EINVAL;
	generation = tls_generation_load_server(config->cert_path, config->key_path, cause);
	if (generation == NULL)
		return -EINVAL;
	tls_generation_unref(config->current);
	config->current = generation;
	return 0;
}

/* mbedtls wants PEM text NUL-terminated, with the NUL counted. */
static int
tls_parse_pem_crt(mbedtls_x509_crt *crt, const char *pem, size_t len)
{
	unsigned char *copy;
	int ret;

	if ((copy = malloc(len + 1)) == NULL)
		return MBEDTLS_ERR_X509_ALLOC_FAILED;
	memcpy(copy, pem, len);
	copy[len] = '\0';
	ret = mbedtls_x509_crt_parse(crt, copy, len + 1);
	free(copy);
	return ret;
}

static int
tls_parse_pem_key(mbedtls_pk_context *pk, const char *pem, size_t len)
{
	unsigned char *copy;
	int ret;

	if ((copy = malloc(len + 1)) == NULL)
		return MBEDTLS_ERR_PK_ALLOC_FAILED;
	memcpy(copy, pem, len);
	copy[len] = '\0';
	ret = mbedtls_pk_parse_key(pk, copy, len + 1, NULL, 0);
	mbedtls_platform_zeroize(copy, len);
	free(copy);
	return ret;
}

struct tls_config *
tls_config_client_new(const char *ca_pem, size_t ca_len, const char *cert_pem,
    size_t cert_len, const char *key_pem, size_t key_len, bool insecure,
    char **cause)
{
	struct tls_config *config;
	struct tls_generation *generation;
	int ret;

	if (tls_drbg_init(cause) != 0) {
		errno = EIO;
		return NULL;
	}
	if ((config = calloc(1, sizeof *config)) == NULL)
		return NULL;
	if ((generation = tls_generation_new(MBEDTLS_SSL_IS_CLIENT)) == NULL) {
		tls_set_cause(cause, "creating the TLS configuration failed", NULL, 0);
		goto fail;
	}
	config->current = generation;
	if (ca_pem != NULL) {
		if ((ret = tls_parse_pem_crt(&generation->ca, ca_pem, ca_len)) != 0) {
			tls_set_cause(cause, "cannot parse CA certificate", NULL, ret);
			goto fail;
		}
		generation->has_ca = true;
		mbedtls_ssl_conf_ca_chain(&generation->ssl_config, &generation->ca, NULL);
	}
	if (cert_pem != NULL && key_pem != NULL) {
		if ((ret = tls_parse_pem_crt(&generation->own_cert, cert_pem, cert_len)) != 0) {
			tls_set_cause(cause, "cannot parse client certificate", NULL, ret);
			goto fail;
		}
		if ((ret = tls_parse_pem_key(&generation->own_key, key_pem, key_len)) != 0) {
			tls_set_cause(cause, "cannot parse client key", NULL, ret);
			goto fail;
		}
		if ((ret = mbedtls_ssl_conf_own_cert(&generation->ssl_config,
		    &generation->own_cert, &generation->own_key)) != 0) {
			tls_set_cause(cause, "cannot use client certificate", NULL, ret);
			goto fail;
		}
		generation->has_own_cert = true;
	}
	if (insecure) {
		mbedtls_ssl_conf_authmode(&generation->ssl_config, MBEDTLS_SSL_VERIFY_NONE);
	} else if (!generation->has_ca) {
		if (cause != NULL && asprintf(cause, "no CA certificate to verify the server with") < 0)
			*cause = NULL;
		goto fail;
	} else {
		mbedtls_ssl_conf_authmode(&generation->ssl_config, MBEDTLS_SSL_VERIFY_REQUIRED);
	}
	return config;
fail:
	tls_config_free(config);
	errno = EINVAL;
	return NULL;
}

void
tls_config_free(struct tls_config *config)
{
	if (config == NULL)
		return;
	tls_generation_unref(config->current);
	free(config->cert_path);
	free(config->key_path);
	free(config);
}

static int
tls_bio_send(void *context, const unsigned char *data, size_t len)
{
	struct tls_session *session = context;

	if (buf_append(&session->out, data, len) != 0)
		return MBEDTLS_ERR_SSL_ALLOC_FAILED;
	return (int)len;
}

static int
tls_bio_recv(void *context, unsigned char *data, size_t len)
{
	struct tls_session *session = context;
	size_t available = session->in.len - session->in_offset;

	if (available == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (len > available)
		len = available;
	memcpy(data, session->in.data + session->in_offset, len);
	session->in_offset += len;
	if (session->in_offset == session->in.len) {
		buf_reset(&session->in);
		session->in_offset = 0;
	}
	return (int)len;
}

/*
 * mbedtls 2.28 matches the expected name against DNS names only.  For an
 * IP address (kube-apiserver on 127.0.0.1, a webhook behind an IP SAN) the
 * leaf certificate's iPAddress entries are compared here instead.
 */
static int
tls_verify_ip(void *context, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_session *session = context;
	const mbedtls_x509_sequence *san;

	if (depth != 0 || !session->verify_ip)
		return 0;
	for (san = &crt->subject_alt_names; san != NULL && san->buf.p != NULL; san = san->next) {
		if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
		    san->buf.len == session->ip_len &&
		    memcmp(san->buf.p, session->ip, session->ip_len) == 0)
			return 0;
	}
	*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

struct tls_session *
tls_session_new(struct tls_config *config, const char *hostname)
{
	struct tls_session *session;

	if ((session = calloc(1, sizeof *session)) == NULL)
		return NULL;
	session->generation = config->current;
	session->generation->refs++;
	mbedtls_ssl_init(&session->ssl);
	if (mbedtls_ssl_setup(&session->ssl, &session->generation->ssl_config) != 0)
		goto fail;
	if (hostname != NULL) {
		if (inet_pton(AF_INET, hostname, session->ip) == 1) {
			session->ip_len = 4;
			session->verify_ip = true;
		} else if (inet_pton(AF_INET6, hostname, session->ip) == 1) {
			session->ip_len = 16;
			session->verify_ip = true;
		} else if (mbedtls_ssl_set_hostname(&session->ssl, hostname) != 0) {
			goto fail;
		}
		if (session->verify_ip)
			mbedtls_ssl_set_verify(&session->ssl, tls_verify_ip, session);
	}
	mbedtls_ssl_set_bio(&session->ssl, session, tls_bio_send, tls_bio_recv, NULL);
	return session;
fail:
	tls_session_free(session);
	errno = ENOMEM;
	return NULL;
}

void
tls_session_free(struct tls_session *session)
{
	if (session == NULL)
		return;
	mbedtls_ssl_free(&session->ssl);
	tls_generation_unref(session->generation);
	buf_free(&session->in);
	buf_free(&session->out);
	free(session);
}

int
tls_session_feed(struct tls_session *session, const void *data, size_t len)
{
	if (session->in.len - session->in_offset + len > TLS_INPUT_MAX)
		return -ENOBUFS;
	return buf_append(&session->in, data, len);
}

static int
tls_session_fail(struct tls_session *session, const char *what, int ret)
{
	char reason[160];

	mbedtls_strerror(ret, reason, sizeof reason);
	snprintf(session->error, sizeof session->error, "%s: %s", what, reason);
	if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		char info[128];
		uint32_t flags = mbedtls_ssl_get_verify_result(&session->ssl);

		if (mbedtls_x509_crt_verify_info(info, sizeof info, "", flags) > 0) {
			info[strcspn(info, "\n")] = '\0';
			snprintf(session->error, sizeof session->error,
			    "%s: certificate verification failed: %s", what, info);
		}
	}
	return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EPROTO;
}

int
tls_session_handshake(struct tls_session *session)
{
	int ret;

	if (session->established)
		return 0;
	ret = mbedtls_ssl_handshake(&session->ssl);
	if (ret == 0) {
		session->established = true;
		return 0;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return -EAGAIN;
	return tls_session_fail(session, "handshake failed", ret);
}

bool
tls_session_established(const struct tls_session *session)
{
	return session->established;
}

int
tls_session_read(struct tls_session *session, struct buf *out)
{
	int ret, error;

	for (;;) {
		if ((error = buf_reserve(out, 16384)) != 0)
			return error;
		ret = mbedtls_ssl_read(&session->ssl,
		    (unsigned char *)out->data + out->len, 16384);
		if (ret > 0) {
			out->len += (size_t)ret;
			out->data[out->len] = '\0';
			continue;
		}
		if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			return 0;
		if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
			return -EPIPE;
		return tls_session_fail(session, "read failed", ret);
	}
}

int
tls_session_write(struct tls_session *session, const void *data, size_t len)
{
	const unsigned char *p = data;
	int ret;

	while (len > 0) {
		ret = mbedtls_ssl_write(&session->ssl, p, len);
		if (ret < 0) {
			if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
				continue;
			return tls_session_fail(session, "write failed", ret);
		}
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

void
tls_session_close_notify(struct tls_session *session)
{
	if (session->established)
		(void)mbedtls_ssl_close_notify(&session->ssl);
}

struct buf *
tls_session_pending(struct tls_session *session)
{
	return &session->out;
}

const char *
tls_session_error(const struct tls_session *session)
{
	return session->error[0] != '\0' ? session->error : "no error";
}

const char *
tls_session_version(const struct tls_session *session)
{
	return mbedtls_ssl_get_version(&session->ssl);
}

const char *
tls_session_ciphersuite(const struct tls_session *session)
{
	return mbedtls_ssl_get_ciphersuite(&session->ssl);
}
