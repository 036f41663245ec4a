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
	bool in_txn;	  /* store_begin() by the caller */
	bool in_snapshot; /* store_snapshot_begin() by the caller */
	int inject_busy;  /* statements left to fail with BUSY */
	/* what the open transaction changed, published after its commit */
	struct store_change *changes;
	size_t changes_count, changes_cap;
	char *notify_key;  /* the database path, canonical */
	char *notify_sock; /* where other processes are told (notify.c) */
	int notify_fd;	   /* datagram socket to it, -1 until needed */
	struct store_stmt_slot stmts[STORE_STMT_SLOTS];
};

/* The cached prepared statement for sql (a static string), or NULL after
 * logging when it does not prepare. The caller resets it after use. */
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
/* sqlite3_step honouring store_inject_busy. */
int store_step(struct store *s, sqlite3_stmt *st);
/* Run a statement that returns no rows and reset it. */
enum store_error store_run(struct store *s, sqlite3_stmt *st);
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

#endif
