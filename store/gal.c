/* The address list: enabled accounts with their administrator-set
 * properties, and published shared contacts, found by word prefix through
 * gal_fts (kept by the triggers of migration 4). Only the columns listed
 * here are ever read: never a password hash, never an item. */
#include <string.h>

#include "log.h"
#include "store-sqlite.h"
#include "util.h"

#define GAL_FIELD_MAX 256
#define GAL_RESULTS_MAX 1000

/* One row of either kind, in the same columns. ?2 = with photo. */
#define GAL_ACCOUNT_COLS                                                       \
	"SELECT a.id, 0, a.display_name, p.first_name, p.last_name, a.email, " \
	"a.login, p.phone, p.mobile, p.home_phone, p.office, p.title, "        \
	"p.company, p.department, CASE WHEN ?2 THEN p.photo END, NULL "
#define GAL_ACCOUNT_PROPS "LEFT JOIN account_props p ON p.account_id = a.id "
#define GAL_ACCOUNT_SELECT GAL_ACCOUNT_COLS "FROM accounts a " GAL_ACCOUNT_PROPS
#define GAL_ENTRY_COLS                                                         \
	"SELECT 0, e.id, e.display_name, e.first_name, e.last_name, e.email, " \
	"e.alias, e.phone, e.mobile, e.home_phone, e.office, e.title, "        \
	"e.company, e.department, CASE WHEN ?2 THEN e.photo END, e.uid "
#define GAL_ENTRY_SELECT GAL_ENTRY_COLS "FROM gal_entries e "
/* The order of a page: by name, then address. */
#define GAL_ORDER "ORDER BY 3 COLLATE NOCASE, 6 COLLATE NOCASE, 1, 2 "

/* The schema with the indexes of names in that order (migration 11). */
#define GAL_WALK_SCHEMA 11
/* Up to this many matches are looked up and sorted; more are found by
 * walking the names in order, testing each for a match, up to the end of
 * the page: a prefix of one letter can match the whole company, and
 * sorting thousands of rows for a page of a few cost more than the
 * GAL's whole budget of a keystroke. */
#define GAL_SORT_MAX 500

void
store_gal_row(struct arena *a, struct store_stmt *st, struct store_gal_entry *r)
{
	memset(r, 0, sizeof(*r));
	r->account_id = store_col_int64(st, 0);
	r->entry_id = store_col_int64(st, 1);
	r->display_name = store_col_text(a, st, 2);
	r->first_name = store_col_text(a, st, 3);
	r->last_name = store_col_text(a, st, 4);
	r->email = store_col_text(a, st, 5);
	r->alias = store_col_text(a, st, 6);
	r->phone = store_col_text(a, st, 7);
	r->mobile = store_col_text(a, st, 8);
	r->home_phone = store_col_text(a, st, 9);
	r->office = store_col_text(a, st, 10);
	r->title = store_col_text(a, st, 11);
	r->company = store_col_text(a, st, 12);
	r->department = store_col_text(a, st, 13);
	r->photo = store_col_blob(a, st, 14, &r->photo_len);
	r->uid = store_col_text(a, st, 15);
}

/* The ids of the matches (ascending) into *set (in a), at most max. */
static enum store_error
gal_matches(struct store *s, struct arena *a, const char *q, int64_t max,
	    struct store_id_set *set)
{
	static const char sql[] = "SELECT rowid FROM gal_fts WHERE gal_fts "
				  "MATCH ?1 ORDER BY rowid";
	struct store_stmt *st = store_query(s, sql, "t", q);
	enum store_error e = STORE_OK;

	set->ids =
		arena_alloc(a, (size_t)(max > 0 ? max : 1) * sizeof(int64_t));
	set->n = 0;
	while ((int64_t)set->n < max && store_next(s, st, &e))
		set->ids[set->n++] = store_col_int64(st, 0);
	store_done(st);
	return e;
}

/* How many match: FTS5's count, less the disabled accounts among them. */
static enum store_error
gal_count(struct store *s, const char *q, int64_t *fts_r, int64_t *total_r)
{
	static const char sql_old[] =
		"SELECT count(*) FROM gal_fts g WHERE gal_fts MATCH ?1 AND "
		"(g.rowid < 0 OR EXISTS (SELECT 1 FROM accounts a WHERE "
		"a.id = g.rowid AND a.enabled = 1))";
	static const char sql_fts[] =
		"SELECT count(*) FROM gal_fts WHERE gal_fts MATCH ?1";
	static const char sql_disabled[] =
		"SELECT count(*) FROM accounts a INDEXED BY accounts_disabled "
		"WHERE a.enabled = 0 AND EXISTS (SELECT 1 FROM gal_fts g "
		"WHERE gal_fts MATCH ?1 AND g.rowid = a.id)";
	int64_t off = 0;
	enum store_error e;

	if (s->schema < GAL_WALK_SCHEMA) {
		e = store_fetch_int64(s, total_r, sql_old, "t", q);
		*fts_r = *total_r;
		return e;
	}
	e = store_fetch_int64(s, fts_r, sql_fts, "t", q);
	if (e == STORE_OK && *fts_r > 0)
		e = store_fetch_int64(s, &off, sql_disabled, "t", q);
	*total_r = *fts_r - off;
	return e;
}

enum store_error
store_gal_search(struct store *s, struct arena *a, const char *query,
		 size_t offset, size_t max, bool with_photo,
		 struct store_gal_entry **list_r, size_t *count_r,
		 int64_t *total_r)
{
	/* A few matches: looked up by id, disabled accounts left out, and
	 * sorted. */
	static const char sql_sort[] =
		"WITH m(id) AS (SELECT rowid FROM gal_fts WHERE gal_fts "
		"MATCH ?1) " GAL_ACCOUNT_SELECT
		"JOIN m ON m.id = a.id WHERE a.enabled = 1 "
		"UNION ALL " GAL_ENTRY_SELECT
		"JOIN m ON m.id = -e.id " GAL_ORDER "LIMIT ?3 OFFSET ?4";
	/* Many: both kinds' names walked in order (merged), each tested
	 * against the set of matches ?5, until the page is full. */
	static const char sql_walk[] = GAL_ACCOUNT_COLS
		"FROM accounts a INDEXED BY "
		"accounts_gal_name " GAL_ACCOUNT_PROPS
		"WHERE a.enabled = 1 AND search_in(?5, a.id) "
		"UNION ALL " GAL_ENTRY_COLS
		"FROM gal_entries e INDEXED BY gal_entries_name "
		"WHERE search_in(?5, -e.id) " GAL_ORDER "LIMIT ?3 OFFSET ?4";
	struct store_gal_entry *list = NULL;
	struct store_id_set set;
	enum store_error e;
	struct store_stmt *st;
	const char *q;
	int64_t fts;
	size_t n = 0;
	bool own, walk;

	*list_r = NULL;
	*count_r = 0;
	*total_r = 0;
	if (max > GAL_RESULTS_MAX)
		max = GAL_RESULTS_MAX;
	/* PostgreSQL splits the query into its own words (search-pg.c) */
	if (s->drv != &store_driver_sqlite)
		return store_gal_pg_search(s, a, query, offset, max, with_photo,
					   list_r, count_r, total_r);
	if (store_search_fts_query(a, query, true, &q) <= 0)
		return STORE_INVALID;
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = gal_count(s, q, &fts, total_r);
	if (e != STORE_OK || max == 0 || offset >= (size_t)*total_r)
		goto out;
	walk = s->schema >= GAL_WALK_SCHEMA && fts > GAL_SORT_MAX;
	if (walk && (e = gal_matches(s, a, q, fts, &set)) != STORE_OK)
		goto out;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, walk ? sql_walk : sql_sort, "tiII", q,
			 with_photo ? 1 : 0, (int64_t)max, (int64_t)offset);
	if (walk && st != NULL)
		store_bind_id_set(store_lite_stmt(st), 5, &set);
	while (n < max && store_next(s, st, &e))
		store_gal_row(a, st, &list[n++]);
	store_done(st);
	if (walk && st != NULL)
		store_bind_id_set(store_lite_stmt(st), 5, NULL);
out:
	store_rend(s, own);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = n;
	return STORE_OK;
}

enum store_error
store_gal_account(struct store *s, struct arena *a, int64_t account_id,
		  bool with_photo, struct store_gal_entry *r)
{
	static const char sql[] =
		GAL_ACCOUNT_SELECT "WHERE a.id = ?1 AND a.enabled = 1";
	struct store_stmt *st =
		store_query(s, sql, "Ii", account_id, with_photo ? 1 : 0);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK)
		store_gal_row(a, st, r);
	store_done(st);
	return e;
}

static bool
value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n > GAL_FIELD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20)
			return false;
	}
	return true;
}

enum store_error
store_account_set_prop(struct store *s, int64_t account_id,
		       enum store_gal_field field, const char *value)
{
	/* One statement per column: the column name is never spliced in. */
	static const char sql_row[] =
		"INSERT INTO account_props (account_id) "
		"SELECT id FROM accounts WHERE id = ?1 ON CONFLICT DO NOTHING";
	static const char *const sql[STORE_GAL_NFIELDS] = {
		"UPDATE account_props SET first_name = ?2 WHERE account_id = "
		"?1",
		"UPDATE account_props SET last_name = ?2 WHERE account_id = ?1",
		"UPDATE account_props SET phone = ?2 WHERE account_id = ?1",
		"UPDATE account_props SET mobile = ?2 WHERE account_id = ?1",
		"UPDATE account_props SET home_phone = ?2 WHERE account_id = "
		"?1",
		"UPDATE account_props SET office = ?2 WHERE account_id = ?1",
		"UPDATE account_props SET title = ?2 WHERE account_id = ?1",
		"UPDATE account_props SET company = ?2 WHERE account_id = ?1",
		"UPDATE account_props SET department = ?2 WHERE account_id = "
		"?1",
	};
	enum store_error e;
	bool own;

	if ((unsigned)field >= STORE_GAL_NFIELDS ||
	    (value != NULL && !value_ok(value)))
		return STORE_INVALID;
	if (value != NULL && value[0] == '\0')
		value = NULL;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql_row, "I", account_id);
	if (e == STORE_OK) {
		e = store_execute(s, sql[field], "It", account_id, value);
		if (e == STORE_OK && store_changes(s) == 0)
			e = STORE_NOTFOUND;
	}
	return store_wend(s, own, e);
}

enum store_error
store_account_set_photo(struct store *s, int64_t account_id, const void *data,
			size_t len)
{
	static const char sql_row[] =
		"INSERT INTO account_props (account_id) "
		"SELECT id FROM accounts WHERE id = ?1 ON CONFLICT DO NOTHING";
	static const char sql[] =
		"UPDATE account_props SET photo = ?2 WHERE account_id = ?1";
	enum store_error e;
	bool own;

	if (len > STORE_GAL_PHOTO_MAX || (data == NULL && len > 0))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql_row, "I", account_id);
	if (e == STORE_OK) {
		e = store_execute(s, sql, "Ib", account_id,
				  len > 0 ? data : NULL, len);
		if (e == STORE_OK && store_changes(s) == 0)
			e = STORE_NOTFOUND;
	}
	return store_wend(s, own, e);
}

static bool
entry_ok(const struct store_gal_entry *g)
{
	const char *const f[] = {
		g->display_name, g->first_name, g->last_name, g->email,
		g->alias,	 g->phone,	g->mobile,    g->home_phone,
		g->office,	 g->title,	g->company,   g->department,
		g->uid,
	};

	for (size_t i = 0; i < N_ELEMENTS(f); i++) {
		if (f[i] != NULL && !value_ok(f[i]))
			return false;
	}
	return g->photo_len <= STORE_GAL_PHOTO_MAX &&
	       (g->photo != NULL || g->photo_len == 0) &&
	       ((g->display_name != NULL && g->display_name[0] != '\0') ||
		(g->email != NULL && g->email[0] != '\0'));
}

enum store_error
store_gal_entry_put(struct store *s, const struct store_gal_entry *g,
		    int64_t *id_r)
{
	static const char sql_find_uid[] =
		"SELECT id FROM gal_entries WHERE uid = ?1";
	static const char sql_find_email[] =
		"SELECT id FROM gal_entries WHERE uid IS NULL AND email = ?1";
	static const char sql_del[] = "DELETE FROM gal_entries WHERE id = ?1";
	static const char sql_ins[] =
		"INSERT INTO gal_entries (uid, display_name, first_name, "
		"last_name, email, alias, phone, mobile, home_phone, office, "
		"title, company, department, photo) VALUES (?1, ?2, ?3, ?4, "
		"?5, "
		"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
	enum store_error e;
	int64_t old = 0, id = 0;
	bool own;

	if (!entry_ok(g))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	if (g->uid != NULL)
		e = store_fetch_int64(s, &old, sql_find_uid, "t", g->uid);
	else if (g->email != NULL)
		e = store_fetch_int64(s, &old, sql_find_email, "t", g->email);
	else
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		e = store_execute(s, sql_del, "I", old);
	else if (e == STORE_NOTFOUND)
		e = STORE_OK;
	if (e == STORE_OK)
		e = store_insert(
			s, &id, sql_ins, "tttttttttttttb", g->uid,
			g->display_name != NULL ? g->display_name : g->email,
			g->first_name, g->last_name, g->email, g->alias,
			g->phone, g->mobile, g->home_phone, g->office, g->title,
			g->company, g->department, g->photo, g->photo_len);
	if (e == STORE_OK && id_r != NULL)
		*id_r = id;
	return store_wend(s, own, e);
}

enum store_error
store_gal_entry_remove(struct store *s, int64_t id, int64_t *removed_r)
{
	static const char sql_one[] = "DELETE FROM gal_entries WHERE id = ?1";
	static const char sql_all[] = "DELETE FROM gal_entries";
	enum store_error e;
	int64_t n = 0;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = id == 0 ? store_execute(s, sql_all, "")
		    : store_execute(s, sql_one, "I", id);
	if (e == STORE_OK) {
		n = store_changes(s);
		if (id != 0 && n == 0)
			e = STORE_NOTFOUND;
	}
	if (removed_r != NULL)
		*removed_r = n;
	return store_wend(s, own, e);
}

enum store_error
store_gal_entry_list(struct store *s, struct arena *a,
		     struct store_gal_entry **list_r, size_t *count_r)
{
	static const char sql_count[] = "SELECT count(*) FROM gal_entries";
	static const char sql[] =
		GAL_ENTRY_SELECT "WHERE ?1 = ?1 AND NOT ?2 ORDER BY "
				 "e.display_name COLLATE NOCASE, "
				 "e.id";
	struct store_gal_entry *list;
	enum store_error e;
	struct store_stmt *st;
	int64_t total = 0;
	size_t n = 0;
	bool own;

	*list_r = NULL;
	*count_r = 0;
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_fetch_int64(s, &total, sql_count, "");
	if (e != STORE_OK || total == 0)
		goto out;
	list = arena_alloc(a, (size_t)total * sizeof(*list));
	st = store_query(s, sql, "ii", 0, 0);
	while (n < (size_t)total && store_next(s, st, &e))
		store_gal_row(a, st, &list[n++]);
	store_done(st);
	if (e == STORE_OK) {
		*list_r = list;
		*count_r = n;
	}
out:
	store_rend(s, own);
	return e;
}
