/* The PostgreSQL driver (libpq): the same statements as SQLite, prepared
 * on the server with their ?N placeholders rewritten to $N, rows read
 * from a PGresult, SQLSTATEs mapped to enum store_error; and the
 * PostgreSQL schema, migrated under an advisory lock so that several
 * easd nodes starting together migrate once.
 *
 * Transactions. A write runs at READ COMMITTED; what keeps one account's
 * changes in one total order is the row lock on the account's row that
 * store_next_modseq takes (UPDATE accounts SET modseq = modseq + 1 ...
 * RETURNING): a second writer of the account, on any node, waits there
 * until the first commits and then reads the new value, so modseqs are
 * handed out and committed in the same order and a reader never sees
 * N + 1 before N. A sequence would hand out numbers without that
 * ordering (a later number could commit first and a Sync that read past
 * it would skip the earlier one). A read snapshot (several statements of
 * one answer) is REPEATABLE READ so that its statements agree.
 * Serialization failures and deadlocks (40001, 40P01) are STORE_BUSY with
 * s->retryable set: store_txn (store.c) rolls back and runs the
 * transaction again; a caller outside it answers "retry". */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

#define PG_PARAMS_MAX 32

/* The pool. A store holds a connection of its node's pool only while a
 * transaction (or a statement outside one) runs, and gives it back when
 * the connection is idle again: several threads share few connections,
 * and an admin plans N nodes x pool (+ one listener each) against
 * PostgreSQL's max_connections. A statement is prepared once per
 * connection under a name made of its SQL text's address (every call
 * site has its own static text), whichever store runs it. When every
 * connection is taken, a store waits for one, at most pg_pool_wait_ms,
 * and then answers busy (the device is told to retry). */
struct pg_slot {
	PGconn *pc;
	bool taken;
	/* the statements prepared on it: keys (pg_text_key), open
	 * addressing, 0 = free */
	uint64_t *prepared;
	size_t nprepared, cap;
	unsigned epoch; /* the pool's when they were */
};

struct pg_pool {
	char *url;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct pg_slot **slots;
	int nslots;
	/* bumped when this process migrated the schema: statements
	 * prepared before are forgotten (their plans are of old tables) */
	unsigned epoch;
	struct pg_pool *next;
};

static pthread_mutex_t pg_pools_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pg_pool *pg_pools;
/* set once at start, read at every acquire: no lock */
static atomic_int pg_pool_max = STORE_PG_POOL_DEFAULT;
static atomic_int pg_pool_wait_ms = STORE_PG_POOL_WAIT_MS;

struct pg_conn {
	struct pg_pool *pool;
	struct pg_slot *slot; /* held, or NULL */
	PGconn *pc;	      /* slot->pc while held, else NULL */
	bool pinned;	      /* kept between statements (migration: its
				 advisory lock is the session's) */
	int64_t changes;
	/* the statement pg_send started, its answer not yet read */
	const char *sent;
};

struct pg_param {
	const char *value; /* NULL binds NULL */
	int len;
	int format; /* 0 text, 1 binary (blobs) */
	char *copy; /* owned copy ('T'), or NULL */
	char num[24];
};

struct pg_stmt {
	struct store_stmt base;
	struct store *s;
	char name[24];
	char *text; /* rewritten, maybe with RETURNING id */
	int nparams;
	bool returning_id;
	bool oneshot; /* sent with its parameters each time, never prepared
			 on the server (store_pg_prepare_once) */
	uint64_t key; /* pg_text_key of text, once named */
	struct pg_param params[PG_PARAMS_MAX];
	PGresult *res;
	int row, nrows;
	uint8_t *blob; /* the last decoded bytea (col_blob) */
};

static struct pg_conn *
pg(struct store *s)
{
	return s->conn;
}

void
store_pg_pool_set(int max, int wait_ms)
{
	atomic_store(&pg_pool_max, max > 0 && max <= STORE_PG_POOL_MAX
					   ? max
					   : STORE_PG_POOL_MAX);
	atomic_store(&pg_pool_wait_ms,
		     wait_ms >= 0 ? wait_ms : STORE_PG_POOL_WAIT_MS);
}

static struct pg_pool *
pg_pool_of(const char *url)
{
	struct pg_pool *p;

	pthread_mutex_lock(&pg_pools_mu);
	for (p = pg_pools; p != NULL; p = p->next)
		if (strcmp(p->url, url) == 0)
			break;
	if (p == NULL) {
		pthread_condattr_t ca;

		p = xcalloc(1, sizeof(*p));
		p->url = xstrdup(url);
		pthread_mutex_init(&p->mu, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&p->cond, &ca);
		pthread_condattr_destroy(&ca);
		p->slots = xcalloc(STORE_PG_POOL_MAX, sizeof(*p->slots));
		p->next = pg_pools;
		pg_pools = p;
	}
	pthread_mutex_unlock(&pg_pools_mu);
	return p;
}

static void
pg_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *
pg_connect_url(const char *url)
{
	/* Generic plans for every prepared statement: easd's statements
	 * are index lookups and walks whose best plan does not depend on
	 * the values, and the custom plans PostgreSQL makes for the first
	 * five runs of each (per connection) are made from the statistics
	 * of the moment: a folder filled since the last ANALYZE had its
	 * walk planned as "sort the whole folder", ten times the index
	 * scan. Options of the URL come after and override it. */
	static const char *const keys[] = {"options", "dbname", NULL};
	const char *values[] = {"-c plan_cache_mode=force_generic_plan", url,
				NULL};
	PGconn *pc = PQconnectdbParams(keys, values, 1);

	/* warnings of the server (a NOTICE per CREATE ... IF NOT EXISTS)
	 * are not the log's business */
	if (pc != NULL)
		PQsetNoticeProcessor(pc, pg_notice, NULL);
	return pc;
}

static void
pg_slot_forget(struct pg_slot *slot)
{
	slot->nprepared = 0;
	if (slot->cap > 0)
		memset(slot->prepared, 0, slot->cap * sizeof(*slot->prepared));
}

/* A connection of the pool for s: a free one, a new one while there are
 * fewer than the cap, or the first given back within the wait. */
static bool
pg_acquire(struct store *s)
{
	struct pg_conn *c = pg(s);
	struct pg_pool *p = c->pool;
	struct pg_slot *slot = NULL;
	struct timespec deadline;
	bool timed_out = false, stale;
	int max, wait_ms;

	if (c->slot != NULL)
		return true;
	max = atomic_load(&pg_pool_max);
	wait_ms = atomic_load(&pg_pool_wait_ms);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	while (slot == NULL && !timed_out) {
		for (int i = 0; i < p->nslots && slot == NULL; i++)
			if (!p->slots[i]->taken)
				slot = p->slots[i];
		if (slot == NULL && p->nslots < max) {
			slot = xcalloc(1, sizeof(*slot));
			p->slots[p->nslots++] = slot;
		}
		if (slot == NULL)
			timed_out = pthread_cond_timedwait(&p->cond, &p->mu,
							   &deadline) != 0;
	}
	if (slot != NULL)
		slot->taken = true;
	stale = slot != NULL && slot->epoch != p->epoch;
	if (stale)
		slot->epoch = p->epoch;
	pthread_mutex_unlock(&p->mu);
	if (slot == NULL) {
		log_warn("store: all %d database connections of this node are "
			 "in use (waited %d ms): answering busy",
			 max, wait_ms);
		return false;
	}
	/* connecting is outside the lock: the slot is ours */
	if (slot->pc == NULL) {
		slot->pc = pg_connect_url(p->url);
	} else if (stale) {
		PGresult *r = PQexec(slot->pc, "DEALLOCATE ALL");

		PQclear(r);
		pg_slot_forget(slot);
	}
	c->slot = slot;
	c->pc = slot->pc;
	return true;
}

/* Back to the pool once nothing is open on it. */
static void
pg_release(struct store *s)
{
	struct pg_conn *c = pg(s);
	struct pg_pool *p = c->pool;

	if (c->slot == NULL || c->pinned ||
	    (PQstatus(c->pc) == CONNECTION_OK &&
	     PQtransactionStatus(c->pc) != PQTRANS_IDLE))
		return;
	c->sent = NULL; /* a broken connection's, if any */
	pthread_mutex_lock(&p->mu);
	c->slot->taken = false;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mu);
	c->slot = NULL;
	c->pc = NULL;
}

/* The name of a statement on every connection: a hash of its text (the
 * same text prepared by several stores shares one). */
static uint64_t
pg_text_key(const char *text)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = text; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	return h | 1; /* never 0, the free mark */
}

static bool
pg_slot_prepared(const struct pg_slot *slot, uint64_t key)
{
	if (slot->cap == 0)
		return false;
	for (size_t i = (key >> 3) & (slot->cap - 1);;
	     i = (i + 1) & (slot->cap - 1)) {
		if (slot->prepared[i] == key)
			return true;
		if (slot->prepared[i] == 0)
			return false;
	}
}

static void
pg_slot_add(struct pg_slot *slot, uint64_t key)
{
	if ((slot->nprepared + 1) * 2 > slot->cap) {
		uint64_t *old = slot->prepared;
		size_t oldcap = slot->cap;

		slot->cap = oldcap == 0 ? 64 : oldcap * 2;
		slot->prepared = xcalloc(slot->cap, sizeof(*slot->prepared));
		slot->nprepared = 0;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i] != 0)
				pg_slot_add(slot, old[i]);
		free(old);
	}
	for (size_t i = (key >> 3) & (slot->cap - 1);;
	     i = (i + 1) & (slot->cap - 1)) {
		if (slot->prepared[i] == 0) {
			slot->prepared[i] = key;
			slot->nprepared++;
			return;
		}
	}
}

/* --- errors --- */

static enum store_error
pg_error(struct store *s, const PGresult *res, const char *what)
{
	if (pg(s)->pc == NULL)
		return STORE_BUSY; /* no connection of the pool (logged) */
	const char *state =
		res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorMessage(res)
				      : PQerrorMessage(pg(s)->pc);

	if (state != NULL) {
		if (strcmp(state, "23505") == 0)
			return STORE_EXISTS;
		if (strcmp(state, "23503") == 0)
			return STORE_NOTFOUND;
		/* given up for another transaction's sake: store_txn runs
		 * it again */
		if (strcmp(state, "40001") == 0 ||
		    strcmp(state, "40P01") == 0) {
			const char *primary = PQresultErrorField(
				res, PG_DIAG_MESSAGE_PRIMARY);

			s->retryable = true;
			log_info("store: %.80s: %s", what,
				 primary != NULL ? primary : state);
			return STORE_BUSY;
		}
		/* contention: the request is answered "retry" */
		if (strcmp(state, "55P03") == 0)
			return STORE_BUSY;
		if (strcmp(state, "XX001") == 0 ||
		    strcmp(state, "XX002") == 0) {
			store_error_counted();
			log_error("store: %s: %s", what, msg);
			return STORE_CORRUPT;
		}
		/* the server going away (shutdown, crash): busy, and the
		 * next statement reconnects */
		if (strncmp(state, "57P", 3) == 0 ||
		    strncmp(state, "08", 2) == 0) {
			log_warn("store: %s: %s", what, msg);
			return STORE_BUSY;
		}
	}
	if (PQstatus(pg(s)->pc) == CONNECTION_BAD) {
		log_warn("store: the database connection is lost: %s",
			 PQerrorMessage(pg(s)->pc));
		return STORE_BUSY;
	}
	store_error_counted();
	log_error("store: %.80s: %s", what, msg);
	return STORE_INTERNAL;
}

/* A connection that broke is opened again before the next statement; the
 * server forgot its prepared statements. */
static bool
pg_ensure_conn(struct store *s)
{
	struct pg_conn *c = pg(s);

	if (!pg_acquire(s))
		return false;
	if (PQstatus(c->pc) == CONNECTION_OK)
		return true;
	PQreset(c->pc);
	c->sent = NULL; /* and what was in flight went with it */
	/* the server forgot what was prepared on it */
	pg_slot_forget(c->slot);
	if (PQstatus(c->pc) != CONNECTION_OK)
		return false;
	log_info("store: reconnected to the database");
	return true;
}

/* --- statements --- */

/* ?N to $N outside quoted text; the number of parameters. */
static char *
pg_rewrite(const char *sql, bool returning_id, int *nparams_r)
{
	size_t n = strlen(sql);
	char *out = xmalloc(n + 32), *o = out;
	char quote = 0;
	int max = 0;

	for (const char *p = sql; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
			*o++ = *p;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p;
			continue;
		}
		if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
			int v = 0;

			*o++ = '$';
			while (p[1] >= '0' && p[1] <= '9') {
				v = v * 10 + (p[1] - '0');
				*o++ = *++p;
			}
			if (v > max)
				max = v;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	if (returning_id)
		strcpy(o, " RETURNING id");
	*nparams_r = max;
	return out;
}

static struct store_stmt *
pg_prepare(struct store *s, const char *sql)
{
	struct pg_stmt *p = xcalloc(1, sizeof(*p));

	/* prepared on the server at the first step, when it is known whether
	 * it returns an id (store_insert) */
	p->base.drv = &store_driver_pg;
	p->base.sql = sql;
	p->s = s;
	return &p->base;
}

struct store_stmt *
store_pg_prepare_once(struct store *s, const char *sql)
{
	struct pg_stmt *p = (struct pg_stmt *)pg_prepare(s, sql);

	/* a statement built for one query would stay prepared on the
	 * server for the life of the connection */
	p->oneshot = true;
	return &p->base;
}

static void
pg_clear(struct pg_stmt *p)
{
	PQclear(p->res);
	p->res = NULL;
	free(p->blob);
	p->blob = NULL;
}

static void
pg_finalize(struct store_stmt *st)
{
	struct pg_stmt *p = (struct pg_stmt *)st;

	pg_clear(p);
	for (int i = 0; i < PG_PARAMS_MAX; i++)
		free(p->params[i].copy);
	free(p->text);
	free(p);
}

static struct pg_param *
pg_param(struct store_stmt *st, int n)
{
	struct pg_stmt *p = (struct pg_stmt *)st;
	struct pg_param *q;

	if (n < 1 || n > PG_PARAMS_MAX)
		eas_panic("store: parameter ?%d out of range: %.80s", n,
			  st->sql);
	/* binding starts the statement over, as SQLite's reset does */
	pg_clear(p);
	q = &p->params[n - 1];
	free(q->copy);
	q->copy = NULL;
	q->format = 0;
	q->len = 0;
	return q;
}

static void
pg_bind_int64(struct store_stmt *st, int n, int64_t v)
{
	struct pg_param *q = pg_param(st, n);

	snprintf(q->num, sizeof(q->num), "%lld", (long long)v);
	q->value = q->num;
}

static void
pg_bind_text(struct store_stmt *st, int n, const char *t, bool copy)
{
	struct pg_param *q = pg_param(st, n);

	if (t != NULL && copy)
		t = q->copy = xstrdup(t);
	q->value = t;
}

static void
pg_bind_blob(struct store_stmt *st, int n, const void *data, size_t len)
{
	struct pg_param *q = pg_param(st, n);

	q->value = data != NULL ? (const char *)data : NULL;
	q->len = (int)len;
	q->format = 1;
}

/* After a statement failed: whether it may run again on a new connection.
 * Only when the connection broke while no transaction was open (the
 * statement was a BEGIN or stood alone): nothing of it happened, and the
 * request that sent it need not fail because the server restarted since
 * the connection's last use. Inside a transaction the transaction is
 * lost: STORE_BUSY, and the caller answers "retry". */
static bool
pg_retry(struct store *s, bool was_idle)
{
	if (!was_idle || PQstatus(pg(s)->pc) != CONNECTION_BAD)
		return false;
	return pg_ensure_conn(s);
}

static bool
pg_idle(struct store *s)
{
	if (pg(s)->pc == NULL)
		return true; /* holding none: nothing is open */
	return PQstatus(pg(s)->pc) == CONNECTION_OK &&
	       PQtransactionStatus(pg(s)->pc) == PQTRANS_IDLE;
}

/* The answer of what pg_send started: STORE_OK, or its error. libpq
 * would throw it away unread at the next statement, error and all. */
static enum store_error
pg_wait_sent(struct store *s)
{
	struct pg_conn *c = pg(s);
	enum store_error e = STORE_OK;
	PGresult *res;

	if (c->sent == NULL)
		return STORE_OK;
	while ((res = PQgetResult(c->pc)) != NULL) {
		ExecStatusType status = PQresultStatus(res);

		if (e == STORE_OK && status != PGRES_COMMAND_OK &&
		    status != PGRES_TUPLES_OK)
			e = pg_error(s, res, c->sent);
		PQclear(res);
	}
	if (e == STORE_OK && PQstatus(c->pc) == CONNECTION_BAD)
		e = pg_error(s, NULL, c->sent);
	c->sent = NULL;
	return e;
}

/* Before the statement sql: the answer of what was sent before it. A
 * failure is the statement's own, unless sql undoes it anyway (the
 * transaction's or the savepoint's ROLLBACK). */
static enum store_error
pg_before(struct store *s, const char *sql)
{
	enum store_error e = pg_wait_sent(s);

	if (e != STORE_OK && strncmp(sql, "ROLLBACK", 8) == 0) {
		/* a part undone to its savepoint: its failure, a deadlock
		 * included, is not the command's to run again for */
		if (strncmp(sql, "ROLLBACK TO", 11) == 0)
			s->retryable = false;
		e = STORE_OK;
	}
	return e;
}

static enum store_error pg_exec_once(struct store *s, struct pg_stmt *p);

static enum store_error
pg_exec_stmt(struct store *s, struct pg_stmt *p)
{
	bool was_idle = pg_idle(s);
	enum store_error e = pg_exec_once(s, p);

	if (e == STORE_BUSY && pg_retry(s, was_idle))
		e = pg_exec_once(s, p);
	/* the rows are in p->res: the connection can go */
	pg_release(s);
	return e;
}

/* The statement made ready to go on the connection: named and prepared
 * there (unless it is sent whole each time) and its parameters in the
 * arrays libpq takes. */
static enum store_error
pg_ready(struct store *s, struct pg_stmt *p, const char **values, int *lengths,
	 int *formats)
{
	struct pg_conn *c = pg(s);
	enum store_error e;
	PGresult *res;

	if (c->slot != NULL && (e = pg_before(s, p->base.sql)) != STORE_OK)
		return e;
	if (!pg_ensure_conn(s))
		return pg_error(s, NULL, p->base.sql);
	/* PostgreSQL answers COMMIT of a transaction in which a statement
	 * failed with a silent ROLLBACK; SQLite would have committed the
	 * rest. Never report that as committed. (A caller that goes on
	 * after an expected error inside its transaction needs a savepoint
	 * on PostgreSQL: see the README's list.) */
	if (PQtransactionStatus(c->pc) == PQTRANS_INERROR &&
	    strcmp(p->base.sql, "COMMIT") == 0) {
		store_error_counted();
		log_error("store: a statement of this transaction failed "
			  "earlier: it is rolled back, not committed");
		return STORE_INTERNAL;
	}
	if (p->text == NULL)
		p->text = pg_rewrite(p->base.sql, p->returning_id, &p->nparams);
	if (p->nparams > PG_PARAMS_MAX)
		eas_panic("store: too many parameters: %.80s", p->base.sql);
	for (int i = 0; i < p->nparams; i++) {
		values[i] = p->params[i].value;
		lengths[i] = p->params[i].len;
		formats[i] = p->params[i].format;
	}
	if (p->oneshot)
		return STORE_OK;
	if (p->name[0] == '\0') {
		p->key = pg_text_key(p->text);
		snprintf(p->name, sizeof(p->name), "s%016llx",
			 (unsigned long long)p->key);
	}
	if (!pg_slot_prepared(c->slot, p->key)) {
		/* the parameters' types are the server's inference */
		res = PQprepare(c->pc, p->name, p->text, p->nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			e = pg_error(s, res, p->base.sql);
			PQclear(res);
			return e;
		}
		PQclear(res);
		pg_slot_add(c->slot, p->key);
	}
	return STORE_OK;
}

static enum store_error
pg_exec_once(struct store *s, struct pg_stmt *p)
{
	struct pg_conn *c = pg(s);
	const char *values[PG_PARAMS_MAX];
	int lengths[PG_PARAMS_MAX], formats[PG_PARAMS_MAX];
	PGresult *res;
	ExecStatusType status;
	enum store_error e;

	if ((e = pg_ready(s, p, values, lengths, formats)) != STORE_OK)
		return e;
	if (p->oneshot)
		res = PQexecParams(c->pc, p->text, p->nparams, NULL, values,
				   lengths, formats, 0);
	else
		res = PQexecPrepared(c->pc, p->name, p->nparams, values,
				     lengths, formats, 0);
	status = PQresultStatus(res);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		e = pg_error(s, res, p->base.sql);
		PQclear(res);
		return e;
	}
	c->changes = atoll(PQcmdTuples(res));
	p->res = res;
	p->row = -1;
	p->nrows = PQntuples(res);
	return STORE_OK;
}

static enum store_error
pg_step(struct store *s, struct store_stmt *st, bool *row_r)
{
	struct pg_stmt *p = (struct pg_stmt *)st;
	enum store_error e;

	*row_r = false;
	if (p->res == NULL && (e = pg_exec_stmt(s, p)) != STORE_OK)
		return e;
	free(p->blob);
	p->blob = NULL;
	if (p->row < p->nrows)
		p->row++;
	*row_r = p->row < p->nrows;
	return STORE_OK;
}

static void
pg_reset(struct store_stmt *st)
{
	pg_clear((struct pg_stmt *)st);
}

/* The statement goes to the server, which runs it while the caller goes
 * on; pg_before reads its answer. libpq has copied the parameters. Only
 * inside a transaction: the connection stays this store's until its end,
 * and a lost connection fails the transaction anyway. */
static enum store_error
pg_send(struct store *s, struct store_stmt *st)
{
	struct pg_stmt *p = (struct pg_stmt *)st;
	struct pg_conn *c = pg(s);
	const char *values[PG_PARAMS_MAX];
	int lengths[PG_PARAMS_MAX], formats[PG_PARAMS_MAX];
	enum store_error e;
	int ok;

	if (c->slot == NULL || p->oneshot) {
		bool row;

		e = pg_step(s, st, &row);
		pg_reset(st);
		return e;
	}
	if ((e = pg_ready(s, p, values, lengths, formats)) != STORE_OK)
		return e;
	ok = PQsendQueryPrepared(c->pc, p->name, p->nparams, values, lengths,
				 formats, 0);
	if (ok == 0)
		return pg_error(s, NULL, p->base.sql);
	c->sent = p->base.sql;
	return STORE_OK;
}

static int64_t
pg_col_int64(struct store_stmt *st, int col)
{
	struct pg_stmt *p = (struct pg_stmt *)st;
	const char *v;

	if (p->res == NULL || p->row >= p->nrows ||
	    PQgetisnull(p->res, p->row, col))
		return 0;
	v = PQgetvalue(p->res, p->row, col);
	if (v[0] == 't')
		return 1; /* a boolean */
	return strtoll(v, NULL, 10);
}

static const char *
pg_col_text(struct store_stmt *st, int col, size_t *len_r)
{
	struct pg_stmt *p = (struct pg_stmt *)st;

	*len_r = 0;
	if (p->res == NULL || p->row >= p->nrows ||
	    PQgetisnull(p->res, p->row, col))
		return NULL;
	*len_r = (size_t)PQgetlength(p->res, p->row, col);
	return PQgetvalue(p->res, p->row, col);
}

#define PG_BYTEA_OID 17

static const void *
pg_col_blob(struct store_stmt *st, int col, size_t *len_r, bool *null_r)
{
	struct pg_stmt *p = (struct pg_stmt *)st;
	const char *v;
	size_t n, out = 0;

	*len_r = 0;
	*null_r = p->res == NULL || p->row >= p->nrows ||
		  PQgetisnull(p->res, p->row, col);
	if (*null_r)
		return NULL;
	v = PQgetvalue(p->res, p->row, col);
	n = (size_t)PQgetlength(p->res, p->row, col);
	if (PQftype(p->res, col) != PG_BYTEA_OID) {
		*len_r = n;
		return v; /* text read as a blob */
	}
	/* bytea in the hex output format (the default since 9.0) */
	if (n < 2 || v[0] != '\\' || v[1] != 'x') {
		log_error("store: a bytea column not in hex format");
		return "";
	}
	free(p->blob);
	p->blob = xmalloc((n - 2) / 2 + 1);
	for (size_t i = 2; i + 1 < n; i += 2) {
		int hi = str_hex_val(v[i]), lo = str_hex_val(v[i + 1]);

		if (hi < 0 || lo < 0)
			break;
		p->blob[out++] = (uint8_t)(hi << 4 | lo);
	}
	*len_r = out;
	return p->blob;
}

static enum store_error
pg_insert(struct store *s, struct store_stmt *st, int64_t *id_r)
{
	struct pg_stmt *p = (struct pg_stmt *)st;
	enum store_error e;
	bool row;

	if (p->text != NULL && !p->returning_id) {
		/* one SQL text is either store_insert's or not */
		log_error("store: an INSERT prepared without RETURNING id: "
			  "%.80s",
			  st->sql);
		return STORE_INTERNAL;
	}
	p->returning_id = true;
	e = pg_step(s, st, &row);
	if (e == STORE_OK && row)
		*id_r = pg_col_int64(st, 0);
	return e;
}

static int64_t
pg_changes(struct store *s)
{
	return pg(s)->changes;
}

static enum store_error
pg_exec_plain(struct store *s, const char *sql)
{
	PGresult *res;
	enum store_error e = STORE_OK;
	ExecStatusType status;

	if (pg(s)->slot != NULL && (e = pg_before(s, sql)) != STORE_OK)
		return e;
	if (!pg_ensure_conn(s))
		return pg_error(s, NULL, sql);
	res = PQexec(pg(s)->pc, sql);
	status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		e = pg_error(s, res, sql);
	PQclear(res);
	return e;
}

static enum store_error
pg_exec(struct store *s, const char *sql)
{
	bool was_idle = pg_idle(s);
	enum store_error e = pg_exec_plain(s, sql);

	if (e == STORE_BUSY && pg_retry(s, was_idle))
		e = pg_exec_plain(s, sql);
	pg_release(s);
	return e;
}

static bool
pg_in_txn(struct store *s)
{
	PGTransactionStatusType t;

	if (pg(s)->pc == NULL)
		return false; /* a transaction holds its connection */
	t = PQtransactionStatus(pg(s)->pc);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR ||
	       t == PQTRANS_ACTIVE;
}

static void
pg_close(struct store *s)
{
	struct pg_conn *c = pg(s);

	if (c == NULL)
		return;
	if (c->slot != NULL && pg_in_txn(s)) {
		/* closed inside a transaction: it goes, with its
		 * connection's state */
		PGresult *r = PQexec(c->pc, "ROLLBACK");

		PQclear(r);
	}
	pg_release(s);
	free(c);
	s->conn = NULL;
}

const struct store_driver store_driver_pg = {
	.name = "postgresql",
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.reset = pg_reset,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.insert = pg_insert,
	.changes = pg_changes,
	.exec = pg_exec,
	.send = pg_send,
	.in_txn = pg_in_txn,
	.close = pg_close,
	.begin_write = "BEGIN ISOLATION LEVEL READ COMMITTED",
	.begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ",
};

/* --- the schema --- */

/* PostgreSQL's own schema steps: step i takes easd_schema.version i to
 * i + 1, in one transaction with the version. Step 0 is the whole of
 * SQLite's schema 11 (store.c) without its FTS5 tables and triggers (step
 * 2 -> 3 has PostgreSQL's own). Integers are
 * int8 as SQLite's are 64-bit; COLLATE NOCASE is an ICU collation that
 * ignores case, so UNIQUE and = on logins, addresses and DeviceIds behave
 * as on SQLite. */
static const char *const pg_migrations[] = {
	"CREATE COLLATION IF NOT EXISTS nocase (provider = icu,"
	" locale = 'und-u-ks-level2', deterministic = false);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INT8 NOT NULL);"
	"INSERT INTO meta VALUES ('policy_version', 1);"
	"CREATE TABLE accounts ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" login TEXT COLLATE nocase NOT NULL UNIQUE,"
	" email TEXT COLLATE nocase NOT NULL UNIQUE,"
	" display_name TEXT NOT NULL DEFAULT '',"
	" password TEXT NOT NULL,"
	" enabled INT8 NOT NULL DEFAULT 1,"
	" created INT8 NOT NULL,"
	" modseq INT8 NOT NULL DEFAULT 0,"
	" next_folder INT8 NOT NULL DEFAULT 1,"
	" admin INT8 NOT NULL DEFAULT 0);"
	"CREATE INDEX accounts_gal_name ON accounts(display_name COLLATE"
	" nocase, email, id) WHERE enabled = 1;"
	"CREATE INDEX accounts_disabled ON accounts(id) WHERE enabled = 0;"
	"CREATE TABLE policies ("
	" account_id INT8 NOT NULL,"
	" key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (account_id, key));"
	"CREATE TABLE devices ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" device_id TEXT COLLATE nocase NOT NULL,"
	" device_type TEXT NOT NULL DEFAULT '',"
	" user_agent TEXT, model TEXT, imei TEXT, friendly_name TEXT,"
	" os TEXT, os_language TEXT, phone_number TEXT, mobile_operator TEXT,"
	" info_user_agent TEXT, protocol_version TEXT, last_command TEXT,"
	" first_seen INT8 NOT NULL DEFAULT 0,"
	" last_seen INT8 NOT NULL DEFAULT 0,"
	" policy_key INT8 NOT NULL DEFAULT 0,"
	" policy_key_temp INT8 NOT NULL DEFAULT 0,"
	" policy_version INT8 NOT NULL DEFAULT 0,"
	" access INT8 NOT NULL DEFAULT 0,"
	" wipe INT8 NOT NULL DEFAULT 0,"
	" UNIQUE (account_id, device_id));"
	"CREATE TABLE device_events ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" device_id INT8 NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" time INT8 NOT NULL, what TEXT NOT NULL, origin TEXT NOT NULL);"
	"CREATE INDEX device_events_device ON device_events(device_id);"
	"CREATE TABLE device_blobs ("
	" device_id INT8 NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, data BYTEA NOT NULL,"
	" PRIMARY KEY (device_id, name));"
	"CREATE TABLE folders ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" parent_id INT8 NOT NULL DEFAULT 0,"
	" server_id TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type INT8 NOT NULL,"
	" builtin INT8 NOT NULL DEFAULT 0,"
	" modseq INT8 NOT NULL,"
	" created_modseq INT8 NOT NULL,"
	" origin_device INT8 NOT NULL DEFAULT 0,"
	" deleted INT8 NOT NULL DEFAULT 0,"
	" UNIQUE (account_id, server_id));"
	"CREATE INDEX folders_modseq ON folders(account_id, modseq);"
	"CREATE INDEX folders_parent ON folders(parent_id);"
	"CREATE UNIQUE INDEX folders_name ON folders"
	" (account_id, parent_id, name COLLATE nocase) WHERE deleted = 0;"
	"CREATE TABLE items ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" folder_id INT8 NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	" cls INT8 NOT NULL,"
	" data BYTEA, extra BYTEA,"
	" date INT8 NOT NULL DEFAULT 0,"
	" date_end INT8 NOT NULL DEFAULT 0,"
	" read INT8 NOT NULL DEFAULT 0,"
	" flag_status INT8 NOT NULL DEFAULT 0,"
	" complete INT8 NOT NULL DEFAULT 0,"
	" size INT8 NOT NULL DEFAULT 0,"
	" subject TEXT, message_id TEXT, uid TEXT,"
	" modseq INT8 NOT NULL,"
	" origin_device INT8 NOT NULL DEFAULT 0,"
	" deleted INT8 NOT NULL DEFAULT 0);"
	"CREATE INDEX items_folder ON items(folder_id);"
	"CREATE INDEX items_folder_modseq ON items(folder_id, modseq);"
	"CREATE INDEX items_folder_date_end ON items(folder_id, date_end);"
	"CREATE INDEX items_tombstones ON items(deleted) WHERE deleted = 1;"
	"CREATE INDEX items_uid ON items(account_id, uid)"
	" WHERE uid IS NOT NULL AND deleted = 0;"
	"CREATE INDEX items_mail_date ON items(account_id, date)"
	" WHERE cls = 1 AND deleted = 0;"
	"CREATE TABLE sync_states ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" device_id INT8 NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" folder_id INT8 NOT NULL,"
	" cur_key TEXT, prev_key TEXT,"
	" hwm INT8 NOT NULL DEFAULT 0,"
	" filter_since INT8 NOT NULL DEFAULT 0,"
	" backfill_after INT8 NOT NULL DEFAULT -1,"
	" options BYTEA,"
	" synced INT8 NOT NULL DEFAULT 0,"
	" UNIQUE (device_id, folder_id));"
	"CREATE TABLE sync_responses ("
	" state_id INT8 PRIMARY KEY REFERENCES sync_states(id)"
	"  ON DELETE CASCADE,"
	" response BYTEA NOT NULL);"
	"CREATE TABLE device_items ("
	" state_id INT8 NOT NULL REFERENCES sync_states(id) ON DELETE CASCADE,"
	" item_id INT8 NOT NULL,"
	" modseq INT8 NOT NULL,"
	" PRIMARY KEY (state_id, item_id));"
	"CREATE INDEX device_items_item ON device_items(item_id);"
	"CREATE TABLE aliases ("
	" address TEXT COLLATE nocase PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE);"
	"CREATE INDEX aliases_account ON aliases(account_id);"
	"CREATE TABLE submissions ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" client_id TEXT,"
	" time INT8 NOT NULL,"
	" recipients INT8 NOT NULL);"
	"CREATE UNIQUE INDEX submissions_client ON submissions"
	" (account_id, client_id) WHERE client_id IS NOT NULL;"
	"CREATE INDEX submissions_time ON submissions(account_id, time);"
	"CREATE TABLE outbound_messages ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" envelope_from TEXT NOT NULL,"
	" message_ident TEXT NOT NULL,"
	" data BYTEA NOT NULL,"
	" created INT8 NOT NULL,"
	" expires INT8 NOT NULL);"
	"CREATE TABLE outbound_rcpts ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" message_id INT8 NOT NULL REFERENCES outbound_messages(id)"
	"  ON DELETE CASCADE,"
	" rcpt TEXT NOT NULL,"
	" next_attempt INT8 NOT NULL,"
	" attempts INT8 NOT NULL DEFAULT 0,"
	" last_reply TEXT);"
	"CREATE INDEX outbound_due ON outbound_rcpts(next_attempt);"
	"CREATE INDEX outbound_rcpts_message ON outbound_rcpts(message_id);"
	"CREATE TABLE oof ("
	" account_id INT8 PRIMARY KEY REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" state INT8 NOT NULL,"
	" start_time INT8 NOT NULL,"
	" end_time INT8 NOT NULL,"
	" internal_on INT8 NOT NULL, internal_text TEXT,"
	" internal_html INT8 NOT NULL,"
	" known_on INT8 NOT NULL, known_text TEXT,"
	" known_html INT8 NOT NULL,"
	" external_on INT8 NOT NULL, external_text TEXT,"
	" external_html INT8 NOT NULL,"
	" changed INT8 NOT NULL);"
	"CREATE TABLE oof_replies ("
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" sender TEXT COLLATE nocase NOT NULL,"
	" time INT8 NOT NULL,"
	" PRIMARY KEY (account_id, sender));"
	"CREATE TABLE search_pending (item_id INT8 PRIMARY KEY);"
	"CREATE TABLE account_props ("
	" account_id INT8 PRIMARY KEY REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" first_name TEXT, last_name TEXT, phone TEXT, mobile TEXT,"
	" home_phone TEXT, office TEXT, title TEXT, company TEXT,"
	" department TEXT, photo BYTEA);"
	"CREATE TABLE gal_entries ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" uid TEXT UNIQUE,"
	" display_name TEXT NOT NULL DEFAULT '',"
	" first_name TEXT, last_name TEXT, email TEXT COLLATE nocase,"
	" alias TEXT, phone TEXT, mobile TEXT, home_phone TEXT, office TEXT,"
	" title TEXT, company TEXT, department TEXT, photo BYTEA);"
	"CREATE INDEX gal_entries_email ON gal_entries(email);"
	"CREATE TABLE debug_traces ("
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" device_id TEXT COLLATE nocase NOT NULL,"
	" bodies INT8 NOT NULL,"
	" since INT8 NOT NULL,"
	" PRIMARY KEY (account_id, device_id));"
	"CREATE TABLE web_sessions ("
	" key TEXT PRIMARY KEY,"
	" account_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"
	" csrf TEXT NOT NULL,"
	" created INT8 NOT NULL,"
	" last_used INT8 NOT NULL);"
	"CREATE INDEX web_sessions_account ON web_sessions(account_id);",
	/* 1 -> 2: sharing, as SQLite's 11 -> 12 (store.c, share.c) */
	"ALTER TABLE accounts ADD COLUMN shared INT8 NOT NULL DEFAULT 0;"
	"CREATE TABLE shares ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" owner_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" folder_id INT8 NOT NULL DEFAULT 0,"
	" grantee_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" rights INT8 NOT NULL DEFAULT 0,"
	" send INT8 NOT NULL DEFAULT 0,"
	" UNIQUE (owner_id, folder_id, grantee_id));"
	"CREATE INDEX shares_grantee ON shares(grantee_id, owner_id);"
	"CREATE TABLE share_folders ("
	" id INT8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" grantee_id INT8 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" owner_id INT8 NOT NULL,"
	" folder_id INT8 NOT NULL,"
	" server_id TEXT NOT NULL,"
	" parent_sid TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type INT8 NOT NULL,"
	" rights INT8 NOT NULL,"
	" modseq INT8 NOT NULL,"
	" created_modseq INT8 NOT NULL,"
	" deleted INT8 NOT NULL DEFAULT 0,"
	" UNIQUE (grantee_id, server_id));"
	"CREATE INDEX share_folders_access ON share_folders(grantee_id,"
	" folder_id) WHERE deleted = 0;"
	"CREATE INDEX share_folders_folder ON share_folders(folder_id)"
	" WHERE deleted = 0;"
	"CREATE INDEX share_folders_modseq ON share_folders(grantee_id,"
	" modseq);",
	/* 2 -> 3: mail search and the address list, with PostgreSQL's own
	 * full-text search (search-pg.c). easd_norm is the tokenizer: what
	 * FTS5's unicode61 with remove_diacritics 2 does on SQLite, in SQL so
	 * that the index and the queries (and the address list's triggers)
	 * agree: case folded by ICU, accents taken off the Latin letters
	 * (the table below; combining marks dropped), each CJK character a
	 * word of its own (as store_search_segment does), and anything but
	 * letters and digits a space; the 'simple' configuration then makes
	 * each word a lexeme, without stemming or stop words. search_docs
	 * holds a live message's words (item_id its id; folder and
	 * ConversationId beside them, as FTS5's scope and conv columns);
	 * the triggers drop the row with the message, as SQLite's do.
	 * gal_docs holds the names and addresses of accounts (id) and of
	 * published contacts (-id), kept by triggers on every table it
	 * reads. The queue already holds all mail (nothing indexed it
	 * before); the address list is made now. */
	"CREATE FUNCTION easd_norm(t TEXT) RETURNS TEXT LANGUAGE sql"
	" IMMUTABLE PARALLEL SAFE AS $f$ SELECT regexp_replace("
	"regexp_replace(translate(regexp_replace(lower(t COLLATE"
	" \"und-x-icu\"), E'[\\\\u0300-\\\\u036f]+', '', 'g'), '"
	"àáâãäåçèéêëìíîïñòóôõöøùúûüýÿāă"
	"ąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĵķĺļľŀł"
	"ńņňōŏőŕŗřśŝşšţťŧũūŭůűųŵŷźżžƀơư"
	"ƶǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕ"
	"ȗșțȟȧȩȫȭȯȱȳḁḃḅḇḉḋḍḏḑḓḕḗ"
	"ḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿ"
	"ṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧ"
	"ṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏ"
	"ẑẓẕẖẗẘẙạảấầẩẫậắằẳẵặẹ"
	"ẻẽếềểễệỉịọỏốồổỗộớờởỡ"
	"ợụủứừửữựỳỵỷỹ"
	"', '"
	"aaaaaaceeeeiiiinoooooouuuuyyaaaccccddeeeeegggghhiiiiijklllll"
	"nnnooorrrsssstttuuuuuuwyzzzbouzaiouuuuuaagkoojgnaaaeeiioorru"
	"usthaeooooyabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrs"
	"ssssttttuuuuuvvwwwwwxxyzzzhtwyaaaaaaaaaaaaeeeeeeeeiioooooooo"
	"oooouuuuuuuyyyy"
	"'), E'([\\\\u3040-\\\\u30ff\\\\u3100-\\\\u312f\\\\u3400-\\\\u4dbf"
	"\\\\u4e00-\\\\u9fff\\\\uac00-\\\\ud7af\\\\uf900-\\\\ufaff])',"
	" E' \\\\1 ', 'g'), '[^[:alnum:]]+', ' ', 'g') $f$;"
	"CREATE FUNCTION easd_tsv(t TEXT) RETURNS TSVECTOR LANGUAGE sql"
	" IMMUTABLE PARALLEL SAFE AS"
	" $f$ SELECT to_tsvector('simple', easd_norm(t)) $f$;"
	/* the words of a query (store_search_words: one a line), all of
	 * them; a word of several tokens is a phrase, and with prefix its
	 * last token a prefix */
	"CREATE FUNCTION easd_words(q TEXT, prefix BOOLEAN) RETURNS TSQUERY"
	" LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $f$ SELECT"
	" to_tsquery('simple', coalesce(string_agg('(' || replace(w, ' ',"
	" ' <-> ') || CASE WHEN prefix THEN ':*' ELSE '' END || ')', ' & '),"
	" '')) FROM (SELECT btrim(easd_norm(x)) AS w FROM"
	" unnest(string_to_array(q, E'\\n')) AS x) AS s WHERE w <> '' $f$;"
	"CREATE TABLE search_docs ("
	" item_id INT8 PRIMARY KEY,"
	" account_id INT8 NOT NULL,"
	" folder_id INT8 NOT NULL,"
	" conv TEXT,"
	" doc TSVECTOR NOT NULL);"
	"CREATE INDEX search_docs_doc ON search_docs USING gin (doc);"
	"CREATE INDEX search_docs_conv ON search_docs(account_id, conv)"
	" WHERE conv IS NOT NULL;"
	"CREATE FUNCTION easd_search_gone() RETURNS trigger LANGUAGE plpgsql"
	" AS $f$ BEGIN"
	" DELETE FROM search_docs WHERE item_id = OLD.id;"
	" DELETE FROM search_pending WHERE item_id = OLD.id;"
	" RETURN NULL; END $f$;"
	"CREATE TRIGGER items_search_tombstone AFTER UPDATE OF deleted ON items"
	" FOR EACH ROW WHEN (OLD.cls = 1 AND NEW.deleted = 1 AND"
	" OLD.deleted = 0) EXECUTE FUNCTION easd_search_gone();"
	"CREATE TRIGGER items_search_delete AFTER DELETE ON items"
	" FOR EACH ROW WHEN (OLD.cls = 1 AND OLD.deleted = 0)"
	" EXECUTE FUNCTION easd_search_gone();"
	"DELETE FROM search_pending p WHERE NOT EXISTS (SELECT 1 FROM items i"
	" WHERE i.id = p.item_id AND i.cls = 1 AND i.deleted = 0);"
	"CREATE TABLE gal_docs (id INT8 PRIMARY KEY, doc TSVECTOR NOT NULL);"
	"CREATE INDEX gal_docs_doc ON gal_docs USING gin (doc);"
	"CREATE FUNCTION easd_gal_account(aid INT8) RETURNS void LANGUAGE sql"
	" AS $f$ DELETE FROM gal_docs WHERE id = aid;"
	" INSERT INTO gal_docs (id, doc) SELECT a.id,"
	" easd_tsv(a.display_name || ' ' || a.login || ' ' ||"
	" coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '')) ||"
	" easd_tsv(a.email || ' ' || coalesce((SELECT string_agg(x.address,"
	" ' ') FROM aliases x WHERE x.account_id = a.id), ''))"
	" FROM accounts a LEFT JOIN account_props p ON p.account_id = a.id"
	" WHERE a.id = aid $f$;"
	"CREATE FUNCTION easd_gal_entry(e gal_entries) RETURNS TSVECTOR"
	" LANGUAGE sql IMMUTABLE AS $f$ SELECT easd_tsv(e.display_name ||"
	" ' ' || coalesce(e.first_name, '') || ' ' || coalesce(e.last_name,"
	" '') || ' ' || coalesce(e.alias, '')) || easd_tsv(coalesce(e.email,"
	" '')) $f$;"
	"CREATE FUNCTION easd_gal_changed() RETURNS trigger LANGUAGE plpgsql"
	" AS $f$ BEGIN"
	" IF TG_TABLE_NAME = 'gal_entries' THEN"
	"  IF TG_OP <> 'INSERT' THEN DELETE FROM gal_docs WHERE id = -OLD.id;"
	"  END IF;"
	"  IF TG_OP <> 'DELETE' THEN INSERT INTO gal_docs (id, doc)"
	"   VALUES (-NEW.id, easd_gal_entry(NEW)); END IF;"
	" ELSIF TG_TABLE_NAME = 'accounts' THEN"
	"  IF TG_OP = 'DELETE' THEN PERFORM easd_gal_account(OLD.id);"
	"  ELSE PERFORM easd_gal_account(NEW.id); END IF;"
	" ELSIF TG_OP = 'DELETE' THEN PERFORM easd_gal_account(OLD.account_id);"
	" ELSE PERFORM easd_gal_account(NEW.account_id); END IF;"
	" RETURN NULL; END $f$;"
	"CREATE TRIGGER accounts_gal AFTER INSERT OR DELETE OR UPDATE OF login,"
	" email, display_name ON accounts FOR EACH ROW"
	" EXECUTE FUNCTION easd_gal_changed();"
	"CREATE TRIGGER aliases_gal AFTER INSERT OR UPDATE OR DELETE ON aliases"
	" FOR EACH ROW EXECUTE FUNCTION easd_gal_changed();"
	"CREATE TRIGGER props_gal AFTER INSERT OR UPDATE OR DELETE ON"
	" account_props FOR EACH ROW EXECUTE FUNCTION easd_gal_changed();"
	"CREATE TRIGGER entries_gal AFTER INSERT OR UPDATE OR DELETE ON"
	" gal_entries FOR EACH ROW EXECUTE FUNCTION easd_gal_changed();"
	"SELECT easd_gal_account(id) FROM accounts;"
	"INSERT INTO gal_docs (id, doc) SELECT -e.id, easd_gal_entry(e)"
	" FROM gal_entries e;",
	/* 3 -> 4: a folder's items in id order, for the backfill walk (the
	 * first sync of a folder, store/sync.c). SQLite's items_folder
	 * holds the rowid after folder_id and so already is this index;
	 * on PostgreSQL the walk sorted the whole folder for each window.
	 * It also serves every lookup by folder_id alone. */
	"CREATE INDEX items_folder_id ON items(folder_id, id);"
	"DROP INDEX items_folder;",
	/* 4 -> 5: device_items' reference to its sync state checked once
	 * a statement, not once a row. A window of 512 Adds writes 512
	 * marks in one statement (store/sync.c), and the foreign key ran a
	 * query of its own for each: as much of the backend's time as the
	 * rows themselves. The trigger takes the same lock a foreign key
	 * takes (KEY SHARE on each state named), so that a state deleted
	 * meanwhile is waited for and then fails the insert, and the
	 * deletion of a state takes its marks as ON DELETE CASCADE did.
	 * Writes are READ COMMITTED (begin_write): the DELETE in the
	 * trigger sees what an insert that held the lock committed.
	 * Nothing updates state_id. */
	"ALTER TABLE device_items DROP CONSTRAINT device_items_state_id_fkey;"
	"CREATE FUNCTION easd_marks_state() RETURNS trigger LANGUAGE plpgsql"
	" AS $f$ DECLARE want INT8; got INT8; BEGIN"
	" SELECT count(DISTINCT state_id) INTO want FROM marks;"
	" PERFORM 1 FROM sync_states WHERE id IN (SELECT state_id FROM marks)"
	" FOR KEY SHARE;"
	" GET DIAGNOSTICS got = ROW_COUNT;"
	" IF got < want THEN RAISE foreign_key_violation USING MESSAGE ="
	" 'device_items of a sync state that is not there'; END IF;"
	" RETURN NULL; END $f$;"
	"CREATE TRIGGER device_items_state AFTER INSERT ON device_items"
	" REFERENCING NEW TABLE AS marks FOR EACH STATEMENT"
	" EXECUTE FUNCTION easd_marks_state();"
	"CREATE FUNCTION easd_state_gone() RETURNS trigger LANGUAGE plpgsql"
	" AS $f$ BEGIN"
	" DELETE FROM device_items d USING gone g WHERE d.state_id = g.id;"
	" RETURN NULL; END $f$;"
	"CREATE TRIGGER sync_states_gone AFTER DELETE ON sync_states"
	" REFERENCING OLD TABLE AS gone FOR EACH STATEMENT"
	" EXECUTE FUNCTION easd_state_gone();"
	/* The cached answer of each window (tens of KB) is written once a
	 * window and read only for a repeated key: lz4 compresses it in a
	 * third of pglz's time, where the server was built with it. */
	"DO $d$ BEGIN IF (SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
	" WHERE name = 'default_toast_compression') THEN"
	" ALTER TABLE sync_responses ALTER COLUMN response"
	" SET COMPRESSION lz4; END IF; END $d$;",
};

/* Any constant will do, as long as every node uses the same. */
#define PG_MIGRATION_LOCK "7308201911"

static enum store_error
pg_migrate(struct store *s, const char **error_r)
{
	static const char sql_version[] =
		"SELECT version FROM easd_schema LIMIT 1";
	int target = (int)N_ELEMENTS(pg_migrations), version = 0;
	struct store_stmt *st;
	enum store_error e;
	char sql[80];
	bool row;

	/* Several nodes starting together: the first migrates, the others
	 * wait here and then find the new version. */
	e = pg_exec(s, "SELECT pg_advisory_lock(" PG_MIGRATION_LOCK ")");
	if (e != STORE_OK) {
		*error_r = "cannot lock the database for migration";
		return e;
	}
	e = pg_exec(s, "BEGIN;"
		       "CREATE TABLE IF NOT EXISTS easd_schema"
		       " (version INT8 NOT NULL);");
	if (e != STORE_OK) {
		*error_r = "cannot read the schema version";
		goto out;
	}
	st = pg_prepare(s, sql_version);
	e = pg_step(s, st, &row);
	if (e == STORE_OK && row)
		version = (int)pg_col_int64(st, 0);
	pg_finalize(st);
	if (e != STORE_OK) {
		*error_r = "cannot read the schema version";
		goto out;
	}
	if (version > target) {
		*error_r = "database written by a newer easd";
		e = STORE_INVALID;
		goto out;
	}
	for (int v = version; v < target && e == STORE_OK; v++)
		e = pg_exec(s, pg_migrations[v]);
	if (e != STORE_OK) {
		*error_r = "schema migration failed";
		goto out;
	}
	snprintf(sql, sizeof(sql),
		 "DELETE FROM easd_schema; INSERT INTO easd_schema VALUES (%d)",
		 target);
	if (version < target && (e = pg_exec(s, sql)) != STORE_OK) {
		*error_r = "cannot write the schema version";
		goto out;
	}
	e = pg_exec(s, "COMMIT");
	if (e != STORE_OK)
		*error_r = "cannot commit the schema migration";
	else if (version > 0 && version < target)
		log_info("store: PostgreSQL schema upgraded from %d to %d",
			 version, target);
	if (e == STORE_OK && version < target) {
		/* what the other connections prepared is of the old schema */
		struct pg_pool *p = pg(s)->pool;

		pthread_mutex_lock(&p->mu);
		p->epoch++;
		pg(s)->slot->epoch = p->epoch;
		pthread_mutex_unlock(&p->mu);
		pg_slot_forget(pg(s)->slot);
		(void)pg_exec(s, "DEALLOCATE ALL");
	}
out:
	if (e != STORE_OK)
		(void)pg_exec(s, "ROLLBACK");
	(void)pg_exec(s, "SELECT pg_advisory_unlock(" PG_MIGRATION_LOCK ")");
	return e;
}

bool
store_is_url(const char *path)
{
	return path != NULL && (strncmp(path, "postgresql://", 13) == 0 ||
				strncmp(path, "postgres://", 11) == 0);
}

/* Append n bytes of p to buf at *at (cut at size - 1). */
static void
shown_put(char *buf, size_t size, size_t *at, const char *p, size_t n)
{
	if (*at + n >= size)
		n = size - 1 - *at;
	memcpy(buf + *at, p, n);
	*at += n;
	buf[*at] = '\0';
}

const char *
store_path_shown(const char *path, char *buf, size_t size)
{
	const char *p = path, *scheme, *at_sign, *colon, *end;
	size_t at = 0;

	if (size == 0)
		return "";
	buf[0] = '\0';
	if (path == NULL)
		return buf;
	/* the user part of a URL: scheme://user:password@host */
	scheme = strstr(p, "://");
	if (scheme != NULL) {
		end = scheme + 3 + strcspn(scheme + 3, "/?");
		at_sign = memchr(scheme + 3, '@', (size_t)(end - scheme - 3));
		colon = at_sign != NULL ? memchr(scheme + 3, ':',
						 (size_t)(at_sign - scheme - 3))
					: NULL;
		if (colon != NULL) {
			shown_put(buf, size, &at, p, (size_t)(colon + 1 - p));
			shown_put(buf, size, &at, "***", 3);
			p = at_sign;
		}
	}
	/* password=... as a URL parameter or a keyword of a key=value
	 * string, up to the next & or blank */
	while (*p != '\0') {
		const char *k = strstr(p, "password=");

		if (k == NULL || (k > path && k[-1] != '?' && k[-1] != '&' &&
				  k[-1] != ' ' && k[-1] != '\t')) {
			if (k == NULL) {
				shown_put(buf, size, &at, p, strlen(p));
				break;
			}
			/* "xpassword=": not the keyword */
			shown_put(buf, size, &at, p, (size_t)(k + 9 - p));
			p = k + 9;
			continue;
		}
		shown_put(buf, size, &at, p, (size_t)(k + 9 - p));
		shown_put(buf, size, &at, "***", 3);
		p = k + 9 + strcspn(k + 9, "& \t");
	}
	return buf;
}

enum store_error
store_pg_open(struct store *s, const char *url, const char **error_r)
{
	struct pg_conn *c = xcalloc(1, sizeof(*c));
	enum store_error e;

	s->drv = &store_driver_pg;
	s->conn = c;
	c->pool = pg_pool_of(url);
	if (!pg_acquire(s)) {
		*error_r = "every PostgreSQL connection of the pool is in use";
		return STORE_BUSY;
	}
	if (PQstatus(c->pc) != CONNECTION_OK) {
		char shown[STORE_SHOWN_MAX];

		log_error("store: cannot connect to the database %s: %s",
			  store_path_shown(url, shown, sizeof(shown)),
			  PQerrorMessage(c->pc));
		*error_r = "cannot connect to the PostgreSQL database";
		/* a connection that never was: the next try makes a new one */
		PQfinish(c->pc);
		c->slot->pc = NULL;
		c->pc = NULL;
		pthread_mutex_lock(&c->pool->mu);
		c->slot->taken = false;
		pthread_cond_signal(&c->pool->cond);
		pthread_mutex_unlock(&c->pool->mu);
		c->slot = NULL;
		return STORE_BUSY;
	}
	c->pinned = true;
	e = pg_migrate(s, error_r);
	c->pinned = false;
	pg_release(s);
	return e;
}
