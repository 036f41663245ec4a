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
 * stick to the word they follow.
 *
 * A row's rowid is the account's id above bit 40 and the item's below
 * (SEARCH_KEY), so a query is narrowed to one account by a rowid range,
 * which FTS5 seeks to, instead of an AND with a token that every message
 * of the account carries (that doubled the cost of a common word).
 *
 * The tokens the store makes itself (the ConversationId, the folder in
 * the scope column) start with U+E000, a private-use character unicode61
 * keeps inside a token; it is taken out of every text indexed and every
 * word searched for, so no word a user writes or receives can ever be one
 * of them. That spares the queries FTS5 column filters, which cost as
 * much again as the words (FTS5 reads the positions to find the column). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store-sqlite.h"
#include "util.h"

/* The schema version that has the index as this file writes it (a file
 * opened at an older one, by the testing aid, has none to keep). */
#define SEARCH_SCHEMA 10
/* The rowid of an item's row in search_fts; the same formula is in the
 * triggers of the schema (store.c). Ids past these bits are not indexed. */
#define SEARCH_ACCOUNT_SHIFT 40
#define SEARCH_KEY(account, item)                                              \
	((int64_t)(account) * ((int64_t)1 << SEARCH_ACCOUNT_SHIFT) + (item))
#define SEARCH_KEY_OK(account, item)                                           \
	((account) > 0 && (account) < ((int64_t)1 << 22) && (item) > 0 &&      \
	 (item) < ((int64_t)1 << SEARCH_ACCOUNT_SHIFT))
/* U+E000 in UTF-8: the first character of the store's own tokens. */
#define SEARCH_MARK "\xee\x80\x80"
#define SEARCH_MARK_CP 0xe000
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

/* Whether text needs segmenting at all: every CJK character (and the
 * mark) starts with a byte of 0xe3 or more. */
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
		} else if (c == SEARCH_MARK_CP) {
			buf_putc(b, ' '); /* never in a text's own tokens */
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

/* The words of text as an FTS5 query, or (pg) as store_search_words
 * has them. */
static int
search_words(struct arena *a, const char *text, bool pg, bool prefix,
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
		if (pg) {
			/* SQL's easd_words takes it apart (driver-pg.c) */
			buf_append(&b, seg.data, seg.len);
			buf_putc(&b, '\n');
			words++;
			continue;
		}
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

int
store_search_fts_query(struct arena *a, const char *text, bool prefix,
		       const char **query_r)
{
	return search_words(a, text, false, prefix, query_r);
}

int
store_search_words(struct arena *a, const char *text, const char **words_r)
{
	return search_words(a, text, true, false, words_r);
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

/* The scope column: the folder as a token of the store's own, so a query
 * is narrowed to folders inside FTS5. */
static const char *
fts_scope(struct arena *a, int64_t folder_id)
{
	return arena_printf(a, SEARCH_MARK "f%lld", (long long)folder_id);
}

/* The ConversationId (hex) as a token of the store's own. */
static const char *
fts_conv(struct arena *a, const char *hex)
{
	return hex != NULL && hex[0] != '\0'
		       ? arena_printf(a, SEARCH_MARK "%s", hex)
		       : "";
}

static enum store_error
fts_insert(struct store *s, int64_t item_id, int64_t account_id,
	   int64_t folder_id, const struct store_item_text *t)
{
	static const char sql[] = "INSERT INTO search_fts(rowid, subject, "
				  "addrs, body, atts, conv, scope) "
				  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	struct arena *a;
	enum store_error e;

	if (!SEARCH_KEY_OK(account_id, item_id)) {
		log_warn("store: item %lld of account %lld is past the search "
			 "index's ids",
			 (long long)item_id, (long long)account_id);
		return STORE_OK;
	}
	a = arena_new(4096);
	e = store_execute(s, sql, "Itttttt", SEARCH_KEY(account_id, item_id),
			  index_text(a, t->subject, STORE_SEARCH_TEXT_MAX * 16),
			  index_text(a, t->addresses, STORE_SEARCH_BODY_MAX),
			  index_text(a, t->body, STORE_SEARCH_BODY_MAX),
			  index_text(a, t->attachments, STORE_SEARCH_BODY_MAX),
			  fts_conv(a, t->conversation),
			  fts_scope(a, folder_id));
	arena_free(&a);
	return e;
}

/* Off only in the benchmark's reference server (store_search_set_indexing):
 * set before any thread opens the store, read only after. */
static bool search_indexing = true;

void
store_search_set_indexing(bool on)
{
	search_indexing = on;
}

bool
store_search_available(struct store *s)
{
	(void)s;
	return true; /* FTS5, or PostgreSQL's own (search-pg.c) */
}

/* Into the queue, and a word to the indexer (after the commit). */
static enum store_error
queue_item(struct store *s, int64_t account_id, int64_t item_id)
{
	static const char sql[] = "INSERT INTO search_pending (item_id) "
				  "VALUES (?1) ON CONFLICT DO NOTHING";
	enum store_error e = store_execute(s, sql, "I", item_id);

	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_SEARCH, account_id, 0);
	return e;
}

enum store_error
store_search_added(struct store *s, const struct store_item *item,
		   const struct store_item_text *text)
{
	if (item->cls != STORE_CLASS_EMAIL || s->schema < SEARCH_SCHEMA ||
	    !search_indexing)
		return STORE_OK;
	if (text == NULL)
		return queue_item(s, item->account_id, item->id);
	if (s->drv != &store_driver_sqlite)
		return store_search_pg_put(s, item->id, item->account_id,
					   item->folder_id, text);
	return fts_insert(s, item->id, item->account_id, item->folder_id, text);
}

enum store_error
store_search_replaced(struct store *s, int64_t account_id, int64_t item_id,
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
	if (s->drv != &store_driver_sqlite)
		e = store_search_pg_drop(s, item_id);
	else
		e = store_execute(s, sql, "I", SEARCH_KEY(account_id, item_id));
	if (e != STORE_OK)
		return e;
	if (!search_indexing)
		return STORE_OK;
	return queue_item(s, account_id, item_id);
}

enum store_error
store_search_moved(struct store *s, int64_t old_id,
		   const struct store_item *moved)
{
	/* The row moves with the item (its scope names the new folder): no
	 * text to extract again. */
	static const char sql_copy[] =
		"INSERT INTO search_fts(rowid, subject, addrs, body, atts, "
		"conv, scope) "
		"SELECT ?2, subject, addrs, body, atts, conv, ?3 FROM "
		"search_fts WHERE rowid = ?1";
	static const char sql_unqueue[] =
		"DELETE FROM search_pending WHERE item_id = ?1";
	struct arena *a;
	enum store_error e;

	if (s->schema < SEARCH_SCHEMA)
		return STORE_OK;
	if (s->drv != &store_driver_sqlite) {
		if (moved->cls != STORE_CLASS_EMAIL)
			return STORE_OK;
		e = store_search_pg_move(s, old_id, moved);
		if (e == STORE_OK)
			return store_execute(s, sql_unqueue, "I", moved->id);
		/* not indexed yet: the new id waits in its place */
		return e == STORE_NOTFOUND && search_indexing
			       ? queue_item(s, moved->account_id, moved->id)
		       : e == STORE_NOTFOUND ? STORE_OK
					     : e;
	}
	a = arena_new(256);
	e = store_execute(s, sql_copy, "IIt",
			  SEARCH_KEY(moved->account_id, old_id),
			  SEARCH_KEY(moved->account_id, moved->id),
			  fts_scope(a, moved->folder_id));
	arena_free(&a);
	if (e == STORE_OK && store_changes(s) > 0)
		e = store_execute(s, sql_unqueue, "I", moved->id);
	return e;
}

/* --- the queue --- */

#define SEARCH_ITEM_SELECT                                                     \
	"SELECT " STORE_ITEM_COLS ", f.server_id FROM items i "                \
	"JOIN folders f ON f.id = i.folder_id "

enum store_error
store_search_pending(struct store *s, struct arena *a, int64_t account_id,
		     size_t max, size_t max_bytes, bool newest_first,
		     struct store_item **items_r, size_t *count_r)
{
	static const char sql_old[] = SEARCH_ITEM_SELECT
		"JOIN search_pending p ON p.item_id = i.id "
		"WHERE (?1 = 0 OR i.account_id = ?1) AND i.deleted = 0 "
		"ORDER BY p.item_id LIMIT ?2";
	static const char sql_new[] = SEARCH_ITEM_SELECT
		"JOIN search_pending p ON p.item_id = i.id "
		"WHERE (?1 = 0 OR i.account_id = ?1) AND i.deleted = 0 "
		"ORDER BY p.item_id DESC LIMIT ?2";
	enum store_error e = STORE_OK;
	struct store_item *list;
	struct store_stmt *st;
	size_t n = 0, bytes = 0;

	*items_r = NULL;
	*count_r = 0;
	if (max > SEARCH_LIST_MAX)
		max = SEARCH_LIST_MAX;
	if (max == 0)
		return STORE_OK;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, newest_first ? sql_new : sql_old, "II", account_id,
			 (int64_t)max);
	while (n < max && (max_bytes == 0 || bytes < max_bytes) &&
	       store_next(s, st, &e)) {
		store_item_row(a, st, NULL, true, &list[n]);
		bytes += list[n++].data_len;
	}
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
		   int64_t modseq, const struct store_item_text *text)
{
	static const char sql_live[] =
		"SELECT folder_id, modseq FROM items WHERE id = ?1 AND "
		"account_id = ?2 AND deleted = 0 AND cls = 1";
	static const char sql_del[] = "DELETE FROM search_fts WHERE rowid = ?1";
	static const char sql_unqueue[] =
		"DELETE FROM search_pending WHERE item_id = ?1";
	int64_t folder_id = 0, now = 0;
	enum store_error e;
	struct store_stmt *st;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	st = store_query(s, sql_live, "II", item_id, account_id);
	e = store_row(s, st);
	if (e == STORE_OK) {
		folder_id = store_col_int64(st, 0);
		now = store_col_int64(st, 1);
	}
	store_done(st);
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
	/* changed since the text was taken: it stays queued (an update
	 * queued it again) for the next pass */
	if (e == STORE_OK && modseq != 0 && now != modseq)
		e = STORE_CONFLICT;
	if (e == STORE_OK && s->drv != &store_driver_sqlite) {
		e = store_search_pg_put(s, item_id, account_id, folder_id,
					text);
	} else if (e == STORE_OK) {
		e = store_execute(s, sql_del, "I",
				  SEARCH_KEY(account_id, item_id));
		if (e == STORE_OK)
			e = fts_insert(s, item_id, account_id, folder_id, text);
	}
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
	static const char sql_pg[] =
		"INSERT INTO search_pending (item_id) SELECT id FROM items "
		"WHERE cls = 1 AND deleted = 0 AND (?1 = 0 OR account_id = ?1) "
		"ON CONFLICT DO NOTHING";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, STORE_SQL(s, sql, sql_pg), "I", account_id);
	if (queued_r != NULL)
		*queued_r = e == STORE_OK ? store_changes(s) : 0;
	return store_wend(s, own, e);
}

/* --- queries ---
 *
 * A query runs in two steps. Every part of the tree that FTS5 can answer
 * alone (words, ConversationId, folders, and And/Or of those) is asked of
 * search_fts, narrowed to the account's range of rowids: that yields the
 * ids of the matches, in id order, without reading items. The rest
 * (dates, and whatever an Or mixes with them) is SQL over items, which
 * tests membership in those sets. When the whole tree is of the first
 * kind, as a FreeText search is, the set's size is the Total. The page
 * (newest first) then walks items_mail_date from the newest entry and
 * stops after the range, or, when the matches are few, looks them up by
 * id and sorts them: a query never sorts or reads every match of a word
 * that is in most of the mailbox. */

/* Sets up to this size are written into the SQL as a list of ids (looked
 * up one by one); larger ones are tested by search_in() while walking
 * the date index. */
#define SEARCH_SET_INLINE 1000
#define SEARCH_SET_TYPE "easd_search_set"

enum sq_bind_kind { SQ_INT, SQ_SET };

struct sq_bind {
	enum sq_bind_kind kind;
	int64_t value;
	const struct store_id_set *set;
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

static bool
sq_set_has(const struct store_id_set *set, int64_t id)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->ids[mid] == id)
			return true;
		if (set->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* search_in(set, id): whether id is in a set bound with
 * sqlite3_bind_pointer (anything else is in no set). */
static void
search_in_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct store_id_set *set =
		sqlite3_value_pointer(argv[0], SEARCH_SET_TYPE);

	(void)argc;
	sqlite3_result_int(
		ctx,
		set != NULL && sq_set_has(set, sqlite3_value_int64(argv[1])));
}

void
store_bind_id_set(sqlite3_stmt *st, int idx, const struct store_id_set *set)
{
	if (set != NULL)
		sqlite3_bind_pointer(st, idx, (void *)set, SEARCH_SET_TYPE,
				     NULL);
	else
		sqlite3_bind_null(st, idx);
}

enum store_error
store_search_register(struct store *s)
{
	int rc = sqlite3_create_function_v2(
		s->db, "search_in", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
		search_in_fn, NULL, NULL, NULL);

	return store_err(s, rc, "search_in");
}

static int
sq_bind_int(struct sq_compiler *c, int64_t v)
{
	c->binds[c->nbinds].kind = SQ_INT;
	c->binds[c->nbinds].value = v;
	return ++c->nbinds;
}

static int
sq_bind_set(struct sq_compiler *c, const struct store_id_set *set)
{
	c->binds[c->nbinds].kind = SQ_SET;
	c->binds[c->nbinds].set = set;
	return ++c->nbinds;
}

/* A ConversationId in hex, as the index has it (up to 64 bytes). */
static bool
sq_hex_ok(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')))
			return false;
	}
	return true;
}

/* The limits, and every text condition has a word to search for: the
 * whole tree is checked before any of it is run or folded away. */
static enum store_error
sq_check(struct sq_compiler *c, const struct store_search_cond *n, int depth)
{
	const char *q;

	if (++c->nodes > STORE_SEARCH_NODES_MAX ||
	    depth > STORE_SEARCH_DEPTH_MAX)
		return STORE_INVALID;
	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		for (const struct store_search_cond *k = n->child; k != NULL;
		     k = k->next) {
			enum store_error e = sq_check(c, k, depth + 1);

			if (e != STORE_OK)
				return e;
		}
		return STORE_OK;
	case STORE_SEARCH_TEXT:
		return store_search_fts_query(c->a, n->text, false, &q) > 0
			       ? STORE_OK
			       : STORE_INVALID;
	case STORE_SEARCH_CONVERSATION:
		return sq_hex_ok(n->text) ? STORE_OK : STORE_INVALID;
	case STORE_SEARCH_FOLDER:
	case STORE_SEARCH_AFTER:
	case STORE_SEARCH_BEFORE:
	case STORE_SEARCH_NOTHING:
		return STORE_OK;
	}
	return STORE_INVALID;
}

/* 1 when n holds for every item, 0 for none, -1 when it depends. */
static int
sq_const(const struct store_search_cond *n)
{
	const struct store_search_cond *k;
	bool is_and = n->kind == STORE_SEARCH_AND, mixed = false;

	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		for (k = n->child; k != NULL; k = k->next) {
			int v = sq_const(k);

			if (v == (is_and ? 0 : 1))
				return v;
			if (v < 0)
				mixed = true;
		}
		return mixed ? -1 : is_and ? 1 : 0;
	case STORE_SEARCH_NOTHING:
		return 0;
	default:
		return -1;
	}
}

/* Whether FTS5 alone answers n (not constant): words, ConversationId,
 * folders, and And/Or of those (constant children aside). */
static bool
sq_fts_only(const struct store_search_cond *n)
{
	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		for (const struct store_search_cond *k = n->child; k != NULL;
		     k = k->next) {
			if (sq_const(k) < 0 && !sq_fts_only(k))
				return false;
		}
		return true;
	case STORE_SEARCH_TEXT:
	case STORE_SEARCH_CONVERSATION:
	case STORE_SEARCH_FOLDER:
		return true;
	default:
		return false;
	}
}

static enum store_error
sq_load_folders(struct sq_compiler *c)
{
	enum store_error e = STORE_OK;

	if (!c->folders_loaded) {
		e = store_folder_list(c->s, c->a, c->account_id, &c->folders,
				      &c->nfolders);
		c->folders_loaded = e == STORE_OK;
	}
	return e;
}

/* The folder and, when deep, every live folder below it: each id to
 * emit(c, id, first). */
static enum store_error
sq_folders(struct sq_compiler *c, const struct store_search_cond *n,
	   void (*emit)(struct sq_compiler *, int64_t, bool))
{
	int64_t *stack;
	size_t sp = 0, cap;
	bool first = true;
	enum store_error e;

	if (!n->deep) {
		emit(c, n->value, true);
		return STORE_OK;
	}
	e = sq_load_folders(c);
	if (e != STORE_OK)
		return e;
	cap = c->nfolders + 1;
	stack = arena_alloc(c->a, cap * sizeof(*stack));
	stack[sp++] = n->value;
	while (sp > 0) {
		int64_t id = stack[--sp];

		emit(c, id, first);
		first = false;
		for (size_t i = 0; i < c->nfolders && sp < cap; i++) {
			if (c->folders[i].parent_id == id &&
			    !c->folders[i].deleted && c->folders[i].id != id)
				stack[sp++] = c->folders[i].id;
		}
	}
	return STORE_OK;
}

static void
emit_fts_folder(struct sq_compiler *c, int64_t id, bool first)
{
	buf_printf(&c->sql, "%s\"" SEARCH_MARK "f%lld\"", first ? "" : " OR ",
		   (long long)id);
}

static void
emit_sql_folder(struct sq_compiler *c, int64_t id, bool first)
{
	buf_printf(&c->sql, "%s%lld", first ? "" : ",", (long long)id);
}

/* The FTS5 expression of an FTS-only node into c->sql (user text only
 * ever as quoted strings, folders as tokens we make). */
static enum store_error
sq_fts_expr(struct sq_compiler *c, const struct store_search_cond *n)
{
	const struct store_search_cond *k;
	const char *q;
	bool first = true;
	enum store_error e;

	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		for (k = n->child; k != NULL; k = k->next) {
			if (sq_const(k) >= 0)
				continue; /* true in an And, false in an Or */
			if (!first)
				buf_puts(&c->sql, n->kind == STORE_SEARCH_AND
							  ? " AND "
							  : " OR ");
			first = false;
			buf_putc(&c->sql, '(');
			e = sq_fts_expr(c, k);
			if (e != STORE_OK)
				return e;
			buf_putc(&c->sql, ')');
		}
		return STORE_OK;
	case STORE_SEARCH_TEXT:
		if (store_search_fts_query(c->a, n->text, false, &q) <= 0)
			return STORE_INVALID;
		buf_puts(&c->sql, q);
		return STORE_OK;
	case STORE_SEARCH_CONVERSATION:
		if (!sq_hex_ok(n->text))
			return STORE_INVALID;
		buf_puts(&c->sql, "\"" SEARCH_MARK);
		for (const char *h = n->text; *h != '\0'; h++)
			buf_putc(&c->sql, (char)(*h | 0x20));
		buf_putc(&c->sql, '"');
		return STORE_OK;
	case STORE_SEARCH_FOLDER:
		buf_putc(&c->sql, '(');
		e = sq_folders(c, n, emit_fts_folder);
		buf_putc(&c->sql, ')');
		return e;
	default:
		return STORE_INVALID;
	}
}

/* The account's items matching an FTS5 expression, as a set. */
static enum store_error
sq_set_eval(struct sq_compiler *c, const char *expr,
	    struct store_id_set **set_r)
{
	static const char sql[] =
		"SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 AND "
		"rowid > ?2 AND rowid < ?3 ORDER BY rowid";
	struct store_id_set *set = arena_zalloc(c->a, sizeof(*set));
	int64_t base = SEARCH_KEY(c->account_id, 0);
	enum store_error e = STORE_OK;
	size_t cap = 0;
	struct store_stmt *st;

	st = store_query(c->s, sql, "tII", expr, base,
			 SEARCH_KEY(c->account_id + 1, 0));
	while (store_next(c->s, st, &e)) {
		set->ids = arena_grow(c->a, set->ids, set->n, &cap,
				      sizeof(*set->ids));
		set->ids[set->n++] = store_col_int64(st, 0) - base;
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*set_r = set;
	return STORE_OK;
}

/* Evaluate an FTS-only node (or the FTS-only children of an And or an
 * Or, joined by it) into a set. */
static enum store_error
sq_fts_set(struct sq_compiler *c, const struct store_search_cond *n,
	   bool children_only, struct store_id_set **set_r)
{
	size_t mark = c->sql.len;
	const struct store_search_cond *k;
	enum store_error e = STORE_OK;
	const char *expr;
	bool first = true;

	if (!children_only) {
		e = sq_fts_expr(c, n);
	} else {
		for (k = n->child; k != NULL && e == STORE_OK; k = k->next) {
			if (sq_const(k) >= 0 || !sq_fts_only(k))
				continue;
			if (!first)
				buf_puts(&c->sql, n->kind == STORE_SEARCH_AND
							  ? " AND "
							  : " OR ");
			first = false;
			buf_putc(&c->sql, '(');
			e = sq_fts_expr(c, k);
			buf_putc(&c->sql, ')');
		}
	}
	expr = arena_strndup(c->a, (const char *)c->sql.data + mark,
			     c->sql.len - mark);
	c->sql.len = mark;
	if (e != STORE_OK)
		return e;
	return sq_set_eval(c, expr, set_r);
}

/* Membership of i.id in a set, as SQL. */
static void
sq_emit_set(struct sq_compiler *c, const struct store_id_set *set)
{
	if (set->n == 0) {
		buf_putc(&c->sql, '0');
	} else if (set->n <= SEARCH_SET_INLINE) {
		buf_puts(&c->sql, "i.id IN (");
		for (size_t i = 0; i < set->n; i++)
			buf_printf(&c->sql, "%s%lld", i > 0 ? "," : "",
				   (long long)set->ids[i]);
		buf_putc(&c->sql, ')');
	} else {
		buf_printf(&c->sql, "search_in(?%d, i.id)",
			   sq_bind_set(c, set));
	}
}

/* SQL for a node that is neither constant nor FTS-only. Its FTS-only
 * children become one set, joined by the node's And or Or; *small_r (top
 * level) says an And's set is small enough to drive the query by id. */
static enum store_error
sq_compile(struct sq_compiler *c, const struct store_search_cond *n,
	   bool *small_r)
{
	const char *op = n->kind == STORE_SEARCH_AND ? " AND " : " OR ";
	const struct store_search_cond *k;
	struct store_id_set *set;
	enum store_error e;
	bool first = true, any_fts = false;

	switch (n->kind) {
	case STORE_SEARCH_AND:
	case STORE_SEARCH_OR:
		buf_putc(&c->sql, '(');
		for (k = n->child; k != NULL; k = k->next)
			any_fts |= sq_const(k) < 0 && sq_fts_only(k);
		if (any_fts) {
			e = sq_fts_set(c, n, true, &set);
			if (e != STORE_OK)
				return e;
			if (small_r != NULL && n->kind == STORE_SEARCH_AND)
				*small_r = set->n <= SEARCH_SET_INLINE;
			sq_emit_set(c, set);
			first = false;
		}
		for (k = n->child; k != NULL; k = k->next) {
			if (sq_const(k) >= 0 || sq_fts_only(k))
				continue;
			if (!first)
				buf_puts(&c->sql, op);
			first = false;
			e = sq_compile(c, k, NULL);
			if (e != STORE_OK)
				return e;
		}
		buf_putc(&c->sql, ')');
		return STORE_OK;
	case STORE_SEARCH_FOLDER:
		buf_puts(&c->sql, "i.folder_id IN (");
		e = sq_folders(c, n, emit_sql_folder);
		buf_putc(&c->sql, ')');
		return e;
	case STORE_SEARCH_AFTER:
		buf_printf(&c->sql, "i.date > ?%d", sq_bind_int(c, n->value));
		return STORE_OK;
	case STORE_SEARCH_BEFORE:
		buf_printf(&c->sql, "i.date < ?%d", sq_bind_int(c, n->value));
		return STORE_OK;
	default:
		return STORE_INVALID;
	}
}

/* Prepare a statement of our own (the SQL is built per query, so it is
 * not one of the cached ones), bind, and hand it back. */
static struct store_stmt *
sq_prepare(struct sq_compiler *c, const char *sql)
{
	/* through the driver, uncached (finalized by the caller), so that
	 * the rows are read as every other statement's */
	struct store_stmt *st = c->s->drv->prepare(c->s, sql);

	if (st == NULL)
		return NULL; /* logged */
	for (int i = 0; i < c->nbinds; i++) {
		const struct sq_bind *b = &c->binds[i];

		if (b->kind == SQ_SET)
			store_bind_id_set(store_lite_stmt(st), i + 1, b->set);
		else
			sqlite3_bind_int64(store_lite_stmt(st), i + 1,
					   b->value);
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
	struct store_id_set *set;
	enum store_error e;
	struct store_stmt *st = NULL;
	const char *sql;
	bool own, small = false, counted = false;
	int lim, off, konst;
	size_t n = 0;

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
	e = sq_check(&c, cond, 0);
	konst = sq_const(cond);
	if (e != STORE_OK || konst == 0)
		goto out_buf; /* invalid, or nothing can match: Total 0 */
	if (s->drv != &store_driver_sqlite) {
		buf_deinit(&c.sql);
		return store_search_pg_mail(s, a, account_id, cond, offset, max,
					    with_data, items_r, count_r,
					    total_r);
	}
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		goto out_buf;
	buf_printf(&c.sql, "i.account_id = ?%d AND i.cls = 1 AND i.deleted = 0",
		   sq_bind_int(&c, account_id));
	if (konst < 0 && sq_fts_only(cond)) {
		/* one set and nothing else: its size is the Total (the index
		 * holds the live mail of the account under its scope) */
		e = sq_fts_set(&c, cond, false, &set);
		if (e != STORE_OK || set->n == 0)
			goto out;
		*total_r = (int64_t)set->n;
		counted = true;
		small = set->n <= SEARCH_SET_INLINE;
		buf_puts(&c.sql, " AND ");
		sq_emit_set(&c, set);
	} else if (konst < 0) {
		buf_puts(&c.sql, " AND ");
		e = sq_compile(&c, cond, &small);
		if (e != STORE_OK)
			goto out;
	}
	/* The unary + keeps the planner off items_mail_date when a small set
	 * drives the query: looking its ids up and sorting them is cheaper
	 * than walking the account's mail for them. */
	buf_putc(&c.sql, '\0');
	if (!counted) {
		sql = arena_printf(a, "SELECT count(*) FROM items i WHERE %s%s",
				   small ? "+" : "", (const char *)c.sql.data);
		st = sq_prepare(&c, sql);
		if (st == NULL) {
			e = STORE_INTERNAL;
			goto out;
		}
		e = store_row(s, st);
		if (e == STORE_OK)
			*total_r = store_col_int64(st, 0);
		st->drv->finalize(st);
		st = NULL;
	}
	if (e != STORE_OK || max == 0 || offset >= (size_t)*total_r)
		goto out;

	/* The page's ids first, sorted on (date, id) alone; then only their
	 * rows, blobs and all (a sorter fed whole rows copied every
	 * candidate's message). */
	lim = sq_bind_int(&c, (int64_t)max);
	off = sq_bind_int(&c, (int64_t)offset);
	sql = arena_printf(a,
			   "SELECT i.id FROM items i WHERE %s%s ORDER BY "
			   "i.date DESC, i.id DESC LIMIT ?%d OFFSET ?%d",
			   small ? "+" : "", (const char *)c.sql.data, lim,
			   off);
	st = sq_prepare(&c, sql);
	if (st == NULL) {
		e = STORE_INTERNAL;
		goto out;
	}
	c.sql.len = 0;
	while (n < max && store_next(s, st, &e))
		buf_printf(&c.sql, "%s%lld", n++ > 0 ? "," : "",
			   (long long)store_col_int64(st, 0));
	st->drv->finalize(st);
	if (e != STORE_OK || n == 0)
		goto out;
	buf_putc(&c.sql, '\0');
	sql = arena_printf(a,
			   SEARCH_ITEM_SELECT "WHERE i.id IN (%s) ORDER BY "
					      "i.date DESC, i.id DESC",
			   (const char *)c.sql.data);
	c.nbinds = 0;
	st = sq_prepare(&c, sql);
	if (st == NULL) {
		e = STORE_INTERNAL;
		goto out;
	}
	list = arena_alloc(a, n * sizeof(*list));
	max = n;
	n = 0;
	while (n < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, with_data, &list[n++]);
	st->drv->finalize(st);
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
	struct store_stmt *st;
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
	static const char sql_pg[] = SEARCH_ITEM_SELECT
		"WHERE i.account_id = ?1 AND i.cls = ?2 AND i.deleted = 0 AND "
		"(strpos(lower(i.subject), lower(?3)) > 0 OR "
		"strpos(lower(convert_from(i.data, 'UTF8')), lower(?3)) > 0) "
		"ORDER BY i.id LIMIT ?4";
	enum store_error e = STORE_OK;
	struct store_item *list;
	struct store_stmt *st;
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
	st = store_query(s, STORE_SQL(s, sql, sql_pg), "IitI", account_id,
			 (int)cls, text, (int64_t)max);
	while (n < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, true, &list[n++]);
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = n;
	return STORE_OK;
}
