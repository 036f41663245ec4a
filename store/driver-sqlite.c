/* The SQLite driver: statements, parameters, rows and errors of one
 * SQLite connection behind struct store_driver. The store's logic above it
 * is the same for every backend. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-sqlite.h"
#include "xalloc.h"

enum store_error
store_err(struct store *s, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_EXISTS;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return STORE_NOTFOUND;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		store_error_counted();
		log_error("store: %s: %s", what, sqlite3_errstr(rc));
		return STORE_CORRUPT;
	default:
		break;
	}
	store_error_counted();
	log_error("store: %s: %s (%s)", what, sqlite3_errstr(rc),
		  s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : "");
	return STORE_INTERNAL;
}

static struct store_stmt *
lite_prepare(struct store *s, const char *sql)
{
	struct store_lite_stmt *l;
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
				NULL);
	if (rc != SQLITE_OK) {
		log_error("store: prepare failed: %s: %.80s",
			  sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->base.drv = &store_driver_sqlite;
	l->base.sql = sql;
	l->st = st;
	return &l->base;
}

static void
lite_finalize(struct store_stmt *st)
{
	sqlite3_finalize(store_lite_stmt(st));
	free(st);
}

static void
lite_bind_int64(struct store_stmt *st, int n, int64_t v)
{
	sqlite3_bind_int64(store_lite_stmt(st), n, v);
}

static void
lite_bind_text(struct store_stmt *st, int n, const char *t, bool copy)
{
	sqlite3_bind_text(store_lite_stmt(st), n, t, -1,
			  copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

static void
lite_bind_blob(struct store_stmt *st, int n, const void *p, size_t len)
{
	if (p != NULL && len == 0)
		sqlite3_bind_zeroblob(store_lite_stmt(st), n, 0);
	else if (p != NULL)
		sqlite3_bind_blob(store_lite_stmt(st), n, p, (int)len,
				  SQLITE_STATIC);
	else
		sqlite3_bind_null(store_lite_stmt(st), n);
}

static enum store_error
lite_step(struct store *s, struct store_stmt *st, bool *row_r)
{
	sqlite3_stmt *l = store_lite_stmt(st);
	int rc = sqlite3_step(l);
	enum store_error e;

	*row_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return STORE_OK;
	e = store_err(s, rc, st->sql);
	sqlite3_reset(l);
	return e;
}

static void
lite_reset(struct store_stmt *st)
{
	sqlite3_reset(store_lite_stmt(st));
}

static int64_t
lite_col_int64(struct store_stmt *st, int col)
{
	return sqlite3_column_int64(store_lite_stmt(st), col);
}

static const char *
lite_col_text(struct store_stmt *st, int col, size_t *len_r)
{
	sqlite3_stmt *l = store_lite_stmt(st);
	const char *t = (const char *)sqlite3_column_text(l, col);

	*len_r = t != NULL ? (size_t)sqlite3_column_bytes(l, col) : 0;
	return t;
}

static const void *
lite_col_blob(struct store_stmt *st, int col, size_t *len_r, bool *null_r)
{
	sqlite3_stmt *l = store_lite_stmt(st);
	const void *p;

	*null_r = sqlite3_column_type(l, col) == SQLITE_NULL;
	if (*null_r) {
		*len_r = 0;
		return NULL;
	}
	p = sqlite3_column_blob(l, col);
	*len_r = (size_t)sqlite3_column_bytes(l, col);
	return p;
}

static enum store_error
lite_insert(struct store *s, struct store_stmt *st, int64_t *id_r)
{
	bool row;
	enum store_error e = lite_step(s, st, &row);

	if (e == STORE_OK)
		*id_r = sqlite3_last_insert_rowid(s->db);
	return e;
}

static int64_t
lite_changes(struct store *s)
{
	return sqlite3_changes64(s->db);
}

static enum store_error
lite_exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? STORE_OK : store_err(s, rc, sql);
}

static bool
lite_in_txn(struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

static void
lite_close(struct store *s)
{
	if (s->db == NULL)
		return;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(s->db);
	s->db = NULL;
}

const struct store_driver store_driver_sqlite = {
	.name = "sqlite",
	.prepare = lite_prepare,
	.finalize = lite_finalize,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.step = lite_step,
	.reset = lite_reset,
	.col_int64 = lite_col_int64,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.insert = lite_insert,
	.changes = lite_changes,
	.exec = lite_exec,
	.in_txn = lite_in_txn,
	.close = lite_close,
	/* IMMEDIATE: take the write lock at BEGIN, so that a transaction
	 * never has to give up half-way when another connection writes. */
	.begin_write = "BEGIN IMMEDIATE",
	.begin_read = "BEGIN",
};

/* --- waiting for a lock --- */

/* How long a statement waits for another connection's write lock. */
#define STORE_BUSY_TIMEOUT_US (5 * 1000 * 1000L)
#define STORE_BUSY_SLEEP_MIN_US 50
#define STORE_BUSY_SLEEP_MAX_US 2000

/* SQLite's own busy handler sleeps 1, 2, 5, 10, 15 ms and on: a writer
 * that waits for a short transaction of another thread (a delivery, a
 * batch of the search indexer: a few milliseconds) oversleeps it many
 * times over while the lock sits free. Short sleeps instead, doubling
 * every second try up to 2 ms, for the same 5 s in all. */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
busy_wait(void *arg, int count)
{
	struct store *s = arg;
	long us = STORE_BUSY_SLEEP_MIN_US << (count / 2 < 6 ? count / 2 : 6);
	struct timespec ts;

	if (count == 0)
		s->busy_since_us = mono_us();
	else if (mono_us() - s->busy_since_us >= STORE_BUSY_TIMEOUT_US)
		return 0; /* SQLITE_BUSY to the caller */
	if (us > STORE_BUSY_SLEEP_MAX_US)
		us = STORE_BUSY_SLEEP_MAX_US;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

enum store_error
store_lite_open(struct store *s, const char *path, const char **error_r)
{
	enum store_error e;
	int rc;

	s->drv = &store_driver_sqlite;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		*error_r = "cannot open the database file";
		return store_err(s, rc, path);
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, busy_wait, s);
	/* WAL: readers never block the writer; NORMAL sync is safe against
	 * process crashes and loses at most the last commits on power loss. */
	e = lite_exec(s, "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = NORMAL;"
			 "PRAGMA foreign_keys = ON;");
	if (e != STORE_OK)
		*error_r = e == STORE_CORRUPT ? "not a database file"
					      : "cannot set up the database";
	return e;
}
