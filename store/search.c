/* Mailbox search: the FTS5 index of live mail (kept in the transaction of
 * every item change), the quoting that keeps user input out of FTS5 query
 * syntax, the compiler of EAS query trees to SQL, and the queue of items
 * still to be indexed.
 *
 * Tokenizer: unicode61 with remove_diacritics 2, one table. It folds case
 * and accents in every script it knows: German umlauts are diacritics, so
 * "Müller", "muller" and "MÜLLER" are one word (ß stays ß, and "Mueller"
 * is another word, as in any mail client). Chinese and Japanese
 * write words without spaces, which unicode61 would index as one token per
 * run of ideographs (a whole sentence). We do not use the trigram
 * tokenizer (SQLite 3.40 has it) because it cannot match a query shorter
 * than three characters, and most Chinese words are two (会议, 邮件); nor a
 * second trigram table, which would double the index and the cost of
 * every delivery for the same gap. Instead the store spaces every CJK
 * character apart before indexing (store_search_segment), so each
 * ideograph is a token, and a query's run of them becomes a quoted phrase:
 * adjacency makes "会议" match exactly that word, of any length from one
 * character up. Hangul is split the same way, because Korean particles
 * stick to the word they follow. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store-int.h"
#include "util.h"

/* The schema version that has the index (a file opened at an older one,
 * by the testing aid, has none to keep). */
#define SEARCH_SCHEMA 5
#define SEARCH_COLS_FILTER "{subject addrs body atts}"
#define SEARCH_MAX_RESULTS 1000
#define SEARCH_LIST_MAX 10000

/* --- text: segmentation and quoting --- */

/* The code point at p (UTF-8, len bytes left) and its length; invalid
 * bytes are taken one at a time as themselves. */
static unsigned
utf8_next(const unsigned char *p, size_t len, size_t *n_r)
{
	unsigned c = p[0];

	if (c >= 0xf0 && len >= 4 && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
		*n_r = 4;
		return (c & 0x07) << 18 | (p[1] & 0x3fu) << 12 |
		       (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
	}
	if (c >= 0xe0 && len >= 3 && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80) {
		*n_r = 3;
		return (c & 0x0f) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu);
	}
	if (c >= 0xc0 && len >= 2 && (p[1] & 0xc0) == 0x80) {
		*n_r = 2;
		return (c & 0x1f) << 6 | (p[1] & 0x3fu);
	}
	*n_r = 1;
	return c;
}

/* Scripts written without spaces between words (and Hangul, whose
 * particles attach to words): indexed one character per token. */
static bool
is_cjk(unsigned c)
{
	return (c >= 0x3040 && c <= 0x30ff) || /* Hiragana, Katakana */
	       (c >= 0x3100 && c <= 0x312f) || /* Bopomofo */
	       (c >= 0x3400 && c <= 0x4dbf) || /* CJK Extension A */
	       (c >= 0x4e00 && c <= 0x9fff) || /* CJK Unified */
	       (c >= 0xac00 && c <= 0xd7af) || /* Hangul syllables */
	       (c >= 0xf900 && c <= 0xfaff) || /* CJK Compatibility */
	       (c >= 0x20000 && c <= 0x3134f); /* Extensions B.. */
}

/* Whether text needs segmenting at all: every CJK character starts with a
 * byte of 0xe3 or more. */
static bool
maybe_cjk(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] >= 0xe3)
			return true;
	}
	return false;
}

static void
segment_into(struct buf *b, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		unsigned c = utf8_next(p + i, len - i, &n);

		if (is_cjk(c)) {
			buf_putc(b, ' ');
			buf_append(b, p + i, n);
			buf_putc(b, ' ');
		} else {
			buf_append(b, p + i, n);
		}
		i += n;
	}
}

const char *
store_search_segment(struct arena *a, const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;
	struct buf b;
	const char *r;

	if (!maybe_cjk(text != NULL ? text : "", len))
		return text;
	buf_init(&b, 0);
	segment_into(&b, text, len);
	r = arena_strndup(a, b.len > 0 ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

/* Whether a word has anything a tokenizer would keep: a letter or digit
 * (any non-ASCII character counts; unicode61 decides). */
static bool
word_searchable(const char *w, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c >= 0x80 || (c >= '0' && c <= '9') ||
		    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			return true;
	}
	return false;
}

static bool
is_space(const char *p, size_t left, size_t *n_r)
{
	unsigned char c = (unsigned char)*p;

	*n_r = 1;
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v')
		return true;
	/* U+3000 IDEOGRAPHIC SPACE separates words in CJK input */
	if (c == 0xe3 && left >= 3 && (unsigned char)p[1] == 0x80 &&
	    (unsigned char)p[2] == 0x80) {
		*n_r = 3;
		return true;
	}
	return false;
}

int
store_search_fts_query(struct arena *a, const char *text, bool prefix,
		       const char **query_r)
{
	size_t len = text != NULL ? strlen(text) : 0, i = 0, n;
	struct buf b, seg;
	int words = 0, seen = 0;

	*query_r = NULL;
	if (len > STORE_SEARCH_TEXT_MAX)
		return -1;
	buf_init(&b, 0);
	buf_init(&seg, 0);
	while (i < len) {
		size_t start;

		while (i < len && is_space(text + i, len - i, &n))
			i += n;
		start = i;
		while (i < len && !is_space(text + i, len - i, &n))
			i += n;
		if (i == start)
			break;
		if (++seen > STORE_SEARCH_WORDS_MAX) {
			buf_deinit(&b);
			buf_deinit(&seg);
			return -1;
		}
		if (!word_searchable(text + start, i - start))
			continue;
		seg.len = 0;
		segment_into(&seg, text + start, i - start);
		if (words > 0)
			buf_putc(&b, ' ');
		/* An FTS5 string: the tokenizer splits it into a phrase, and
		 * nothing inside (", *, NEAR, AND, parentheses, -, :) is
		 * syntax once every " is doubled. */
		buf_putc(&b, '"');
		for (size_t k = 0; k < seg.len; k++) {
			if (seg.data[k] == '"')
				buf_putc(&b, '"');
			buf_putc(&b, seg.data[k]);
		}
		buf_putc(&b, '"');
		if (prefix)
			buf_puts(&b, " *");
		words++;
	}
	if (words > 0)
		*query_r = arena_strndup(a, (const char *)b.data, b.len);
	buf_deinit(&b);
	buf_deinit(&seg);
	return words;
}

/* --- keeping the index current (called by item.c) --- */

/* At most max bytes of s, cut at a UTF-8 boundary, segmented. */
static const char *
index_text(struct arena *a, const char *s, size_t max)
{
	size_t len;

	if (s == NULL)
		return "";
	len = strlen(s);
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		s = arena_strndup(a, s, len);
	}
	return store_search_segment(a, s);
}

static enum store_error
fts_insert(struct store *s, int64_t item_id, const struct store_item_text *t)
{
	static const char sql[] = "INSERT INTO search_fts(rowid, subject, "
				  "addrs, body, atts, conv) "
				  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	struct arena *a = arena_new(4096);
	enum store_error e;

	e = store_execute(s, sql, "Ittttt", item_id,
			  index_text(a, t->subject, STORE_SEARCH_TEXT_MAX * 16),
			  index_text(a, t->addresses, STORE_SEARCH_BODY_MAX),
			  index_text(a, t->body, STORE_SEARCH_BODY_MAX),
			  index_text(a, t->attachments, STORE_SEARCH_BODY_MAX),
			  t->conversation != NULL ? t->conversation : "");
	arena_free(&a);
	return e;
}

static enum store_error
queue_item(struct store *s, int64_t item_id)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO search_pending (item_id) VALUES (?1)";

	return store_execute(s, sql, "I", item_id);
}

enum store_error
store_search_added(struct store *s, const struct store_item *item,
		   const struct store_item_text *text)
{
	if (item->cls != STORE_CLASS_EMAIL || s->schema < SEARCH_SCHEMA)
		return STORE_OK;
	if (text == NULL)
		return queue_item(s, item->id);
	return fts_insert(s, item->id, text);
}

enum store_error
store_search_replaced(struct store *s, int64_t item_id,
		      const struct store_item *item)
{
	static const char sql[] = "DELETE FROM search_fts WHERE rowid = ?1";
	static const char sql_cls[] = "SELECT cls FROM items WHERE id = ?1";
	enum store_error e;
	int64_t cls = item->cls;

	if (s->schema < SEARCH_SCHEMA)
		return STORE_OK;
	if (cls == STORE_CLASS_NONE &&
	    (e = store_fetch_int64(s, &cls, sql_cls, "I", item_id)) != STORE_OK)
		return e;
	if (cls != STORE_CLASS_EMAIL)
		return STORE_OK;
	e = store_execute(s, sql, "I", item_id);
	if (e != STORE_OK)
		return e;
	return queue_item(s, item_id);
}

enum store_error
store_search_moved(struct store *s, int64_t old_id, int64_t new_id)
{
	/* The row moves with the item: no text to extract again. */
	static const char sql_copy[] =
		"INSERT INTO search_fts(rowid, subject, addrs, body, atts, "
		"conv) "
		"SELECT ?2, subject, addrs, body, atts, conv FROM search_fts "
		"WHERE rowid = ?1";
	static const char sql_unqueue[] =
		"DELETE FROM search_pending WHERE item_id = ?1";
	enum store_error e;

	if (s->schema < SEARCH_SCHEMA)
		return STORE_OK;
	e = store_execute(s, sql_copy, "II", old_id, new_id);
	if (e == STORE_OK && store_changes(s) > 0)
		e = store_execute(s, sql_unqueue, "I", new_id);
	return e;
}

/* --- the queue --- */

#define SEARCH_ITEM_SELECT                                                     \
	"SELECT " STORE_ITEM_COLS ", f.server_id FROM items i "                \
	"JOIN folders f ON f.id = i.folder_id "

enum store_error
store_search_pending(struct store *s, struct arena *a, int64_t account_id,
		     size_t max, struct store_item **items_r, size_t *count_r)
{
	static const char sql[] = SEARCH_ITEM_SELECT
		"JOIN search_pending p ON p.item_id = i.id "
		"WHERE (?1 = 0 OR i.account_id = ?1) AND i.deleted = 0 "
		"ORDER BY p.item_id LIMIT ?2";
	enum store_error e = STORE_OK;
	struct store_item *list;
	sqlite3_stmt *st;
	size_t n = 0;

	*items_r = NULL;
	*count_r = 0;
	if (max > SEARCH_LIST_MAX)
		max = SEARCH_LIST_MAX;
	if (max == 0)
		return STORE_OK;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, sql, "II", account_id, (int64_t)max);
	while (n < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, true, &list[n++]);
	store_done(st);
	if (e != STORE_OK)
		return e;
	*items_r = list;
	*count_r = n;
	return STORE_OK;
}

enum store_error
store_search_pending_count(struct store *s, int64_t account_id,
			   int64_t *count_r)
{
	static const char sql_all[] = "SELECT count(*) FROM search_pending";
	static const char sql[] =
		"SELECT count(*) FROM search_pending p JOIN items i ON "
		"i.id = p.item_id WHERE i.account_id = ?1";

	*count_r = 0;
	if (account_id == 0)
		return store_fetch_int64(s, count_r, sql_all, "");
	return store_fetch_int64(s, count_r, sql, "I", account_id);
}

enum store_error
store_search_index(struct store *s, int64_t account_id, int64_t item_id,
		   const struct store_item_text *text)
{
	static const char sql_live[] =
		"SELECT 1 FROM items WHERE id = ?1 AND account_id = ?2 AND "
		"deleted = 0 AND cls = 1";
	static const char sql_del[] = "DELETE FROM search_fts WHERE rowid = ?1";
	static const char sql_unqueue[] =
		"DELETE FROM search_pending WHERE item_id = ?1";
	enum store_error e;
	int64_t one;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_fetch_int64(s, &one, sql_live, "II", item_id, account_id);
	if (e == STORE_NOTFOUND) {
		/* not ours to index (any more): off the queue all the same */
		enum store_error e2 =
			store_execute(s, sql_unqueue, "I", item_id);

		if (e2 != STORE_OK)
			e = e2;
		else if (own) {
			store_wend(s, own, STORE_OK);
			return STORE_NOTFOUND;
		}
		goto out;
	}
	if (e == STORE_OK)
		e = store_execute(s, sql_del, "I", item_id);
	if (e == STORE_OK)
		e = fts_insert(s, item_id, text);
	if (e == STORE_OK)
		e = store_execute(s, sql_unqueue, "I", item_id);
out:
	return store_wend(s, own, e);
}

enum store_error
store_search_requeue(struct store *s, int64_t account_id, int64_t *queued_r)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO search_pending (item_id) SELECT id FROM "
		"items WHERE cls = 1 AND deleted = 0 AND "
		"(?1 = 0 OR account_id = ?1)";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "I", account_id);
	if (queued_r != NULL)
		*queued_r = e == STORE_OK ? store_changes(s) : 0;
	return store_wend(s, own, e);
}

/* --- queries --- */

struct sq_bind {
	bool is_text;
	const char *text;
	int64_t value;
};

struct sq_compiler {
	struct store *s;
	struct arena *a;
	int64_t account_id;
	struct buf sql;
	struct sq_bind binds[STORE_SEARCH_NODES_MAX + 4];
	int nbinds;
	int nodes;
	/* the account's folders, for DeepTraversal */
	struct store_folder *folders;
	size_t nfolders;
	bool folders_loaded;
};

static int
sq_bind_int(struct sq_compiler *c, int64_t v)
{
	c->binds[c->nbinds].is_text = false;
	c->binds[c->nbinds].value = v;
	return ++c->nbinds;
}

static int
sq_bind_text(struct sq_compiler *c, const char *t)
{
	c->binds[c->nbinds].is_text = true;
	c->binds[c->nbinds].text = t;
	return ++c->nbinds;
}

/* The folder and, when deep, every live folder below it, as a list of
 * row ids in the SQL text (integers we hold, never user text). */
static enum store_error
sq_folder(struct sq_compiler *c, int64_t folder_id, bool deep)
{
	int64_t *stack;
	size_t sp = 0, cap;
	bool first = true;
	enum store_error e;

	if (!deep) {
		buf_printf(&c->sql, "i.folder_id = ?%d",
			   sq_bind_int(c, folder_id));
		return STORE_OK;
	}
	if (!c->folders_loaded) {
		e = store_folder_list(c->s, c->a, c->account_id, &c->folders,
				      &c->nfolders);
		if (e != STORE_OK)
			return e;
		c->folders_loaded = true;
	}
	cap = c->nfolders + 1;
	stack = arena_alloc(c->a, cap * sizeof(*stack));
	stack[sp++] = folder_id;
	buf_puts(&c->sql, "i.folder_id IN (");
	while (sp > 0) {
		int64_t id = stack[--sp];

		buf_printf(&c->sql, "%s%lld", first ? "" : ",", (long long)id);
		first = false;
		for (size_t i = 0; i < c->nfolders && sp < cap; i++) {
			if (c->folders[i].parent_id == id &&
			    !c->folders[i].deleted && c->folders[i].id != id)
				stack[sp++] = c->folders[i].id;
		}
	}
	buf_putc(&c->sql, ')');
	return STORE_OK;
}

static enum store_error
sq_compile(struct sq_compiler *c, const struct store_search_cond *n, int depth)
{
	const struct store_search_cond *k;
	const char *q;
	enum store_error e;
	bool first = true;
	int w;

	if (++c->nodes > STORE_SEARCH_NODES_MAX ||
	    depth > STORE_SEARCH_DEPTH_MAX)
		return STORE_INVALID;
	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		if (n->child == NULL) {
			buf_puts(&c->sql,
				 n->kind == STORE_SEARCH_AND ? "1" : "0");
			return STORE_OK;
		}
		buf_putc(&c->sql, '(');
		for (k = n->child; k != NULL; k = k->next) {
			if (!first)
				buf_puts(&c->sql, n->kind == STORE_SEARCH_AND
							  ? " AND "
							  : " OR ");
			first = false;
			e = sq_compile(c, k, depth + 1);
			if (e != STORE_OK)
				return e;
		}
		buf_putc(&c->sql, ')');
		return STORE_OK;
	case STORE_SEARCH_TEXT:
		w = store_search_fts_query(c->a, n->text, false, &q);
		if (w <= 0)
			return STORE_INVALID;
		q = arena_printf(c->a, SEARCH_COLS_FILTER " : (%s)", q);
		buf_printf(&c->sql,
			   "i.id IN (SELECT rowid FROM search_fts WHERE "
			   "search_fts MATCH ?%d)",
			   sq_bind_text(c, q));
		return STORE_OK;
	case STORE_SEARCH_CONVERSATION:
		w = store_search_fts_query(c->a, n->text, false, &q);
		if (w != 1)
			return STORE_INVALID;
		q = arena_printf(c->a, "conv : %s", q);
		buf_printf(&c->sql,
			   "i.id IN (SELECT rowid FROM search_fts WHERE "
			   "search_fts MATCH ?%d)",
			   sq_bind_text(c, q));
		return STORE_OK;
	case STORE_SEARCH_FOLDER:
		return sq_folder(c, n->value, n->deep);
	case STORE_SEARCH_AFTER:
		buf_printf(&c->sql, "i.date > ?%d", sq_bind_int(c, n->value));
		return STORE_OK;
	case STORE_SEARCH_BEFORE:
		buf_printf(&c->sql, "i.date < ?%d", sq_bind_int(c, n->value));
		return STORE_OK;
	case STORE_SEARCH_NOTHING:
		buf_puts(&c->sql, "0");
		return STORE_OK;
	}
	return STORE_INVALID;
}

/* Prepare a statement of our own (the SQL is built per query, so it is
 * not one of the cached ones), bind, and hand it back. */
static sqlite3_stmt *
sq_prepare(struct sq_compiler *c, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		log_error("store: search query does not prepare: %s",
			  sqlite3_errmsg(c->s->db));
		return NULL;
	}
	for (int i = 0; i < c->nbinds; i++) {
		if (c->binds[i].is_text)
			sqlite3_bind_text(st, i + 1, c->binds[i].text, -1,
					  SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, i + 1, c->binds[i].value);
	}
	return st;
}

enum store_error
store_search_mail(struct store *s, struct arena *a, int64_t account_id,
		  const struct store_search_cond *cond, size_t offset,
		  size_t max, bool with_data, struct store_item **items_r,
		  size_t *count_r, int64_t *total_r)
{
	struct sq_compiler c;
	struct store_item *list = NULL;
	enum store_error e;
	sqlite3_stmt *st = NULL;
	const char *where, *sql;
	int acc, lim, off;
	size_t n = 0;
	bool own;

	*items_r = NULL;
	*count_r = 0;
	*total_r = 0;
	if (max > SEARCH_MAX_RESULTS)
		max = SEARCH_MAX_RESULTS;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.a = a;
	c.account_id = account_id;
	buf_init(&c.sql, 0);
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		goto out_buf;
	acc = sq_bind_int(&c, account_id);
	buf_printf(&c.sql,
		   "i.account_id = ?%d AND i.cls = 1 AND i.deleted = 0 AND ",
		   acc);
	e = sq_compile(&c, cond, 0);
	if (e != STORE_OK)
		goto out;
	where = arena_strndup(a, (const char *)c.sql.data, c.sql.len);

	sql = arena_printf(a, "SELECT count(*) FROM items i WHERE %s", where);
	st = sq_prepare(&c, sql);
	if (st == NULL) {
		e = STORE_INTERNAL;
		goto out;
	}
	e = store_row(s, st);
	if (e == STORE_OK)
		*total_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (e != STORE_OK || max == 0 || offset >= (size_t)*total_r)
		goto out;

	lim = sq_bind_int(&c, (int64_t)max);
	off = sq_bind_int(&c, (int64_t)offset);
	sql = arena_printf(a,
			   SEARCH_ITEM_SELECT "WHERE %s ORDER BY i.date DESC, "
					      "i.id DESC LIMIT ?%d OFFSET ?%d",
			   where, lim, off);
	st = sq_prepare(&c, sql);
	if (st == NULL) {
		e = STORE_INTERNAL;
		goto out;
	}
	list = arena_alloc(a, max * sizeof(*list));
	while (n < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, with_data, &list[n++]);
	sqlite3_finalize(st);
out:
	store_rend(s, own);
out_buf:
	buf_deinit(&c.sql);
	if (e != STORE_OK)
		return e;
	*items_r = list;
	*count_r = n;
	return STORE_OK;
}

/* --- items for free/busy and ResolveRecipients --- */

enum store_error
store_item_list_range(struct store *s, struct arena *a, int64_t account_id,
		      enum store_class cls, int64_t from, int64_t to,
		      size_t max, struct store_item **list_r, size_t *count_r,
		      bool *more_r)
{
	static const char sql[] = SEARCH_ITEM_SELECT
		"WHERE i.account_id = ?1 AND i.cls = ?2 AND i.deleted = 0 AND "
		"f.deleted = 0 AND i.date < ?4 AND i.date_end > ?3 "
		"ORDER BY i.date, i.id LIMIT ?5";
	enum store_error e = STORE_OK;
	struct store_item *list;
	sqlite3_stmt *st;
	size_t n = 0;

	*list_r = NULL;
	*count_r = 0;
	*more_r = false;
	if (max > SEARCH_LIST_MAX)
		max = SEARCH_LIST_MAX;
	if (max == 0)
		return STORE_OK;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, sql, "IiIII", account_id, (int)cls, from, to,
			 (int64_t)max + 1);
	while (store_next(s, st, &e)) {
		if (n == max) {
			*more_r = true;
			break;
		}
		store_item_row(a, st, NULL, true, &list[n++]);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = n;
	return STORE_OK;
}

enum store_error
store_item_find_text(struct store *s, struct arena *a, int64_t account_id,
		     enum store_class cls, const char *text, size_t max,
		     struct store_item **list_r, size_t *count_r)
{
	static const char sql[] = SEARCH_ITEM_SELECT
		"WHERE i.account_id = ?1 AND i.cls = ?2 AND i.deleted = 0 AND "
		"(instr(lower(i.subject), lower(?3)) > 0 OR "
		"instr(lower(CAST(i.data AS TEXT)), lower(?3)) > 0) "
		"ORDER BY i.id LIMIT ?4";
	enum store_error e = STORE_OK;
	struct store_item *list;
	sqlite3_stmt *st;
	size_t n = 0;

	*list_r = NULL;
	*count_r = 0;
	if (text == NULL || text[0] == '\0' ||
	    strlen(text) > STORE_SEARCH_TEXT_MAX)
		return STORE_INVALID;
	if (max > SEARCH_LIST_MAX)
		max = SEARCH_LIST_MAX;
	if (max == 0)
		return STORE_OK;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, sql, "IitI", account_id, (int)cls, text,
			 (int64_t)max);
	while (n < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, true, &list[n++]);
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = n;
	return STORE_OK;
}
