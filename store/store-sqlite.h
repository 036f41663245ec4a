/* Private to the SQLite parts of store/: the driver (driver-sqlite.c), the
 * schema and migrations (store.c), FTS5 search (search.c) and backup
 * (backup.c). Everything else in store/ speaks store-int.h only. */
#ifndef EASD_STORE_SQLITE_H
#define EASD_STORE_SQLITE_H

#include <sqlite3.h>

#include "store-int.h"

struct store_lite_stmt {
	struct store_stmt base;
	sqlite3_stmt *st;
};

/* The SQLite statement of a cached statement of the SQLite driver. */
static inline sqlite3_stmt *
store_lite_stmt(struct store_stmt *st)
{
	return ((struct store_lite_stmt *)st)->st;
}

/* Map an SQLite result code to a store error, logging unexpected ones. */
enum store_error store_err(struct store *s, int rc, const char *what);
/* Open (creating) the database file into s->db and set it up: WAL, the
 * busy handler, foreign keys. */
enum store_error store_lite_open(struct store *s, const char *path,
				 const char **error_r);

/* search.c: bind a struct store_id_set for search_in(?N, id). */
void store_bind_id_set(sqlite3_stmt *st, int idx,
		       const struct store_id_set *set);

#endif
