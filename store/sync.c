/* Per-device sync state and the change computation behind Sync,
 * GetItemEstimate and Ping.
 *
 * What a device holds in a folder is the set device_items(state_id,
 * item_id, modseq). Changes come from three walks, each along an index so a
 * window costs O(max) whatever the folder's size:
 *  A. items(folder_id, modseq) above st->hwm: ADD/CHANGE/DELETE/SOFTDELETE;
 *  B. items(folder_id, date_end) in [old window start, new window start):
 *     SOFTDELETE for held items that the moving window left behind;
 *  C. items(folder_id, id) after st->backfill_after: ADD for in-window
 *     items the device lacks after the window widened.
 * Walk B only starts once A is exhausted and C once B is, so the output is
 * changes in modseq order, then soft deletes, then backfill adds. Each call
 * looks at a bounded number of rows (skipped echoes and unheld tombstones
 * included); when that runs out, *more_r is true and the cursors in st say
 * where to go on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

#define SYNC_KEY_MAX 256
#define SYNC_BLOB_MAX (16 * 1024 * 1024)
#define SYNC_MAX_CHANGES 100000
#define PENDING_BUDGET 4096
/* Marks sent ahead at a time (store_sync_mark): PostgreSQL writes the
 * rows of a window's first items while easd converts the next ones. */
#define MARKS_AHEAD 128

/* The cached answer lives in sync_responses: its length comes from the
 * record header of that row, the answer itself is read only for a
 * repeated key (store_sync_response). */
#define STATE_COLS                                                             \
	"s.id, s.device_id, s.folder_id, s.cur_key, s.prev_key, s.hwm, "       \
	"s.filter_since, s.backfill_after, length(r.response), s.options"

enum store_error
store_sync_get(struct store *s, struct arena *a, int64_t device_id,
	       int64_t folder_id, struct store_sync_state *r)
{
	static const char sql[] =
		"SELECT " STATE_COLS " FROM sync_states s "
		"LEFT JOIN sync_responses r ON r.state_id = s.id "
		"WHERE s.device_id = ?1 AND s.folder_id = ?2";
	struct store_stmt *st = store_query(s, sql, "II", device_id, folder_id);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK) {
		memset(r, 0, sizeof(*r));
		r->id = store_col_int64(st, 0);
		r->device_id = store_col_int64(st, 1);
		r->folder_id = store_col_int64(st, 2);
		r->cur_key = store_col_text(a, st, 3);
		r->prev_key = store_col_text(a, st, 4);
		r->hwm = store_col_int64(st, 5);
		r->filter_since = store_col_int64(st, 6);
		r->backfill_after = store_col_int64(st, 7);
		r->response = NULL;
		r->response_len = (size_t)store_col_int64(st, 8);
		r->options = store_col_blob(a, st, 9, &r->options_len);
	}
	store_done(st);
	return e;
}

enum store_error
store_sync_response(struct store *s, struct arena *a,
		    struct store_sync_state *r)
{
	static const char sql[] =
		"SELECT response FROM sync_responses WHERE state_id = ?1";
	struct store_stmt *st = store_query(s, sql, "I", r->id);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK)
		r->response = store_col_blob(a, st, 0, &r->response_len);
	store_done(st);
	if (e == STORE_NOTFOUND) {
		/* a state without an answer: nothing to repeat */
		e = STORE_OK;
		r->response = NULL;
	}
	if (e == STORE_OK && r->response == NULL)
		r->response_len = 0;
	return e;
}

/* The cached answer of state id: replaced, dropped (NULL, 0) or, when it
 * was not loaded (NULL with a length), kept. */
static enum store_error
save_response(struct store *s, int64_t id, const struct store_sync_state *st)
{
	static const char sql_set[] =
		"INSERT INTO sync_responses (state_id, response) "
		"VALUES (?1, ?2) ON CONFLICT (state_id) DO UPDATE SET "
		"response = excluded.response";
	static const char sql_del[] =
		"DELETE FROM sync_responses WHERE state_id = ?1";

	if (st->response == NULL && st->response_len > 0)
		return STORE_OK;
	if (st->response == NULL)
		return store_execute(s, sql_del, "I", id);
	/* nothing waits for it: the state's row, written just before, is
	 * locked until the commit, which answers for this too */
	return store_send(s, sql_set, "Ib", id, st->response, st->response_len);
}

enum store_error
store_sync_save(struct store *s, struct store_sync_state *st)
{
	static const char sql_ins[] =
		"INSERT INTO sync_states (device_id, folder_id, cur_key, "
		"prev_key, hwm, filter_since, backfill_after, options) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		"ON CONFLICT (device_id, folder_id) DO UPDATE SET "
		"cur_key = excluded.cur_key, prev_key = excluded.prev_key, "
		"hwm = excluded.hwm, filter_since = excluded.filter_since, "
		"backfill_after = excluded.backfill_after, "
		"options = excluded.options "
		"RETURNING id";
	static const char sql_upd[] =
		"UPDATE sync_states SET device_id = ?1, folder_id = ?2, "
		"cur_key = ?3, prev_key = ?4, hwm = ?5, filter_since = ?6, "
		"backfill_after = ?7, options = ?8 "
		"WHERE id = ?9 RETURNING id";
	/* PostgreSQL's schema always has synced: set with the rest, one
	 * round trip less a window */
	static const char sql_ins_pg[] =
		"INSERT INTO sync_states (device_id, folder_id, cur_key, "
		"prev_key, hwm, filter_since, backfill_after, options, synced) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		"extract(epoch FROM now())::int8) "
		"ON CONFLICT (device_id, folder_id) DO UPDATE SET "
		"cur_key = excluded.cur_key, prev_key = excluded.prev_key, "
		"hwm = excluded.hwm, filter_since = excluded.filter_since, "
		"backfill_after = excluded.backfill_after, "
		"options = excluded.options, synced = excluded.synced "
		"RETURNING id";
	static const char sql_upd_pg[] =
		"UPDATE sync_states SET device_id = ?1, folder_id = ?2, "
		"cur_key = ?3, prev_key = ?4, hwm = ?5, filter_since = ?6, "
		"backfill_after = ?7, options = ?8, "
		"synced = extract(epoch FROM now())::int8 "
		"WHERE id = ?9 RETURNING id";
	static const char sql_synced[] =
		"UPDATE sync_states SET synced = unixepoch() WHERE id = ?1";
	/* A response that was not loaded (NULL with a length) stays as
	 * stored. */
	bool keep = st->response == NULL && st->response_len > 0;
	bool lite = s->drv == &store_driver_sqlite;
	const char *sql = st->id == 0 ? STORE_SQL(s, sql_ins, sql_ins_pg)
				      : STORE_SQL(s, sql_upd, sql_upd_pg);
	enum store_error e;
	struct store_stmt *q;
	int64_t id = 0;
	bool own;

	if ((st->cur_key != NULL && strlen(st->cur_key) > SYNC_KEY_MAX) ||
	    (st->prev_key != NULL && strlen(st->prev_key) > SYNC_KEY_MAX) ||
	    st->response_len > SYNC_BLOB_MAX ||
	    st->options_len > SYNC_BLOB_MAX || (keep && st->id == 0) ||
	    (st->options == NULL && st->options_len > 0))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	/* sql_ins has no ?9: the letter for it goes with st->id */
	q = store_query(s, sql, st->id != 0 ? "IIttIIIbI" : "IIttIIIb",
			st->device_id, st->folder_id, st->cur_key, st->prev_key,
			st->hwm, st->filter_since, st->backfill_after,
			st->options, st->options_len, st->id);
	e = store_row(s, q);
	if (e == STORE_OK) {
		id = store_col_int64(q, 0);
		/* to the end of the statement, as always (result unused) */
		store_rest(s, q);
	}
	store_done(q);
	if (e == STORE_OK)
		e = save_response(s, id, st);
	/* when it advanced, for easctl device list (schema 7; the testing
	 * aids open older files) */
	if (e == STORE_OK && lite && s->schema >= 7)
		e = store_execute(s, sql_synced, "I", id);
	e = store_wend(s, own, e);
	if (e == STORE_OK)
		st->id = id;
	return e;
}

enum store_error
store_sync_reset(struct store *s, int64_t device_id, int64_t folder_id)
{
	static const char sql_items[] =
		"DELETE FROM device_items WHERE state_id = (SELECT id FROM "
		"sync_states WHERE device_id = ?1 AND folder_id = ?2)";
	static const char sql_state[] =
		"UPDATE sync_states SET hwm = 0, filter_since = 0, "
		"backfill_after = -1 WHERE device_id = ?1 AND folder_id = ?2";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e == STORE_OK)
		e = store_execute(s, sql_items, "II", device_id, folder_id);
	if (e == STORE_OK)
		e = store_execute(s, sql_state, "II", device_id, folder_id);
	return store_wend(s, own, e);
}

enum store_error
store_sync_delete(struct store *s, int64_t device_id, int64_t folder_id)
{
	static const char sql[] =
		"DELETE FROM sync_states WHERE device_id = ?1 AND "
		"(?2 < 0 OR folder_id = ?2)";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e == STORE_OK)
		e = store_execute(s, sql, "II", device_id, folder_id);
	if (e == STORE_OK)
		e = store_touch_device(s, device_id);
	return store_wend(s, own, e);
}

enum store_error
store_sync_list(struct store *s, struct arena *a, int64_t device_id,
		struct store_sync_info **list_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT ss.folder_id, f.name, coalesce(f.type, 0), ss.synced, "
		"ss.cur_key FROM sync_states ss "
		"LEFT JOIN folders f ON f.id = ss.folder_id "
		"WHERE ss.device_id = ?1 ORDER BY ss.folder_id";
	struct store_stmt *st = store_query(s, sql, "I", device_id);
	struct store_sync_info *list = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		struct store_sync_info *i;

		list = arena_grow(a, list, count, &cap, sizeof(*list));
		i = &list[count++];
		i->folder_id = store_col_int64(st, 0);
		i->folder_name = store_col_text(a, st, 1);
		i->folder_type = store_col_int(st, 2);
		i->synced = store_col_int64(st, 3);
		i->key = store_col_text(a, st, 4);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

/* A mark not yet written (store_sync_mark in a caller's transaction on a
 * backend where a statement is a round trip). */
struct store_sync_pending_mark {
	int64_t item_id;
	int64_t modseq;
	bool present;
	size_t seq; /* the order of the calls, for duplicates */
};

/* The marks of one transaction go as a few statements with arrays in
 * place of one statement per item: on PostgreSQL a window of 512 was 512
 * round trips. Each MARKS_AHEAD of them are sent without waiting for the
 * answer, the rest before the transaction's next statement. SQLite
 * writes each at once (a statement costs it no round trip, and its path
 * stays as it was). */
static bool
marks_deferred(const struct store *s)
{
	return s->drv != &store_driver_sqlite && s->in_txn;
}

static int
mark_cmp(const void *a, const void *b)
{
	const struct store_sync_pending_mark *x = a, *y = b;

	if (x->item_id != y->item_id)
		return x->item_id < y->item_id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "{1,2,3}": an int8[] literal of the n marks' items (or modseqs). */
static char *
array_literal(const struct store_sync_pending_mark *m, size_t n, bool modseq)
{
	char *out = xmalloc(n * 21 + 3), *o = out;

	*o++ = '{';
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, i > 0 ? ",%lld" : "%lld",
			     (long long)(modseq ? m[i].modseq : m[i].item_id));
	*o++ = '}';
	*o = '\0';
	return out;
}

/* One run of marks of the same kind, sorted by item (the last call for
 * an item wins: ON CONFLICT may not touch a row twice in one statement). */
static enum store_error
flush_run(struct store *s, int64_t state_id, struct store_sync_pending_mark *m,
	  size_t n, bool ahead)
{
	static const char sql_set[] =
		"INSERT INTO device_items (state_id, item_id, modseq) "
		"SELECT ?1, u.i, u.m FROM unnest(?2::int8[], ?3::int8[]) "
		"AS u(i, m) ON CONFLICT (state_id, item_id) DO UPDATE SET "
		"modseq = excluded.modseq";
	static const char sql_del[] =
		"DELETE FROM device_items WHERE "
		"state_id = ?1 AND item_id = ANY(?2::int8[])";
	enum store_error (*run)(struct store *, const char *, const char *,
				...) = ahead ? store_send : store_execute;
	enum store_error e;
	char *ids, *modseqs;
	size_t k = 0;

	qsort(m, n, sizeof(*m), mark_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && m[k - 1].item_id == m[i].item_id)
			k--; /* a later call for the same item */
		m[k++] = m[i];
	}
	ids = array_literal(m, k, false);
	if (m[0].present) {
		modseqs = array_literal(m, k, true);
		e = run(s, sql_set, "Itt", state_id, ids, modseqs);
		free(modseqs);
	} else {
		e = run(s, sql_del, "It", state_id, ids);
	}
	free(ids);
	return e;
}

/* The marks written so far; ahead, the last statement is sent without
 * waiting for it (only one can be on its way at a time). */
static enum store_error
flush_marks(struct store *s, bool ahead)
{
	struct store_sync_pending_mark *m = s->marks;
	size_t n = s->marks_count, start = 0;
	enum store_error e = STORE_OK;

	if (n == 0)
		return STORE_OK;
	/* taken out first: the statements below come back through here */
	s->marks = NULL;
	s->marks_count = s->marks_cap = 0;
	for (size_t i = 1; i <= n && e == STORE_OK; i++) {
		if (i < n && m[i].present == m[start].present)
			continue;
		e = flush_run(s, s->marks_state, m + start, i - start,
			      ahead && i == n);
		start = i;
	}
	if (s->marks == NULL) {
		/* keep the buffer for the next transaction */
		s->marks = m;
		s->marks_cap = n;
	} else {
		free(m);
	}
	return e;
}

enum store_error
store_sync_flush(struct store *s)
{
	return flush_marks(s, false);
}

void
store_sync_drop(struct store *s)
{
	s->marks_count = 0;
	s->deferred = STORE_OK;
}

enum store_error
store_sync_mark(struct store *s, int64_t state_id, int64_t item_id,
		int64_t modseq, bool present)
{
	static const char sql_set[] =
		"INSERT INTO device_items (state_id, item_id, modseq) VALUES "
		"(?1, ?2, ?3) ON CONFLICT (state_id, item_id) DO UPDATE SET "
		"modseq = excluded.modseq";
	static const char sql_del[] =
		"DELETE FROM device_items WHERE state_id = ?1 AND item_id = ?2";
	enum store_error e;
	bool own;

	if (state_id <= 0)
		return STORE_INVALID;
	if (marks_deferred(s)) {
		struct store_sync_pending_mark *m;

		if (s->marks_count > 0 && s->marks_state != state_id &&
		    (e = store_sync_flush(s)) != STORE_OK)
			return e;
		if (s->marks_count == s->marks_cap) {
			s->marks_cap =
				s->marks_cap == 0 ? 64 : s->marks_cap * 2;
			s->marks = xrealloc(s->marks,
					    s->marks_cap * sizeof(*s->marks));
		}
		s->marks_state = state_id;
		m = &s->marks[s->marks_count];
		m->item_id = item_id;
		m->modseq = modseq;
		m->present = present;
		m->seq = s->marks_count++;
		/* a window's worth goes in a few pieces, each on its way
		 * while the caller makes the items after it */
		if (s->marks_count >= MARKS_AHEAD && s->drv->send != NULL)
			return flush_marks(s, true);
		return STORE_OK;
	}
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	if (present)
		e = store_execute(s, sql_set, "III", state_id, item_id, modseq);
	else
		e = store_execute(s, sql_del, "II", state_id, item_id);
	return store_wend(s, own, e);
}

enum store_error
store_sync_held(struct store *s, int64_t state_id, int64_t item_id,
		int64_t *modseq_r)
{
	static const char sql[] = "SELECT modseq FROM device_items "
				  "WHERE state_id = ?1 AND item_id = ?2";
	enum store_error e;
	int64_t modseq;

	if (state_id <= 0)
		return STORE_NOTFOUND;
	e = store_fetch_int64(s, &modseq, sql, "II", state_id, item_id);
	if (e == STORE_OK && modseq_r != NULL)
		*modseq_r = modseq;
	return e;
}

/* --- computing changes --- */

struct scan {
	struct store *s;
	struct arena *a;	     /* NULL: only count */
	struct store_sync_state *st; /* cursors advance in place */
	const struct store_sync_filter *f;
	const char *folder_sid;
	int64_t hwm0; /* st->hwm when the call started */
	size_t max;
	bool with_data;
	struct store_sync_change *list;
	size_t count, cap;
	int64_t budget; /* rows we may still look at */
	bool more;
	enum store_error error;
};

static bool
in_window(const struct scan *sc, struct store_stmt *row)
{
	int64_t date_end = store_col_int64(row, 7);
	bool complete = store_col_int(row, 10) != 0;

	if (sc->f->since != 0 && date_end < sc->f->since)
		return false;
	if (sc->f->incomplete_only && complete)
		return false;
	return true;
}

/* The walks read whether the device holds each item with the item: one
 * statement per walk rather than a lookup per row (a round trip each on
 * PostgreSQL). A scalar subquery, not a join: PostgreSQL planned a LEFT
 * JOIN as a merge join over every device's rows; this is one primary key
 * lookup per row returned, on either backend. The column after
 * STORE_ITEM_COLS is the held modseq, -1 when not held. */
#define HELD_COLS                                                              \
	", coalesce((SELECT d.modseq FROM device_items d WHERE "               \
	"d.state_id = ?4 AND d.item_id = i.id), -1)"

/* Whether the device holds the row's item (and at which modseq). */
static bool
held(const struct store_stmt *row, int64_t *modseq_r)
{
	int64_t m = store_col_int64((struct store_stmt *)row, STORE_ITEM_NCOLS);

	*modseq_r = m < 0 ? 0 : m;
	return m >= 0;
}

/* Add a change from the current row; false (and *more) when the list is
 * full, in which case the row must not be consumed. */
static bool
emit(struct scan *sc, enum store_change_kind kind, struct store_stmt *row)
{
	struct store_sync_change *c;

	if (sc->count >= sc->max) {
		sc->more = true;
		return false;
	}
	sc->count++;
	if (sc->a == NULL)
		return true;
	if (sc->count > sc->cap) {
		struct store_sync_change *n;

		sc->cap = sc->cap == 0 ? EAS_MIN(sc->max, 64) : sc->cap * 2;
		n = arena_alloc(sc->a, sc->cap * sizeof(*n));
		if (sc->count > 1)
			memcpy(n, sc->list, (sc->count - 1) * sizeof(*n));
		sc->list = n;
	}
	c = &sc->list[sc->count - 1];
	c->kind = kind;
	store_item_row(sc->a, row, sc->folder_sid,
		       sc->with_data && (kind == STORE_CHANGE_ADD ||
					 kind == STORE_CHANGE_CHANGE),
		       &c->item);
	return true;
}

/* Rows a walk may read: what is left of the call's budget. */
static int64_t
walk_limit(const struct scan *sc)
{
	return sc->budget;
}

/* After a walk: did it stop because the budget ran out? */
static bool
walk_exhausted(struct scan *sc, int64_t seen, int64_t limit)
{
	sc->budget -= seen;
	if (seen >= limit) {
		sc->more = true;
		return true;
	}
	return false;
}

/* Rows for walk A's next query: the changes still wanted and one to tell
 * whether there are more, when that is less than the budget. PostgreSQL
 * sends a query's rows (with their data) all at once: a budget of 3,072
 * rows for a window of 512 Adds moved six times the data it sent. */
static int64_t
chunk_limit(const struct scan *sc, int64_t at_least)
{
	int64_t want =
		(int64_t)EAS_MIN(sc->max - sc->count, (size_t)INT64_MAX / 2);

	return EAS_MIN(sc->budget, EAS_MAX(want + 1, at_least));
}

/* A: changes above the high-water mark, in chunks (chunk_limit). */
static bool
walk_modseq(struct scan *sc)
{
	static const char sql[] =
		"SELECT " STORE_ITEM_COLS HELD_COLS " FROM items i WHERE "
		"i.folder_id = ?1 AND i.modseq > ?2 ORDER BY i.modseq LIMIT ?3";
	int64_t limit = 0, seen;

	do {
		enum store_error e = STORE_OK;
		struct store_stmt *row;
		bool full = false;

		/* rows that emit nothing (echoes, tombstones the device
		 * never had) double the next chunk */
		limit = chunk_limit(sc, limit * 2);
		seen = 0;
		row = store_query(sc->s, sql, "IIII", sc->st->folder_id,
				  sc->st->hwm, limit, sc->st->id);
		while (store_next(sc->s, row, &e)) {
			int64_t modseq = store_col_int64(row, 15);
			int64_t origin = store_col_int64(row, 16);
			bool deleted = store_col_int(row, 17) != 0;
			enum store_change_kind kind = 0;
			int64_t held_modseq;
			bool h;

			seen++;
			/* Echo suppression: the device made this change
			 * itself. */
			if (origin == 0 || origin != sc->st->device_id) {
				h = held(row, &held_modseq);
				if (deleted)
					kind = h ? STORE_CHANGE_DELETE : 0;
				else if (!in_window(sc, row))
					kind = h ? STORE_CHANGE_SOFTDELETE : 0;
				else if (!h)
					kind = STORE_CHANGE_ADD;
				else if (held_modseq < modseq)
					kind = STORE_CHANGE_CHANGE;
			}
			if (kind != 0 && !emit(sc, kind, row)) {
				full = true;
				break;
			}
			sc->st->hwm = modseq;
		}
		store_done(row);
		if (e != STORE_OK) /* only set when the rows ran out */
			sc->error = e;
		if (sc->error != STORE_OK || full)
			return false;
		sc->budget -= seen;
		/* a full chunk: the rows may go on */
	} while (seen >= limit && sc->budget > 0);
	if (seen >= limit) {
		sc->more = true;
		return false;
	}
	return true;
}

/* B: held items the moving window left behind. */
static bool
walk_expired(struct scan *sc)
{
	static const char sql[] =
		"SELECT " STORE_ITEM_COLS HELD_COLS " FROM items i WHERE "
		"i.folder_id = ?1 AND i.date_end >= ?2 AND i.date_end < ?3 AND "
		"i.deleted = 0 AND i.modseq <= ?5 ORDER BY i.date_end LIMIT ?6";
	struct store_sync_state *st = sc->st;
	const struct store_sync_filter *f = sc->f;
	int64_t lo = st->filter_since > 0 ? st->filter_since : INT64_MIN;
	enum store_error e = STORE_OK;
	int64_t limit, seen = 0;
	struct store_stmt *row;
	bool full = false;

	if (f->since == st->filter_since)
		return true;
	if (st->filter_since > 0 &&
	    (f->since == 0 || f->since < st->filter_since)) {
		/* widened: what came into the window is backfilled */
		if (st->backfill_after < 0)
			st->backfill_after = 0;
		st->filter_since = f->since;
		return true;
	}
	if (st->id == 0 || sc->hwm0 == 0) {
		/* nothing held yet */
		st->filter_since = f->since;
		return true;
	}
	limit = walk_limit(sc);
	row = store_query(sc->s, sql, "IIIIII", st->folder_id, lo, f->since,
			  st->id, sc->hwm0, limit);
	while (store_next(sc->s, row, &e)) {
		int64_t date_end = store_col_int64(row, 7);
		int64_t held_modseq;

		seen++;
		if (held(row, &held_modseq) &&
		    !emit(sc, STORE_CHANGE_SOFTDELETE, row)) {
			full = true;
			break;
		}
		/* inclusive cursor: rows with the same date_end come again,
		 * but by then the device no longer holds the ones sent */
		st->filter_since = date_end;
	}
	store_done(row);
	if (e != STORE_OK) /* only set when the rows ran out */
		sc->error = e;
	if (sc->error != STORE_OK || full)
		return false;
	if (walk_exhausted(sc, seen, limit))
		return false;
	st->filter_since = f->since;
	return true;
}

/* C: backfill after the window widened (and the first sync of a folder),
 * in chunks like walk A: the cursor is exclusive. */
static bool
walk_backfill(struct scan *sc)
{
	static const char sql[] =
		"SELECT " STORE_ITEM_COLS HELD_COLS " FROM items i WHERE "
		"i.folder_id = ?1 AND i.id > ?2 ORDER BY i.id LIMIT ?3";
	struct store_sync_state *st = sc->st;
	int64_t limit = 0, seen;

	if (st->backfill_after < 0)
		return true;
	do {
		enum store_error e = STORE_OK;
		struct store_stmt *row;
		bool full = false;

		limit = chunk_limit(sc, limit * 2);
		seen = 0;
		row = store_query(sc->s, sql, "IIII", st->folder_id,
				  st->backfill_after, limit, st->id);
		while (store_next(sc->s, row, &e)) {
			int64_t id = store_col_int64(row, 0);
			int64_t modseq = store_col_int64(row, 15);
			int64_t held_modseq;

			seen++;
			/* Tombstones are skipped here, not in SQL: with
			 * "deleted = 0" there PostgreSQL's estimate of the
			 * rows fell to one, and it sorted the whole folder
			 * rather than walk the index. Rows above hwm0 were
			 * walk A's in this very call. */
			if (store_col_int(row, 17) == 0 && modseq <= sc->hwm0 &&
			    in_window(sc, row) && !held(row, &held_modseq) &&
			    !emit(sc, STORE_CHANGE_ADD, row)) {
				full = true;
				break;
			}
			st->backfill_after = id;
		}
		store_done(row);
		if (e != STORE_OK) /* only set when the rows ran out */
			sc->error = e;
		if (sc->error != STORE_OK || full)
			return false;
		sc->budget -= seen;
	} while (seen >= limit && sc->budget > 0);
	if (seen >= limit) {
		sc->more = true;
		return false;
	}
	st->backfill_after = -1;
	return true;
}

static enum store_error
scan_run(struct scan *sc)
{
	enum store_error e;
	bool own;

	e = store_rbegin(sc->s, &own);
	if (e != STORE_OK)
		return e;
	sc->hwm0 = sc->st->hwm;
	if (sc->a != NULL) {
		sc->folder_sid =
			store_folder_sid(sc->s, sc->a, sc->st->folder_id);
		if (sc->folder_sid == NULL) {
			e = STORE_NOTFOUND;
			goto out;
		}
	}
	if (walk_modseq(sc) && walk_expired(sc))
		walk_backfill(sc);
	e = sc->error;
out:
	store_rend(sc->s, own);
	return e;
}

enum store_error
store_sync_changes(struct store *s, struct arena *a,
		   struct store_sync_state *st,
		   const struct store_sync_filter *filter, size_t max,
		   bool with_data, struct store_sync_change **list_r,
		   size_t *count_r, bool *more_r)
{
	static const struct store_sync_filter no_filter = {0, false};
	struct store_sync_state work = *st;
	struct scan sc;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	*more_r = false;
	if (max > SYNC_MAX_CHANGES)
		max = SYNC_MAX_CHANGES;
	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.a = a;
	sc.st = &work;
	sc.f = filter != NULL ? filter : &no_filter;
	sc.max = max;
	sc.with_data = with_data;
	/* Enough to step over a few windows' worth of echoes and unheld
	 * tombstones; past that the device is told to come back. */
	sc.budget = (int64_t)max * 4 + 1024;
	e = scan_run(&sc);
	if (e != STORE_OK)
		return e;
	/* cursors only move when the whole call succeeded */
	st->hwm = work.hwm;
	st->filter_since = work.filter_since;
	st->backfill_after = work.backfill_after;
	*list_r = sc.list;
	*count_r = sc.count;
	*more_r = sc.more;
	return STORE_OK;
}

enum store_error
store_sync_count(struct store *s, const struct store_sync_state *st,
		 const struct store_sync_filter *filter, int64_t *count_r)
{
	static const struct store_sync_filter no_filter = {0, false};
	struct store_sync_state work = *st;
	struct scan sc;
	enum store_error e;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.st = &work;
	sc.f = filter != NULL ? filter : &no_filter;
	sc.max = SIZE_MAX;
	sc.budget = INT64_MAX;
	e = scan_run(&sc);
	*count_r = e == STORE_OK ? (int64_t)sc.count : 0;
	return e;
}

enum store_error
store_sync_pending(struct store *s, const struct store_sync_state *st,
		   const struct store_sync_filter *filter, bool *pending_r)
{
	static const struct store_sync_filter no_filter = {0, false};
	struct store_sync_state work = *st;
	struct scan sc;
	enum store_error e;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.st = &work;
	sc.f = filter != NULL ? filter : &no_filter;
	sc.max = 0; /* the first change found sets more */
	/* Running out of budget also says "pending": a Sync will then walk
	 * past whatever was skipped. */
	sc.budget = PENDING_BUDGET;
	e = scan_run(&sc);
	*pending_r = e == STORE_OK && sc.more;
	return e;
}
