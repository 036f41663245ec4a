/* Mail search and the address list on PostgreSQL, with its own full-text
 * search: search_docs and gal_docs hold tsvectors under GIN indexes
 * (schema step 2 -> 3 in driver-pg.c, which also has the tokenizer,
 * easd_norm, and the query builder, easd_words). search.c keeps the
 * queue, the checks of a query tree and the calls from item.c for both
 * backends and hands the PostgreSQL side to this file.
 *
 * The results are FTS5's for what the tests check: words folded in case
 * and accents, a word that the tokenizer splits (an address, 会议) a
 * phrase, the address list's words prefixes. Where PostgreSQL differs:
 * - accents come off the Latin letters of easd_norm's table (Latin-1,
 *   Extended-A and B, Vietnamese) and combining marks are dropped;
 *   unicode61 knows a few more scripts' diacritics;
 * - a tsvector keeps word positions up to 16,383 and 256 positions per
 *   word: a phrase past that point of a long body is not found (a single
 *   word is), and the text indexed is capped lower than on SQLite so that
 *   a message's tsvector stays under PostgreSQL's 1 MB (PG_*_MAX);
 * - the columns of a message are one tsvector: a phrase may run from the
 *   end of one field into the next (FTS5's stop at the column);
 * - bytes that are not UTF-8 become spaces (PostgreSQL refuses them).
 * The Total and the page are SQL over items (newest first, as on
 * SQLite); the GIN index finds the words, and a folder or a
 * ConversationId is a column of the index row, so a message still in the
 * queue is found by neither, as on SQLite. */
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store-int.h"
#include "util.h"

/* Text indexed per message: see above. */
#define PG_SUBJECT_MAX (16 * 1024)
#define PG_FIELD_MAX (32 * 1024)
#define PG_BODY_MAX (200 * 1024)
#define PG_RESULTS_MAX 1000

/* At most max bytes of s (cut at a character), every byte that is not
 * part of valid UTF-8 a space. */
static const char *
pg_text(struct arena *a, const char *s, size_t max)
{
	size_t len, i = 0;
	char *r;

	if (s == NULL)
		return "";
	len = strlen(s);
	if (len > max)
		len = max;
	r = arena_strndup(a, s, len);
	while (i < len) {
		unsigned char c = (unsigned char)r[i];
		size_t n = c < 0x80		    ? 1
			   : c >= 0xc2 && c <= 0xdf ? 2
			   : c >= 0xe0 && c <= 0xef ? 3
			   : c >= 0xf0 && c <= 0xf4 ? 4
						    : 0;
		bool ok = n > 0 && i + n <= len;

		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)r[i + k] & 0xc0) == 0x80;
		/* overlong forms, surrogates and past U+10FFFF */
		if (ok && n == 3)
			ok = !(c == 0xe0 && (unsigned char)r[i + 1] < 0xa0) &&
			     !(c == 0xed && (unsigned char)r[i + 1] >= 0xa0);
		if (ok && n == 4)
			ok = !(c == 0xf0 && (unsigned char)r[i + 1] < 0x90) &&
			     !(c == 0xf4 && (unsigned char)r[i + 1] >= 0x90);
		if (!ok) {
			r[i++] = ' ';
			continue;
		}
		i += n;
	}
	return r;
}

/* The ConversationId as the index keeps it: lower-case hex, or NULL. */
static const char *
pg_conv(struct arena *a, const char *hex)
{
	char *r;

	if (hex == NULL || hex[0] == '\0')
		return NULL;
	r = arena_strdup(a, hex);
	for (char *p = r; *p != '\0'; p++) {
		if (!((*p >= '0' && *p <= '9') ||
		      ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')))
			return NULL;
		*p = (char)(*p | 0x20);
	}
	return r;
}

enum store_error
store_search_pg_put(struct store *s, int64_t item_id, int64_t account_id,
		    int64_t folder_id, const struct store_item_text *t)
{
	/* subject and addresses first: the body is the part a long
	 * message's positions run out in */
	static const char sql[] =
		"INSERT INTO search_docs (item_id, account_id, folder_id, "
		"conv, doc) VALUES (?1, ?2, ?3, ?4, easd_tsv(?5) || "
		"easd_tsv(?6) || easd_tsv(?7) || easd_tsv(?8)) "
		"ON CONFLICT (item_id) DO UPDATE SET account_id = "
		"excluded.account_id, folder_id = excluded.folder_id, "
		"conv = excluded.conv, doc = excluded.doc";
	struct arena *a = arena_new(4096);
	enum store_error e;

	e = store_execute(s, sql, "IIIttttt", item_id, account_id, folder_id,
			  pg_conv(a, t->conversation),
			  pg_text(a, t->subject, PG_SUBJECT_MAX),
			  pg_text(a, t->addresses, PG_FIELD_MAX),
			  pg_text(a, t->attachments, PG_FIELD_MAX),
			  pg_text(a, t->body, PG_BODY_MAX));
	arena_free(&a);
	return e;
}

enum store_error
store_search_pg_move(struct store *s, int64_t old_id,
		     const struct store_item *moved)
{
	static const char sql[] =
		"INSERT INTO search_docs (item_id, account_id, folder_id, "
		"conv, doc) SELECT ?2, ?3, ?4, conv, doc FROM search_docs "
		"WHERE item_id = ?1 ON CONFLICT (item_id) DO NOTHING";
	enum store_error e = store_execute(s, sql, "IIII", old_id, moved->id,
					   moved->account_id, moved->folder_id);

	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	return e;
}

enum store_error
store_search_pg_drop(struct store *s, int64_t item_id)
{
	static const char sql[] = "DELETE FROM search_docs WHERE item_id = ?1";

	return store_execute(s, sql, "I", item_id);
}

/* --- mail queries --- */

struct pg_query {
	struct store *s;
	struct arena *a;
	int64_t account_id;
	struct buf sql;
	/* the words of every text condition, as one text[] parameter */
	struct buf words;
	int nwords;
	/* what the condition reads: the index row, the item's columns */
	bool uses_doc, uses_item;
	struct store_folder *folders;
	size_t nfolders;
	bool folders_loaded;
};

/* One element of the array literal: quoted, " and \ escaped. */
static void
pg_words_add(struct pg_query *q, const char *w)
{
	buf_puts(&q->words, q->nwords++ > 0 ? ",\"" : "\"");
	for (; *w != '\0'; w++) {
		if (*w == '"' || *w == '\\')
			buf_putc(&q->words, '\\');
		buf_putc(&q->words, *w);
	}
	buf_putc(&q->words, '"');
}

/* The folder and, when deep, every live folder below it, as a list. */
static enum store_error
pg_folders(struct pg_query *q, const struct store_search_cond *n)
{
	int64_t *stack;
	size_t sp = 0, cap;
	bool first = true;
	enum store_error e;

	if (!n->deep) {
		buf_printf(&q->sql, "%lld", (long long)n->value);
		return STORE_OK;
	}
	if (!q->folders_loaded) {
		e = store_folder_list(q->s, q->a, q->account_id, &q->folders,
				      &q->nfolders);
		if (e != STORE_OK)
			return e;
		q->folders_loaded = true;
	}
	cap = q->nfolders + 1;
	stack = arena_alloc(q->a, cap * sizeof(*stack));
	stack[sp++] = n->value;
	while (sp > 0) {
		int64_t id = stack[--sp];

		buf_printf(&q->sql, "%s%lld", first ? "" : ",", (long long)id);
		first = false;
		for (size_t i = 0; i < q->nfolders && sp < cap; i++) {
			if (q->folders[i].parent_id == id &&
			    !q->folders[i].deleted && q->folders[i].id != id)
				stack[sp++] = q->folders[i].id;
		}
	}
	return STORE_OK;
}

/* The condition as SQL over items i and their index row d (NULL for mail
 * not indexed: every test of d is then false, and there is no NOT).
 * User text only ever reaches the SQL as a parameter; numbers and the
 * checked hex are written in. */
static enum store_error
pg_compile(struct pg_query *q, const struct store_search_cond *n)
{
	const struct store_search_cond *k;
	const char *w;
	enum store_error e;
	bool first = true;

	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		if (n->child == NULL) {
			buf_puts(&q->sql, n->kind == STORE_SEARCH_AND
						  ? "TRUE"
						  : "FALSE");
			return STORE_OK;
		}
		buf_putc(&q->sql, '(');
		for (k = n->child; k != NULL; k = k->next) {
			if (!first)
				buf_puts(&q->sql, n->kind == STORE_SEARCH_AND
							  ? " AND "
							  : " OR ");
			first = false;
			e = pg_compile(q, k);
			if (e != STORE_OK)
				return e;
		}
		buf_putc(&q->sql, ')');
		return STORE_OK;
	case STORE_SEARCH_TEXT:
		if (store_search_words(q->a, n->text, &w) <= 0)
			return STORE_INVALID;
		pg_words_add(q, pg_text(q->a, w, STORE_SEARCH_TEXT_MAX * 4));
		q->uses_doc = true;
		buf_printf(&q->sql,
			   "d.doc @@ easd_words((?2::text[])[%d], false)",
			   q->nwords);
		return STORE_OK;
	case STORE_SEARCH_CONVERSATION:
		w = pg_conv(q->a, n->text);
		if (w == NULL)
			return STORE_INVALID;
		buf_printf(&q->sql, "d.conv = '%s'", w);
		q->uses_doc = true;
		return STORE_OK;
	case STORE_SEARCH_FOLDER:
		buf_puts(&q->sql, "d.folder_id IN (");
		q->uses_doc = true;
		e = pg_folders(q, n);
		buf_putc(&q->sql, ')');
		return e;
	case STORE_SEARCH_AFTER:
		buf_printf(&q->sql, "i.date > %lld", (long long)n->value);
		q->uses_item = true;
		return STORE_OK;
	case STORE_SEARCH_BEFORE:
		buf_printf(&q->sql, "i.date < %lld", (long long)n->value);
		q->uses_item = true;
		return STORE_OK;
	case STORE_SEARCH_NOTHING:
		buf_puts(&q->sql, "FALSE");
		return STORE_OK;
	}
	return STORE_INVALID;
}

/* A statement of this query: ?1 the account, ?2 the words. */
static struct store_stmt *
pg_query_stmt(struct pg_query *q, const char *sql, const char *words)
{
	struct store_stmt *st = store_pg_prepare_once(q->s, sql);

	st->drv->bind_int64(st, 1, q->account_id);
	st->drv->bind_text(st, 2, words, false);
	return st;
}

#define PG_FROM                                                                \
	"FROM items i LEFT JOIN search_docs d ON d.item_id = i.id "            \
	"WHERE i.account_id = ?1 AND i.cls = 1 AND i.deleted = 0 AND "

enum store_error
store_search_pg_mail(struct store *s, struct arena *a, int64_t account_id,
		     const struct store_search_cond *cond, size_t offset,
		     size_t max, bool with_data, struct store_item **items_r,
		     size_t *count_r, int64_t *total_r)
{
	struct pg_query q;
	struct store_item *list = NULL;
	struct store_stmt *st;
	enum store_error e;
	const char *sql, *where, *words;
	size_t n = 0;
	bool own;

	*items_r = NULL;
	*count_r = 0;
	*total_r = 0;
	if (max > PG_RESULTS_MAX)
		max = PG_RESULTS_MAX;
	memset(&q, 0, sizeof(q));
	q.s = s;
	q.a = a;
	q.account_id = account_id;
	buf_init(&q.sql, 0);
	buf_init(&q.words, 0);
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		goto out_buf;
	e = pg_compile(&q, cond);
	if (e != STORE_OK)
		goto out;
	where = arena_strndup(a, (const char *)q.sql.data, q.sql.len);
	words = arena_printf(a, "{%.*s}", (int)q.words.len,
			     q.words.len > 0 ? (const char *)q.words.data : "");

	/* A condition on the index alone (words, folders, ConversationId,
	 * as a FreeText search is) is counted there: it holds the live mail
	 * of the account, and the join to items would double the cost of a
	 * common word. */
	if (q.uses_doc && !q.uses_item)
		sql = arena_printf(a,
				   "SELECT count(*) FROM search_docs d WHERE "
				   "d.account_id = ?1 AND %s",
				   where);
	else
		sql = arena_printf(a, "SELECT count(*) " PG_FROM "%s", where);
	st = pg_query_stmt(&q, sql, words);
	e = store_row(s, st);
	if (e == STORE_OK)
		*total_r = store_col_int64(st, 0);
	st->drv->finalize(st);
	if (e != STORE_OK || max == 0 || offset >= (size_t)*total_r)
		goto out;

	sql = arena_printf(a,
			   "SELECT " STORE_ITEM_COLS ", f.server_id FROM "
			   "items i JOIN folders f ON f.id = i.folder_id "
			   "LEFT JOIN search_docs d ON d.item_id = i.id "
			   "WHERE i.account_id = ?1 AND i.cls = 1 AND "
			   "i.deleted = 0 AND %s "
			   "ORDER BY i.date DESC, i.id DESC LIMIT %zu OFFSET "
			   "%zu",
			   where, max, offset);
	st = pg_query_stmt(&q, sql, words);
	list = arena_alloc(a, max * sizeof(*list));
	while (n < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, with_data, &list[n++]);
	st->drv->finalize(st);
out:
	store_rend(s, own);
out_buf:
	buf_deinit(&q.sql);
	buf_deinit(&q.words);
	if (e != STORE_OK)
		return e;
	*items_r = list;
	*count_r = n;
	return STORE_OK;
}

/* --- the address list --- */

/* The columns of store_gal_row, named for the order of a page (by name,
 * then address, as gal.c's). */
#define PG_GAL_ACCOUNT                                                         \
	"SELECT a.id AS aid, 0::int8 AS eid, a.display_name AS dn, "           \
	"p.first_name, p.last_name, a.email COLLATE \"default\" AS em, "       \
	"a.login COLLATE \"default\", p.phone, p.mobile, p.home_phone, "       \
	"p.office, p.title, p.company, p.department, "                         \
	"CASE WHEN ?2 THEN p.photo END, NULL::text FROM accounts a "           \
	"LEFT JOIN account_props p ON p.account_id = a.id "                    \
	"JOIN m ON m.id = a.id WHERE a.enabled = 1 "
#define PG_GAL_ENTRY                                                           \
	"SELECT 0, e.id, e.display_name, e.first_name, e.last_name, "          \
	"e.email COLLATE \"default\", e.alias, e.phone, e.mobile, "            \
	"e.home_phone, e.office, e.title, e.company, e.department, "           \
	"CASE WHEN ?2 THEN e.photo END, e.uid FROM gal_entries e "             \
	"JOIN m ON m.id = -e.id "

enum store_error
store_gal_pg_search(struct store *s, struct arena *a, const char *query,
		    size_t offset, size_t max, bool with_photo,
		    struct store_gal_entry **list_r, size_t *count_r,
		    int64_t *total_r)
{
	static const char sql_count[] =
		"SELECT count(*) FROM gal_docs g WHERE g.doc @@ "
		"easd_words(?1, true) AND (g.id < 0 OR EXISTS (SELECT 1 FROM "
		"accounts a WHERE a.id = g.id AND a.enabled = 1))";
	static const char sql[] =
		"WITH m(id) AS (SELECT id FROM gal_docs WHERE doc @@ "
		"easd_words(?1, true)) SELECT * FROM (" PG_GAL_ACCOUNT
		"UNION ALL " PG_GAL_ENTRY
		") AS u ORDER BY u.dn COLLATE nocase, u.em COLLATE nocase, "
		"u.aid, u.eid LIMIT ?3 OFFSET ?4";
	struct store_gal_entry *list = NULL;
	enum store_error e;
	struct store_stmt *st;
	const char *words;
	size_t n = 0;
	bool own;

	*list_r = NULL;
	*count_r = 0;
	*total_r = 0;
	if (store_search_words(a, query, &words) <= 0)
		return STORE_INVALID;
	words = pg_text(a, words, STORE_SEARCH_TEXT_MAX * 4);
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_fetch_int64(s, total_r, sql_count, "t", words);
	if (e != STORE_OK || max == 0 || offset >= (size_t)*total_r)
		goto out;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, sql, "tiII", words, with_photo ? 1 : 0,
			 (int64_t)max, (int64_t)offset);
	while (n < max && store_next(s, st, &e))
		store_gal_row(a, st, &list[n++]);
	store_done(st);
out:
	store_rend(s, own);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = n;
	return STORE_OK;
}
