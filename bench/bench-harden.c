/* Hardening benchmark (issue 13): 10,000 unauthenticated requests with
 * 1 MB bodies, 200 at a time on raw non-blocking sockets, and the peak of
 * the server's resident memory above idle meanwhile (they are refused
 * when their headers are in, their bodies never buffered); then the time
 * a wrong password costs for a known user and for an unknown one (the
 * unknown one is checked against a dummy hash, so the two should match).
 * (The 10,000 parked Pings whose clients vanish are in bench-push.)
 * Loopback only, bounded in time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"
#include "xalloc.h"

#define REQUESTS 10000
#define INFLIGHT 200
#define BODY (1024 * 1024)
#define PHASE_TIMEOUT_MS 300000
#define AUTH_ROUNDS 15

struct conn {
	int fd;
	size_t sent; /* of head + body */
	char resp[64];
	size_t rlen;
	bool reading;
};

static const char head[] =
	"POST /Microsoft-Server-ActiveSync?Cmd=SendMail&User=ada&"
	"DeviceId=FLOOD&DeviceType=bench HTTP/1.1\r\n"
	"Host: 127.0.0.1\r\n"
	"MS-ASProtocolVersion: 16.1\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Length: 1048576\r\n\r\n";
static char *zeros;
static int port, epfd;
static atomic_long rss_peak_kb;
static atomic_bool sampling;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

static void *
sampler_main(void *arg)
{
	pid_t pid = *(pid_t *)arg;

	while (atomic_load(&sampling)) {
		long v = rss_kb(pid);

		if (v > atomic_load(&rss_peak_kb))
			atomic_store(&rss_peak_kb, v);
		usleep(2 * 1000);
	}
	return NULL;
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_in sin;
	struct epoll_event e = {.events = EPOLLOUT | EPOLLIN};

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	e.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e);
	return 0;
}

/* Returns 1 when the request is over: *status_r the HTTP status (0 when
 * none came). */
static int
conn_event(struct conn *c, uint32_t ev, int *status_r)
{
	size_t hl = sizeof(head) - 1;

	if (!c->reading && (ev & EPOLLOUT)) {
		while (c->sent < hl + BODY) {
			const char *p = c->sent < hl ? head + c->sent
						     : zeros + (c->sent - hl);
			size_t n = c->sent < hl ? hl - c->sent
						: hl + BODY - c->sent;
			ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

			if (w < 0) {
				/* full (the server does not read) or gone:
				 * wait for the answer */
				if (errno != EAGAIN)
					c->reading = true;
				break;
			}
			c->sent += (size_t)w;
		}
		if (c->sent == hl + BODY)
			c->reading = true;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		ssize_t n = read(c->fd, c->resp + c->rlen,
				 sizeof(c->resp) - 1 - c->rlen);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n > 0) {
			c->rlen += (size_t)n;
			c->resp[c->rlen] = '\0';
			if (c->rlen < 12)
				return 0;
		}
		*status_r = c->rlen >= 12 && strncmp(c->resp, "HTTP/1.", 7) == 0
				    ? atoi(c->resp + 9)
				    : 0;
		return 1;
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

/* The flood: REQUESTS unauthenticated SendMails of 1 MB, INFLIGHT at a
 * time. Returns how many got 401. */
static int
flood(double *secs_r)
{
	struct conn *conns = xcalloc(INFLIGHT, sizeof(*conns));
	struct epoll_event evs[256];
	int started = 0, finished = 0, ok = 0, other = 0;
	uint64_t t0 = now_us(), until = time_mono_ms() + PHASE_TIMEOUT_MS;

	for (int i = 0; i < INFLIGHT; i++)
		if (conn_open(&conns[i]) == 0)
			started++;
	while (finished < started && time_mono_ms() < until) {
		int n = epoll_wait(epfd, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int st = 0;

			if (!conn_event(c, evs[i].events, &st))
				continue;
			conn_close(c);
			finished++;
			if (st == 401)
				ok++;
			else
				other++;
			if (started < REQUESTS && conn_open(c) == 0)
				started++;
		}
	}
	for (int i = 0; i < INFLIGHT; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	free(conns);
	*secs_r = (double)(now_us() - t0) / 1e6;
	if (other > 0)
		fprintf(stderr,
			"bench-harden: %d of %d requests not answered "
			"401\n",
			other, finished);
	return ok;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Median ms of an OPTIONS with user's wrong password. */
static double
wrong_password_ms(const struct easd_proc *p, const char *user)
{
	struct arena *a = arena_new(0);
	struct eas_client *c =
		eas_client_new(p->url, user, "not-it", "TIMING", "bench");
	struct eas_response r;
	double t[AUTH_ROUNDS];

	for (int i = 0; i < AUTH_ROUNDS; i++) {
		uint64_t s = now_us();

		eas_client_options(c, a, &r);
		t[i] = (double)(now_us() - s) / 1000.0;
		if (r.http_status != 401)
			fprintf(stderr, "bench-harden: %s: HTTP %ld\n", user,
				r.http_status);
		arena_reset(a);
	}
	eas_client_free(&c);
	arena_free(&a);
	qsort(t, AUTH_ROUNDS, sizeof(t[0]), cmp_double);
	return t[AUTH_ROUNDS / 2];
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(void)
{
	/* No throttling: the timing compares the password checks, and the
	 * flood comes from one address. */
	static const char *const args[] = {"--log-level",
					   "warn",
					   "--max-connections-per-addr",
					   "0",
					   "--auth-max-failures",
					   "0",
					   "--auth-max-failures-per-addr",
					   "0",
					   "--auth-delay-max",
					   "0",
					   NULL};
	struct easd_proc *p;
	pthread_t sampler;
	long idle;
	double secs, known, unknown;
	int ok;

	raise_fd_limit();
	zeros = xcalloc(1, BODY);
	p = easd_start(args);
	if (p == NULL)
		return 1;
	port = p->port;
	epfd = epoll_create1(EPOLL_CLOEXEC);

	/* Warm up the worker threads and their store connections. */
	wrong_password_ms(p, HARNESS_BOB);
	usleep(200 * 1000);
	idle = rss_kb(p->pid);
	atomic_store(&rss_peak_kb, idle);
	atomic_store(&sampling, true);
	pthread_create(&sampler, NULL, sampler_main, &p->pid);
	ok = flood(&secs);
	atomic_store(&sampling, false);
	pthread_join(sampler, NULL);
	fprintf(stderr,
		"bench-harden: %d x 1 MB unauthenticated in %.1f s, %d got "
		"401; RSS idle %ld kB, peak %ld kB\n",
		REQUESTS, secs, ok, idle, atomic_load(&rss_peak_kb));
	printf("bench-harden: unauth-1mb-401 %d reqs (target %d)\n", ok,
	       REQUESTS);
	printf("bench-harden: unauth-1mb-rss-peak %.1f MiB (target < 64 above "
	       "idle)\n",
	       (double)(atomic_load(&rss_peak_kb) - idle) / 1024.0);

	known = wrong_password_ms(p, HARNESS_BOB);
	unknown = wrong_password_ms(p, "nobody-at-all");
	printf("bench-harden: auth-wrong-known-median %.1f ms (target -)\n",
	       known);
	printf("bench-harden: auth-wrong-unknown-median %.1f ms (target -)\n",
	       unknown);
	printf("bench-harden: auth-unknown-vs-known %.2f ratio (target "
	       "0.8..1.25)\n",
	       known > 0 ? unknown / known : 0.0);
	close(epfd);
	free(zeros);
	return easd_stop(&p) == 0 ? 0 : 1;
}
