/*
 * t/perf/loadgen.c - an open-loop memcached load generator.
 *
 *   loadgen --port P [--host 127.0.0.1] [--rate N] [--seconds S]
 *       [--connections C] [--key K] [--value-size B]
 *
 * Requests ("get K") leave on a fixed schedule, request i at start + i/N,
 * spread round-robin over C connections, whatever the server does; a
 * request's latency runs from its *intended* send time to the end of its
 * response, so a stall delays every request scheduled behind it and shows
 * in the tail instead of hiding behind a slow client (no coordinated
 * omission).  One thread, epoll (epoll_pwait2, Linux 5.11), non-blocking
 * sockets, pipelining per connection (memcached answers a connection's
 * requests in order).  The key is set first.  Prints one line:
 *
 *   requests=N answered=N p50_us=.. p99_us=.. p999_us=.. max_us=.. late_us=..
 *
 * Requests still unanswered two seconds after the last send count with
 * their wait so far; late_us is how far the sender itself fell behind its
 * schedule at worst.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#define LOADGEN_MAX_CONNECTIONS 64
#define LOADGEN_BUFFER 65536
#define LOADGEN_DRAIN_NS 2000000000ull

struct loadgen_connection {
	int fd;
	uint64_t *intended;		/* ring: outstanding requests' send times */
	size_t head, count, capacity;
	char out[LOADGEN_BUFFER];	/* bytes the socket has not taken yet */
	size_t out_len;
	char in[LOADGEN_BUFFER];
	size_t in_len;
	size_t skip;			/* value bytes (and CRLF) still to skip */
	bool want_out;
};

static uint64_t
loadgen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
loadgen_connect(const char *host, int port)
{
	struct sockaddr_in address = { 0 };
	int fd, one = 1;

	address.sin_family = AF_INET;
	address.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
		fprintf(stderr, "loadgen: bad host %s\n", host);
		exit(2);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&address, sizeof address) == -1) {
		perror("loadgen: connect");
		exit(2);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Blocking: store the key before the measurement starts. */
static void
loadgen_set(int fd, const char *key, size_t size)
{
	char *request, reply[256];
	size_t header, len;
	ssize_t n;

	if ((request = malloc(size + 512)) == NULL)
		exit(2);
	header = (size_t)snprintf(request, 512, "set %s 0 0 %zu\r\n", key, size);
	memset(request + header, 'v', size);
	memcpy(request + header + size, "\r\n", 2);
	len = header + size + 2;
	if (write(fd, request, len) != (ssize_t)len ||
	    (n = read(fd, reply, sizeof reply - 1)) <= 0) {
		perror("loadgen: set");
		exit(2);
	}
	reply[n] = '\0';
	if (strncmp(reply, "STORED", 6) != 0) {
		fprintf(stderr, "loadgen: set answered %s\n", reply);
		exit(2);
	}
	free(request);
}

static void
loadgen_flush(struct loadgen_connection *c, int epoll_fd)
{
	struct epoll_event event = { 0 };
	ssize_t n;
	bool want;

	while (c->out_len > 0) {
		n = write(c->fd, c->out, c->out_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			perror("loadgen: write");
			exit(2);
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	want = c->out_len > 0;
	if (want != c->want_out) {
		event.events = EPOLLIN | (want ? EPOLLOUT : 0);
		event.data.ptr = c;
		epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
		c->want_out = want;
	}
}

/*
 * Consume whole responses from c->in; each "END\r\n" completes the oldest
 * outstanding request.  0, or -1 on a reply that is not a get's.
 */
static int
loadgen_parse(struct loadgen_connection *c, uint64_t now, uint64_t *latencies,
    size_t *answered)
{
	size_t pos = 0, value_bytes;
	char *line_end;

	for (;;) {
		if (c->skip > 0) {
			size_t take = c->in_len - pos < c->skip ? c->in_len - pos : c->skip;

			pos += take;
			c->skip -= take;
			if (c->skip > 0)
				break;
		}
		line_end = memmem(c->in + pos, c->in_len - pos, "\r\n", 2);
		if (line_end == NULL)
			break;
		if (strncmp(c->in + pos, "END\r\n", 5) == 0) {
			if (c->count == 0)
				return -1;
			latencies[(*answered)++] = now - c->intended[c->head];
			c->head = (c->head + 1) % c->capacity;
			c->count--;
		} else if (sscanf(c->in + pos, "VALUE %*s %*u %zu", &value_bytes) == 1) {
			c->skip = value_bytes + 2;
		} else {
			return -1;
		}
		pos = (size_t)(line_end - c->in) + 2;
	}
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return 0;
}

static int
loadgen_compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double
loadgen_percentile(const uint64_t *sorted, size_t count, double fraction)
{
	size_t index;

	if (count == 0)
		return 0;
	index = (size_t)(fraction * (double)count);
	if (index >= count)
		index = count - 1;
	return (double)sorted[index] / 1000.0;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct loadgen_connection *connections;
	struct epoll_event events[LOADGEN_MAX_CONNECTIONS];
	const char *host = "127.0.0.1", *key = "temper";
	uint64_t *latencies, start, period_ns, next, end, now, late = 0, wait_ns;
	size_t total, sent = 0, answered = 0, value_size = 100, outstanding;
	double rate = 5000, seconds = 10;
	int port = 0, connection_count = 4, option, epoll_fd;
	struct timespec timeout;
	char request[300];
	size_t request_len;

	while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (option) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'c': connection_count = atoi(optarg); break;
		case 'k': key = optarg; break;
		case 'v': value_size = (size_t)atol(optarg); break;
		default:
			fprintf(stderr, "usage: loadgen --port P [--host H] [--rate N] "
			    "[--seconds S] [--connections C] [--key K] [--value-size B]\n");
			return 64;
		}
	}
	if (port <= 0 || rate <= 0 || seconds <= 0 || connection_count <= 0 ||
	    connection_count > LOADGEN_MAX_CONNECTIONS || strlen(key) > 200 ||
	    value_size > 1000000) {
		fprintf(stderr, "loadgen: bad arguments\n");
		return 64;
	}
	total = (size_t)(rate * seconds);
	period_ns = (uint64_t)(1e9 / rate);
	request_len = (size_t)snprintf(request, sizeof request, "get %s\r\n", key);
	if ((latencies = calloc(total + 1, sizeof *latencies)) == NULL ||
	    (connections = calloc((size_t)connection_count,
	    sizeof *connections)) == NULL ||
	    (epoll_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 2;

	for (int i = 0; i < connection_count; i++) {
		struct loadgen_connection *c = &connections[i];
		struct epoll_event event = { 0 };

		c->fd = loadgen_connect(host, port);
		if (i == 0)
			loadgen_set(c->fd, key, value_size);
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		c->capacity = total / (size_t)connection_count + 2;
		if ((c->intended = calloc(c->capacity, sizeof *c->intended)) == NULL)
			return 2;
		event.events = EPOLLIN;
		event.data.ptr = c;
		epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &event);
	}

	start = loadgen_now() + 10000000ull;	/* 10 ms to settle */
	next = start;
	end = start + (uint64_t)(seconds * 1e9);
	for (;;) {
		now = loadgen_now();
		/* Send everything whose time has come, late or not. */
		while (sent < total && next <= now) {
			struct loadgen_connection *c =
			    &connections[sent % (size_t)connection_count];

			if (now - next > late)
				late = now - next;
			if (c->out_len + request_len > sizeof c->out ||
			    c->count == c->capacity) {
				fprintf(stderr, "loadgen: connection backlog overflow\n");
				return 2;
			}
			memcpy(c->out + c->out_len, request, request_len);
			c->out_len += request_len;
			c->intended[(c->head + c->count) % c->capacity] = next;
			c->count++;
			sent++;
			next = start + (uint64_t)sent * period_ns;
			loadgen_flush(c, epoll_fd);
		}
		if (answered == total)
			break;
		if (sent == total && now > end + LOADGEN_DRAIN_NS)
			break;
		/* Nanosecond timeouts: at thousands of requests a second the next
		 * send is always under a millisecond away, and epoll_wait's
		 * milliseconds would round that to a busy loop. */
		wait_ns = sent < total ? (next > now ? next - now : 0) : 10000000ull;
		timeout.tv_sec = (time_t)(wait_ns / 1000000000ull);
		timeout.tv_nsec = (long)(wait_ns % 1000000000ull);
		int n = epoll_pwait2(epoll_fd, events, LOADGEN_MAX_CONNECTIONS,
		    &timeout, NULL);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			return 2;
		}
		now = loadgen_now();
		for (int i = 0; i < n; i++) {
			struct loadgen_connection *c = events[i].data.ptr;
			ssize_t got;

			if (events[i].events & EPOLLOUT)
				loadgen_flush(c, epoll_fd);
			if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			got = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
			if (got <= 0) {
				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				fprintf(stderr, "loadgen: server closed a connection\n");
				return 2;
			}
			c->in_len += (size_t)got;
			if (loadgen_parse(c, now, latencies, &answered) != 0) {
				fprintf(stderr, "loadgen: unexpected reply\n");
				return 2;
			}
		}
	}

	/* What never came back counts with the wait it has had. */
	now = loadgen_now();
	outstanding = 0;
	for (int i = 0; i < connection_count; i++) {
		struct loadgen_connection *c = &connections[i];

		for (size_t k = 0; k < c->count; k++) {
			latencies[answered + outstanding++] =
			    now - c->intended[(c->head + k) % c->capacity];
		}
		close(c->fd);
		free(c->intended);
	}
	qsort(latencies, answered + outstanding, sizeof *latencies,
	    loadgen_compare);
	printf("requests=%zu answered=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f "
	    "max_us=%.1f late_us=%.1f\n", sent, answered,
	    loadgen_percentile(latencies, answered + outstanding, 0.50),
	    loadgen_percentile(latencies, answered + outstanding, 0.99),
	    loadgen_percentile(latencies, answered + outstanding, 0.999),
	    answered + outstanding ? (double)latencies[answered + outstanding - 1] / 1000.0 : 0,
	    (double)late / 1000.0);
	free(latencies);
	free(connections);
	close(epoll_fd);
	return 0;
}
