/* The search indexer. FTS5 writes a new segment at every commit that
 * touched the index, a cost of its own that is larger than that of
 * storing a small message: indexing in the delivery's transaction halved
 * the LMTP rate. Deliveries queue their item instead, and this thread
 * indexes the queue in batches (see mail_search_index_pending), woken
 * by the store's change notification (STORE_CHANGED_SEARCH, from this
 * process or easctl) and then waiting a moment so that a burst of
 * deliveries becomes one transaction. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "indexer.h"
#include "log.h"
#include "mail.h"
#include "store.h"
#include "xalloc.h"

/* Messages per pass between looks at whether we are stopping (a pass is
 * transactions of up to 4,000 messages: see mail-search.c for why). */
#define INDEXER_BATCH 4000
/* After a kick, how long a burst may gather before it is indexed: at a
 * few thousand deliveries a second, batches of a few thousand. A lone
 * message is indexed this late; a search does not wait for it (it
 * indexes its account's queue first). */
#define INDEXER_GATHER_MS 1000
/* Without a kick the queue is looked at this often (a notification from
 * another process can be lost with its socket). */
#define INDEXER_POLL_S 60

struct indexer {
	char *db_path;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool kicked, stopping, running;
	bool idle; /* waiting for a kick: only then does a kick signal */
};

void
indexer_kick(struct indexer *ix)
{
	if (ix == NULL)
		return;
	/* Every delivery kicks: waking the thread for each while it pauses
	 * or indexes would cost a context switch per message. */
	pthread_mutex_lock(&ix->mu);
	ix->kicked = true;
	if (ix->idle)
		pthread_cond_signal(&ix->cond);
	pthread_mutex_unlock(&ix->mu);
}

static bool
stopping(struct indexer *ix)
{
	bool r;

	pthread_mutex_lock(&ix->mu);
	r = ix->stopping;
	pthread_mutex_unlock(&ix->mu);
	return r;
}

/* Index until the queue is empty (or we are stopped). */
static void
drain(struct indexer *ix, struct store *s)
{
	size_t done, total = 0;
	enum store_error e;

	do {
		e = mail_search_index_pending(s, 0, INDEXER_BATCH, false,
					      &done);
		total += done;
	} while (e == STORE_OK && done == INDEXER_BATCH && !stopping(ix));
	if (e != STORE_OK)
		log_warn("indexer: %s (the queue is kept)", store_error_str(e));
	if (total > 0)
		log_debug("indexer: %zu messages indexed", total);
}

static void
wait_ms(struct indexer *ix, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ix->mu);
	while (!ix->stopping &&
	       pthread_cond_timedwait(&ix->cond, &ix->mu, &ts) == 0)
		; /* only a stop ends the pause early */
	pthread_mutex_unlock(&ix->mu);
}

static void *
indexer_main(void *arg)
{
	struct indexer *ix = arg;
	struct store *s = NULL;
	const char *error;

	if (store_open(ix->db_path, &s, &error) != STORE_OK) {
		log_error("indexer: cannot open the store: %s", error);
		return NULL;
	}
	if (!store_search_available(s)) {
		log_info("indexer: this store has no mail search yet; "
			 "new mail stays queued for it");
		store_close(&s);
		return NULL;
	}
	/* what was queued before we started (a crash, a migration) */
	drain(ix, s);
	pthread_mutex_lock(&ix->mu);
	while (!ix->stopping) {
		struct timespec ts;

		if (!ix->kicked) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += INDEXER_POLL_S;
			ix->idle = true;
			pthread_cond_timedwait(&ix->cond, &ix->mu, &ts);
			ix->idle = false;
			if (ix->stopping)
				break;
		}
		ix->kicked = false;
		pthread_mutex_unlock(&ix->mu);
		wait_ms(ix, INDEXER_GATHER_MS);
		drain(ix, s);
		pthread_mutex_lock(&ix->mu);
	}
	pthread_mutex_unlock(&ix->mu);
	store_close(&s);
	return NULL;
}

struct indexer *
indexer_start(const char *db_path, const char **error_r)
{
	struct indexer *ix = xcalloc(1, sizeof(*ix));
	pthread_condattr_t ca;

	ix->db_path = xstrdup(db_path);
	pthread_mutex_init(&ix->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ix->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ix->thread, NULL, indexer_main, ix) != 0) {
		*error_r = "cannot start the search indexer thread";
		pthread_cond_destroy(&ix->cond);
		pthread_mutex_destroy(&ix->mu);
		free(ix->db_path);
		free(ix);
		return NULL;
	}
	/* named, for top -H and the benchmark */
	(void)pthread_setname_np(ix->thread, "easd-indexer");
	ix->running = true;
	return ix;
}

void
indexer_stop(struct indexer **ixp)
{
	struct indexer *ix = *ixp;

	if (ix == NULL)
		return;
	pthread_mutex_lock(&ix->mu);
	ix->stopping = true;
	pthread_cond_signal(&ix->cond);
	pthread_mutex_unlock(&ix->mu);
	if (ix->running)
		pthread_join(ix->thread, NULL);
	pthread_cond_destroy(&ix->cond);
	pthread_mutex_destroy(&ix->mu);
	free(ix->db_path);
	free(ix);
	*ixp = NULL;
}
