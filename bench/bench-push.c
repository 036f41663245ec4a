/* Push benchmark (issue: push): 1,000 accounts x 10 devices hold 10,000
 * concurrent Pings on raw non-blocking sockets (an epoll loop, pre-built
 * requests); while they wait the server must still answer OPTIONS; then
 * every client hangs up at once and the time until the server has let go
 * of all those sockets is measured (issue 13: a parked request notices
 * its client's going); then the Pings are parked again, one change is
 * committed per account (store API in this process plus a datagram on the
 * server's notification socket, as easctl does) and the time from each
 * commit to each Ping answer is measured, with the server's resident
 * memory per waiting Ping. Loopback only, bounded in time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "util.h"
#include "xalloc.h"

#define ACCOUNTS 1000
#define DEVICES 10
#define CONNS (ACCOUNTS * DEVICES)
#define HEARTBEAT 3000 /* s; nothing times out during the run */
#define RBUF 2048
#define PHASE_TIMEOUT_MS 180000
/* Commits are spread at this interval (200 accounts/s, so 2,000 Ping
 * answers/s): a burst of 10,000 simultaneous answers measures the
 * server's throughput, not its wake-up latency. */
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
	uint64_t t_resp_us;
};

struct bench_account {
	char login[32];
	int64_t id;
	int64_t folder_id; /* Notes */
	char *folder_sid;
	uint64_t t_commit_us;
};

static struct bench_account accts[ACCOUNTS];
static struct conn *conns;
static int epfd;
static int port;
static atomic_int n_done, n_failed;
static atomic_bool loop_stop;

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

/* Wait until the server has used no CPU for a while: every request sent
 * so far has been processed (answered or parked). */
static void
wait_quiet(pid_t pid)
{
	uint64_t until = time_mono_ms() + PHASE_TIMEOUT_MS;
	long last = -1;
	int stable = 0;

	while (time_mono_ms() < until && stable < 4) {
		long c = proc_cpu(pid);

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
		atomic_fetch_add(&n_done, 1);
	else
		atomic_fetch_add(&n_failed, 1);
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
			atomic_fetch_add(&n_failed, 1);
		}
		if ((i - from) % 200 == 199)
			usleep(20 * 1000);
	}
}

static bool
wait_count(int want)
{
	uint64_t until = time_mono_ms() + PHASE_TIMEOUT_MS;

	while (atomic_load(&n_done) + atomic_load(&n_failed) < want) {
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
	struct arena *a = arena_new(4096);
	struct wbxml_node *root = wbxml_new(a, EAS_PING_PING), *fs, *f;
	struct buf body, out;
	char *auth = basic_auth(ac->login);

	wbxml_add_int(a, root, EAS_PING_HEARTBEATINTERVAL, HEARTBEAT);
	fs = wbxml_add(a, root, EAS_PING_FOLDERS);
	f = wbxml_add(a, fs, EAS_PING_FOLDER);
	wbxml_add_text(a, f, EAS_PING_ID, ac->folder_sid);
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

/* Devices with a current policy key (as if provisioned) and a sync state
 * of the Notes folder that has seen everything. */
static int
setup_devices(struct store *s)
{
	struct arena *a = arena_new(0);
	enum store_error e = store_begin(s, true);

	for (int i = 0; i < ACCOUNTS && e == STORE_OK; i++) {
		struct store_folder f;
		int64_t version, modseq;

		e = store_folder_get_by_type(s, a, accts[i].id,
					     EAS_FOLDER_NOTES, &f);
		if (e == STORE_OK)
			e = store_policy_version(s, accts[i].id, &version);
		if (e == STORE_OK)
			e = store_account_modseq(s, accts[i].id, &modseq);
		if (e != STORE_OK)
			break;
		accts[i].folder_id = f.id;
		accts[i].folder_sid = xstrdup(f.server_id);
		for (int d = 0; d < DEVICES && e == STORE_OK; d++) {
			struct store_device dev;
			struct store_sync_state st;
			char id[32];

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
			st.folder_id = f.id;
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

/* One change per account, each its own commit, announced on the
 * server's notification socket the way easctl does. */
static int
commit_changes(struct store *s, const char *dir)
{
	struct sockaddr_un sun;
	struct arena *a = arena_new(0);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;
	uint64_t start = now_us();

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/easd.notify", dir);
	for (int i = 0; i < ACCOUNTS; i++) {
		struct store_item it;
		char line[64];
		uint64_t due = start + (uint64_t)i * COMMIT_INTERVAL_US, t;
		int n;

		if ((t = now_us()) < due)
			usleep((useconds_t)(due - t));
		memset(&it, 0, sizeof(it));
		it.cls = STORE_CLASS_NOTES;
		it.data = (const uint8_t *)"bench note";
		it.data_len = strlen("bench note");
		it.meta.subject = "bench";
		it.meta.size = (int64_t)it.data_len;
		it.meta.date = time_now();
		if (store_item_add(s, a, accts[i].id, accts[i].folder_id, &it,
				   0) != STORE_OK) {
			rc = -1;
			break;
		}
		accts[i].t_commit_us = now_us();
		n = snprintf(line, sizeof(line), "%lld %lld\n",
			     (long long)accts[i].id,
			     (long long)accts[i].folder_id);
		if (sendto(fd, line, (size_t)n, 0, (struct sockaddr *)&sun,
			   sizeof(sun)) < 0) {
			perror("bench-push: notify");
			rc = -1;
			break;
		}
		arena_reset(a);
	}
	close(fd);
	arena_free(&a);
	return rc;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
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
	/* Every client is 127.0.0.1: no per-address limit. */
	static const char *const args[] = {
		"--log-level", "warn", "--max-connections-per-addr", "0", NULL};
	struct easd_proc *p = NULL;
	struct store *s = NULL;
	struct adder ad[2];
	pthread_t th[2], loop;
	bool loop_started = false;
	struct rlimit rl;
	uint64_t *lat = NULL, t0;
	long rss_before, rss_after;
	int rc = 1, held = 0, wrong = 0, fds_idle;
	size_t nlat = 0;

	raise_fd_limit();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < CONNS + 100) {
		printf("bench-push: skipped: fd limit %ld below %d\n",
		       (long)rl.rlim_cur, CONNS + 100);
		return 0;
	}
	choose_logins();
	p = easd_start(args);
	if (p == NULL)
		return 1;
	port = p->port;

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

	conns = xcalloc(CONNS, sizeof(*conns));
	for (int i = 0; i < CONNS; i++) {
		conns[i].fd = -1;
		conns[i].rbuf = xmalloc(RBUF);
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	pthread_create(&loop, NULL, loop_main, NULL);
	loop_started = true;

	/* Warm the server's credential cache: one OPTIONS per account. */
	t0 = time_mono_ms();
	for (int i = 0; i < ACCOUNTS; i++) {
		conns[i].acct = i;
		conns[i].req = options_request(accts[i].login);
		conns[i].req_len = strlen(conns[i].req);
	}
	open_range(0, ACCOUNTS);
	if (!wait_count(ACCOUNTS)) {
		fprintf(stderr, "bench-push: warm-up timed out\n");
		goto out;
	}
	for (int i = 0; i < ACCOUNTS; i++) {
		if (conns[i].state != C_DONE || conns[i].http_status != 200) {
			fprintf(stderr,
				"bench-push: warm-up OPTIONS %d: "
				"HTTP %d\n",
				i, conns[i].http_status);
			goto out;
		}
		free((char *)conns[i].req);
	}
	fprintf(stderr, "bench-push: credentials warmed in %llu ms\n",
		(unsigned long long)(time_mono_ms() - t0));

	/* Park the Pings. */
	atomic_store(&n_done, 0);
	atomic_store(&n_failed, 0);
	for (int i = 0; i < CONNS; i++) {
		conns[i].acct = i / DEVICES;
		conns[i].req = ping_request(i / DEVICES, i % DEVICES,
					    &conns[i].req_len);
		conns[i].state = C_IDLE;
		conns[i].http_status = conns[i].ping_status = 0;
	}
	wait_quiet(p->pid);
	rss_before = proc_field_kb(p->pid, "VmRSS:");
	fds_idle = proc_fds(p->pid);
	t0 = time_mono_ms();
	open_range(0, CONNS);
	wait_quiet(p->pid);
	rss_after = proc_field_kb(p->pid, "VmRSS:");
	for (int i = 0; i < CONNS; i++)
		if (conns[i].state == C_WAITING)
			held++;
	fprintf(stderr,
		"bench-push: %d Pings sent in %llu ms, %d answered "
		"early, %d failed\n",
		CONNS, (unsigned long long)(time_mono_ms() - t0),
		atomic_load(&n_done), atomic_load(&n_failed));
	for (int i = 0; i < CONNS && atomic_load(&n_done) > 0; i++)
		if (conns[i].state == C_DONE) {
			fprintf(stderr,
				"bench-push: early answer: HTTP %d "
				"Ping status %d\n",
				conns[i].http_status, conns[i].ping_status);
			break;
		}
	printf("bench-push: pings-held %d conns (target 10000)\n", held);
	printf("bench-push: rss-per-waiting-ping %.1f KiB (target < 16)\n",
	       held > 0 ? (double)(rss_after - rss_before) / held : 0.0);

	/* The server must stay responsive while they wait. */
	{
		struct eas_client *c =
			harness_client_new(p, HARNESS_ADA, "BENCHOPT");
		struct arena *a = arena_new(0);
		struct eas_response r;
		uint64_t t = now_us();
		int ok = c != NULL && eas_client_options(c, a, &r) == 0;

		printf("bench-push: options-while-held %.1f ms (target "
		       "answered: %s)\n",
		       (double)(now_us() - t) / 1000.0, ok ? "yes" : "NO");
		eas_client_free(&c);
		arena_free(&a);
	}

	/* Every client hangs up at once: how long until the server has
	 * closed all those sockets (it used to keep them until the end of
	 * the heartbeat, 3,000 s here). */
	{
		int fds = 0;
		uint64_t start = now_us(), until = time_mono_ms() + 120000;

		for (int i = 0; i < CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			epoll_ctl(epfd, EPOLL_CTL_DEL, conns[i].fd, NULL);
			close(conns[i].fd);
			conns[i].fd = -1;
		}
		while ((fds = proc_fds(p->pid)) > fds_idle + 16 &&
		       time_mono_ms() < until)
			usleep(5 * 1000);
		printf("bench-push: hangup-release-%d %.2f s (target < 5; "
		       "server fds %d -> %d)\n",
		       held, (double)(now_us() - start) / 1e6, fds_idle + held,
		       fds);
	}

	/* Park them again for the wake-up. */
	atomic_store(&n_done, 0);
	atomic_store(&n_failed, 0);
	for (int i = 0; i < CONNS; i++) {
		conns[i].state = C_IDLE;
		conns[i].http_status = conns[i].ping_status = 0;
	}
	wait_quiet(p->pid);
	open_range(0, CONNS);
	wait_quiet(p->pid);
	if (atomic_load(&n_done) + atomic_load(&n_failed) > 0)
		fprintf(stderr,
			"bench-push: parked again: %d answered early, %d "
			"failed\n",
			atomic_load(&n_done), atomic_load(&n_failed));

	/* Wake them: one commit per account. */
	t0 = time_mono_ms();
	if (commit_changes(s, p->dir) < 0) {
		fprintf(stderr, "bench-push: committing changes failed\n");
		goto out;
	}
	if (!wait_count(CONNS))
		fprintf(stderr, "bench-push: not every Ping answered\n");
	fprintf(stderr, "bench-push: %d commits and answers in %llu ms\n",
		ACCOUNTS, (unsigned long long)(time_mono_ms() - t0));
	lat = xcalloc(CONNS, sizeof(*lat));
	for (int i = 0; i < CONNS; i++) {
		const struct conn *c = &conns[i];

		if (c->state != C_DONE || c->ping_status != 2) {
			wrong++;
			continue;
		}
		lat[nlat++] =
			c->t_resp_us > accts[c->acct].t_commit_us
				? c->t_resp_us - accts[c->acct].t_commit_us
				: 0;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("bench-push: woken-with-status-2 %zu conns (target %d)\n", nlat,
	       CONNS);
	if (nlat > 0) {
		printf("bench-push: wake-median %.1f ms (target -)\n",
		       (double)lat[nlat / 2] / 1000.0);
		printf("bench-push: wake-p99 %.1f ms (target < 100; "
		       "%d commits/s)\n",
		       (double)lat[nlat * 99 / 100] / 1000.0,
		       (int)(1000000 / COMMIT_INTERVAL_US));
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
	if (loop_started) {
		atomic_store(&loop_stop, true);
		pthread_join(loop, NULL);
	}
	if (conns != NULL) {
		for (int i = 0; i < CONNS; i++) {
			if (conns[i].fd >= 0)
				close(conns[i].fd);
			free(conns[i].rbuf);
		}
		free(conns);
	}
	for (int i = 0; i < ACCOUNTS; i++)
		free(accts[i].folder_sid);
	free(lat);
	if (epfd > 0)
		close(epfd);
	store_close(&s);
	if (p != NULL && easd_stop(&p) != 0)
		fprintf(stderr, "bench-push: easd did not stop cleanly\n");
	return rc;
}
