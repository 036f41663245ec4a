/* Private to store/: the connection struct, the statement cache and the
 * helpers every store file shares. Only store/ includes this header (and
 * with it sqlite3.h). */
#ifndef EASD_STORE_INT_H
#define EASD_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* Statements are cached per connection keyed by the address of their
 * static SQL text: each call site owns one `static const char sql[]`. */
#define STORE_STMT_SLOTS 256

struct store_stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
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
	struct store_stmt_slot stmts[STORE_STMT_SLOTS];
};

/* The cached prepared statement for sql (a static string), or NULL after
 * logging when it does not prepare. The caller resets it after use. */
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
/* sqlite3_step honouring store_inject_busy. */
int store_step(struct store *s, sqlite3_stmt *st);
/* Run a statement that returns no rows and reset it. st NULL (it did not
 * prepare) is STORE_INTERNAL. */
enum store_error store_run(struct store *s, sqlite3_stmt *st);

/* --- statement plumbing ---
 *
 * A store function is its SQL, its arguments and the mapping of columns to
 * its structs:
 *
 *	st = store_query(s, sql, "It", account_id, name);
 *	e = store_row(s, st);
 *	if (e == STORE_OK)
 *		r->id = sqlite3_column_int64(st, 0);
 *	store_done(st);
 *
 * store_query binds one argument per format letter, the n-th letter to ?n.
 * The letters (the C types must match exactly: this is varargs and no
 * compiler checks it; cast when in doubt):
 *	i  int (bool and enums promote or are cast to it)  sqlite3_bind_int
 *	I  int64_t                                           sqlite3_bind_int64
 *	t  const char *, NULL binds NULL; not copied         SQLITE_STATIC
 *	T  const char *, copied (a buffer that dies first)   SQLITE_TRANSIENT
 *	b  const void *, size_t: a blob; NULL binds NULL     SQLITE_STATIC
 *	z  const void *, size_t: a blob; NULL binds an empty blob, for NOT
 *	   NULL columns                                      zeroblob(0)
 * Any other letter is a bug (eas_panic). Parameters without a letter keep
 * their previous binding, so every use of one SQL text binds the same set.
 *
 * A statement from store_query is finished by exactly one of store_run /
 * store_execute (no rows), or read with store_row / store_next and then
 * handed to store_done. All of them take st == NULL (it did not prepare,
 * already logged) as STORE_INTERNAL, step through store_step (so busy
 * injection counts every statement as before) and map SQLite errors with
 * store_err. The helpers allocate nothing (SQLite copies 'T' text). */

/* The cached statement for sql with the arguments bound, or NULL. */
sqlite3_stmt *store_query(struct store *s, const char *sql, const char *fmt,
			  ...);
/* store_query and store_run in one. */
enum store_error store_execute(struct store *s, const char *sql,
			       const char *fmt, ...);
/* Step to the first row: STORE_OK with the row to read, STORE_NOTFOUND
 * when there is none, or the error. Then store_done(st), in every case. */
enum store_error store_row(struct store *s, sqlite3_stmt *st);
/* Row iterator: true with the next row to read; false at the end, with
 * *e_r STORE_OK, or the error. *e_r is left alone while rows come, so a
 * loop left early keeps its initial value. Then store_done(st).
 *
 *	while (store_next(s, st, &e))
 *		...;
 *	store_done(st); */
bool store_next(struct store *s, sqlite3_stmt *st, enum store_error *e_r);
/* Reset the statement (releasing its read lock); NULL is a no-op. */
static inline void
store_done(sqlite3_stmt *st)
{
	if (st != NULL)
		sqlite3_reset(st);
}
/* Column 0 of the first row into *r (left alone otherwise): STORE_OK,
 * STORE_NOTFOUND without a row, or the error. */
enum store_error store_fetch_int64(struct store *s, int64_t *r, const char *sql,
				   const char *fmt, ...);
/* Rows the last INSERT, UPDATE or DELETE changed. */
static inline int64_t
store_changes(struct store *s)
{
	return sqlite3_changes64(s->db);
}
/* Map an SQLite result code to a store error, logging unexpected ones. */
enum store_error store_err(struct store *s, int rc, const char *what);
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

/* Column copies into the arena; NULL stays NULL. Blobs come back NUL
 * terminated so text formats can be used as strings. */
const char *store_col_text(struct arena *a, sqlite3_stmt *st, int col);
const uint8_t *store_col_blob(struct arena *a, sqlite3_stmt *st, int col,
			      size_t *len_r);

/* items: the columns every item query selects, in this order, from
 * "items i"; store_item_row reads them. */
#define STORE_ITEM_COLS                                                        \
	"i.id, i.account_id, i.folder_id, i.cls, i.data, i.extra, i.date, "    \
	"i.date_end, i.read, i.flag_status, i.complete, i.size, "              \
	"i.subject, i.message_id, i.uid, i.modseq, i.origin_device, "          \
	"i.deleted"
#define STORE_ITEM_NCOLS 18
void store_item_row(struct arena *a, sqlite3_stmt *st, const char *folder_sid,
		    bool with_data, struct store_item *r);

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
/* A set of ids (ascending) that SQL tests with search_in(?N, id): bound
 * with store_bind_id_set, by pointer (the set outlives the statement's
 * steps; bind NULL after, so no cached statement keeps it). */
struct store_id_set {
	int64_t *ids;
	size_t n;
};
void store_bind_id_set(sqlite3_stmt *st, int idx,
		       const struct store_id_set *set);

#endif
