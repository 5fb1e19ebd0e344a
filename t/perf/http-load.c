/*
 * t/perf/http-load.c - an open-loop HTTP/1.1 load generator.
 *
 * Requests are due on a fixed schedule (rate per second); each one's latency
 * is measured from the moment it was DUE, not from when a connection was free
 * to send it, so a stalled server shows up as latency instead of hiding
 * behind a slowed-down client (coordinated omission).  Keep-alive
 * connections, one request in flight per connection, epoll, one thread.
 *
 *   http-load HOST PORT PATH RATE SECONDS CONNECTIONS
 *
 * prints one line: requests=N errors=N p50_us=... p99_us=... p999_us=... max_us=...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct connection {
	int fd;
	int64_t due_ns;		/* of the request in flight; -1 when idle */
	char in[256 * 1024];	/* a whole answer: /metrics is ~25 KB */
	size_t in_len;
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
connect_to(const char *host, int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* A complete response in the buffer: its length, or 0 when more is needed. */
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

int
main(int argc, char **argv)
{
	struct connection *connections;
	struct epoll_event event, events[256];
	int64_t *latencies, *backlog, start, interval, next_due, deadline;
	size_t sent = 0, done = 0, errors = 0, backlog_head = 0, backlog_tail = 0;
	size_t reconnects = 0;
	size_t total, ncon;
	char request[512];
	int epoll, port, request_len;
	double rate, seconds;

	if (argc != 7) {
		fprintf(stderr, "usage: http-load HOST PORT PATH RATE SECONDS CONNECTIONS\n");
		return 2;
	}
	port = atoi(argv[2]);
	rate = atof(argv[4]);
	seconds = atof(argv[5]);
	ncon = (size_t)atoi(argv[6]);
	total = (size_t)(rate * seconds);
	if (rate <= 0 || seconds <= 0 || ncon == 0 || total == 0) {
		fprintf(stderr, "http-load: RATE, SECONDS and CONNECTIONS must be positive\n");
		return 2;
	}
	request_len = snprintf(request, sizeof request,
	    "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
	latencies = calloc(total, sizeof *latencies);
	/* Requests cut off by a closed connection are sent again: room for both. */
	backlog = calloc(2 * total, sizeof *backlog);
	connections = calloc(ncon, sizeof *connections);
	epoll = epoll_create1(0);
	for (size_t i = 0; i < ncon; i++) {
		if ((connections[i].fd = connect_to(argv[1], port)) < 0) {
			fprintf(stderr, "http-load: cannot connect to %s:%d: %s\n", argv[1], port,
			    strerror(errno));
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

		/* Every request now due goes out, or waits in the backlog. */
		while (sent < total && next_due <= now) {
			backlog[backlog_tail++] = next_due;
			sent++;
			next_due = start + (int64_t)sent * interval;
		}
		for (size_t i = 0; i < ncon && backlog_head < backlog_tail; i++) {
			struct connection *c = &connections[i];

			if (c->due_ns >= 0)
				continue;
			if (write(c->fd, request, (size_t)request_len) != request_len) {
				errors++;
				backlog_head++;
				continue;
			}
			c->due_ns = backlog[backlog_head++];
		}
		/* Sleep to the next due time with nanosecond precision: a
		 * generator that spins takes a core from the server. */
		wait_ns = sent < total ? next_due - now_ns() : 100000000;
		if (wait_ns < 0)
			wait_ns = 0;
		timeout.tv_sec = wait_ns / 1000000000;
		timeout.tv_nsec = wait_ns % 1000000000;
		n = epoll_pwait2(epoll, events, 256, &timeout, NULL);
		for (int e = 0; e < n; e++) {
			struct connection *c = &connections[events[e].data.u64];
			ssize_t got;
			size_t len;
			int status = 0;

			if (c->in_len == sizeof c->in) {
				fprintf(stderr, "http-load: an answer over %zu bytes\n", sizeof c->in);
				return 1;
			}
			got = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
			if (got <= 0) {
				if (got < 0 && errno == EAGAIN)
					continue;
				/* The server ended keep-alive (nginx does after
				 * keepalive_requests): reconnect, send again, and
				 * keep measuring from the original due time. */
				epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				if ((c->fd = connect_to(argv[1], port)) < 0) {
					fprintf(stderr, "http-load: reconnecting failed: %s\n",
					    strerror(errno));
					return 1;
				}
				event.events = EPOLLIN;
				event.data.u64 = events[e].data.u64;
				epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
				if (c->due_ns >= 0 && backlog_tail < 2 * total)
					backlog[backlog_tail++] = c->due_ns;
				c->due_ns = -1;
				c->in_len = 0;
				reconnects++;
				continue;
			}
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
	}
	qsort(latencies, done, sizeof *latencies, compare_int64);
#define PCT(p) (done ? latencies[(size_t)((p) * (double)(done - 1))] / 1000 : 0)
	printf("reconnects=%zu ", reconnects);
	printf("requests=%zu errors=%zu p50_us=%lld p99_us=%lld p999_us=%lld max_us=%lld\n",
	    done, errors + (total - done - errors), (long long)PCT(0.5), (long long)PCT(0.99),
	    (long long)PCT(0.999), (long long)(done ? latencies[done - 1] / 1000 : 0));
	return 0;
}
