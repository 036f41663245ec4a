/* Push: the registry of parked requests, the timer that ends them at their
 * heartbeat, and the store subscription that wakes them: every committed
 * change, whichever process committed it, arrives as exactly what changed
 * (a folder, a hierarchy, a device, an account) and wakes only the waiters
 * it concerns. One mutex guards everything; no thread polls the
 * database. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "push.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

/* A waiter that fired and whose request has not been answered yet (it is
 * out of the registry, but shutdown must wait for it). Kept in heap_index,
 * which means nothing while a waiter is not armed, so push.h needs no
 * private field beyond the ones it has. */
#define PUSH_FIRED ((size_t)-1)

/* How long shutdown waits for the front end to answer fired waiters. */
#define PUSH_SHUTDOWN_WAIT_MS 15000

/* Per account: the change counter and the waiters. Entries are created
 * by push_seq() (the first Ping of an account) and live until push_free:
 * their number is bounded by the accounts that authenticated. */
struct push_account {
	int64_t id;
	uint64_t seq;
	uint64_t hier_seq; /* push_seq value of the last hierarchy
			      change */
	struct push_waiter *waiters;
	unsigned nwaiters;
};

struct push {
	struct easd *srv;
	pthread_mutex_t mu;
	pthread_cond_t timer_cond; /* CLOCK_MONOTONIC */
	pthread_cond_t idle_cond;  /* nothing armed or unanswered */

	/* open addressing, linear probing, power-of-two size */
	struct push_account **acc;
	size_t acc_cap, acc_count;

	/* min-heap of armed waiters by deadline */
	struct push_waiter **heap;
	size_t heap_len, heap_cap;

	size_t armed, unanswered;
	bool stopping, timer_stop;

	pthread_t timer_thread;
	bool timer_running;
	struct store_subscription *sub;
};

/* --- account table --- */

static size_t
acc_hash(int64_t id, size_t cap)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (cap - 1);
}

static struct push_account *
acc_find(struct push *p, int64_t id)
{
	size_t i;

	if (p->acc_cap == 0)
		return NULL;
	for (i = acc_hash(id, p->acc_cap); p->acc[i] != NULL;
	     i = (i + 1) & (p->acc_cap - 1))
		if (p->acc[i]->id == id)
			return p->acc[i];
	return NULL;
}

static void
acc_insert_slot(struct push_account **tab, size_t cap, struct push_account *a)
{
	size_t i = acc_hash(a->id, cap);

	while (tab[i] != NULL)
		i = (i + 1) & (cap - 1);
	tab[i] = a;
}

static struct push_account *
acc_get(struct push *p, int64_t id)
{
	struct push_account *a = acc_find(p, id);

	if (a != NULL)
		return a;
	if ((p->acc_count + 1) * 10 > p->acc_cap * 7) {
		size_t cap = p->acc_cap == 0 ? 256 : p->acc_cap * 2;
		struct push_account **tab = xcalloc(cap, sizeof(*tab));

		for (size_t i = 0; i < p->acc_cap; i++)
			if (p->acc[i] != NULL)
				acc_insert_slot(tab, cap, p->acc[i]);
		free(p->acc);
		p->acc = tab;
		p->acc_cap = cap;
	}
	a = xcalloc(1, sizeof(*a));
	a->id = id;
	acc_insert_slot(p->acc, p->acc_cap, a);
	p->acc_count++;
	return a;
}

/* --- deadline heap --- */

static void
heap_set(struct push *p, size_t i, struct push_waiter *w)
{
	p->heap[i] = w;
	w->heap_index = i;
}

static void
heap_up(struct push *p, size_t i)
{
	struct push_waiter *w = p->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (p->heap[parent]->deadline_ms <= w->deadline_ms)
			break;
		heap_set(p, i, p->heap[parent]);
		i = parent;
	}
	heap_set(p, i, w);
}

static void
heap_down(struct push *p, size_t i)
{
	struct push_waiter *w = p->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint64_t best = w->deadline_ms;

		if (l < p->heap_len && p->heap[l]->deadline_ms < best) {
			m = l;
			best = p->heap[l]->deadline_ms;
		}
		if (l + 1 < p->heap_len && p->heap[l + 1]->deadline_ms < best)
			m = l + 1;
		if (m == i)
			break;
		heap_set(p, i, p->heap[m]);
		i = m;
	}
	heap_set(p, i, w);
}

static void
heap_push(struct push *p, struct push_waiter *w)
{
	if (p->heap_len == p->heap_cap) {
		p->heap_cap = p->heap_cap == 0 ? 1024 : p->heap_cap * 2;
		p->heap = xrealloc(p->heap, p->heap_cap * sizeof(*p->heap));
	}
	heap_set(p, p->heap_len++, w);
	heap_up(p, p->heap_len - 1);
}

static void
heap_remove(struct push *p, struct push_waiter *w)
{
	size_t i = w->heap_index;
	struct push_waiter *last;

	eas_assert(i < p->heap_len && p->heap[i] == w);
	last = p->heap[--p->heap_len];
	if (last == w)
		return;
	heap_set(p, i, last);
	if (i > 0 && p->heap[(i - 1) / 2]->deadline_ms > last->deadline_ms)
		heap_up(p, i);
	else
		heap_down(p, i);
}

/* --- waiters (all with p->mu held) --- */

static const char *const reason_names[] = {
	[PUSH_NONE] = "none",
	[PUSH_CHANGE] = "folder change",
	[PUSH_HIERARCHY] = "hierarchy",
	[PUSH_TIMEOUT] = "heartbeat",
	[PUSH_SUPERSEDED] = "superseded",
	[PUSH_DEVICE] = "device or account",
	[PUSH_SHUTDOWN] = "shutdown",
	[PUSH_LIMIT] = "too many parked requests",
};

static void
unlink_waiter(struct push *p, struct push_waiter *w)
{
	struct push_account *a = acc_find(p, w->account_id);

	eas_assert(a != NULL);
	if (w->prev_in_account != NULL)
		w->prev_in_account->next_in_account = w->next_in_account;
	else
		a->waiters = w->next_in_account;
	if (w->next_in_account != NULL)
		w->next_in_account->prev_in_account = w->prev_in_account;
	w->next_in_account = w->prev_in_account = NULL;
	a->nwaiters--;
	heap_remove(p, w);
	w->armed = false;
	p->armed--;
	metrics_set_parked(p->armed);
}

/* Take w out of the registry and resume its connection. The request stays
 * counted as unanswered until the front end calls push_cancel(); its
 * memory stays valid until then, because the front end cancels before it
 * frees the request and cancelling needs the mutex we hold. */
static void
fire(struct push *p, struct push_waiter *w, enum push_reason reason)
{
	if (w->armed)
		unlink_waiter(p, w);
	w->reason = reason;
	w->heap_index = PUSH_FIRED;
	p->unanswered++;
	if (log_enabled(LOG_DEBUG))
		log_debug("push: waking %s (account %lld): %s",
			  w->req->device_id, (long long)w->account_id,
			  reason_names[reason]);
	http_resume(w->req->http);
}

static void
set_all_changed(struct push_waiter *w)
{
	for (size_t i = 0; i < w->nfolders; i++)
		w->folder_changed[i] = true;
}

static uint64_t
seq_locked(struct push *p, struct push_account *a)
{
	(void)p;
	return a->seq;
}

static void
maybe_idle(struct push *p)
{
	if (p->armed == 0 && p->unanswered == 0)
		pthread_cond_broadcast(&p->idle_cond);
}

uint64_t
push_seq(struct push *p, int64_t account_id)
{
	uint64_t seq;

	pthread_mutex_lock(&p->mu);
	seq = seq_locked(p, acc_get(p, account_id));
	pthread_mutex_unlock(&p->mu);
	return seq;
}

void
push_arm(struct push *p, struct push_waiter *w)
{
	struct push_account *a;
	struct push_waiter *o, *next;
	uint64_t seq;
	unsigned max = p->srv->cfg.max_parked_per_account;
	bool rearm, newer = false;

	pthread_mutex_lock(&p->mu);
	rearm = w->armed || w->heap_index == PUSH_FIRED;
	/* Re-parked after a wake-up that did not concern the device: the
	 * earlier firing is answered by this arming. */
	if (w->armed)
		unlink_waiter(p, w);
	else if (w->heap_index == PUSH_FIRED)
		p->unanswered--;
	w->heap_index = 0;
	w->reason = PUSH_NONE;

	a = acc_get(p, w->account_id);
	/* MS-ASCMD 2.2.1.13: a newer Ping of the device ends the older one;
	 * a device has one parked request at a time. A request parked
	 * again after a wake-up is the older one: one of the device's that
	 * parked meanwhile ends it instead. */
	for (o = a->waiters; o != NULL; o = next) {
		next = o->next_in_account;
		if (o->device_row != w->device_row)
			continue;
		if (rearm)
			newer = true;
		else
			fire(p, o, PUSH_SUPERSEDED);
	}
	seq = seq_locked(p, a);
	if (p->stopping) {
		fire(p, w, PUSH_SHUTDOWN);
	} else if (newer) {
		fire(p, w, PUSH_SUPERSEDED);
	} else if (!rearm && max > 0 && a->nwaiters >= max) {
		/* A re-parked request was admitted already. */
		fire(p, w, PUSH_LIMIT);
	} else if (seq > w->seq) {
		/* Something changed between the handler's store check and
		 * now; which folder is not known, so all are rechecked. */
		if (a->hier_seq > w->seq) {
			fire(p, w, PUSH_HIERARCHY);
		} else {
			set_all_changed(w);
			fire(p, w, PUSH_CHANGE);
		}
	} else {
		w->prev_in_account = NULL;
		w->next_in_account = a->waiters;
		if (a->waiters != NULL)
			a->waiters->prev_in_account = w;
		a->waiters = w;
		a->nwaiters++;
		heap_push(p, w);
		w->armed = true;
		p->armed++;
		metrics_set_parked(p->armed);
		if (log_enabled(LOG_DEBUG))
			log_debug("push: parked %s (account %lld)",
				  w->req->device_id, (long long)w->account_id);
		if (w->heap_index == 0)
			pthread_cond_signal(&p->timer_cond);
	}
	pthread_mutex_unlock(&p->mu);
}

void
push_cancel(struct push *p, struct push_waiter *w)
{
	if (p == NULL || w == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (w->armed) {
		unlink_waiter(p, w);
		w->heap_index = 0;
		maybe_idle(p);
	} else if (w->heap_index == PUSH_FIRED) {
		w->heap_index = 0;
		p->unanswered--;
		maybe_idle(p);
	}
	pthread_mutex_unlock(&p->mu);
}

static void
fire_account(struct push *p, struct push_account *a, int64_t folder_id)
{
	struct push_waiter *w, *next;

	for (w = a->waiters; w != NULL; w = next) {
		bool hit = false;

		next = w->next_in_account;
		if (folder_id == 0) {
			fire(p, w, PUSH_HIERARCHY);
			continue;
		}
		for (size_t i = 0; i < w->nfolders; i++) {
			if (w->folders[i] == folder_id) {
				w->folder_changed[i] = true;
				hit = true;
			}
		}
		if (hit)
			fire(p, w, PUSH_CHANGE);
	}
}

/* Every parked request looks at every folder it watches again: the
 * store's notification may have missed changes (its connection to the
 * database was lost). Those with changes answer, the others park again. */
static void
push_notify_all(struct push *p)
{
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->acc_cap; i++) {
		struct push_account *a = p->acc[i];
		struct push_waiter *w, *next;

		if (a == NULL)
			continue;
		a->seq++;
		for (w = a->waiters; w != NULL; w = next) {
			next = w->next_in_account;
			set_all_changed(w);
			fire(p, w, PUSH_CHANGE);
		}
	}
	pthread_mutex_unlock(&p->mu);
}

void
push_notify(struct push *p, int64_t account_id, int64_t folder_id)
{
	struct push_account *a;

	pthread_mutex_lock(&p->mu);
	/* Without an entry nobody has read the account's counter yet, so
	 * there is nothing to bump. */
	if ((a = acc_find(p, account_id)) != NULL) {
		a->seq++;
		if (folder_id == 0)
			a->hier_seq = seq_locked(p, a);
		fire_account(p, a, folder_id);
	}
	pthread_mutex_unlock(&p->mu);
}

/* The counter moves too: a waiter armed after its handler looked at the
 * device fires at once and looks again. */
static void
device_changed_locked(struct push *p, struct push_account *a,
		      int64_t device_row)
{
	struct push_waiter *w, *next;

	a->seq++;
	for (w = a->waiters; w != NULL; w = next) {
		next = w->next_in_account;
		if (device_row == 0 || w->device_row == device_row)
			fire(p, w, PUSH_DEVICE);
	}
}

void
push_device_changed(struct push *p, int64_t account_id, int64_t device_row)
{
	struct push_account *a;

	pthread_mutex_lock(&p->mu);
	if (account_id == 0) {
		for (size_t i = 0; i < p->acc_cap; i++)
			if (p->acc[i] != NULL)
				device_changed_locked(p, p->acc[i], 0);
	} else if ((a = acc_find(p, account_id)) != NULL) {
		device_changed_locked(p, a, device_row);
	}
	pthread_mutex_unlock(&p->mu);
}

size_t
push_waiting(struct push *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->armed;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
push_list(struct push *p, struct arena *a, size_t max,
	  struct push_parked **list_r, size_t *count_r, size_t *total_r)
{
	uint64_t now = time_mono_ms();
	struct push_parked *list;
	size_t n = 0;

	pthread_mutex_lock(&p->mu);
	*total_r = p->heap_len;
	list = arena_alloc(a, (EAS_MIN(max, p->heap_len) + 1) * sizeof(*list));
	for (size_t i = 0; i < p->heap_len && n < max; i++) {
		const struct push_waiter *w = p->heap[i];
		const struct eas_req *r = w->req;

		list[n].login = arena_strdup(
			a, r->account.login != NULL ? r->account.login : "-");
		list[n].device_id = arena_strdup(
			a, r->device_id != NULL ? r->device_id : "-");
		list[n].cmd = arena_strdup(a, r->cmd != NULL ? r->cmd : "-");
		list[n].remaining_ms =
			w->deadline_ms > now ? w->deadline_ms - now : 0;
		n++;
	}
	pthread_mutex_unlock(&p->mu);
	*list_r = list;
	*count_r = n;
}

/* --- threads --- */

static struct timespec
mono_timespec(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	return ts;
}

/* Sleeps until the earliest deadline (or until a new earliest one is
 * armed), then fires everything that is due. */
static void *
timer_main(void *arg)
{
	struct push *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->timer_stop) {
		uint64_t now = time_mono_ms();

		while (p->heap_len > 0 && p->heap[0]->deadline_ms <= now)
			fire(p, p->heap[0], PUSH_TIMEOUT);
		if (p->heap_len > 0) {
			struct timespec ts =
				mono_timespec(p->heap[0]->deadline_ms);

			pthread_cond_timedwait(&p->timer_cond, &p->mu, &ts);
		} else {
			pthread_cond_wait(&p->timer_cond, &p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* A request of the device parked in some process (this one included,
 * before it arms its waiter): the device's waiters here are older and
 * end, as push_arm ends them for a request parked here. With --workers
 * or several nodes a device's new connection often reaches another
 * process than the one its dead connection was parked in. */
static void
push_superseded(struct push *p, int64_t account_id, int64_t device_row)
{
	struct push_account *a;
	struct push_waiter *w, *next;

	pthread_mutex_lock(&p->mu);
	a = acc_find(p, account_id);
	for (w = a != NULL ? a->waiters : NULL; w != NULL; w = next) {
		next = w->next_in_account;
		if (w->device_row == device_row)
			fire(p, w, PUSH_SUPERSEDED);
	}
	pthread_mutex_unlock(&p->mu);
}

/* The store subscription: every committed change, of this process or
 * another, lands here. */
static void
push_store_changed(void *ctx, const struct store_change *c, size_t n)
{
	struct push *p = ctx;

	for (size_t i = 0; i < n; i++) {
		switch (c[i].what) {
		case STORE_CHANGED_FOLDER:
			if (c[i].account_id == 0)
				push_notify_all(p);
			else if (c[i].id != 0)
				push_notify(p, c[i].account_id, c[i].id);
			break;
		case STORE_CHANGED_HIERARCHY:
			push_notify(p, c[i].account_id, 0);
			break;
		case STORE_CHANGED_DEVICE:
			if (c[i].id != 0)
				push_device_changed(p, c[i].account_id,
						    c[i].id);
			break;
		case STORE_CHANGED_ACCOUNT:
			push_device_changed(p, c[i].account_id, 0);
			break;
		case STORE_CHANGED_PARKED:
			if (c[i].id != 0)
				push_superseded(p, c[i].account_id, c[i].id);
			break;
		case STORE_CHANGED_OUTBOUND: /* for the queue runner */
		case STORE_CHANGED_TRACE:    /* for trace.c */
		case STORE_CHANGED_SEARCH:   /* for the indexer */
			break;
		}
	}
}

struct push *
push_new(struct easd *srv, const char **error_r)
{
	struct push *p = xcalloc(1, sizeof(*p));
	pthread_condattr_t ca;

	p->srv = srv;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->timer_cond, &ca);
	pthread_cond_init(&p->idle_cond, &ca);
	pthread_condattr_destroy(&ca);

	if (pthread_create(&p->timer_thread, NULL, timer_main, p) != 0) {
		*error_r = "cannot start the push timer thread";
		goto fail;
	}
	p->timer_running = true;
	if (store_subscribe(srv->cfg.db_path, true, push_store_changed, p,
			    &p->sub, error_r) != STORE_OK)
		goto fail;
	return p;
fail:
	push_free(&p);
	return NULL;
}

static void
stop_threads(struct push *p)
{
	store_unsubscribe(&p->sub);
	if (p->timer_running) {
		pthread_mutex_lock(&p->mu);
		p->timer_stop = true;
		pthread_cond_signal(&p->timer_cond);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->timer_thread, NULL);
		p->timer_running = false;
	}
}

void
push_shutdown(struct push *p)
{
	uint64_t until = time_mono_ms() + PUSH_SHUTDOWN_WAIT_MS;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	for (size_t i = 0; i < p->acc_cap; i++) {
		struct push_waiter *w, *next;

		if (p->acc[i] == NULL)
			continue;
		for (w = p->acc[i]->waiters; w != NULL; w = next) {
			next = w->next_in_account;
			fire(p, w, PUSH_SHUTDOWN);
		}
	}
	/* libmicrohttpd must not be stopped with suspended connections:
	 * wait until the front end has answered every fired waiter. */
	while (p->armed > 0 || p->unanswered > 0) {
		struct timespec ts = mono_timespec(until);

		if (pthread_cond_timedwait(&p->idle_cond, &p->mu, &ts) ==
		    ETIMEDOUT) {
			log_error("push: %zu parked requests still unanswered "
				  "at shutdown",
				  p->armed + p->unanswered);
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	stop_threads(p);
}

void
push_free(struct push **pp)
{
	struct push *p = *pp;

	if (p == NULL)
		return;
	stop_threads(p);
	for (size_t i = 0; i < p->acc_cap; i++)
		free(p->acc[i]);
	free(p->acc);
	free(p->heap);
	pthread_cond_destroy(&p->timer_cond);
	pthread_cond_destroy(&p->idle_cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
	*pp = NULL;
}
