/*
 * t/perf/webhook-load.c - an open-loop POST load generator over TLS (or
 * plain HTTP), for the webhook's and the extender's benchmarks.
 *
 * Like t/perf/http-load.c: requests are due on a fixed schedule and each
 * latency is measured from when it was DUE (no coordinated omission);
 * keep-alive connections, one request in flight per connection, epoll, one
 * thread.  TLS through mbedtls, each connection's handshake done before the
 * clock starts.  The bodies are read from files and sent round robin.
 *
 *   webhook-load HOST PORT PATH RATE SECONDS CONNECTIONS CA|- BODY|-...
 *
 * CA "-" is plain HTTP; BODY "-" sends GET.  Prints one line:
 * requests=N errors=N p50_us=... p90_us=... p99_us=... p999_us=... max_us=...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

struct connection {
	int fd;
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	int64_t due_ns;		/* of the request in flight; -1 when idle */
	char in[1 << 20];
	size_t in_len;
};

static bool use_tls;
static mbedtls_ssl_config ssl_config;
static mbedtls_x509_crt ca;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
connect_to(struct connection *c, const char *host, int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, ret;

	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return -1;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(c->fd);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (use_tls) {
		c->net.fd = c->fd;
		mbedtls_ssl_init(&c->ssl);
		if (mbedtls_ssl_setup(&c->ssl, &ssl_config) != 0)
			return -1;
		mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
		while ((ret = mbedtls_ssl_handshake(&c->ssl)) != 0) {
			if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
				fprintf(stderr, "webhook-load: TLS handshake failed: -0x%04x\n", -ret);
				return -1;
			}
		}
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static ssize_t
send_all(struct connection *c, const char *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (use_tls) {
			n = mbedtls_ssl_write(&c->ssl, (const unsigned char *)data + done, len - done);
			if (n == MBEDTLS_ERR_SSL_WANT_WRITE || n == MBEDTLS_ERR_SSL_WANT_READ)
				continue;
		} else {
			n = write(c->fd, data + done, len - done);
			if (n < 0 && errno == EAGAIN)
				continue;
		}
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Bytes read, 0 at end of stream, -2 when nothing is ready, -1 on error. */
static ssize_t
receive(struct connection *c)
{
	ssize_t n;

	if (c->in_len == sizeof c->in)
		return -1;
	if (use_tls) {
		n = mbedtls_ssl_read(&c->ssl, (unsigned char *)c->in + c->in_len,
		    sizeof c->in - c->in_len);
		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
			return -2;
		return n < 0 ? -1 : n;
	}
	n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
	if (n < 0 && errno == EAGAIN)
		return -2;
	return n;
}

static size_t
response_length(const char *data, size_t len, int *status)
{
	const char *end = memmem(data, len, "\r\n\r\n", 4), *cl;
	size_t head, body = 0;

	if (end == NULL)
		return 0;
	head = (size_t)(end - data) + 4;
	*status = len >= 12 ? atoi(data + 9) : 0;
	cl = memmem(data, head, "Content-Length: ", 16);
	if (cl != NULL)
		body = (size_t)strtoul(cl + 16, NULL, 10);
	return len >= head + body ? head + body : 0;
}

static int
compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
		fprintf(stderr, "webhook-load: cannot read %s\n", path);
		exit(1);
	}
	rewind(f);
	data = malloc((size_t)size + 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size)
		exit(1);
	fclose(f);
	*len = (size_t)size;
	return data;
}

int
main(int argc, char **argv)
{
	struct connection *connections;
	struct epoll_event event, events[256];
	int64_t *latencies, *backlog, start, interval, next_due, deadline;
	size_t sent = 0, done = 0, errors = 0, backlog_head = 0, backlog_tail = 0;
	size_t total, ncon, nrequests, next_request = 0;
	char **requests;
	size_t *request_lens;
	int epoll, port;
	double rate, seconds;

	if (argc < 9) {
		fprintf(stderr, "usage: webhook-load HOST PORT PATH RATE SECONDS CONNECTIONS CA|- BODY|-...\n");
		return 2;
	}
	port = atoi(argv[2]);
	rate = atof(argv[4]);
	seconds = atof(argv[5]);
	ncon = (size_t)atoi(argv[6]);
	total = (size_t)(rate * seconds);
	if (rate <= 0 || seconds <= 0 || ncon == 0 || total == 0)
		return 2;
	nrequests = (size_t)argc - 8;
	requests = calloc(nrequests, sizeof *requests);
	request_lens = calloc(nrequests, sizeof *request_lens);
	for (size_t i = 0; i < nrequests; i++) {
		const char *path = argv[8 + i];

		if (strcmp(path, "-") == 0) {
			request_lens[i] = (size_t)asprintf(&requests[i],
			    "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
		} else {
			size_t len;
			char *body = read_file(path, &len);

			request_lens[i] = (size_t)asprintf(&requests[i], "POST %s HTTP/1.1\r\n"
			    "Host: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			    argv[3], argv[1], len);
			requests[i] = realloc(requests[i], request_lens[i] + len);
			memcpy(requests[i] + request_lens[i], body, len);
			request_lens[i] += len;
			free(body);
		}
	}
	if (strcmp(argv[7], "-") != 0) {
		use_tls = true;
		mbedtls_x509_crt_init(&ca);
		mbedtls_entropy_init(&entropy);
		mbedtls_ctr_drbg_init(&drbg);
		mbedtls_ssl_config_init(&ssl_config);
		if (mbedtls_x509_crt_parse_file(&ca, argv[7]) != 0 ||
		    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
		    mbedtls_ssl_config_defaults(&ssl_config, MBEDTLS_SSL_IS_CLIENT,
		    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
			fprintf(stderr, "webhook-load: TLS setup failed\n");
			return 1;
		}
		/* The chain is verified; mbedtls 2.28 cannot match an IP SAN, so no name check. */
		mbedtls_ssl_conf_authmode(&ssl_config, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&ssl_config, &ca, NULL);
		mbedtls_ssl_conf_rng(&ssl_config, mbedtls_ctr_drbg_random, &drbg);
	}
	latencies = calloc(total, sizeof *latencies);
	backlog = calloc(total, sizeof *backlog);
	connections = calloc(ncon, sizeof *connections);
	epoll = epoll_create1(0);
	for (size_t i = 0; i < ncon; i++) {
		if (connect_to(&connections[i], argv[1], port) != 0) {
			fprintf(stderr, "webhook-load: cannot connect to %s:%d\n", argv[1], port);
			return 1;
		}
		connections[i].due_ns = -1;
		event.events = EPOLLIN;
		event.data.u64 = i;
		epoll_ctl(epoll, EPOLL_CTL_ADD, connections[i].fd, &event);
	}

	interval = (int64_t)(1e9 / rate);
	start = now_ns() + 10000000;
	next_due = start;
	deadline = start + (int64_t)(seconds * 1e9) + 5000000000LL;
	while (done + errors < total && now_ns() < deadline) {
		int64_t now = now_ns(), wait_ns;
		struct timespec timeout;
		int n;

		while (sent < total && next_due <= now) {
			backlog[backlog_tail++] = next_due;
			sent++;
			next_due = start + (int64_t)sent * interval;
		}
		for (size_t i = 0; i < ncon && backlog_head < backlog_tail; i++) {
			struct connection *c = &connections[i];
			size_t r = next_request++ % nrequests;

			if (c->due_ns >= 0)
				continue;
			if (send_all(c, requests[r], request_lens[r]) < 0) {
				errors++;
				backlog_head++;
				continue;
			}
			c->due_ns = backlog[backlog_head++];
		}
		wait_ns = sent < total ? next_due - now_ns() : 100000000;
		if (wait_ns < 0)
			wait_ns = 0;
		timeout.tv_sec = wait_ns / 1000000000;
		timeout.tv_nsec = wait_ns % 1000000000;
		n = epoll_pwait2(epoll, events, 256, &timeout, NULL);
		for (int e = 0; e < n; e++) {
			struct connection *c = &connections[events[e].data.u64];
			size_t len;
			ssize_t got;
			int status = 0;

			/* TLS may hold decrypted bytes beyond one read: drain. */
			while ((got = receive(c)) > 0) {
				c->in_len += (size_t)got;
				while ((len = response_length(c->in, c->in_len, &status)) > 0) {
					if (status == 200 && c->due_ns >= 0)
						latencies[done++] = now_ns() - c->due_ns;
					else
						errors++;
					c->due_ns = -1;
					memmove(c->in, c->in + len, c->in_len - len);
					c->in_len -= len;
				}
			}
			if (got == 0 || got == -1) {
				fprintf(stderr, "webhook-load: the server closed a connection\n");
				return 1;
			}
		}
	}
	qsort(latencies, done, sizeof *latencies, compare_int64);
#define PCT(p) (done ? latencies[(size_t)((p) * (double)(done - 1))] / 1000 : 0)
	printf("requests=%zu errors=%zu p50_us=%lld p90_us=%lld p99_us=%lld p999_us=%lld max_us=%lld\n",
	    done, errors + (total - done - errors), (long long)PCT(0.5), (long long)PCT(0.9),
	    (long long)PCT(0.99), (long long)PCT(0.999),
	    (long long)(done ? latencies[done - 1] / 1000 : 0));
	return 0;
}
