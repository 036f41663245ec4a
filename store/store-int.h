/* Private to store/: the connection struct, the statement cache and the
 * helpers every store file shares. Only store/ includes this header. It
 * names no database library: the store's logic (modseq, tombstones, sync
 * states, the repeated-key guarantee) is written once against the
 * statement handle below, and a driver (driver-sqlite.c) runs it. What is
 * SQLite's own (the schema and migrations in store.c, FTS5 search, backup)
 * includes store-sqlite.h instead. */
#ifndef EASD_STORE_INT_H
#define EASD_STORE_INT_H

#include "store.h"

/* sqlite3.h names its connection `struct sqlite3`; only the SQLite files
 * look inside. */
struct sqlite3;

/* A prepared statement of some driver. Drivers embed it first in their
 * own statement struct. */
struct store_stmt {
	const struct store_driver *drv;
	const char *sql; /* the text it was prepared from */
};

/* What differs between backends: preparing, binding, stepping, reading
 * columns and the few statements whose text differs. Every function
 * receives statements of its own driver only. Errors are mapped to
 * enum store_error (and logged when unexpected) inside the driver. */
struct store_driver {
	const char *name;
	/* Prepare sql (static text, kept by address); NULL after logging. */
	struct store_stmt *(*prepare)(struct store *s, const char *sql);
	void (*finalize)(struct store_stmt *st);
	/* Parameter n (from 1). Text and blobs are not copied unless copy;
	 * t or p NULL binds NULL; p non-NULL with len 0 an empty blob. */
	void (*bind_int64)(struct store_stmt *st, int n, int64_t v);
	void (*bind_text)(struct store_stmt *st, int n, const char *t,
			  bool copy);
	void (*bind_blob)(struct store_stmt *st, int n, const void *p,
			  size_t len);
	/* Run to the next row: STORE_OK with *row_r true for a row, false at
	 * the end; or the error (the statement is then reset). */
	enum store_error (*step)(struct store *s, struct store_stmt *st,
				 bool *row_r);
	void (*reset)(struct store_stmt *st);
	/* Columns of the current row, from 0. NULL reads as 0 and NULL;
	 * pointers stay valid until the next step or reset. */
	int64_t (*col_int64)(struct store_stmt *st, int col);
	const char *(*col_text)(struct store_stmt *st, int col, size_t *len_r);
	const void *(*col_blob)(struct store_stmt *st, int col, size_t *len_r,
				bool *null_r);
	/* Run an INSERT of one row (bound, not yet stepped) and give the
	 * new row's id. */
	enum store_error (*insert)(struct store *s, struct store_stmt *st,
				   int64_t *id_r);
	/* Rows the last INSERT, UPDATE or DELETE changed. */
	int64_t (*changes)(struct store *s);
	/* Literal SQL, maybe several statements, no rows. */
	enum store_error (*exec)(struct store *s, const char *sql);
	/* Inside a transaction: start a statement without rows (bound) and
	 * return without its answer, which the next statement of the
	 * transaction waits for first and answers with if it failed. NULL
	 * where a statement costs no round trip. */
	enum store_error (*send)(struct store *s, struct store_stmt *st);
	/* Whether the connection is inside a transaction. */
	bool (*in_txn)(struct store *s);
	void (*close)(struct store *s);
	/* The BEGIN of a write transaction, and of a read snapshot. */
	const char *begin_write;
	const char *begin_read;
};

extern const struct store_driver store_driver_sqlite;
extern const struct store_driver store_driver_pg;

/* driver-pg.c: connecting to a PostgreSQL URL (migrating the schema). */
enum store_error store_pg_open(struct store *s, const char *url,
			       const char **error_r);
/* driver-pg.c: a statement for one query (SQL built per query, as a
 * search's): sent with its parameters at each step, never kept prepared
 * on the server. The caller finalizes it. */
struct store_stmt *store_pg_prepare_once(struct store *s, const char *sql);
/* notify-pg.c: a thread LISTENing on channel "easd" of the database at
 * url, handing every payload to deliver (on that thread); payload NULL
 * after a reconnection: what committed meanwhile was not heard. */
typedef void store_pg_deliver_fn(void *ctx, const char *payload);
struct store_pg_listener;
struct store_pg_listener *store_pg_listen(const char *url,
					  store_pg_deliver_fn *deliver,
					  void *ctx, const char **error_r);
void store_pg_unlisten(struct store_pg_listener **lp);
/* Whether the listener may not have heard a commit that came before this
 * call: after a round trip on its connection (the caller's own Sync;
 * concurrent callers take turns reading the answers) false, unless the
 * connection is down or slow. */
bool store_pg_listener_behind(struct store_pg_listener *l);
/* notify.c: what the open transaction changed, to the other processes
 * before COMMIT where the backend carries it in the transaction
 * (PostgreSQL's NOTIFY); STORE_OK at once on SQLite. */
enum store_error store_notify_before_commit(struct store *s);
/* sync.c: write the marks store_sync_mark deferred (before any other
 * statement of the transaction, and before COMMIT); drop them (rollback). */
enum store_error store_sync_flush(struct store *s);
void store_sync_drop(struct store *s);
/* Whether s is on SQLite: what only SQLite has (store_backup's online
 * copy; PostgreSQL's is pg_dump) answers STORE_INVALID elsewhere,
 * logged. */
bool store_sqlite_only(struct store *s, const char *what);

/* Statements are cached per connection keyed by the address of their
 * static SQL text: each call site owns one `static const char sql[]`. */
#define STORE_STMT_SLOTS 256

struct store_stmt_slot {
	const char *sql;
	struct store_stmt *st;
};

struct store {
	const struct store_driver *drv;
	struct sqlite3 *db; /* the SQLite driver's connection */
	void *conn;	    /* another driver's connection */
	bool in_txn;	    /* store_begin() by the caller */
	bool in_snapshot;   /* store_snapshot_begin() by the caller */
	bool snapshot_open; /* ... and its BEGIN ran (at the first read) */
	int inject_busy;    /* statements left to fail with BUSY */
	int schema;	    /* the version it was opened at (testing aids open
			       older ones) */
	/* what the open transaction changed, published after its commit */
	struct store_change *changes;
	size_t changes_count, changes_cap;
	char *notify_key;  /* the database path, canonical */
	char *notify_sock; /* where other processes are told (notify.c) */
	int notify_fd;	   /* datagram socket to it, -1 until needed */
	/* when the current wait for another connection's lock began */
	int64_t busy_since_us;
	/* store_sync_mark's rows not yet written (sync.c): on a backend
	 * where each statement is a round trip, the marks of one
	 * transaction go in one statement before its next one */
	struct store_sync_pending_mark *marks;
	size_t marks_count, marks_cap;
	int64_t marks_state;
	/* an error of that deferred statement, answered by the next step */
	enum store_error deferred;
	/* the transaction was given up in a deadlock or a serialization
	 * conflict (set by the driver, cleared at each BEGIN): store_txn
	 * runs it again */
	bool retryable;
	struct store_stmt_slot stmts[STORE_STMT_SLOTS];
};

/* The cached prepared statement for sql (a static string), or NULL after
 * logging when it does not prepare. The caller resets it after use. */
struct store_stmt *store_stmt(struct store *s, const char *sql);
/* The driver's step honouring store_inject_busy. */
enum store_error store_step(struct store *s, struct store_stmt *st,
			    bool *row_r);
/* Run a statement that returns no rows and reset it. st NULL (it did not
 * prepare) is STORE_INTERNAL. */
enum store_error store_run(struct store *s, struct store_stmt *st);

/* --- statement plumbing ---
 *
 * A store function is its SQL, its arguments and the mapping of columns to
 * its structs:
 *
 *	st = store_query(s, sql, "It", account_id, name);
 *	e = store_row(s, st);
 *	if (e == STORE_OK)
 *		r->id = store_col_int64(st, 0);
 *	store_done(st);
 *
 * store_query binds one argument per format letter, the n-th letter to ?n.
 * The letters (the C types must match exactly: this is varargs and no
 * compiler checks it; cast when in doubt):
 *	i  int (bool and enums promote or are cast to it)
 *	I  int64_t
 *	t  const char *, NULL binds NULL; not copied
 *	T  const char *, copied (a buffer that dies first)
 *	b  const void *, size_t: a blob; NULL binds NULL; not copied
 *	z  const void *, size_t: a blob; NULL binds an empty blob, for NOT
 *	   NULL columns
 * Any other letter is a bug (eas_panic). Parameters without a letter keep
 * their previous binding, so every use of one SQL text binds the same set.
 *
 * A statement from store_query is finished by exactly one of store_run /
 * store_execute (no rows), or read with store_row / store_next and then
 * handed to store_done. All of them take st == NULL (it did not prepare,
 * already logged) as STORE_INTERNAL, step through store_step (so busy
 * injection counts every statement as before) and map errors in
 * the driver. The helpers allocate nothing (the driver copies 'T' text).
 *
 * SQL text is written once for every backend: ?N placeholders (a driver
 * rewrites them), INSERT ... ON CONFLICT, RETURNING for a new row's id
 * (not a "last insert id"), integers for booleans. A statement that
 * cannot be portable picks its text with STORE_SQL. */

/* The cached statement for sql with the arguments bound, or NULL. */
struct store_stmt *store_query(struct store *s, const char *sql,
			       const char *fmt, ...);
/* store_query and store_run in one. */
enum store_error store_execute(struct store *s, const char *sql,
			       const char *fmt, ...);
/* store_execute of a statement whose answer nobody waits for: inside a
 * transaction on a driver that sends (PostgreSQL), it goes to the server
 * and the caller goes on, and its error is the next statement's (the
 * COMMIT's at the latest); elsewhere it runs. */
enum store_error store_send(struct store *s, const char *sql, const char *fmt,
			    ...);
/* Step to the first row: STORE_OK with the row to read, STORE_NOTFOUND
 * when there is none, or the error. Then store_done(st), in every case. */
enum store_error store_row(struct store *s, struct store_stmt *st);
/* Row iterator: true with the next row to read; false at the end, with
 * *e_r STORE_OK, or the error. *e_r is left alone while rows come, so a
 * loop left early keeps its initial value. Then store_done(st).
 *
 *	while (store_next(s, st, &e))
 *		...;
 *	store_done(st); */
bool store_next(struct store *s, struct store_stmt *st, enum store_error *e_r);
/* Reset the statement (releasing its read lock); NULL is a no-op. */
static inline void
store_done(struct store_stmt *st)
{
	if (st != NULL)
		st->drv->reset(st);
}
/* An INSERT of one row into a table with an id column, and the new id into
 * *id_r. Its SQL has no RETURNING: SQLite reads the last rowid (RETURNING
 * costs it a temporary table per row, a quarter more per insert); a
 * driver without one appends "RETURNING id" when it prepares the
 * statement. */
enum store_error store_insert(struct store *s, int64_t *id_r, const char *sql,
			      const char *fmt, ...);
/* Step past the rest of the rows: a statement with RETURNING runs to its
 * end before it is reset. */
static inline void
store_rest(struct store *s, struct store_stmt *st)
{
	bool row = true;

	while (row && st->drv->step(s, st, &row) == STORE_OK)
		;
}
/* Column 0 of the first row into *r (left alone otherwise): STORE_OK,
 * STORE_NOTFOUND without a row, or the error. */
enum store_error store_fetch_int64(struct store *s, int64_t *r, const char *sql,
				   const char *fmt, ...);
/* Rows the last INSERT, UPDATE or DELETE changed. */
static inline int64_t
store_changes(struct store *s)
{
	return s->drv->changes(s);
}
/* Count an error that was neither an answer nor contention (/metrics). */
void store_error_counted(void);
/* Execute literal SQL (BEGIN, COMMIT, schema) honouring busy injection. */
enum store_error store_exec(struct store *s, const char *sql);

/* Write functions: open a transaction of their own unless the caller has
 * one (own_r says which), and close it with the function's result. */
enum store_error store_wbegin(struct store *s, bool *own_r);
enum store_error store_wend(struct store *s, bool own, enum store_error e);
/* Read functions that run several statements: a read snapshot. */
enum store_error store_rbegin(struct store *s, bool *own_r);
void store_rend(struct store *s, bool own);

/* Record a change of the open transaction, published after its commit
 * (notify.c). store_touch_device looks up the device's account. */
void store_touch(struct store *s, enum store_change_what what,
		 int64_t account_id, int64_t id);
enum store_error store_touch_device(struct store *s, int64_t device_row);
/* Hand the committed changes to subscribers and other processes. */
void store_publish(struct store *s, const struct store_change *c, size_t n);
/* The notification fields of a new connection, and their release (with
 * the recorded changes). */
void store_notify_init(struct store *s, const char *db_path);
void store_notify_deinit(struct store *s);
/* Take the account's next modification sequence. */
enum store_error store_next_modseq(struct store *s, int64_t account_id,
				   int64_t *modseq_r);

/* share.c: the one resolution of a shared folder and of the rights on
 * it. A ServerId "s..." or a folder row of another account as grantee_id
 * sees it (STORE_NOTFOUND when it does not). The _access functions check
 * that *account_id may use the folder / item with at least right need and
 * then set *account_id to its owner (unchanged for the account's own):
 * STORE_NOTFOUND when it may not see it, STORE_DENIED when it may only
 * read it. */
enum store_error store_share_folder_get(struct store *s, struct arena *a,
					int64_t grantee_id,
					const char *server_id,
					struct store_folder *r);
enum store_error store_share_folder_get_by_id(struct store *s, struct arena *a,
					      int64_t grantee_id,
					      int64_t folder_id,
					      struct store_folder *r);
enum store_error store_share_folder_access(struct store *s, int64_t *account_id,
					   int64_t folder_id, int need);
/* The same for a folder row already read: owner_id is its account (the
 * right is account_id's own when they are equal); *account_r becomes the
 * owner on success. */
enum store_error store_share_right(struct store *s, int64_t account_id,
				   int64_t owner_id, int64_t folder_id,
				   int need, int64_t *account_r);
enum store_error store_share_item_access(struct store *s, int64_t *account_id,
					 int64_t item_id, int need);
/* The grantee's shared folders changed after since, appended to *list. */
enum store_error store_share_folder_changes(struct store *s, struct arena *a,
					    int64_t grantee_id, int64_t since,
					    struct store_folder_change **list,
					    size_t *count, size_t *cap);
/* Before COMMIT: the changes of shared folders for their grantees, and
 * the grantees' views of an owner whose hierarchy changed. */
enum store_error store_share_before_commit(struct store *s);
/* Before an account is deleted: its grants go, and with them what the
 * grantees see of it. */
enum store_error store_share_account_gone(struct store *s, int64_t account_id);

/* Columns of the current row (from 0), in place: valid until the next
 * step or store_done. NULL reads as 0 and NULL. */
static inline int64_t
store_col_int64(struct store_stmt *st, int col)
{
	return st->drv->col_int64(st, col);
}
static inline int
store_col_int(struct store_stmt *st, int col)
{
	return (int)st->drv->col_int64(st, col);
}
static inline const char *
store_col_str(struct store_stmt *st, int col)
{
	size_t len;

	return st->drv->col_text(st, col, &len);
}
/* Column copies into the arena; NULL stays NULL. Blobs come back NUL
 * terminated so text formats can be used as strings. */
const char *store_col_text(struct arena *a, struct store_stmt *st, int col);
const uint8_t *store_col_blob(struct arena *a, struct store_stmt *st, int col,
			      size_t *len_r);
/* One SQL text per backend where they cannot share one (both static). */
#define STORE_SQL(s, sqlite_sql, pg_sql)                                       \
	((s)->drv == &store_driver_sqlite ? (sqlite_sql) : (pg_sql))

/* items: the columns every item query selects, in this order, from
 * "items i"; store_item_row reads them. */
#define STORE_ITEM_COLS                                                        \
	"i.id, i.account_id, i.folder_id, i.cls, i.data, i.extra, i.date, "    \
	"i.date_end, i.read, i.flag_status, i.complete, i.size, "              \
	"i.subject, i.message_id, i.uid, i.modseq, i.origin_device, "          \
	"i.deleted"
#define STORE_ITEM_NCOLS 18
void store_item_row(struct arena *a, struct store_stmt *st,
		    const char *folder_sid, bool with_data,
		    struct store_item *r);

/* folders: the live folder's ServerId, or NULL when there is none. */
const char *store_folder_sid(struct store *s, struct arena *a,
			     int64_t folder_id);
/* Create a folder without the checks FolderCreate needs (account setup). */
enum store_error store_folder_insert(struct store *s, int64_t account_id,
				     int64_t parent_id, const char *name,
				     int type, bool builtin,
				     int64_t origin_device, int64_t *id_r);

/* search.c: keep the mail index current inside the open transaction.
 * Added: the item (id and cls set) with its text, or queued without.
 * Replaced: the item's data changed (queued to be indexed again). Moved: the
 * index row follows the item to its new id and folder (the old one goes
 * with the tombstone, by trigger). */
enum store_error store_search_added(struct store *s,
				    const struct store_item *item,
				    const struct store_item_text *text);
enum store_error store_search_replaced(struct store *s, int64_t account_id,
				       int64_t item_id,
				       const struct store_item *item);
enum store_error store_search_moved(struct store *s, int64_t old_id,
				    const struct store_item *moved);
/* search.c: the SQL function the mailbox queries call (store_open). */
enum store_error store_search_register(struct store *s);
/* search.c: the words of a user's text for PostgreSQL's search, each
 * segmented as for FTS5 and ended by a newline; the number of words
 * (0: nothing to search for, *words_r NULL) or -1 past the limits, as
 * store_search_fts_query. */
int store_search_words(struct arena *a, const char *text, const char **words_r);
/* search-pg.c: mail search and the address list on PostgreSQL, with its
 * own full-text search (tsvector columns and GIN indexes, schema step
 * 2 -> 3 in driver-pg.c), behind the same functions as FTS5's. The
 * index row of an item: put (or replaced) with its text; moved to the
 * item's new id and folder (STORE_NOTFOUND without one); dropped. */
enum store_error store_search_pg_put(struct store *s, int64_t item_id,
				     int64_t account_id, int64_t folder_id,
				     const struct store_item_text *t);
enum store_error store_search_pg_move(struct store *s, int64_t old_id,
				      const struct store_item *moved);
enum store_error store_search_pg_drop(struct store *s, int64_t item_id);
/* store_search_mail's query on PostgreSQL, cond already checked (and
 * not constantly false). */
enum store_error store_search_pg_mail(struct store *s, struct arena *a,
				      int64_t account_id,
				      const struct store_search_cond *cond,
				      size_t offset, size_t max, bool with_data,
				      struct store_item **items_r,
				      size_t *count_r, int64_t *total_r);
/* check-pg.c: easctl check on PostgreSQL, as store_check_report. */
enum store_error store_pg_check(struct store *s, struct arena *a, size_t max,
				const char ***msgs_r, size_t *n_r);
/* gal.c: one address list row of the columns both backends select (the
 * account's id or 0, the contact's or 0, the names, ..., photo, uid). */
void store_gal_row(struct arena *a, struct store_stmt *st,
		   struct store_gal_entry *r);
/* store_gal_search's query on PostgreSQL, max already capped. */
enum store_error store_gal_pg_search(struct store *s, struct arena *a,
				     const char *query, size_t offset,
				     size_t max, bool with_photo,
				     struct store_gal_entry **list_r,
				     size_t *count_r, int64_t *total_r);
/* A set of ids (ascending) that SQL tests with search_in(?N, id): bound
 * with store_bind_id_set (store-sqlite.h), by pointer (the set outlives
 * the statement's steps; bind NULL after, so no cached statement keeps
 * it). */
struct store_id_set {
	int64_t *ids;
	size_t n;
};

#endif
