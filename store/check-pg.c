/* easctl check on PostgreSQL: the store's own invariants, in SQL, where
 * SQLite's check is PRAGMA integrity_check and foreign_key_check.
 * PostgreSQL enforces the foreign keys itself and checks its pages with
 * its own tools (pg_amcheck, data checksums): what is left to look at is
 * what the schema does not say and the store relies on, such as the
 * owner of an item being the owner of its folder, a device's marks
 * belonging to a sync state that is there, no modification
 * sequence ahead of its account's, the search indexes following their
 * rows, and id sequences ahead of the ids a migration copied. Each check
 * is one read in one snapshot. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"

struct pg_check {
	const char *what;
	/* count(*) and the smallest id of the rows that break it */
	const char *sql;
};

static const struct pg_check pg_checks[] = {
	{"items in a folder of another account",
	 "SELECT count(*), min(i.id) FROM items i JOIN folders f ON "
	 "f.id = i.folder_id WHERE f.account_id <> i.account_id"},
	{"items whose modseq is ahead of their account's",
	 "SELECT count(*), min(i.id) FROM items i JOIN accounts a ON "
	 "a.id = i.account_id WHERE i.modseq > a.modseq"},
	{"folders whose modseq is ahead of their account's",
	 "SELECT count(*), min(f.id) FROM folders f JOIN accounts a ON "
	 "a.id = f.account_id WHERE f.modseq > a.modseq"},
	{"live folders whose parent is missing or of another account",
	 "SELECT count(*), min(f.id) FROM folders f WHERE f.deleted = 0 AND "
	 "f.parent_id <> 0 AND NOT EXISTS (SELECT 1 FROM folders p WHERE "
	 "p.id = f.parent_id AND p.account_id = f.account_id)"},
	{"folders whose ServerId is taken twice among the live ones",
	 "SELECT count(*), min(id) FROM (SELECT min(id) AS id FROM folders "
	 "WHERE deleted = 0 GROUP BY account_id, server_id HAVING "
	 "count(*) > 1) AS d"},
	/* a trigger keeps these since schema 5, not a foreign key */
	{"sync marks of sync states that are gone",
	 "SELECT count(*), min(d.state_id) FROM device_items d WHERE NOT "
	 "EXISTS (SELECT 1 FROM sync_states s WHERE s.id = d.state_id)"},
	{"mail index rows of messages that are gone",
	 "SELECT count(*), min(d.item_id) FROM search_docs d WHERE NOT EXISTS "
	 "(SELECT 1 FROM items i WHERE i.id = d.item_id AND i.cls = 1 AND "
	 "i.deleted = 0)"},
	{"mail index rows with another account or folder than their message",
	 "SELECT count(*), min(d.item_id) FROM search_docs d JOIN items i ON "
	 "i.id = d.item_id WHERE d.account_id <> i.account_id OR "
	 "d.folder_id <> i.folder_id"},
	{"queued messages that are gone (the indexer skips them)",
	 "SELECT count(*), min(p.item_id) FROM search_pending p WHERE NOT "
	 "EXISTS (SELECT 1 FROM items i WHERE i.id = p.item_id AND i.cls = 1 "
	 "AND i.deleted = 0)"},
	{"accounts missing from the address list's index",
	 "SELECT count(*), min(a.id) FROM accounts a WHERE NOT EXISTS "
	 "(SELECT 1 FROM gal_docs g WHERE g.id = a.id)"},
	{"published contacts missing from the address list's index",
	 "SELECT count(*), min(e.id) FROM gal_entries e WHERE NOT EXISTS "
	 "(SELECT 1 FROM gal_docs g WHERE g.id = -e.id)"},
	{"address list index rows of accounts or contacts that are gone",
	 "SELECT count(*), min(g.id) FROM gal_docs g WHERE (g.id > 0 AND NOT "
	 "EXISTS (SELECT 1 FROM accounts a WHERE a.id = g.id)) OR (g.id < 0 "
	 "AND NOT EXISTS (SELECT 1 FROM gal_entries e WHERE e.id = -g.id))"},
	{"invalid indexes (a CREATE INDEX that did not finish)",
	 "SELECT count(*), min(x.indexrelid::int8) FROM pg_index x JOIN "
	 "pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON "
	 "n.oid = c.relnamespace WHERE n.nspname = current_schema() AND "
	 "NOT x.indisvalid"},
};

/* Tables whose ids PostgreSQL numbers (identity columns): the next id
 * must be past the largest there, or the next insert fails. */
static const char *const pg_identity_tables[] = {
	"accounts",	  "devices",	 "device_events", "folders",
	"items",	  "sync_states", "submissions",	  "outbound_messages",
	"outbound_rcpts", "gal_entries", "shares",	  "share_folders",
};

/* Run one statement of count(*), min(id) (literal SQL of our own) and
 * add a message when the count is not 0. */
static enum store_error
pg_check_one(struct store *s, struct arena *a, const char *what,
	     const char *sql, const char **msgs, size_t *n, size_t max)
{
	struct store_stmt *st = store_pg_prepare_once(s, sql);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK && store_col_int64(st, 0) > 0 && *n < max)
		msgs[(*n)++] =
			arena_printf(a, "%s: %lld (the first: %lld)", what,
				     (long long)store_col_int64(st, 0),
				     (long long)store_col_int64(st, 1));
	st->drv->finalize(st);
	return e;
}

/* The table's id sequence against its largest id. */
static enum store_error
pg_check_sequence(struct store *s, struct arena *a, const char *table,
		  const char **msgs, size_t *n, size_t max)
{
	const char *sql = arena_printf(
		a, "SELECT pg_get_serial_sequence('%s', 'id')", table);
	struct store_stmt *st = store_pg_prepare_once(s, sql);
	enum store_error e = store_row(s, st);
	const char *seq = NULL;

	if (e == STORE_OK)
		seq = store_col_text(a, st, 0);
	st->drv->finalize(st);
	if (e != STORE_OK || seq == NULL)
		return e == STORE_NOTFOUND ? STORE_OK : e;
	/* the name is the catalogue's, quoted where it needs to be */
	sql = arena_printf(a,
			   "SELECT count(*), min(t.id) FROM %s t WHERE t.id >= "
			   "(SELECT CASE WHEN is_called THEN last_value + 1 "
			   "ELSE last_value END FROM %s)",
			   table, seq);
	return pg_check_one(
		s, a,
		arena_printf(a,
			     "%s: ids at or past the next one its sequence "
			     "hands out",
			     table),
		sql, msgs, n, max);
}

enum store_error
store_pg_check(struct store *s, struct arena *a, size_t max,
	       const char ***msgs_r, size_t *n_r)
{
	const char **msgs = arena_alloc(a, (max + 1) * sizeof(*msgs));
	enum store_error e;
	size_t n = 0;
	bool own;

	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		return e;
	for (size_t i = 0; i < N_ELEMENTS(pg_checks) && e == STORE_OK; i++)
		e = pg_check_one(s, a, pg_checks[i].what, pg_checks[i].sql,
				 msgs, &n, max);
	for (size_t i = 0; i < N_ELEMENTS(pg_identity_tables) && e == STORE_OK;
	     i++)
		e = pg_check_sequence(s, a, pg_identity_tables[i], msgs, &n,
				      max);
	store_rend(s, own);
	if (e != STORE_OK)
		return e;
	msgs[n] = NULL;
	*msgs_r = msgs;
	*n_r = n;
	return STORE_OK;
}
