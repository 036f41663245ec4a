/* Change notification between processes on PostgreSQL: a commit sends
 * its changes with pg_notify on channel "easd" inside its transaction
 * (notify.c, store_notify_before_commit), so PostgreSQL delivers them iff
 * the transaction commits, to every connection of every node that
 * LISTENs. A process that receives for others (store_subscribe with
 * others) runs one listener thread here on a connection of its own; what
 * arrives goes to the subscriptions of this process as a datagram would
 * on SQLite. A lost connection is opened again (once a second) and
 * LISTENs again.
 *
 * Catching up (store_pg_listener_behind). Unlike a datagram, which is in
 * the receiver's queue before the committer goes on, a NOTIFY reaches the
 * listener some time after the COMMIT returned on the other node; a
 * request that trusts what was heard (the in-memory answers of
 * standing.c) must first have heard every commit that came before it. A
 * query on the listening connection gives that: PostgreSQL sends the
 * session the notifications that are pending before it reports the query
 * done (the committer signalled this session before its COMMIT
 * returned). So a request asks for a round trip and waits for one that
 * began after it asked; one round trip serves every request that waits
 * for it, so concurrent requests share the cost. */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store-int.h"
#include "xalloc.h"

#define PG_LISTEN_RETRY_MS 1000
/* A request waits this long for a round trip, then reads the database. */
#define PG_CATCH_UP_WAIT_MS 2000

struct store_pg_listener {
	char *url;
	store_pg_deliver_fn *deliver;
	void *ctx;
	PGconn *pc; /* the listener thread's alone */
	int stop_pipe[2];
	int kick_pipe[2]; /* a request wants a round trip */
	pthread_t thread;
	bool running;
	/* under mu: */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool up;	 /* connected and LISTENing */
	bool in_flight;	 /* a round trip was sent */
	uint64_t wanted; /* requests for a round trip so far */
	uint64_t covers; /* the requests the one in flight serves */
	uint64_t done;	 /* requests served */
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
	return ok;
}

static void
set_up(struct store_pg_listener *l, bool up)
{
	pthread_mutex_lock(&l->mu);
	l->up = up;
	l->in_flight = false;
	/* waiters give up (down) or ask again (up) */
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

/* Wait for the stop pipe for ms; true when stopped. */
static bool
stopped_within(struct store_pg_listener *l, int ms)
{
	struct pollfd pfd = {.fd = l->stop_pipe[0], .events = POLLIN};

	return poll(&pfd, 1, ms) > 0;
}

static void
deliver_pending(struct store_pg_listener *l)
{
	PGnotify *n;

	while ((n = PQnotifies(l->pc)) != NULL) {
		l->deliver(l->ctx, n->extra);
		PQfreemem(n);
	}
}

/* Send a round trip when one is wanted and none is in flight. */
static void
maybe_start(struct store_pg_listener *l)
{
	bool start;

	pthread_mutex_lock(&l->mu);
	start = l->up && !l->in_flight && l->wanted > l->done;
	if (start) {
		l->in_flight = true;
		l->covers = l->wanted;
	}
	pthread_mutex_unlock(&l->mu);
	if (start && PQsendQuery(l->pc, "SELECT 1") == 0) {
		pthread_mutex_lock(&l->mu);
		l->in_flight = false;
		pthread_mutex_unlock(&l->mu);
	}
}

/* After input: the round trip in flight is over when its results are. */
static void
maybe_finish(struct store_pg_listener *l)
{
	bool in_flight;

	pthread_mutex_lock(&l->mu);
	in_flight = l->in_flight;
	pthread_mutex_unlock(&l->mu);
	if (!in_flight)
		return;
	while (!PQisBusy(l->pc)) {
		PGresult *r = PQgetResult(l->pc);

		if (r != NULL) {
			PQclear(r);
			continue;
		}
		/* done: what came before its end is heard first */
		deliver_pending(l);
		pthread_mutex_lock(&l->mu);
		l->done = l->covers;
		l->in_flight = false;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->mu);
		maybe_start(l);
		return;
	}
}

static void *
listen_main(void *arg)
{
	struct store_pg_listener *l = arg;
	/* the first connection is store_pg_listen's */
	bool was_connected = true;
	char drain[64];

	for (;;) {
		struct pollfd pfd[3];

		if (PQstatus(l->pc) != CONNECTION_OK) {
			if (was_connected) {
				log_warn("store: the change notification "
					 "connection is lost; reconnecting");
				set_up(l, false);
			}
			was_connected = false;
			if (stopped_within(l, PG_LISTEN_RETRY_MS))
				break;
			if (!listen_connect(l))
				continue;
			log_info("store: change notification listening again");
			was_connected = true;
			set_up(l, true);
			/* what committed meanwhile was not heard */
			l->deliver(l->ctx, NULL);
			maybe_start(l);
		}
		pfd[0].fd = PQsocket(l->pc);
		pfd[0].events = POLLIN;
		pfd[1].fd = l->stop_pipe[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = l->kick_pipe[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("store: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[2].revents != 0) {
			while (read(l->kick_pipe[0], drain, sizeof(drain)) > 0)
				;
			maybe_start(l);
		}
		if (pfd[0].revents == 0)
			continue;
		if (PQconsumeInput(l->pc) == 0)
			continue; /* the status says whether it is lost */
		deliver_pending(l);
		maybe_finish(l);
	}
	set_up(l, false);
	return NULL;
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
	l->kick_pipe[0] = l->kick_pipe[1] = -1;
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
	l->up = true;
	if (pipe2(l->stop_pipe, O_CLOEXEC) < 0 ||
	    pipe2(l->kick_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
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
		if (l->kick_pipe[i] >= 0)
			close(l->kick_pipe[i]);
	}
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
	uint64_t mine;
	bool behind;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += PG_CATCH_UP_WAIT_MS / 1000;
	deadline.tv_nsec += (PG_CATCH_UP_WAIT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	if (!l->up) {
		pthread_mutex_unlock(&l->mu);
		return true; /* changes may go unheard: trust nothing */
	}
	mine = ++l->wanted;
	pthread_mutex_unlock(&l->mu);
	/* a full pipe already holds a kick */
	if (write(l->kick_pipe[1], "k", 1) < 0 && errno != EAGAIN)
		return true;
	pthread_mutex_lock(&l->mu);
	while (l->up && l->done < mine &&
	       pthread_cond_timedwait(&l->cond, &l->mu, &deadline) == 0)
		;
	behind = l->done < mine;
	pthread_mutex_unlock(&l->mu);
	return behind;
}
