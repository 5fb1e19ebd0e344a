/*
 * tls.h - TLS over mbedtls for sockets owned by libuv.
 *
 * mbedtls never touches a socket here: a session is a memory-to-memory
 * engine.  The owner feeds it ciphertext read from the socket, takes
 * plaintext out, gives it plaintext to send and flushes the ciphertext it
 * produced (tls_session_pending) to the socket with uv_write.  The same
 * engine serves the HTTP server and the Kubernetes client.
 *
 * Errors: 0 or a negative errno; -EAGAIN means "feed me more ciphertext";
 * a human reason is available from tls_session_error.
 */
#ifndef TEMPER_TLS_H
#define TEMPER_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct tls_config;
struct tls_session;

/* Server side: a certificate chain and key, re-read by tls_config_reload. */
struct tls_config *tls_config_server_new(const char *cert_path,
    const char *key_path, char **cause);
/*
 * Re-read the files.  On success the new pair serves new sessions; on
 * failure the old pair keeps serving and *cause says why.
 */
int tls_config_reload(struct tls_config *config, char **cause);

/*
 * Client side: trust ca_pem (PEM text, NULL for none), optionally present a
 * client certificate (PEM text).  insecure skips verification and is only
 * honoured when the caller was explicitly allowed to.
 */
struct tls_config *tls_config_client_new(const char *ca_pem, size_t ca_len,
    const char *cert_pem, size_t cert_len, const char *key_pem,
    size_t key_len, bool insecure, char **cause);

void tls_config_free(struct tls_config *config);

/* hostname: the name (or IP) to verify on the client side, NULL on a server. */
struct tls_session *tls_session_new(struct tls_config *config,
    const char *hostname);
void tls_session_free(struct tls_session *session);

/* Hand ciphertext read from the socket to the session. 0 or -ENOMEM. */
int tls_session_feed(struct tls_session *session, const void *data, size_t len);

/*
 * Advance the handshake.  0 when complete, -EAGAIN when more input is
 * needed (flush tls_session_pending first), another negative errno on
 * failure.
 */
int tls_session_handshake(struct tls_session *session);
bool tls_session_established(const struct tls_session *session);

/*
 * Decrypt what was fed into out (appended).  Returns 0 (possibly with
 * nothing appended: -EAGAIN is folded into 0), -EPIPE on a clean
 * close_notify from the peer, or another negative errno.
 */
int tls_session_read(struct tls_session *session, struct buf *out);

/* Encrypt plaintext into the pending ciphertext. 0 or a negative errno. */
int tls_session_write(struct tls_session *session, const void *data, size_t len);

/* Queue a close_notify alert. */
void tls_session_close_notify(struct tls_session *session);

/* Ciphertext waiting to go to the socket; the caller takes it with buf_detach or buf_consume. */
struct buf *tls_session_pending(struct tls_session *session);

/* The last error in words ("handshake failed: ...", "bad record mac"). */
const char *tls_session_error(const struct tls_session *session);

/* The protocol and suite of an established session ("TLSv1.2", "..."). */
const char *tls_session_version(const struct tls_session *session);
const char *tls_session_ciphersuite(const struct tls_session *session);

#endif
