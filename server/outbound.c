/* The outbound queue runner. It sleeps until the earliest queued
 * recipient is due or it is kicked (a commit that queued or retried
 * something), claims what is due (the store moves it out of reach for a
 * lease, so a runner that dies leaves it due again), submits each to the
 * relay and records the outcome: sent (removed), deferred (backoff, the
 * relay's reply kept) or refused / expired (a non-delivery report into
 * the sender's Inbox, in the same transaction as the removal). */
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose.h"
#include "log.h"
#include "mail.h"
#include "outbound.h"
#include "server.h"
#include "util.h"
#include "xalloc.h"

/* How many recipients one pass claims, and for how long. */
#define OUTBOUND_BATCH 32
#define OUTBOUND_LEASE_S (10 * 60)
/* How long the runner sleeps at most without a kick (a clock step or a
 * store error is never waited out for longer). */
#define OUTBOUND_MAX_SLEEP_S 300

struct outbound {
	struct easd *srv;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool kicked, stopping, running;
};

int64_t
outbound_backoff(int attempts)
{
	/* 1 min, 5, 15, 30, 1 h, then every 2 h (an MTA's rhythm) */
	static const int64_t steps[] = {60, 300, 900, 1800, 3600};

	if (attempts < 1)
		attempts = 1;
	if ((size_t)attempts <= N_ELEMENTS(steps))
		return steps[attempts - 1];
	return 7200;
}

void
outbound_kick(struct outbound *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->kicked = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->mu);
}

/* Refused for good or out of time: the report and the removal in one
 * commit, so the sender hears of it exactly once. */
static void
give_up(struct store *s, struct arena *a, const struct smtp_relay *relay,
	const struct store_outbound *q, const char *reason)
{
	struct store_item ndr;
	const char *data, *error = NULL, *host = relay->url;
	size_t len;
	enum store_error e;

	if (strstr(host, "://") != NULL)
		host = strstr(host, "://") + 3;
	mail_compose_ndr(a, q->envelope_from, q->rcpt, host, reason,
			 (const char *)q->data, q->len, &data, &len);
	memset(&ndr, 0, sizeof(ndr));
	if ((e = store_begin(s, true)) != STORE_OK)
		goto fail;
	if (mail_item_from_mime(a, data, len, &ndr, &error) == 0 &&
	    (e = mail_deliver(s, a, q->account_id, 0, &ndr, "", NULL)) !=
		    STORE_OK &&
	    e != STORE_NOTFOUND)
		goto fail;
	if ((e = store_outbound_remove(s, q->id)) != STORE_OK)
		goto fail;
	if ((e = store_commit(s)) != STORE_OK)
		goto fail;
	log_info("outbound: %s to %s given up after %d attempt(s): %s; "
		 "report sent to %s",
		 q->message_ident, q->rcpt, q->attempts + 1, reason,
		 q->envelope_from);
	return;
fail:
	store_rollback(s);
	log_error("outbound: recording the failure of %s to %s: %s",
		  q->message_ident, q->rcpt, store_error_str(e));
}

static void
deliver_one(struct outbound *o, struct store *s, struct arena *a,
	    struct smtp_session **session, const struct store_outbound *q)
{
	const struct smtp_relay *relay = o->srv->cfg.relay;
	const char *reply = "";
	enum smtp_result r;
	enum store_error e;
	int64_t now;

	log_debug("outbound: submitting %s to %s (attempt %d)",
		  q->message_ident, q->rcpt, q->attempts + 1);
	r = smtp_submit(relay, session, a, q->envelope_from, q->rcpt,
			(const char *)q->data, q->len, &reply);
	now = time_now();
	switch (r) {
	case SMTP_SENT:
		e = store_outbound_remove(s, q->id);
		log_info("outbound: %s to %s relayed: %s", q->message_ident,
			 q->rcpt, reply);
		if (e != STORE_OK)
			log_error("outbound: %s to %s relayed but not "
				  "recorded: %s (it will be sent again)",
				  q->message_ident, q->rcpt,
				  store_error_str(e));
		break;
	case SMTP_REFUSED:
		give_up(s, a, relay, q, reply);
		break;
	case SMTP_DEFER:
		if (now >= q->expires) {
			give_up(s, a, relay, q,
				arena_printf(a,
					     "no delivery before the retry "
					     "time ran out; last reply: %s",
					     reply));
			break;
		}
		e = store_outbound_defer(
			s, q->id, now + outbound_backoff(q->attempts + 1),
			reply);
		log_info("outbound: %s to %s deferred (attempt %d): %s",
			 q->message_ident, q->rcpt, q->attempts + 1, reply);
		if (e != STORE_OK)
			log_error("outbound: deferring %s: %s",
				  q->message_ident, store_error_str(e));
		break;
	}
}

/* One pass: everything due now. Returns when the next one is due (0 when
 * the queue is empty). */
static int64_t
pass(struct outbound *o, struct store *s)
{
	struct arena *a = arena_new(64 * 1024);
	struct store_outbound *list = NULL;
	struct smtp_session *session = NULL;
	size_t n = 0;
	int64_t next = 0, now = time_now();
	enum store_error e;

	e = store_outbound_claim(s, a, now, now + OUTBOUND_LEASE_S,
				 OUTBOUND_BATCH, &list, &n);
	if (e != STORE_OK) {
		log_error("outbound: reading the queue: %s",
			  store_error_str(e));
		arena_free(&a);
		return now + 30;
	}
	for (size_t i = 0; i < n; i++) {
		struct arena *one = arena_new(16 * 1024);

		deliver_one(o, s, one, &session, &list[i]);
		arena_free(&one);
		pthread_mutex_lock(&o->mu);
		if (o->stopping)
			i = n;
		pthread_mutex_unlock(&o->mu);
	}
	smtp_session_close(&session);
	arena_free(&a);
	if (n == OUTBOUND_BATCH)
		return now; /* more may be due */
	e = store_outbound_next_due(s, &next);
	if (e == STORE_NOTFOUND)
		return 0;
	if (e != STORE_OK)
		return now + 30;
	return next;
}

static void *
runner_main(void *arg)
{
	struct outbound *o = arg;
	struct store *s = NULL;
	const char *error;

	/* Submitting is background work: the HTTP workers win the CPU
	 * when both want it (a nice value for this thread alone). */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), 10) < 0)
		log_debug("outbound: cannot lower the thread's priority");
	if (store_open(o->srv->cfg.db_path, &s, &error) != STORE_OK) {
		log_error("outbound: cannot open the store: %s", error);
		return NULL;
	}
	/* One server per data directory: what a previous run had claimed
	 * and not finished (it died mid-submission) is due now, and so is
	 * what waits for its backoff, as an MTA does when it starts. */
	if (store_outbound_retry(s, 0, time_now()) != STORE_OK)
		log_warn("outbound: cannot make the queue due at start");
	pthread_mutex_lock(&o->mu);
	while (!o->stopping) {
		int64_t next, now, wait_s;
		struct timespec ts;

		o->kicked = false;
		pthread_mutex_unlock(&o->mu);
		next = pass(o, s);
		pthread_mutex_lock(&o->mu);
		if (o->stopping || o->kicked)
			continue;
		now = time_now();
		wait_s = next == 0 ? OUTBOUND_MAX_SLEEP_S : next - now;
		if (wait_s <= 0)
			continue;
		if (wait_s > OUTBOUND_MAX_SLEEP_S)
			wait_s = OUTBOUND_MAX_SLEEP_S;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)wait_s;
		pthread_cond_timedwait(&o->cond, &o->mu, &ts);
	}
	pthread_mutex_unlock(&o->mu);
	store_close(&s);
	return NULL;
}

struct outbound *
outbound_start(struct easd *srv, const char **error_r)
{
	struct outbound *o = xcalloc(1, sizeof(*o));
	pthread_condattr_t ca;

	o->srv = srv;
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&o->thread, NULL, runner_main, o) != 0) {
		*error_r = "cannot start the outbound queue thread";
		pthread_cond_destroy(&o->cond);
		pthread_mutex_destroy(&o->mu);
		free(o);
		return NULL;
	}
	o->running = true;
	return o;
}

void
outbound_stop(struct outbound **op)
{
	struct outbound *o = *op;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->stopping = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->mu);
	if (o->running)
		pthread_join(o->thread, NULL);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->mu);
	free(o);
	*op = NULL;
}
