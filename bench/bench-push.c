/* Push benchmark (issues: push, performance): 200 accounts x 500
 * devices hold 100,000 concurrent Pings on raw non-blocking sockets (an
 * epoll loop, pre-built requests, source addresses 127.0.0.2..6 to get
 * past the ephemeral-port limit of one address pair), each device
 * watching a folder of its own. One process may hold only as many
 * sockets as the hard open-file limit allows (20,000 where root lacks
 * CAP_SYS_RESOURCE), on either side: the server runs with enough
 * --workers, and the clients are as many processes (fork), each with a
 * slice of the connections and an epoll loop of its own, their state in
 * shared memory. Memory and descriptors are summed over every easd
 * process. While they wait the server must still
 * answer OPTIONS (p99 of a series); then every client hangs up at once and
 * the time until the server has let go of all those sockets is measured,
 * with its resident memory before, during and after the storm; then the
 * Pings are parked again, changes are committed one device's folder at a
 * time (store API in this process, which tells the server through its
 * notification socket, as easctl does) and the time from each commit to
 * that one device's answer is measured. Loopback only, bounded in time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "util.h"
#include "xalloc.h"

/* Few accounts with many devices: every worker's credential cache is
 * warmed with every account (a password hash each, 20 ms on purpose),
 * and the Pings are what is measured. */
#define MAX_ACCOUNTS 200
#define DEVICES 500
/* The target; fewer when the open-file limit (whose hard limit
 * only CAP_SYS_RESOURCE raises) does not allow as many sockets, on either
 * side: the figures then say how many were held. */
#define TARGET_CONNS (MAX_ACCOUNTS * DEVICES)
/* Source addresses 127.0.0.2 .. 127.0.0.(1 + SOURCES): 20,000 ports each
 * of the 28,000 the kernel hands out per address pair. */
#define SOURCES 5
/* Changes committed while the Pings wait, each waking one device. */
#define WAKES 2000
/* OPTIONS timed one after the other while the Pings wait. */
#define OPTIONS_SAMPLES 200
#define HEARTBEAT 3000 /* s; nothing times out during the run */
#define RBUF 1024
/* Descriptors a process keeps for other things than the Pings: a worker
 * (database, log, its listener, notification channels) and a client. */
#define SERVER_SPARE_FDS 3000
#define CLIENT_SPARE_FDS 500
/* At most this many client processes and server workers. */
#define MAX_PROCS 16
/* Connections each client process opens before the server is let to
 * catch up: no more are on their way than the workers' listen queues
 * hold (a dropped SYN costs a retransmission of a second or more). */
#define PARK_CHUNK 1000
/* Opened but not yet accepted by the server at most, between chunks
 * (the workers' listen queues hold 4,096 each). Counting the server's
 * descriptors reads /proc: it is done every PARK_POLL_MS only. */
#define PARK_BACKLOG 6000
#define PARK_POLL_MS 100
#define PHASE_TIMEOUT_MS 180000
/* Commits are spread at this interval (200 devices/s): a burst of
 * simultaneous answers measures the server's throughput, not its wake-up
 * latency. */
#define COMMIT_INTERVAL_US 5000
/* The server's credential cache (auth.c) is direct-mapped on
 * g_str_hash(login) % 1024: logins are chosen on distinct slots so that
 * every Ping after the warm-up is a cache hit, not a 20 ms yescrypt. */
#define AUTH_SLOTS 1024

enum conn_state { C_IDLE, C_SENDING, C_WAITING, C_DONE, C_FAILED };

struct conn {
	int fd;
	int acct;
	const char *req;
	size_t req_len, sent;
	char *rbuf;
	size_t rlen;
	enum conn_state state;
	int http_status;
	int ping_status;
	int worker; /* X-Easd-Worker of the answer, -1 when none */
	uint64_t t_resp_us;
	uint64_t t_commit_us; /* of the change that should wake it */
	int64_t folder_id;    /* the folder it watches */
	char *folder_sid;
};

struct bench_account {
	char login[32];
	int64_t id;
};

static struct bench_account accts[MAX_ACCOUNTS];
/* accounts and Pings of this run */
static int ACCOUNTS, CONNS;
/* in shared memory: every client process writes its slice */
static struct conn *conns;
static int epfd;
static int port;
/* in shared memory too: counted by every client process */
static atomic_int *n_done, *n_failed;
static atomic_bool loop_stop;
/* easd --workers and the client processes of this run */
static int WORKERS, CLIENTS;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static long
proc_field_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = atol(line + strlen(field));
	fclose(f);
	return v;
}

/* utime + stime in clock ticks. */
static long
proc_cpu(pid_t pid)
{
	char path[64], data[1024], *p;
	long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	p = strrchr(data, ')');
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
		   &ut, &st) != 2)
		return -1;
	return ut + st;
}

/* The server's open file descriptors. */
static int
proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The server's processes: the parent and its workers (with one worker,
 * the one process). */
static int
server_pids(pid_t pid, pid_t *out, int max)
{
	char path[96];
	FILE *f;
	long child;
	int n = 0;

	out[n++] = pid;
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
		 (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return n;
	while (n < max && fscanf(f, "%ld", &child) == 1)
		out[n++] = (pid_t)child;
	fclose(f);
	return n;
}

/* A field of /proc/PID/status summed over the server's processes. */
static long
server_kb(pid_t pid, const char *field)
{
	pid_t pids[MAX_PROCS + 1];
	int n = server_pids(pid, pids, MAX_PROCS + 1);
	long sum = 0;

	for (int i = 0; i < n; i++) {
		long v = proc_field_kb(pids[i], field);

		sum += v > 0 ? v : 0;
	}
	return sum;
}

static long
server_cpu(pid_t pid)
{
	pid_t pids[MAX_PROCS + 1];
	int n = server_pids(pid, pids, MAX_PROCS + 1);
	long sum = 0;

	for (int i = 0; i < n; i++) {
		long v = proc_cpu(pids[i]);

		sum += v > 0 ? v : 0;
	}
	return sum;
}

static int
server_fds(pid_t pid)
{
	pid_t pids[MAX_PROCS + 1];
	int n = server_pids(pid, pids, MAX_PROCS + 1), sum = 0;

	for (int i = 0; i < n; i++) {
		int v = proc_fds(pids[i]);

		sum += v > 0 ? v : 0;
	}
	return sum;
}

/* Wait until the server has used no CPU for a while: every request sent
 * so far has been processed (answered or parked). */
static void
wait_quiet(pid_t pid)
{
	uint64_t until = time_mono_ms() + PHASE_TIMEOUT_MS;
	long last = -1;
	int stable = 0;

	while (time_mono_ms() < until && stable < 4) {
		long c = server_cpu(pid);

		stable = c == last ? stable + 1 : 0;
		last = c;
		usleep(250 * 1000);
	}
}

/* --- the response side --- */

static int
parse_response(struct conn *c)
{
	char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	const char *cl;
	size_t hdr, len = 0;

	if (end == NULL)
		return 0;
	hdr = (size_t)(end - c->rbuf) + 4;
	*end = '\0';
	cl = strcasestr(c->rbuf, "\r\ncontent-length:");
	if (cl != NULL)
		len = (size_t)atol(cl + 17);
	c->http_status = atoi(c->rbuf + 9);
	cl = strcasestr(c->rbuf, "\r\nx-easd-worker:");
	c->worker = cl != NULL ? atoi(cl + 17) : -1;
	*end = '\r';
	if (c->rlen < hdr + len)
		return 0;
	c->ping_status = -1;
	if (len > 0) {
		struct arena *a = arena_new(4096);
		struct wbxml_node *root;
		const char *err;
		int64_t st = -1;

		if (wbxml_decode(a, (const uint8_t *)c->rbuf + hdr, len,
				 &wbxml_limits_default, &root, &err) == 0) {
			wbxml_child_int(root, EAS_PING_STATUS, &st);
			c->ping_status = (int)st;
		}
		arena_free(&a);
	}
	return 1;
}

static void
conn_finish(struct conn *c, bool ok)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = ok ? C_DONE : C_FAILED;
	if (ok)
		atomic_fetch_add(n_done, 1);
	else
		atomic_fetch_add(n_failed, 1);
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	if (c->state == C_SENDING && (ev & EPOLLOUT)) {
		ssize_t n =
			write(c->fd, c->req + c->sent, c->req_len - c->sent);

		if (n < 0 && errno != EAGAIN) {
			conn_finish(c, false);
			return;
		}
		if (n > 0)
			c->sent += (size_t)n;
		if (c->sent == c->req_len) {
			struct epoll_event e = {.events = EPOLLIN,
						.data.ptr = c};

			c->state = C_WAITING;
			epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
		}
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF - 1 - c->rlen);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_finish(c, false);
			return;
		}
		c->rlen += (size_t)n;
		if (parse_response(c)) {
			c->t_resp_us = now_us();
			conn_finish(c, true);
		} else if (c->rlen >= RBUF - 1) {
			conn_finish(c, false);
		}
	}
}

static void *
loop_main(void *arg)
{
	struct epoll_event evs[256];

	(void)arg;
	while (!atomic_load(&loop_stop)) {
		int n = epoll_wait(epfd, evs, 256, 50);

		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
	}
	return NULL;
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_in sin;
	struct epoll_event e = {.events = EPOLLOUT | EPOLLIN};

	struct sockaddr_in src;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	/* The port is chosen at connect(), per address pair. */
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr =
		htonl(INADDR_LOOPBACK + 1 + (uint32_t)((c - conns) % SOURCES));
	if (setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		       sizeof(one)) < 0 ||
	    bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
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
	c->state = C_SENDING;
	c->sent = c->rlen = 0;
	e.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e);
	return 0;
}

/* Open connections [from, to) in batches so the listen queue never
 * overflows (a dropped SYN costs a one-second retransmission). */
static void
open_range(int from, int to)
{
	for (int i = from; i < to; i++) {
		if (conn_open(&conns[i]) < 0) {
			conns[i].state = C_FAILED;
			atomic_fetch_add(n_failed, 1);
		}
		if ((i - from) % 200 == 199)
			usleep(20 * 1000);
	}
}

static bool
wait_count(int want)
{
	uint64_t until = time_mono_ms() + PHASE_TIMEOUT_MS;

	while (atomic_load(n_done) + atomic_load(n_failed) < want) {
		if (time_mono_ms() > until)
			return false;
		usleep(10 * 1000);
	}
	return true;
}

/* --- requests --- */

static char *
basic_auth(const char *user)
{
	char plain[128], *out;

	snprintf(plain, sizeof(plain), "%s:%s", user, HARNESS_PASSWORD);
	out = xmalloc(base64_encoded_len(strlen(plain)) + 1);
	base64_encode(plain, strlen(plain), out);
	return out;
}

static char *
options_request(const char *user)
{
	char *auth = basic_auth(user);
	char *r = xasprintf("OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n"
			    "Host: 127.0.0.1\r\n"
			    "Authorization: Basic %s\r\n"
			    "Content-Length: 0\r\n\r\n",
			    auth);

	free(auth);
	return r;
}

static uint32_t
policy_key_of(int ai, int dev)
{
	return 100000u + (uint32_t)(ai * DEVICES + dev);
}

static char *
ping_request(int ai, int dev, size_t *len_r)
{
	const struct bench_account *ac = &accts[ai];
	const struct conn *c = &conns[ai * DEVICES + dev];
	struct arena *a = arena_new(4096);
	struct wbxml_node *root = wbxml_new(a, EAS_PING_PING), *fs, *f;
	struct buf body, out;
	char *auth = basic_auth(ac->login);

	wbxml_add_int(a, root, EAS_PING_HEARTBEATINTERVAL, HEARTBEAT);
	fs = wbxml_add(a, root, EAS_PING_FOLDERS);
	f = wbxml_add(a, fs, EAS_PING_FOLDER);
	wbxml_add_text(a, f, EAS_PING_ID, c->folder_sid);
	wbxml_add_text(a, f, EAS_PING_CLASS, "Notes");
	buf_init(&body, 0);
	wbxml_encode(root, &body);
	buf_init(&out, 0);
	buf_printf(&out,
		   "POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=%s"
		   "&DeviceId=BENCH%dD%d&DeviceType=bench HTTP/1.1\r\n"
		   "Host: 127.0.0.1\r\n"
		   "Authorization: Basic %s\r\n"
		   "MS-ASProtocolVersion: 14.1\r\n"
		   "X-MS-PolicyKey: %u\r\n"
		   "Content-Type: application/vnd.ms-sync.wbxml\r\n"
		   "Content-Length: %zu\r\n\r\n",
		   ac->login, ai, dev, auth, policy_key_of(ai, dev), body.len);
	buf_append(&out, body.data, body.len);
	buf_deinit(&body);
	free(auth);
	arena_free(&a);
	return (char *)buf_steal(&out, len_r);
}

/* --- setup through the store API --- */

static void
choose_logins(void)
{
	static bool used[AUTH_SLOTS];
	int n = 0;

	used[g_str_hash(HARNESS_ADA) % AUTH_SLOTS] = true;
	used[g_str_hash(HARNESS_BOB) % AUTH_SLOTS] = true;
	for (unsigned k = 0; n < ACCOUNTS && k < 1000000; k++) {
		char name[32];
		unsigned slot;

		snprintf(name, sizeof(name), "bench%u", k);
		slot = g_str_hash(name) % AUTH_SLOTS;
		if (used[slot])
			continue;
		used[slot] = true;
		snprintf(accts[n++].login, sizeof(accts[0].login), "%s", name);
	}
}

struct adder {
	const struct easd_proc *p;
	int from, step;
	int failed;
};

/* Accounts are added on two threads: the password hash (slow on
 * purpose) is computed outside the write lock. */
static void *
adder_main(void *arg)
{
	struct adder *ad = arg;
	struct store *s = easd_store(ad->p);

	if (s == NULL) {
		ad->failed = 1;
		return NULL;
	}
	for (int i = ad->from; i < ACCOUNTS; i += ad->step) {
		char email[64];

		snprintf(email, sizeof(email), "%s@example.org",
			 accts[i].login);
		if (store_account_add(s, accts[i].login, email, NULL,
				      HARNESS_PASSWORD,
				      &accts[i].id) != STORE_OK) {
			ad->failed = 1;
			break;
		}
	}
	store_close(&s);
	return NULL;
}

/* Devices with a current policy key (as if provisioned), each with a
 * notes folder of its own and a sync state of it that has seen
 * everything. */
static int
setup_devices(struct store *s)
{
	struct arena *a = arena_new(0);
	enum store_error e = store_begin(s, true);

	for (int i = 0; i < ACCOUNTS && e == STORE_OK; i++) {
		int64_t version, modseq;

		e = store_policy_version(s, accts[i].id, &version);
		if (e != STORE_OK)
			break;
		for (int d = 0; d < DEVICES && e == STORE_OK; d++) {
			struct store_device dev;
			struct store_sync_state st;
			struct store_folder f;
			struct conn *c = &conns[i * DEVICES + d];
			char id[32];

			arena_reset(a);
			snprintf(id, sizeof(id), "Bench %d", d);
			e = store_folder_create(s, a, accts[i].id, 0, id, 17, 0,
						&f);
			if (e == STORE_OK)
				e = store_account_modseq(s, accts[i].id,
							 &modseq);
			if (e != STORE_OK)
				break;
			c->folder_id = f.id;
			c->folder_sid = xstrdup(f.server_id);
			snprintf(id, sizeof(id), "BENCH%dD%d", i, d);
			e = store_device_create(s, a, accts[i].id, id, "bench",
						"bench/1.0", &dev);
			if (e == STORE_OK)
				e = store_device_set_policy(s, dev.id, 0,
							    policy_key_of(i, d),
							    version);
			if (e != STORE_OK)
				break;
			memset(&st, 0, sizeof(st));
			st.device_id = dev.id;
			st.folder_id = c->folder_id;
			st.cur_key = "1";
			st.hwm = modseq;
			st.backfill_after = -1;
			e = store_sync_save(s, &st);
		}
	}
	if (e == STORE_OK)
		e = store_commit(s);
	else
		store_rollback(s);
	arena_free(&a);
	if (e != STORE_OK)
		fprintf(stderr, "bench-push: setup: %s\n", store_error_str(e));
	return e == STORE_OK ? 0 : -1;
}

/* WAKES changes, each its own commit into the folder of one device (the
 * store tells the server, as it does for easctl); the devices are spread
 * over the accounts. Returns how many were committed. */
static int
commit_changes(struct store *s)
{
	struct arena *a = arena_new(0);
	uint64_t start = now_us();
	int done = 0;

	for (int w = 0; w < WAKES; w++) {
		struct conn *c = &conns[(int)(((long)w * 7919) % CONNS)];
		struct store_item it;
		uint64_t due = start + (uint64_t)w * COMMIT_INTERVAL_US, t;

		if ((t = now_us()) < due)
			usleep((useconds_t)(due - t));
		memset(&it, 0, sizeof(it));
		it.cls = STORE_CLASS_NOTES;
		it.data = (const uint8_t *)"bench note";
		it.data_len = strlen("bench note");
		it.meta.subject = "bench";
		it.meta.size = (int64_t)it.data_len;
		it.meta.date = time_now();
		c->t_commit_us = now_us();
		if (store_item_add(s, a, accts[c->acct].id, c->folder_id, &it,
				   0) != STORE_OK)
			break;
		done++;
		arena_reset(a);
	}
	arena_free(&a);
	return done;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* As root, raise the hard limit too: 100,000 sockets on each side. The
 * server inherits it. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = TARGET_CONNS + 10000;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max < want) {
		struct rlimit up = {want, want};

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* --- the client processes --- */

struct client_proc {
	pid_t pid;
	int fd; /* socket pair: one command byte, one answer byte */
	int from, to;
};

static struct client_proc clients[MAX_PROCS];

/* In a client process: serve commands until told to stop. N opens the
 * next PARK_CHUNK of the slice's connections (their requests are ready;
 * P starts the slice over first), H hangs them all up, Q ends. Never returns;
 * _exit() so that the harness's exit handlers (which stop the server) run only
 * in the benchmark's own process. */
static void __attribute__((noreturn)) client_main(int fd, int from, int to)
{
	pthread_t loop;
	char cmd;

	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = from; i < to; i++)
		conns[i].rbuf = xmalloc(RBUF);
	if (epfd < 0 || pthread_create(&loop, NULL, loop_main, NULL) != 0)
		_exit(1);
	int next = from;

	while (read(fd, &cmd, 1) == 1) {
		if (cmd == 'P') {
			next = from;
		} else if (cmd == 'N') {
			int end = EAS_MIN(to, next + PARK_CHUNK);

			open_range(next, end);
			next = end;
		} else if (cmd == 'H') {
			for (int i = from; i < to; i++) {
				if (conns[i].fd < 0)
					continue;
				epoll_ctl(epfd, EPOLL_CTL_DEL, conns[i].fd,
					  NULL);
				close(conns[i].fd);
				conns[i].fd = -1;
			}
		} else
			break;
		if (write(fd, "k", 1) != 1)
			break;
	}
	atomic_store(&loop_stop, true);
	pthread_join(loop, NULL);
	_exit(0);
}

static int
clients_start(void)
{
	int per = (CONNS + CLIENTS - 1) / CLIENTS;

	fflush(stdout);
	fflush(stderr);
	for (int k = 0; k < CLIENTS; k++) {
		int sv[2];
		pid_t pid;

		clients[k].from = k * per;
		clients[k].to = EAS_MIN(CONNS, (k + 1) * per);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -1;
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			close(sv[0]);
			for (int j = 0; j < k; j++)
				close(clients[j].fd);
			client_main(sv[1], clients[k].from, clients[k].to);
		}
		close(sv[1]);
		clients[k].pid = pid;
		clients[k].fd = sv[0];
	}
	return 0;
}

/* Send cmd to every client process; 0 once all have done it. */
static int
clients_do(char cmd)
{
	int rc = 0;

	for (int k = 0; k < CLIENTS; k++)
		if (clients[k].pid > 0 && write(clients[k].fd, &cmd, 1) != 1)
			rc = -1;
	for (int k = 0; k < CLIENTS; k++) {
		char b;

		if (clients[k].pid > 0 && read(clients[k].fd, &b, 1) != 1)
			rc = -1;
	}
	return rc;
}

static void
clients_stop(void)
{
	for (int k = 0; k < CLIENTS; k++) {
		if (clients[k].pid <= 0)
			continue;
		if (write(clients[k].fd, "Q", 1) != 1)
			kill(clients[k].pid, SIGKILL);
		close(clients[k].fd);
		waitpid(clients[k].pid, NULL, 0);
		clients[k].pid = 0;
	}
}

/* Park every Ping; how many are held. The clients open theirs a chunk
 * at a time, and the next chunk waits until the server has accepted all
 * but PARK_BACKLOG of those opened (its descriptors say so). */
static int
park_all(pid_t pid, int fds_idle)
{
	int held = 0, per = (CONNS + CLIENTS - 1) / CLIENTS;

	atomic_store(n_done, 0);
	atomic_store(n_failed, 0);
	for (int i = 0; i < CONNS; i++) {
		conns[i].state = C_IDLE;
		conns[i].http_status = conns[i].ping_status = 0;
		conns[i].t_commit_us = conns[i].t_resp_us = 0;
	}
	if (clients_do('P') < 0)
		fprintf(stderr, "bench-push: a client process failed\n");
	for (int opened = 0; opened < per; opened += PARK_CHUNK) {
		uint64_t until = time_mono_ms() + PHASE_TIMEOUT_MS / 4;
		int want;

		if (clients_do('N') < 0)
			fprintf(stderr,
				"bench-push: a client process failed\n");
		want = fds_idle +
		       EAS_MIN(CONNS, (opened + PARK_CHUNK) * CLIENTS) -
		       PARK_BACKLOG - atomic_load(n_failed) -
		       atomic_load(n_done);
		while (server_fds(pid) < want && time_mono_ms() < until)
			usleep(PARK_POLL_MS * 1000);
	}
	wait_quiet(pid);
	for (int i = 0; i < CONNS; i++)
		if (conns[i].state == C_WAITING)
			held++;
	if (atomic_load(n_done) + atomic_load(n_failed) > 0) {
		fprintf(stderr, "bench-push: %d answered early, %d failed\n",
			atomic_load(n_done), atomic_load(n_failed));
		for (int i = 0; i < CONNS; i++)
			if (conns[i].state == C_DONE) {
				fprintf(stderr,
					"bench-push: early answer: HTTP %d "
					"Ping status %d\n",
					conns[i].http_status,
					conns[i].ping_status);
				break;
			}
	}
	return held;
}

/* Every client hangs up at once; seconds until the server has closed
 * all those sockets. */
static double
hang_up_all(pid_t pid, int fds_idle, int *fds_r)
{
	uint64_t start = now_us(), until = time_mono_ms() + 120000;

	clients_do('H');
	while ((*fds_r = server_fds(pid)) > fds_idle + 16 &&
	       time_mono_ms() < until)
		usleep(5 * 1000);
	return (double)(now_us() - start) / 1e6;
}

/* OPTIONS one after the other on one connection while the Pings wait:
 * the 99th percentile in ms, or -1 when one failed. */
static double
options_p99(const struct easd_proc *p)
{
	struct eas_client *c = harness_client_new(p, HARNESS_ADA, "BENCHOPT");
	struct arena *a = arena_new(0);
	uint64_t t[OPTIONS_SAMPLES];
	bool ok = c != NULL;

	for (int i = 0; ok && i < OPTIONS_SAMPLES; i++) {
		struct eas_response r;
		uint64_t t0 = now_us();

		ok = eas_client_options(c, a, &r) == 0;
		t[i] = now_us() - t0;
		arena_reset(a);
		usleep(5000);
	}
	eas_client_free(&c);
	arena_free(&a);
	if (!ok)
		return -1;
	qsort(t, OPTIONS_SAMPLES, sizeof(*t), cmp_u64);
	return (double)t[OPTIONS_SAMPLES * 99 / 100] / 1000.0;
}

/* Warm every worker's credential cache with every account: OPTIONS on
 * new connections (the kernel spreads them over the workers) until each
 * account was answered by each worker (X-Easd-Worker), so that no Ping
 * pays a password hash. This process's own loop, before the clients
 * fork. 0, or -1 when a round failed or it did not converge. */
static int
warm_credentials(void)
{
	uint64_t *seen = xcalloc(ACCOUNTS, sizeof(*seen));
	uint64_t all = WORKERS >= 64 ? ~0ull : (1ull << WORKERS) - 1;
	int *slot = xcalloc(ACCOUNTS, sizeof(*slot));
	pthread_t loop;
	int rc = -1;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < ACCOUNTS; i++) {
		conns[i].rbuf = xmalloc(RBUF);
		conns[i].req = options_request(accts[i].login);
		conns[i].req_len = strlen(conns[i].req);
	}
	atomic_store(&loop_stop, false);
	pthread_create(&loop, NULL, loop_main, NULL);
	for (int round = 0; round < 40 * WORKERS; round++) {
		int n = 0;

		for (int i = 0; i < ACCOUNTS; i++)
			if ((seen[i] & all) != all)
				slot[n++] = i;
		if (n == 0) {
			rc = 0;
			break;
		}
		atomic_store(n_done, 0);
		atomic_store(n_failed, 0);
		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[slot[k]];

			c->state = C_IDLE;
			c->http_status = 0;
			c->worker = -1;
			if (conn_open(c) < 0) {
				c->state = C_FAILED;
				atomic_fetch_add(n_failed, 1);
			}
			if (k % 200 == 199)
				usleep(20 * 1000);
		}
		if (!wait_count(n))
			break;
		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[slot[k]];

			if (c->state != C_DONE || c->http_status != 200) {
				fprintf(stderr,
					"bench-push: warm-up OPTIONS %d: "
					"HTTP %d\n",
					slot[k], c->http_status);
				goto out;
			}
			if (WORKERS == 1)
				seen[slot[k]] = all;
			else if (c->worker >= 0 && c->worker < 64)
				seen[slot[k]] |= 1ull << c->worker;
		}
	}
out:
	atomic_store(&loop_stop, true);
	pthread_join(loop, NULL);
	atomic_store(&loop_stop, false);
	for (int i = 0; i < ACCOUNTS; i++) {
		free((char *)conns[i].req);
		free(conns[i].rbuf);
		conns[i].rbuf = NULL;
		conns[i].req = NULL;
	}
	close(epfd);
	epfd = -1;
	free(seen);
	free(slot);
	return rc;
}

int
main(void)
{
	char max_conns[24], workers[24];
	/* Every client is on loopback: no per-address limit; 100 devices
	 * of one account all wait. */
	const char *args[] = {"--log-level",
			      "warn",
			      "--max-connections-per-addr",
			      "0",
			      "--max-connections",
			      max_conns,
			      "--max-parked-per-account",
			      "0",
			      "--workers",
			      workers,
			      NULL};
	struct easd_proc *p = NULL;
	struct store *s = NULL;
	struct adder ad[2];
	pthread_t th[2];
	struct rlimit rl;
	uint64_t *lat = NULL, t0;
	long rss_idle, rss_held, rss_after, per_proc;
	/* of which pages of files (the database's mapping, shared by every
	 * process and the kernel's to drop) */
	long file_idle, file_held, file_after;
	int rc = 1, held = 0, wrong = 0, fds_idle, fds, committed;
	size_t nlat = 0;
	double options_ms, release_s;
	void *shared;

	raise_fd_limit();
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 4000) {
		printf("bench-push: skipped: fd limit %ld below 4000\n",
		       (long)rl.rlim_cur);
		return 0;
	}
	/* Sockets one process may hold: the server has as many workers,
	 * the client side as many processes, as that takes (each of at
	 * most MAX_PROCS). */
	per_proc = (long)rl.rlim_cur - SERVER_SPARE_FDS;
	ACCOUNTS = (int)EAS_MIN((long)MAX_PROCS * per_proc / DEVICES,
				(long)MAX_ACCOUNTS);
	/* a smaller run on request (profiling) */
	if (getenv("BENCH_PUSH_ACCOUNTS") != NULL)
		ACCOUNTS =
			EAS_MIN(ACCOUNTS, atoi(getenv("BENCH_PUSH_ACCOUNTS")));
	CONNS = ACCOUNTS * DEVICES;
	WORKERS = (int)((CONNS + per_proc - 1) / per_proc);
	if (getenv("BENCH_PUSH_WORKERS") != NULL)
		WORKERS = EAS_MAX(WORKERS, atoi(getenv("BENCH_PUSH_WORKERS")));
	CLIENTS = (int)((CONNS + (long)rl.rlim_cur - CLIENT_SPARE_FDS - 1) /
			((long)rl.rlim_cur - CLIENT_SPARE_FDS));
	if (CONNS < TARGET_CONNS && getenv("BENCH_PUSH_ACCOUNTS") == NULL)
		fprintf(stderr,
			"bench-push: the open-file limit is %ld (%d processes "
			"of at most %ld sockets each): %d Pings instead of "
			"%d\n",
			(long)rl.rlim_cur, MAX_PROCS, per_proc, CONNS,
			TARGET_CONNS);
	fprintf(stderr,
		"bench-push: %d Pings over %d easd workers and %d client "
		"processes (open-file limit %ld each)\n",
		CONNS, WORKERS, CLIENTS, (long)rl.rlim_cur);
	/* a worker's share, with room for the kernel's uneven spread */
	snprintf(max_conns, sizeof(max_conns), "%ld",
		 (long)rl.rlim_cur - SERVER_SPARE_FDS / 3);
	snprintf(workers, sizeof(workers), "%d", WORKERS);
	choose_logins();
	/* the warm-up needs to know which worker answered */
	setenv("EASD_WORKER_HEADER", "1", 1);
	p = easd_start(args);
	if (p == NULL)
		return 1;
	port = p->port;

	shared =
		mmap(NULL, CONNS * sizeof(*conns) + 2 * sizeof(atomic_int),
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		fprintf(stderr, "bench-push: cannot map shared memory\n");
		goto out;
	}
	conns = shared;
	n_done = (atomic_int *)(conns + CONNS);
	n_failed = n_done + 1;
	for (int i = 0; i < CONNS; i++) {
		conns[i].fd = -1;
		conns[i].acct = i / DEVICES;
	}
	t0 = time_mono_ms();
	for (int i = 0; i < 2; i++) {
		ad[i] = (struct adder){.p = p, .from = i, .step = 2};
		pthread_create(&th[i], NULL, adder_main, &ad[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (ad[0].failed || ad[1].failed) {
		fprintf(stderr, "bench-push: adding accounts failed\n");
		goto out;
	}
	s = easd_store(p);
	if (s == NULL || setup_devices(s) < 0)
		goto out;
	fprintf(stderr,
		"bench-push: %d accounts, %d devices set up in %llu "
		"ms\n",
		ACCOUNTS, CONNS, (unsigned long long)(time_mono_ms() - t0));

	t0 = time_mono_ms();
	if (warm_credentials() < 0) {
		fprintf(stderr, "bench-push: warm-up failed\n");
		goto out;
	}
	fprintf(stderr, "bench-push: credentials warmed in %llu ms\n",
		(unsigned long long)(time_mono_ms() - t0));

	/* The Pings' requests, then the processes that send them. */
	for (int i = 0; i < CONNS; i++)
		conns[i].req = ping_request(i / DEVICES, i % DEVICES,
					    &conns[i].req_len);
	if (clients_start() < 0) {
		fprintf(stderr, "bench-push: cannot start the clients\n");
		goto out;
	}
	wait_quiet(p->pid);
	rss_idle = server_kb(p->pid, "VmRSS:");
	file_idle = server_kb(p->pid, "RssFile:");
	fds_idle = server_fds(p->pid);
	t0 = time_mono_ms();
	held = park_all(p->pid, fds_idle);
	rss_held = server_kb(p->pid, "VmRSS:");
	file_held = server_kb(p->pid, "RssFile:");
	fprintf(stderr, "bench-push: %d Pings parked in %llu ms\n", held,
		(unsigned long long)(time_mono_ms() - t0));
	printf("bench-push: pings-held %d conns (target %d; %d workers)\n",
	       held, TARGET_CONNS, WORKERS);
	printf("bench-push: rss-per-waiting-ping %.1f KiB (target < 8; of "
	       "which pages of files %.1f)\n",
	       held > 0 ? (double)(rss_held - rss_idle) / held : 0.0,
	       held > 0 ? (double)(file_held - file_idle) / held : 0.0);

	/* BENCH_PUSH_HOLD_S (profiling): time to look at the server while
	 * the Pings are held */
	if (getenv("BENCH_PUSH_HOLD_S") != NULL) {
		fprintf(stderr,
			"bench-push: holding for %s s (server pid %ld)\n",
			getenv("BENCH_PUSH_HOLD_S"), (long)p->pid);
		sleep((unsigned)atoi(getenv("BENCH_PUSH_HOLD_S")));
	}
	/* The server must stay responsive while they wait. */
	options_ms = options_p99(p);
	printf("bench-push: options-p99-while-held %.1f ms (target < 50; "
	       "%d in a row)\n",
	       options_ms, OPTIONS_SAMPLES);

	/* Every client hangs up at once: how long until the server has
	 * closed all those sockets, and whether it gives the memory back. */
	release_s = hang_up_all(p->pid, fds_idle, &fds);
	printf("bench-push: hangup-release-%d %.2f s (target < 5; "
	       "server fds %d -> %d)\n",
	       held, release_s, fds_idle + held, fds);
	wait_quiet(p->pid);
	rss_after = server_kb(p->pid, "VmRSS:");
	file_after = server_kb(p->pid, "RssFile:");
	printf("bench-push: rss-after-storm %.0f %% of before (target <= "
	       "120; %ld -> %ld -> %ld MiB, of which pages of files %ld -> "
	       "%ld -> %ld)\n",
	       rss_idle > 0 ? 100.0 * (double)rss_after / (double)rss_idle
			    : 0.0,
	       rss_idle / 1024, rss_held / 1024, rss_after / 1024,
	       file_idle / 1024, file_held / 1024, file_after / 1024);

	/* Park them again; one change at a time wakes one device. */
	held = park_all(p->pid, fds_idle);
	atomic_store(n_done, 0);
	atomic_store(n_failed, 0);
	t0 = time_mono_ms();
	committed = commit_changes(s);
	if (committed < WAKES)
		fprintf(stderr,
			"bench-push: only %d of %d changes "
			"committed\n",
			committed, WAKES);
	if (!wait_count(committed))
		fprintf(stderr, "bench-push: not every woken Ping answered\n");
	fprintf(stderr,
		"bench-push: %d commits and answers in %llu ms (%d Pings "
		"held)\n",
		committed, (unsigned long long)(time_mono_ms() - t0), held);
	lat = xcalloc(CONNS, sizeof(*lat));
	for (int i = 0; i < CONNS; i++) {
		const struct conn *c = &conns[i];

		if (c->t_commit_us == 0)
			continue;
		if (c->state != C_DONE || c->ping_status != 2) {
			wrong++;
			continue;
		}
		lat[nlat++] = c->t_resp_us > c->t_commit_us
				      ? c->t_resp_us - c->t_commit_us
				      : 0;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("bench-push: woken-with-status-2 %zu conns (target %d, "
	       "others stay parked: %d answered)\n",
	       nlat, committed, atomic_load(n_done));
	if (nlat > 0) {
		printf("bench-push: wake-median %.1f ms (target -)\n",
		       (double)lat[nlat / 2] / 1000.0);
		printf("bench-push: wake-p99 %.1f ms (target < 100; "
		       "%d commits/s among %d Pings)\n",
		       (double)lat[nlat * 99 / 100] / 1000.0,
		       (int)(1000000 / COMMIT_INTERVAL_US), held);
		printf("bench-push: wake-max %.1f ms (target -)\n",
		       (double)lat[nlat - 1] / 1000.0);
	}
	if (wrong > 0)
		fprintf(stderr,
			"bench-push: %d Pings not answered with "
			"Status 2\n",
			wrong);
	rc = 0;
out:
	clients_stop();
	if (conns != NULL) {
		for (int i = 0; i < CONNS; i++) {
			free((char *)conns[i].req);
			free(conns[i].folder_sid);
		}
		munmap(shared, CONNS * sizeof(*conns) + 2 * sizeof(atomic_int));
	}
	free(lat);
	store_close(&s);
	if (p != NULL && easd_stop(&p) != 0)
		fprintf(stderr, "bench-push: easd did not stop cleanly\n");
	return rc;
}
