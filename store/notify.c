/* Change notification, SQLite flavour. A commit publishes what it changed
 * to the subscriptions of this process at once (on the committing
 * thread), and, when no subscription of this process receives for other
 * processes, to the one process that does: a UNIX datagram socket beside
 * the database file (easd.db -> easd.notify), mode 0600, bound by that
 * subscriber. The encoding is one text line per change, "K ACCOUNT ID",
 * K one of F (folder), H (hierarchy), D (device), A (account), Q (the
 * outbound queue); it exists
 * only here. On PostgreSQL the same lines, headed by the sending
 * process's token, go through NOTIFY inside the transaction and a
 * listener thread of the receiving process (notify-pg.c) hands them on
 * as a datagram would be. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

/* One datagram carries at most this much; longer lists go in several. */
#define NOTIFY_DATAGRAM_MAX 8192
/* Changes parsed from one datagram at most (a line is at least 6 bytes). */
#define NOTIFY_MAX_CHANGES (NOTIFY_DATAGRAM_MAX / 6 + 1)
/* How long a committer waits for room in the receiver's queue. */
#define NOTIFY_SEND_WAIT_MS 5000

struct store_subscription {
	struct store_subscription *next;
	char *key; /* the database, canonical */
	store_change_fn *fn;
	void *ctx;
	bool others;
	/* others: the bound socket and the thread reading it */
	int fd;
	char *sock_path;
	bool bound; /* fd is bound at sock_path (not a worker's channel) */
	int stop_pipe[2];
	pthread_t thread;
	bool running;
	/* others: between taking a datagram off the socket and every
	 * subscription having heard it (store_subscription_behind) */
	int busy;
	/* others on PostgreSQL: the LISTENing thread instead of the socket */
	struct store_pg_listener *pg;
};

/* Read-locked twice on one thread: a request in store_subscription_behind
 * on PostgreSQL delivers what it reads to the subscriptions. glibc's
 * default rwlock prefers readers, so the second read lock never waits
 * behind a writer (store_subscribe) that waits for the first. */
static pthread_rwlock_t subs_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct store_subscription *subs;

static const char kind_letters[] = {
	[STORE_CHANGED_FOLDER] = 'F',	[STORE_CHANGED_HIERARCHY] = 'H',
	[STORE_CHANGED_DEVICE] = 'D',	[STORE_CHANGED_ACCOUNT] = 'A',
	[STORE_CHANGED_OUTBOUND] = 'Q', [STORE_CHANGED_TRACE] = 'T',
	[STORE_CHANGED_SEARCH] = 'S',	[STORE_CHANGED_PARKED] = 'P',
};

/* easd --workers (store_notify_group_new). Worker i reads rx[i]; anyone
 * sends to it on tx[i], the other end of the same socket pair (a
 * connected datagram pair has no queue length limit but the sender's
 * buffer, about 200 KB). The parent reads hub, the socket at easd.notify
 * that easctl sends to, and hands on to every worker. */
struct notify_group {
	char *key; /* the database, canonical */
	bool pg;
	unsigned n;
	int self; /* -1 in the parent */
	int *rx, *tx;
	int hub;
	char *hub_path;
	int *hub_busy; /* shared by all: the parent is handing one on */
};

static struct notify_group *group;

static void send_fd(int fd, const char *msg, size_t len);
static enum store_error bind_path(const char *path, int *fd_r,
				  const char **error_r);

static char *
notify_key(const char *db_path)
{
	char *copy = xstrdup(db_path), *dir, *key;
	char *base_copy = xstrdup(db_path);
	char real[PATH_MAX];

	dir = dirname(copy);
	if (realpath(dir, real) != NULL)
		key = xasprintf("%s/%s", real, basename(base_copy));
	else
		key = xstrdup(db_path);
	free(copy);
	free(base_copy);
	return key;
}

/* The socket path for a database: its name with ".db" replaced by
 * ".notify" (or ".notify" added). */
static char *
sock_path_of(const char *key)
{
	size_t n = strlen(key);

	if (n > 3 && strcmp(key + n - 3, ".db") == 0)
		return xasprintf("%.*s.notify", (int)(n - 3), key);
	return xasprintf("%s.notify", key);
}

static int
sock_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -1;
	strcpy(sun->sun_path, path);
	return 0;
}

void
store_notify_init(struct store *s, const char *db_path)
{
	s->notify_key = notify_key(db_path);
	s->notify_sock = sock_path_of(s->notify_key);
	s->notify_fd = -1;
}

void
store_notify_deinit(struct store *s)
{
	free(s->changes);
	s->changes = NULL;
	s->changes_count = s->changes_cap = 0;
	free(s->notify_key);
	free(s->notify_sock);
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	s->notify_fd = -1;
}

/* --- encoding --- */

static size_t
encode_one(char *out, size_t size, const struct store_change *c)
{
	int n = snprintf(out, size, "%c %lld %lld\n", kind_letters[c->what],
			 (long long)c->account_id, (long long)c->id);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Parse one datagram into changes; malformed lines are logged and
 * skipped. Returns the count. */
static size_t
decode(char *data, size_t len, struct store_change *out, size_t max)
{
	/* in the order of enum store_change_what, from 1 */
	static const char letters[] = "FHDAQTSP";
	char *line = data, *end = data + len;
	size_t n = 0;

	while (line < end && n < max) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *sp1, *sp2;
		const char *k;
		int64_t account, id;

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (*line == '\0')
			goto next;
		k = line[0] != '\0' ? strchr(letters, line[0]) : NULL;
		sp1 = line[1] == ' ' ? line + 1 : NULL;
		sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
		if (k == NULL || sp2 == NULL)
			goto bad;
		*sp2 = '\0';
		if (str_to_int64(sp1 + 1, &account) < 0 ||
		    str_to_int64(sp2 + 1, &id) < 0 || account < 0 || id < 0) {
			*sp2 = ' ';
			goto bad;
		}
		out[n].what = (enum store_change_what)(k - letters + 1);
		out[n].account_id = account;
		out[n].id = id;
		n++;
		goto next;
	bad:
		log_warn("store: malformed change notification \"%.40s\"",
			 line);
	next:
		line = nl + 1;
	}
	return n;
}

/* --- publishing --- */

static void
send_datagram(struct store *s, const char *msg, size_t len)
{
	struct sockaddr_un sun;

	if (s->notify_fd < 0) {
		struct timeval tv = {.tv_sec = NOTIFY_SEND_WAIT_MS / 1000,
				     .tv_usec =
					     NOTIFY_SEND_WAIT_MS % 1000 * 1000};

		s->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->notify_fd < 0)
			return;
		(void)setsockopt(s->notify_fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				 sizeof(tv));
	}
	if (sock_addr(s->notify_sock, &sun) < 0)
		return;
	/* Without a receiver (ENOENT, ECONNREFUSED) nobody waits; a
	 * receiver that is gone resyncs when it starts. One that is behind
	 * (its queue holds only net.unix.max_dgram_qlen datagrams, 10 by
	 * default) is waited for: a datagram dropped here is a Ping not
	 * woken and an account cached with its old password. */
	while (sendto(s->notify_fd, msg, len, 0, (struct sockaddr *)&sun,
		      sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			log_warn("store: the change notification receiver did "
				 "not take a notification in %d ms; dropped",
				 NOTIFY_SEND_WAIT_MS);
		break;
	}
}

/* On a connected socket (a worker's channel, SO_SNDTIMEO set): waits for
 * room as send_datagram does. */
static void
send_fd(int fd, const char *msg, size_t len)
{
	while (send(fd, msg, len, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			log_warn("store: a worker did not take a change "
				 "notification in %d ms; dropped",
				 NOTIFY_SEND_WAIT_MS);
		break;
	}
}

/* To the other workers of the group, or to the one receiver. */
static void
send_message(struct store *s, bool to_group, const char *msg, size_t len)
{
	if (!to_group) {
		send_datagram(s, msg, len);
		return;
	}
	for (unsigned i = 0; i < group->n; i++)
		if ((int)i != group->self)
			send_fd(group->tx[i], msg, len);
}

static void
send_changes(struct store *s, bool to_group, const struct store_change *c,
	     size_t n)
{
	char msg[NOTIFY_DATAGRAM_MAX];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		char line[80];
		size_t l = encode_one(line, sizeof(line), &c[i]);

		if (len + l > sizeof(msg)) {
			send_message(s, to_group, msg, len);
			len = 0;
		}
		memcpy(msg + len, line, l);
		len += l;
	}
	if (len > 0)
		send_message(s, to_group, msg, len);
}

/* Hand changes to every subscription of this process for the database;
 * returns whether one of them receives for other processes. */
static bool
publish_local(const char *key, const struct store_change *c, size_t n)
{
	bool receiver = false;

	pthread_rwlock_rdlock(&subs_lock);
	for (struct store_subscription *sub = subs; sub != NULL;
	     sub = sub->next) {
		if (strcmp(sub->key, key) != 0)
			continue;
		sub->fn(sub->ctx, c, n);
		receiver = receiver || sub->others;
	}
	pthread_rwlock_unlock(&subs_lock);
	return receiver;
}

/* --- PostgreSQL: NOTIFY and LISTEN --- */

/* NOTIFY payloads stay under PostgreSQL's 8000 bytes. */
#define NOTIFY_PG_PAYLOAD_MAX 7900

/* "@PID.NONCE": which process sent a payload, so that it does not hear
 * its own commits twice (its subscriptions heard them at the commit). */
static char pg_token[48];
static pthread_once_t pg_token_once = PTHREAD_ONCE_INIT;

static void
pg_token_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(pg_token, sizeof(pg_token), "@%ld.%lx\n", (long)getpid(),
		 (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 20)));
}

static enum store_error
pg_notify(struct store *s, const char *payload)
{
	static const char sql[] = "SELECT pg_notify('easd', ?1)";

	return store_execute(s, sql, "t", payload);
}

enum store_error
store_notify_before_commit(struct store *s)
{
	char msg[NOTIFY_PG_PAYLOAD_MAX + 1];
	size_t head, len;
	enum store_error e = STORE_OK;

	if (s->drv == &store_driver_sqlite || s->changes_count == 0)
		return STORE_OK;
	pthread_once(&pg_token_once, pg_token_init);
	head = len = strlen(pg_token);
	memcpy(msg, pg_token, head);
	for (size_t i = 0; i < s->changes_count && e == STORE_OK; i++) {
		char line[80];
		size_t l = encode_one(line, sizeof(line), &s->changes[i]);

		if (len + l > NOTIFY_PG_PAYLOAD_MAX) {
			msg[len] = '\0';
			e = pg_notify(s, msg);
			len = head;
		}
		memcpy(msg + len, line, l);
		len += l;
	}
	if (e == STORE_OK && len > head) {
		msg[len] = '\0';
		e = pg_notify(s, msg);
	}
	return e;
}

/* On the listener thread: one payload to the subscriptions of this
 * process. */
static void
pg_deliver(void *ctx, const char *payload)
{
	struct store_subscription *sub = ctx;
	struct store_change *changes;
	char *data, *body;
	size_t n;

	if (payload == NULL) {
		/* What committed while the connection was down was not
		 * heard: any folder and any account may have changed. */
		static const struct store_change all[] = {
			{.what = STORE_CHANGED_FOLDER},
			{.what = STORE_CHANGED_ACCOUNT},
		};

		publish_local(sub->key, all, N_ELEMENTS(all));
		return;
	}
	pthread_once(&pg_token_once, pg_token_init);
	if (strncmp(payload, pg_token, strlen(pg_token)) == 0)
		return; /* our own: heard at the commit */
	body = strchr(payload, '\n');
	if (payload[0] != '@' || body == NULL) {
		log_warn("store: a change notification without its sender; "
			 "ignored");
		return;
	}
	data = xstrdup(body + 1);
	changes = xcalloc(NOTIFY_MAX_CHANGES, sizeof(*changes));
	n = decode(data, strlen(data), changes, NOTIFY_MAX_CHANGES);
	if (n > 0)
		publish_local(sub->key, changes, n);
	free(changes);
	free(data);
}

/* Whether this process is a worker of easd --workers on the SQLite file
 * whose notification key is key. */
static bool
in_group(const char *key)
{
	return group != NULL && group->self >= 0 && !group->pg &&
	       strcmp(group->key, key) == 0;
}

void
store_publish(struct store *s, const struct store_change *c, size_t n)
{
	bool receiver;

	if (n == 0)
		return;
	receiver = publish_local(s->notify_key, c, n);
	if (s->drv != &store_driver_sqlite)
		return;
	/* A worker's commit reaches its siblings directly; the parent's
	 * hub is for processes outside the group. */
	if (in_group(s->notify_key))
		send_changes(s, true, c, n);
	else if (!receiver)
		send_changes(s, false, c, n);
}

enum store_error
store_announce(struct store *s, const struct store_change *c)
{
	char msg[128];
	size_t head;

	if (s->drv == &store_driver_sqlite) {
		store_publish(s, c, 1);
		return STORE_OK;
	}
	/* PostgreSQL: a NOTIFY of its own (outside a transaction it is
	 * delivered at once); this process hears it now */
	publish_local(s->notify_key, c, 1);
	pthread_once(&pg_token_once, pg_token_init);
	head = strlen(pg_token);
	memcpy(msg, pg_token, head);
	if (encode_one(msg + head, sizeof(msg) - head, c) == 0)
		return STORE_INVALID;
	return pg_notify(s, msg);
}

/* --- receiving --- */

static void *
receive_main(void *arg)
{
	struct store_subscription *sub = arg;
	struct store_change *changes =
		xcalloc(NOTIFY_MAX_CHANGES, sizeof(*changes));
	char *data = xmalloc(NOTIFY_DATAGRAM_MAX + 1);

	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = sub->fd, .events = POLLIN},
			{.fd = sub->stop_pipe[0], .events = POLLIN},
		};
		ssize_t got;
		size_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("store: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		/* before the datagram leaves the queue: see
		 * store_subscription_behind */
		__atomic_add_fetch(&sub->busy, 1, __ATOMIC_SEQ_CST);
		got = recv(sub->fd, data, NOTIFY_DATAGRAM_MAX, MSG_DONTWAIT);
		if (got < 0) {
			__atomic_sub_fetch(&sub->busy, 1, __ATOMIC_SEQ_CST);
			if (errno != EAGAIN && errno != EINTR)
				log_warn("store: recv: %s", strerror(errno));
			continue;
		}
		n = decode(data, (size_t)got, changes, NOTIFY_MAX_CHANGES);
		/* every subscription of this process hears it, not only the
		 * one that holds the socket */
		if (n > 0)
			publish_local(sub->key, changes, n);
		__atomic_sub_fetch(&sub->busy, 1, __ATOMIC_SEQ_CST);
	}
	free(data);
	free(changes);
	return NULL;
}

/* Bind the socket unless another process already receives on it. */
static enum store_error
bind_receiver(struct store_subscription *sub, const char **error_r)
{
	enum store_error e = bind_path(sub->sock_path, &sub->fd, error_r);

	sub->bound = e == STORE_OK;
	return e;
}

static enum store_error
bind_path(const char *path, int *fd_r, const char **error_r)
{
	static _Thread_local char err[PATH_MAX + 128];
	struct sockaddr_un sun;
	int probe;

	*fd_r = -1;
	if (sock_addr(path, &sun) < 0) {
		*error_r = "notification socket path too long (shorten the "
			   "data directory)";
		return STORE_INVALID;
	}
	/* A socket file nobody reads is left by a process that did not stop
	 * cleanly and may go; one somebody reads must stay. */
	probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 &&
	    connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		snprintf(err, sizeof(err),
			 "another process receives the changes of this "
			 "database (%s is in use)",
			 path);
		*error_r = err;
		return STORE_EXISTS;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	*fd_r = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd_r < 0 ||
	    bind(*fd_r, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, sizeof(err),
			 "cannot bind the notification socket %s: %s", path,
			 strerror(errno));
		*error_r = err;
		if (*fd_r >= 0)
			close(*fd_r);
		*fd_r = -1;
		return STORE_INTERNAL;
	}
	chmod(path, 0600);
	return STORE_OK;
}

static void
sub_free(struct store_subscription *sub)
{
	store_pg_unlisten(&sub->pg);
	if (sub->running) {
		if (write(sub->stop_pipe[1], "x", 1) < 0)
			log_warn("store: cannot stop the notification reader");
		pthread_join(sub->thread, NULL);
	}
	if (sub->fd >= 0) {
		close(sub->fd);
		if (sub->bound)
			unlink(sub->sock_path);
	}
	if (sub->stop_pipe[0] >= 0)
		close(sub->stop_pipe[0]);
	if (sub->stop_pipe[1] >= 0)
		close(sub->stop_pipe[1]);
	free(sub->sock_path);
	free(sub->key);
	free(sub);
}

enum store_error
store_subscribe(const char *db_path, bool others, store_change_fn *fn,
		void *ctx, struct store_subscription **sub_r,
		const char **error_r)
{
	struct store_subscription *sub = xcalloc(1, sizeof(*sub));
	enum store_error e;

	*sub_r = NULL;
	*error_r = NULL;
	sub->key = notify_key(db_path);
	sub->sock_path = sock_path_of(sub->key);
	sub->fn = fn;
	sub->ctx = ctx;
	sub->others = others;
	sub->fd = -1;
	sub->stop_pipe[0] = sub->stop_pipe[1] = -1;
	if (others && store_is_url(db_path)) {
		sub->pg = store_pg_listen(db_path, pg_deliver, sub, error_r);
		if (sub->pg == NULL) {
			sub_free(sub);
			return STORE_BUSY;
		}
	} else if (others) {
		if (in_group(sub->key)) {
			/* a worker: its channel from the others */
			sub->fd = fcntl(group->rx[group->self], F_DUPFD_CLOEXEC,
					0);
			e = sub->fd >= 0 ? STORE_OK : STORE_INTERNAL;
			if (e != STORE_OK)
				*error_r = "cannot read the worker's channel";
		} else
			e = bind_receiver(sub, error_r);
		if (e != STORE_OK) {
			sub_free(sub);
			return e;
		}
		if (pipe2(sub->stop_pipe, O_CLOEXEC) < 0 ||
		    pthread_create(&sub->thread, NULL, receive_main, sub) !=
			    0) {
			*error_r = "cannot start the notification reader";
			sub_free(sub);
			return STORE_INTERNAL;
		}
		sub->running = true;
	}
	pthread_rwlock_wrlock(&subs_lock);
	sub->next = subs;
	subs = sub;
	pthread_rwlock_unlock(&subs_lock);
	*sub_r = sub;
	return STORE_OK;
}

void
store_unsubscribe(struct store_subscription **subp)
{
	struct store_subscription *sub = *subp, **pp;

	if (sub == NULL)
		return;
	pthread_rwlock_wrlock(&subs_lock);
	for (pp = &subs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			break;
		}
	}
	pthread_rwlock_unlock(&subs_lock);
	sub_free(sub);
	*subp = NULL;
}

bool
store_subscription_behind(struct store_subscription *sub)
{
	bool behind = true; /* nobody receives: nothing can be trusted */

	pthread_rwlock_rdlock(&subs_lock);
	for (struct store_subscription *r = subs; r != NULL; r = r->next) {
		int queued = 0;

		if (!r->others || strcmp(r->key, sub->key) != 0)
			continue;
		if (r->pg != NULL) {
			behind = store_pg_listener_behind(r->pg);
			break;
		}
		/* A datagram still queued, or taken and not yet handed to
		 * every subscription. In this order: the reader counts
		 * itself busy before it takes one off the queue. A worker
		 * first asks the same of the parent, which hands what
		 * easctl sent on to the worker's queue. */
		if (in_group(r->key)) {
			if (ioctl(group->hub, FIONREAD, &queued) < 0)
				queued = 1;
			if (queued > 0 || __atomic_load_n(group->hub_busy,
							  __ATOMIC_SEQ_CST) > 0)
				break;
		}
		if (ioctl(r->fd, FIONREAD, &queued) < 0)
			queued = 1;
		behind = queued > 0 ||
			 __atomic_load_n(&r->busy, __ATOMIC_SEQ_CST) > 0;
		break;
	}
	pthread_rwlock_unlock(&subs_lock);
	return behind;
}

/* --- a group of worker processes --- */

enum store_error
store_notify_group_new(const char *db_path, unsigned workers,
		       const char **error_r)
{
	struct notify_group *g;
	struct timeval tv = {.tv_sec = NOTIFY_SEND_WAIT_MS / 1000,
			     .tv_usec = NOTIFY_SEND_WAIT_MS % 1000 * 1000};
	enum store_error e;

	*error_r = NULL;
	store_notify_group_free();
	g = xcalloc(1, sizeof(*g));
	g->key = notify_key(db_path);
	g->pg = store_is_url(db_path);
	g->n = workers;
	g->self = -1;
	g->hub = -1;
	group = g;
	if (g->pg)
		return STORE_OK;
	g->rx = xcalloc(workers, sizeof(*g->rx));
	g->tx = xcalloc(workers, sizeof(*g->tx));
	for (unsigned i = 0; i < workers; i++)
		g->rx[i] = g->tx[i] = -1;
	g->hub_busy = mmap(NULL, sizeof(*g->hub_busy), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->hub_busy == MAP_FAILED) {
		g->hub_busy = NULL;
		*error_r = "cannot map the notification counter";
		store_notify_group_free();
		return STORE_INTERNAL;
	}
	g->hub_path = sock_path_of(g->key);
	e = bind_path(g->hub_path, &g->hub, error_r);
	if (e != STORE_OK) {
		free(g->hub_path); /* somebody else's, or not there */
		g->hub_path = NULL;
		store_notify_group_free();
		return e;
	}
	for (unsigned i = 0; i < workers; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
			*error_r = "cannot make a worker's notification "
				   "channel";
			store_notify_group_free();
			return STORE_INTERNAL;
		}
		g->rx[i] = sv[0];
		g->tx[i] = sv[1];
		(void)setsockopt(g->tx[i], SOL_SOCKET, SO_SNDTIMEO, &tv,
				 sizeof(tv));
	}
	return STORE_OK;
}

void
store_notify_group_join(unsigned worker)
{
	/* the token of NOTIFY payloads is this process's own */
	pthread_once(&pg_token_once, pg_token_init);
	pg_token_init();
	if (group == NULL || worker >= group->n)
		return;
	group->self = (int)worker;
	if (group->pg)
		return;
	/* the other workers' queues are the parent's to drain */
	for (unsigned i = 0; i < group->n; i++)
		if (i != worker && group->rx[i] >= 0) {
			close(group->rx[i]);
			group->rx[i] = -1;
		}
}

int
store_notify_group_fd(void)
{
	return group != NULL && !group->pg ? group->hub : -1;
}

void
store_notify_group_forward(void)
{
	char *data;
	ssize_t got;

	if (group == NULL || group->pg)
		return;
	data = xmalloc(NOTIFY_DATAGRAM_MAX);
	/* busy before the datagram leaves the queue, as in receive_main */
	__atomic_add_fetch(group->hub_busy, 1, __ATOMIC_SEQ_CST);
	while ((got = recv(group->hub, data, NOTIFY_DATAGRAM_MAX,
			   MSG_DONTWAIT)) > 0)
		for (unsigned i = 0; i < group->n; i++)
			send_fd(group->tx[i], data, (size_t)got);
	__atomic_sub_fetch(group->hub_busy, 1, __ATOMIC_SEQ_CST);
	free(data);
}

int
store_notify_group_rx_fd(unsigned worker)
{
	if (group == NULL || group->pg || worker >= group->n)
		return -1;
	return group->rx[worker];
}

void
store_notify_group_drain(unsigned worker)
{
	char buf[64];

	if (group == NULL || group->pg || worker >= group->n ||
	    group->rx[worker] < 0)
		return;
	while (recv(group->rx[worker], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

void
store_notify_group_free(void)
{
	struct notify_group *g = group;

	if (g == NULL)
		return;
	group = NULL;
	for (unsigned i = 0; g->rx != NULL && i < g->n; i++) {
		if (g->rx[i] >= 0)
			close(g->rx[i]);
		if (g->tx[i] >= 0)
			close(g->tx[i]);
	}
	if (g->hub >= 0) {
		close(g->hub);
		/* the parent's; a worker leaves it to the parent */
		if (g->self < 0 && g->hub_path != NULL)
			unlink(g->hub_path);
	}
	if (g->hub_busy != NULL)
		munmap(g->hub_busy, sizeof(*g->hub_busy));
	free(g->hub_path);
	free(g->rx);
	free(g->tx);
	free(g->key);
	free(g);
}

/* --- what a connection records before its commit --- */

void
store_touch(struct store *s, enum store_change_what what, int64_t account_id,
	    int64_t id)
{
	for (size_t i = 0; i < s->changes_count; i++) {
		const struct store_change *c = &s->changes[i];

		if (c->what == what && c->account_id == account_id &&
		    c->id == id)
			return;
	}
	if (s->changes_count == s->changes_cap) {
		s->changes_cap = s->changes_cap == 0 ? 8 : s->changes_cap * 2;
		s->changes = xrealloc(s->changes,
				      s->changes_cap * sizeof(*s->changes));
	}
	s->changes[s->changes_count].what = what;
	s->changes[s->changes_count].account_id = account_id;
	s->changes[s->changes_count].id = id;
	s->changes_count++;
}

enum store_error
store_touch_device(struct store *s, int64_t device_row)
{
	static const char sql[] =
		"SELECT account_id FROM devices WHERE id = ?1";
	enum store_error e;
	int64_t account_id;

	e = store_fetch_int64(s, &account_id, sql, "I", device_row);
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_DEVICE, account_id, device_row);
	return e;
}
