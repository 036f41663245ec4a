/* Change notification between processes on PostgreSQL: a commit sends
 * its changes with pg_notify on channel "easd" inside its transaction
 * (notify.c, store_notify_before_commit), so PostgreSQL delivers them iff
 * the transaction commits, to every connection of every node that
 * LISTENs. A process that receives for others (store_subscribe with
 * others) LISTENs on a connection of its own; what arrives goes to the
 * subscriptions of this process as a datagram would on SQLite. A lost
 * connection is opened again (once a second) and LISTENs again.
 *
 * Catching up (store_pg_listener_behind). Unlike a datagram, which is in
 * the receiver's queue before the committer goes on, a NOTIFY reaches the
 * listener some time after the COMMIT returned on the other node; a
 * request that trusts what was heard (the in-memory answers of
 * standing.c) must first have heard every commit that came before it. A
 * round trip on the listening connection gives that: the committer
 * signalled this session's backend before its COMMIT returned, and a
 * backend outside a transaction sends its session the notifications it
 * was signalled for when it reads the next message and again before it
 * reports ReadyForQuery (PostgreSQL 15's postgres.c). The round trip is a
 * bare Sync of the extended protocol (the connection is in pipeline
 * mode): it starts no transaction and parses nothing, and it is answered
 * with ReadyForQuery as a query is; the n-th ReadyForQuery answers the
 * n-th Sync.
 *
 * Who reads. The connection is shared, every use of it under mu and in
 * nonblocking mode. A request sends its own Sync and then reads the
 * connection itself until that Sync is answered, delivering what it reads
 * on the way; requests that come meanwhile send theirs and wait, and one
 * of them reads next. Between requests the listener thread reads, so that
 * a change reaches parked Pings without one; while any request is in
 * store_pg_listener_behind its socket is out of the thread's epoll set,
 * so that the thread is not woken for what a request reads. A request
 * therefore costs two wakeups (the backend's, its own), not the four of
 * a round trip the thread makes for it. */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store-int.h"
#include "xalloc.h"

#define PG_LISTEN_RETRY_MS 1000
/* A request waits this long for its round trip, then reads the database. */
#define PG_CATCH_UP_WAIT_MS 2000

struct store_pg_listener {
	char *url;
	store_pg_deliver_fn *deliver;
	void *ctx;
	int stop_pipe[2];
	int lost_pipe[2]; /* a request found the connection lost */
	int ep;		  /* the thread's: stop_pipe, lost_pipe, watch_fd */
	int watch_fd;	  /* pc's socket, our own descriptor of it */
	pthread_t thread;
	bool running;
	/* under mu: */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* Replaced by the thread only while !up and nobody is inside. */
	PGconn *pc;
	bool up;	 /* connected, LISTENing, in pipeline mode */
	bool lost;	 /* a request found it lost: the thread reconnects */
	bool reading;	 /* somebody reads pc (and delivers, without mu) */
	bool watched;	 /* pc's socket is in ep */
	unsigned inside; /* requests in store_pg_listener_behind */
	uint64_t sent;	 /* Syncs sent on pc */
	uint64_t synced; /* of them answered, what came before delivered */
};

static bool
listen_connect(struct store_pg_listener *l)
{
	PGresult *r;
	bool ok;

	if (l->pc != NULL)
		PQfinish(l->pc);
	l->pc = PQconnectdb(l->url);
	if (PQstatus(l->pc) != CONNECTION_OK)
		return false;
	r = PQexec(l->pc, "LISTEN easd");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok && PQsetnonblocking(l->pc, 1) == 0 &&
	       PQenterPipelineMode(l->pc) == 1;
}

/* pc's socket in or out of the thread's epoll set (mu held). The set
 * holds a descriptor of our own: libpq closes its socket when it finds
 * the connection lost, and that number may be another file's by the time
 * it would be taken out. */
static void
watch(struct store_pg_listener *l, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->watch_fd};

	if (on && !l->watched && l->up && l->watch_fd >= 0) {
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->watch_fd, &ev) == 0)
			l->watched = true;
		else
			log_warn("store: epoll_ctl: %s", strerror(errno));
	} else if (!on && l->watched) {
		if (epoll_ctl(l->ep, EPOLL_CTL_DEL, l->watch_fd, NULL) < 0)
			log_warn("store: epoll_ctl: %s", strerror(errno));
		l->watched = false;
	}
}

/* Take in what pc has (mu held, reading ours): the notifications go to
 * deliver, with mu released, before the Syncs answered up to there
 * count as answered. False when the connection failed. */
static bool
read_input(struct store_pg_listener *l)
{
	PGnotify **notes = NULL, *n;
	size_t nnotes = 0, cap = 0;
	uint64_t answered = 0;
	bool ok = PQconsumeInput(l->pc) == 1;

	for (;;) {
		PGresult *r;

		while ((n = PQnotifies(l->pc)) != NULL) {
			if (nnotes == cap) {
				cap = cap > 0 ? 2 * cap : 8;
				notes = xrealloc(notes, cap * sizeof(*notes));
			}
			notes[nnotes++] = n;
		}
		/* Only Syncs were sent: a result is one answered, NULL
		 * says none is outstanding, busy that the rest is on its
		 * way. Notifications before a ReadyForQuery are parsed
		 * before it. */
		if (!ok || PQisBusy(l->pc) || (r = PQgetResult(l->pc)) == NULL)
			break;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
			answered++;
		PQclear(r);
	}
	if (nnotes > 0) {
		pthread_mutex_unlock(&l->mu);
		for (size_t i = 0; i < nnotes; i++) {
			l->deliver(l->ctx, notes[i]->extra);
			PQfreemem(notes[i]);
		}
		pthread_mutex_lock(&l->mu);
	}
	free(notes);
	l->synced += answered;
	return ok && PQstatus(l->pc) == CONNECTION_OK;
}

/* Milliseconds until deadline, 0 when past. */
static int
ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000L +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000L;
	return ms > 0 ? (int)ms : 0;
}

/* Read pc until Sync number mine is answered (mu held, reading ours);
 * false when the deadline passed or the connection failed (then lost is
 * set). */
static bool
read_until(struct store_pg_listener *l, uint64_t mine,
	   const struct timespec *deadline)
{
	while (l->up && !l->lost && l->synced < mine) {
		struct pollfd pfd = {.fd = l->watch_fd, .events = POLLIN};
		int flush = PQflush(l->pc), ms = ms_until(deadline), r;

		if (flush < 0) {
			l->lost = true;
			return false;
		}
		if (ms == 0)
			return false;
		if (flush > 0)
			pfd.events |= POLLOUT;
		pthread_mutex_unlock(&l->mu);
		r = poll(&pfd, 1, ms);
		pthread_mutex_lock(&l->mu);
		if (r < 0 && errno != EINTR) {
			log_error("store: poll: %s", strerror(errno));
			return false;
		}
		if (r > 0 && !read_input(l)) {
			l->lost = true;
			return false;
		}
	}
	return l->synced >= mine;
}

/* Wait for the stop pipe for ms; true when stopped. */
static bool
stopped_within(struct store_pg_listener *l, int ms)
{
	struct pollfd pfd = {.fd = l->stop_pipe[0], .events = POLLIN};

	return poll(&pfd, 1, ms) > 0;
}

/* The connection is lost: requests stop using it, and once none is
 * inside it is the thread's alone until it is up again. */
static void
go_down(struct store_pg_listener *l)
{
	pthread_mutex_lock(&l->mu);
	l->up = false;
	pthread_cond_broadcast(&l->cond);
	while (l->inside > 0)
		pthread_cond_wait(&l->cond, &l->mu);
	watch(l, false);
	if (l->watch_fd >= 0)
		close(l->watch_fd);
	l->watch_fd = -1;
	pthread_mutex_unlock(&l->mu);
}

/* Connected (again): requests may use pc. */
static bool
go_up(struct store_pg_listener *l)
{
	int fd = fcntl(PQsocket(l->pc), F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return false;
	pthread_mutex_lock(&l->mu);
	l->watch_fd = fd;
	l->synced = l->sent; /* the old connection's are void */
	l->lost = false;
	l->up = true;
	watch(l, true);
	pthread_mutex_unlock(&l->mu);
	return true;
}

/* The socket is readable and no request is inside: read it here. */
static void
read_between(struct store_pg_listener *l)
{
	pthread_mutex_lock(&l->mu);
	if (l->up && !l->reading && l->inside == 0) {
		l->reading = true;
		if (!read_input(l))
			l->lost = true;
		l->reading = false;
		/* requests that came while it delivered: one reads next */
		if (l->inside > 0)
			pthread_cond_broadcast(&l->cond);
	}
	pthread_mutex_unlock(&l->mu);
}

static void *
listen_main(void *arg)
{
	struct store_pg_listener *l = arg;
	char drain[64];

	for (;;) {
		struct epoll_event ev[3];
		bool lost;
		int n;

		pthread_mutex_lock(&l->mu);
		lost = l->lost || PQstatus(l->pc) != CONNECTION_OK;
		pthread_mutex_unlock(&l->mu);
		if (lost) {
			log_warn("store: the change notification connection "
				 "is lost; reconnecting");
			go_down(l);
			for (;;) {
				if (stopped_within(l, PG_LISTEN_RETRY_MS))
					return NULL;
				if (listen_connect(l))
					break;
			}
			log_info("store: change notification listening again");
			/* What committed while it was down was not heard: the
			 * subscriptions learn it before a request may trust
			 * them again. */
			l->deliver(l->ctx, NULL);
			if (!go_up(l)) {
				PQfinish(l->pc); /* and again */
				l->pc = NULL;
			}
		}
		n = epoll_wait(l->ep, ev, 3, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("store: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == l->stop_pipe[0])
				goto out;
			if (ev[i].data.fd == l->lost_pipe[0]) {
				while (read(l->lost_pipe[0], drain,
					    sizeof(drain)) > 0)
					;
				continue;
			}
			read_between(l);
		}
	}
out:
	go_down(l);
	return NULL;
}

static int
epoll_add_pipe(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct store_pg_listener *
store_pg_listen(const char *url, store_pg_deliver_fn *deliver, void *ctx,
		const char **error_r)
{
	struct store_pg_listener *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;

	l->url = xstrdup(url);
	l->deliver = deliver;
	l->ctx = ctx;
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	l->lost_pipe[0] = l->lost_pipe[1] = -1;
	l->ep = l->watch_fd = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!listen_connect(l)) {
		log_error("store: cannot LISTEN for changes: %s",
			  PQerrorMessage(l->pc));
		*error_r = "cannot listen for changes on the PostgreSQL "
			   "database";
		store_pg_unlisten(&l);
		return NULL;
	}
	if (pipe2(l->stop_pipe, O_CLOEXEC) < 0 ||
	    pipe2(l->lost_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (l->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_add_pipe(l->ep, l->stop_pipe[0]) < 0 ||
	    epoll_add_pipe(l->ep, l->lost_pipe[0]) < 0) {
		*error_r = "cannot start the notification reader";
		store_pg_unlisten(&l);
		return NULL;
	}
	if (!go_up(l) || !l->watched ||
	    pthread_create(&l->thread, NULL, listen_main, l) != 0) {
		*error_r = "cannot start the notification reader";
		store_pg_unlisten(&l);
		return NULL;
	}
	l->running = true;
	return l;
}

void
store_pg_unlisten(struct store_pg_listener **lp)
{
	struct store_pg_listener *l = *lp;

	if (l == NULL)
		return;
	if (l->running) {
		if (write(l->stop_pipe[1], "x", 1) < 0)
			log_warn("store: cannot stop the notification reader");
		pthread_join(l->thread, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (l->stop_pipe[i] >= 0)
			close(l->stop_pipe[i]);
		if (l->lost_pipe[i] >= 0)
			close(l->lost_pipe[i]);
	}
	if (l->ep >= 0)
		close(l->ep);
	if (l->watch_fd >= 0)
		close(l->watch_fd);
	PQfinish(l->pc);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l->url);
	free(l);
	*lp = NULL;
}

bool
store_pg_listener_behind(struct store_pg_listener *l)
{
	struct timespec deadline;
	uint64_t mine = 0;
	bool behind = true;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += PG_CATCH_UP_WAIT_MS / 1000;
	deadline.tv_nsec += (PG_CATCH_UP_WAIT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	if (!l->up || l->lost) {
		pthread_mutex_unlock(&l->mu);
		return true; /* changes may go unheard: trust nothing */
	}
	if (l->inside++ == 0)
		watch(l, false);
	if (PQpipelineSync(l->pc) == 1)
		mine = ++l->sent;
	else
		l->lost = true;
	while (mine > 0 && l->up && !l->lost && l->synced < mine) {
		if (!l->reading) {
			bool ok;

			l->reading = true;
			ok = read_until(l, mine, &deadline);
			l->reading = false;
			if (!ok)
				break;
		} else if (pthread_cond_timedwait(&l->cond, &l->mu,
						  &deadline) != 0) {
			break;
		}
	}
	if (mine > 0)
		behind = l->synced < mine;
	if (--l->inside == 0)
		watch(l, true);
	/* a request that waits reads next; the thread waits for the last
	 * one out of a lost connection */
	if (l->inside > 0 || !l->up)
		pthread_cond_broadcast(&l->cond);
	if (l->lost && write(l->lost_pipe[1], "l", 1) < 0 && errno != EAGAIN)
		log_warn("store: cannot wake the notification reader");
	pthread_mutex_unlock(&l->mu);
	return behind;
}
