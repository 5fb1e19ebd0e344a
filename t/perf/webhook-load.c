/*
 * t/perf/webhook-load.c - an open-loop POST load generator over TLS (or
 * plain HTTP), for the webhook's and the extender's benchmarks.
 *
 * Like t/perf/http-load.c: requests are due on a fixed schedule and each
 * latency is measured from when it was DUE (no coordinated omission);
 * keep-alive connections, one request in flight per connection, epoll, one
 * thread.  TLS through OpenSSL, each connection's handshake done before the
 * clock starts: its AES-GCM costs a fraction of mbedtls 2.28's, as Go's
 * does in kube-scheduler and the API server, so the client's own crypto
 * does not weigh on the latencies of 100 KB bodies.  The bodies are read
 * from files and sent round robin.
 *
 *   webhook-load HOST PORT PATH RATE|max SECONDS CONNECTIONS CA|- SPEC...
 *
 * CA "-" is plain HTTP.  A SPEC is a FILE (POST it to PATH), "-" (GET
 * PATH), "/other@FILE" or "/other@-" (the same to another path), or steps
 * joined by "+": a chain, such as kube-scheduler's filter then prioritize
 * for one pod, sent on one connection, each step once the previous one is
 * answered.  What is due on the schedule is a chain (a single request is a
 * chain of one), and its latency runs from when it was due to its last
 * answer; a step after the first is also timed from when it was sent.
 *
 * RATE "max" runs closed-loop instead: each connection starts the next
 * chain as soon as the last one is answered, for SECONDS, and per_second
 * says how many chains were answered per second (latencies are then from
 * each chain's start).
 *
 * Prints one line:
 * requests=N errors=N p50_us=... p90_us=... p99_us=... p999_us=... max_us=...
 * per_second=... and, for chains, sK_p50_us=... sK_p99_us=... per step K.
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

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MAX_STEPS 4

struct request {
	char *data;
	size_t len;
};

struct chain {
	struct request steps[MAX_STEPS];
	size_t count;
};

/* Latencies in ns, grown as needed (closed-loop runs have no fixed total). */
struct samples {
	int64_t *values;
	size_t count;
	size_t capacity;
};

struct connection {
	int fd;
	SSL *ssl;
	int64_t due_ns;		/* of the chain in flight; -1 when idle */
	int64_t step_sent_ns;
	const struct chain *chain;
	size_t step;
	char in[1 << 20];
	size_t in_len;
};

static SSL_CTX *tls;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
samples_add(struct samples *s, int64_t value)
{
	if (s->count == s->capacity) {
		s->capacity = s->capacity ? s->capacity * 2 : 4096;
		if ((s->values = realloc(s->values, s->capacity * sizeof *s->values)) == NULL) {
			fprintf(stderr, "webhook-load: out of memory\n");
			exit(1);
		}
	}
	s->values[s->count++] = value;
}

static int
compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static long long
samples_us(const struct samples *s, double p)
{
	return s->count ? (long long)(s->values[(size_t)(p * (double)(s->count - 1))] / 1000) : 0;
}

static int
connect_to(struct connection *c, const char *host, int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return -1;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(c->fd);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (tls != NULL) {
		if ((c->ssl = SSL_new(tls)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
		    SSL_connect(c->ssl) != 1) {
			fprintf(stderr, "webhook-load: TLS handshake failed\n");
			ERR_print_errors_fp(stderr);
			return -1;
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

		if (tls != NULL) {
			n = SSL_write(c->ssl, data + done, (int)(len - done > INT32_MAX ? INT32_MAX : len - done));
			if (n <= 0) {
				int error = SSL_get_error(c->ssl, (int)n);

				if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ)
					continue;
			}
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
	if (tls != NULL) {
		n = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof c->in - c->in_len));
		if (n <= 0) {
			int error = SSL_get_error(c->ssl, (int)n);

			if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
				return -2;
			return error == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		}
		return n;
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

/* One step of a SPEC: "FILE", "-", "/path@FILE" or "/path@-". */
static void
request_make(struct request *r, const char *host, const char *path, const char *spec)
{
	const char *at = spec[0] == '/' ? strchr(spec, '@') : NULL;
	char *own_path = NULL;
	int n;

	if (at != NULL) {
		own_path = strndup(spec, (size_t)(at - spec));
		path = own_path;
		spec = at + 1;
	}
	if (strcmp(spec, "-") == 0) {
		n = asprintf(&r->data, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
		r->len = (size_t)n;
	} else {
		size_t len;
		char *body = read_file(spec, &len);

		n = asprintf(&r->data, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n\r\n", path, host, len);
		r->len = (size_t)n;
		r->data = realloc(r->data, r->len + len);
		memcpy(r->data + r->len, body, len);
		r->len += len;
		free(body);
	}
	free(own_path);
}

static void
chain_make(struct chain *chain, const char *host, const char *path, const char *spec)
{
	char *copy = strdup(spec), *step, *rest = copy;

	while ((step = strsep(&rest, "+")) != NULL) {
		if (chain->count == MAX_STEPS) {
			fprintf(stderr, "webhook-load: at most %d steps in a chain\n", MAX_STEPS);
			exit(2);
		}
		request_make(&chain->steps[chain->count++], host, path, step);
	}
	free(copy);
}

static int
step_send(struct connection *c)
{
	c->step_sent_ns = now_ns();
	return send_all(c, c->chain->steps[c->step].data, c->chain->steps[c->step].len) < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct connection *connections;
	struct epoll_event event, events[256];
	struct samples latencies = { 0 }, steps[MAX_STEPS] = { { 0 } };
	int64_t *backlog = NULL, start, interval = 0, next_due, deadline, last_done = 0;
	size_t sent = 0, done = 0, errors = 0, backlog_head = 0, backlog_tail = 0;
	size_t total = 0, ncon, nchains, next_chain = 0, max_steps = 1;
	struct chain *chains;
	bool closed_loop;
	int epoll, port;
	double rate = 0, seconds;

	if (argc < 9) {
		fprintf(stderr, "usage: webhook-load HOST PORT PATH RATE|max SECONDS CONNECTIONS CA|- SPEC...\n");
		return 2;
	}
	port = atoi(argv[2]);
	closed_loop = strcmp(argv[4], "max") == 0;
	if (!closed_loop)
		rate = atof(argv[4]);
	seconds = atof(argv[5]);
	ncon = (size_t)atoi(argv[6]);
	if (!closed_loop)
		total = (size_t)(rate * seconds);
	if ((!closed_loop && (rate <= 0 || total == 0)) || seconds <= 0 || ncon == 0)
		return 2;
	nchains = (size_t)argc - 8;
	chains = calloc(nchains, sizeof *chains);
	for (size_t i = 0; i < nchains; i++) {
		chain_make(&chains[i], argv[1], argv[3], argv[8 + i]);
		if (chains[i].count > max_steps)
			max_steps = chains[i].count;
	}
	if (strcmp(argv[7], "-") != 0) {
		/* The chain is verified, and the server's IP address against it. */
		if ((tls = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_load_verify_locations(tls, argv[7], NULL) != 1 ||
		    X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(tls), argv[1]) != 1) {
			fprintf(stderr, "webhook-load: TLS setup failed\n");
			ERR_print_errors_fp(stderr);
			return 1;
		}
		SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, NULL);
	}
	if (!closed_loop)
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

	if (!closed_loop)
		interval = (int64_t)(1e9 / rate);
	start = now_ns() + 10000000;
	next_due = start;
	deadline = start + (int64_t)(seconds * 1e9) + (closed_loop ? 0 : 5000000000LL);
	for (;;) {
		int64_t now = now_ns(), wait_ns;
		struct timespec timeout;
		int n;

		if (closed_loop ? now >= deadline :
		    done + errors >= total || now >= deadline)
			break;
		while (!closed_loop && sent < total && next_due <= now) {
			backlog[backlog_tail++] = next_due;
			sent++;
			next_due = start + (int64_t)sent * interval;
		}
		for (size_t i = 0; i < ncon; i++) {
			struct connection *c = &connections[i];

			if (c->due_ns >= 0)
				continue;
			if (closed_loop) {
				if (now < start)
					break;
				c->due_ns = now;
			} else if (backlog_head < backlog_tail) {
				c->due_ns = backlog[backlog_head++];
			} else {
				break;
			}
			c->chain = &chains[next_chain++ % nchains];
			c->step = 0;
			if (step_send(c) != 0) {
				errors++;
				c->due_ns = -1;
			}
		}
		if (closed_loop)
			wait_ns = now < start ? start - now : deadline - now;
		else
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
					int64_t t = now_ns();

					memmove(c->in, c->in + len, c->in_len - len);
					c->in_len -= len;
					if (c->due_ns < 0)
						continue;
					if (status != 200) {
						errors++;
						c->due_ns = -1;
						continue;
					}
					samples_add(&steps[c->step], t - (c->step == 0 ?
					    c->due_ns : c->step_sent_ns));
					if (++c->step < c->chain->count) {
						if (step_send(c) != 0) {
							errors++;
							c->due_ns = -1;
						}
						continue;
					}
					samples_add(&latencies, t - c->due_ns);
					done++;
					last_done = t;
					c->due_ns = -1;
				}
			}
			if (got == 0 || got == -1) {
				fprintf(stderr, "webhook-load: the server closed a connection\n");
				return 1;
			}
		}
	}
	qsort(latencies.values, latencies.count, sizeof *latencies.values, compare_int64);
	printf("requests=%zu errors=%zu p50_us=%lld p90_us=%lld p99_us=%lld p999_us=%lld max_us=%lld"
	    " per_second=%.1f",
	    done, errors + (closed_loop ? 0 : total - done - errors),
	    samples_us(&latencies, 0.5), samples_us(&latencies, 0.9),
	    samples_us(&latencies, 0.99), samples_us(&latencies, 0.999),
	    samples_us(&latencies, 1.0),
	    last_done > start ? (double)done * 1e9 / (double)(last_done - start) : 0.0);
	for (size_t k = 0; max_steps > 1 && k < max_steps; k++) {
		qsort(steps[k].values, steps[k].count, sizeof *steps[k].values, compare_int64);
		printf(" s%zu_p50_us=%lld s%zu_p99_us=%lld", k, samples_us(&steps[k], 0.5),
		    k, samples_us(&steps[k], 0.99));
	}
	printf("\n");
	return 0;
}
