/* Unit tests of the store's search: the FTS5 query quoting (user input
 * never becomes query syntax), CJK segmentation, the index kept current on
 * add, update, move and delete, the query tree, the pending queue and its
 * migration of older mailboxes, and the GAL with its triggers. The same
 * tests (but the SQLite file migrations) run again on PostgreSQL, with
 * its own full-text search (store/search-pg.c), against a server of
 * their own (pgtest.c); skipped when PostgreSQL is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arena.h"
#include "pgtest.h"
#include "store.h"
#include "test-main.h"

static char tmpdir[64];
static char dbpath[128];
static struct store *st;
static struct arena *ta;
static int64_t ada, bob;
/* the PostgreSQL database of the second suite, NULL in the first */
static const char *pg_url, *pg_started;

static int
suite_pg_init(void)
{
	pg_url = pg_started;
	return 0;
}

static int
suite_pg_clean(void)
{
	pg_url = NULL;
	return 0;
}

static void
db_remove(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[160];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffixes[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static void
db_open(int version)
{
	const char *err = NULL;

	if (pg_url != NULL) {
		pgtest_wipe(pg_url);
		if (store_open(pg_url, &st, &err) != STORE_OK) {
			fprintf(stderr, "store_open: %s\n", err);
			abort();
		}
		goto accounts;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/easd-search-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		abort();
	snprintf(dbpath, sizeof(dbpath), "%s/easd.db", tmpdir);
	if (store_open_at_version(dbpath, version, &st, &err) != STORE_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
accounts:
	ta = arena_new(4096);
	CU_ASSERT_EQUAL(store_account_add(st, "ada", "ada@example.org",
					  "Ada Lovelace", "pw", &ada),
			STORE_OK);
	CU_ASSERT_EQUAL(store_account_add(st, "bob", "bob@example.org",
					  "Bob Builder", "pw", &bob),
			STORE_OK);
}

static void
db_close(void)
{
	store_close(&st);
	arena_free(&ta);
	if (pg_url == NULL)
		db_remove();
}

/* --- quoting --- */

static void
test_quote(void)
{
	static const struct {
		const char *in;
		bool prefix;
		int words;
		const char *out;
	} cases[] = {
		{"hello", false, 1, "\"hello\""},
		{"  two   words ", false, 2, "\"two\" \"words\""},
		{"say \"hi\"", false, 2, "\"say\" \"\"\"hi\"\"\""},
		{"a* NEAR(b c) -d e:f", false, 5,
		 "\"a*\" \"NEAR(b\" \"c)\" \"-d\" \"e:f\""},
		{"AND OR NOT", false, 3, "\"AND\" \"OR\" \"NOT\""},
		{"* \" ( ) - :", false, 0, NULL},
		{"", false, 0, NULL},
		{"ada", true, 1, "\"ada\" *"},
		{"会议", false, 1, "\" 会  议 \""},
		{"Müller\xe3\x80\x80会", false, 2, "\"Müller\" \" 会 \""},
	};
	char big[STORE_SEARCH_TEXT_MAX + 2];
	const char *q;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int n = store_search_fts_query(ta, cases[i].in, cases[i].prefix,
					       &q);

		CU_ASSERT_EQUAL(n, cases[i].words);
		if (cases[i].out == NULL) {
			CU_ASSERT_PTR_NULL(q);
		} else if (q == NULL || strcmp(q, cases[i].out) != 0) {
			fprintf(stderr, "quote %s: got %s\n", cases[i].in,
				q != NULL ? q : "(null)");
			CU_FAIL("quoting");
		}
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(store_search_fts_query(ta, big, false, &q), -1);
	memset(big, 0, sizeof(big));
	for (int i = 0; i <= STORE_SEARCH_WORDS_MAX; i++)
		strcat(big, "w ");
	CU_ASSERT_EQUAL(store_search_fts_query(ta, big, false, &q), -1);
	CU_ASSERT_STRING_EQUAL(store_search_segment(ta, "plain"), "plain");
	CU_ASSERT_STRING_EQUAL(store_search_segment(ta, "ab会c"), "ab 会 c");
}

/* --- the index --- */

static int64_t
add_mail(int64_t account, int64_t folder, const char *subject, const char *body,
	 int64_t date, bool with_text)
{
	struct store_item_text t = {
		.subject = subject,
		.addresses = "Carol <carol@example.net>",
		.body = body,
		.attachments = "report.pdf",
		.conversation = "00ff",
	};
	struct store_item it;

	memset(&it, 0, sizeof(it));
	it.cls = STORE_CLASS_EMAIL;
	it.data = (const uint8_t *)"Subject: x\r\n\r\nx";
	it.data_len = strlen((const char *)it.data);
	it.meta.date = date;
	it.meta.subject = subject;
	CU_ASSERT_EQUAL_FATAL(store_item_add_with_text(st, ta, account, folder,
						       &it, 0,
						       with_text ? &t : NULL),
			      STORE_OK);
	return it.id;
}

static int64_t
folder_of(int64_t account, int type)
{
	struct store_folder f;

	CU_ASSERT_EQUAL_FATAL(
		store_folder_get_by_type(st, ta, account, type, &f), STORE_OK);
	return f.id;
}

static int64_t
count_text(int64_t account, const char *text)
{
	struct store_search_cond c = {.kind = STORE_SEARCH_TEXT, .text = text};
	struct store_item *items;
	size_t n;
	int64_t total = -1;
	enum store_error e;

	e = store_search_mail(st, ta, account, &c, 0, 10, false, &items, &n,
			      &total);
	if (e != STORE_OK)
		return -(int64_t)e;
	return total;
}

static void
test_index_upkeep(void)
{
	int64_t inbox, sent, id, id2, pending;
	struct store_item moved;
	struct store_item_text t = {.subject = "late", .body = "zeppelin"};

	db_open(store_schema_version());
	inbox = folder_of(ada, EAS_FOLDER_INBOX);
	sent = folder_of(ada, EAS_FOLDER_SENT);
	id = add_mail(ada, inbox, "Grüße aus München", "Treffen im Büro", 1000,
		      true);
	add_mail(ada, inbox, "会议通知", "明天上午开会", 2000, true);
	add_mail(bob, folder_of(bob, EAS_FOLDER_INBOX), "Bob's München trip",
		 "private", 3000, true);

	CU_ASSERT_EQUAL(count_text(ada, "münchen"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "MUNCHEN"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "buro treffen"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "会议"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "开会"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "会"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "议会"), 0);
	CU_ASSERT_EQUAL(count_text(ada, "carol@example.net"), 2);
	CU_ASSERT_EQUAL(count_text(ada, "report"), 2);
	CU_ASSERT_EQUAL(count_text(ada, "private"), 0); /* bob's */
	CU_ASSERT_EQUAL(count_text(bob, "münchen"), 1);
	/* query syntax typed by the user is only text */
	CU_ASSERT_EQUAL(count_text(ada, "NEAR(münchen"), 0);
	CU_ASSERT_EQUAL(count_text(ada, "\"münchen\""), 1);
	CU_ASSERT_EQUAL(count_text(ada, "münchen*"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "subject:münchen"), 0);
	CU_ASSERT_EQUAL(count_text(ada, "-münchen"), 1);
	CU_ASSERT_EQUAL(count_text(ada, "*"), -(int64_t)STORE_INVALID);
	CU_ASSERT_EQUAL(count_text(ada, "00ff"), 0); /* not a text field */
	/* the store's own tokens (U+E000 and a folder) cannot be written
	 * into mail or a query */
	{
		char body[64], word[32];
		struct store_search_cond f = {.kind = STORE_SEARCH_FOLDER,
					      .value = inbox};
		struct store_search_cond tx = {
			.kind = STORE_SEARCH_TEXT, .text = "zeta", .next = &f};
		struct store_search_cond and = {.kind = STORE_SEARCH_AND,
						.child = &tx};
		struct store_item *items;
		size_t n;
		int64_t total;

		snprintf(body, sizeof(body),
			 "zeta \xee\x80\x80"
			 "f%lld",
			 (long long)inbox);
		add_mail(ada, sent, "forged", body, 3500, true);
		CU_ASSERT_EQUAL(count_text(ada, "zeta"), 1);
		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 0, 10,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 0);
		snprintf(word, sizeof(word),
			 "\xee\x80\x80"
			 "f%lld",
			 (long long)inbox);
		CU_ASSERT_EQUAL(count_text(ada, word), 1); /* the word "fN" */
	}
	/* move: found in the new folder, same text */
	CU_ASSERT_EQUAL(store_item_move(st, ta, ada, id, sent, 0, &moved),
			STORE_OK);
	CU_ASSERT_EQUAL(count_text(ada, "münchen"), 1);
	{
		struct store_search_cond f = {.kind = STORE_SEARCH_FOLDER,
					      .value = sent};
		struct store_search_cond tx = {.kind = STORE_SEARCH_TEXT,
					       .text = "münchen",
					       .next = &f};
		struct store_search_cond and = {.kind = STORE_SEARCH_AND,
						.child = &tx};
		struct store_item *items;
		size_t n;
		int64_t total;

		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 0, 10,
						  true, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 1);
		CU_ASSERT_EQUAL_FATAL(n, 1);
		CU_ASSERT_EQUAL(items[0].id, moved.id);
		CU_ASSERT_PTR_NOT_NULL(items[0].data);
		f.value = inbox;
		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 0, 10,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 0);
	}
	/* delete: gone from the index */
	CU_ASSERT_EQUAL(store_item_delete(st, ada, moved.id, 0), STORE_OK);
	CU_ASSERT_EQUAL(count_text(ada, "münchen"), 0);

	/* without text: queued, then indexed */
	id2 = add_mail(ada, inbox, "no text yet", "", 4000, false);
	CU_ASSERT_EQUAL(store_search_pending_count(st, ada, &pending),
			STORE_OK);
	CU_ASSERT_EQUAL(pending, 1);
	CU_ASSERT_EQUAL(count_text(ada, "zeppelin"), 0);
	CU_ASSERT_EQUAL(store_search_index(st, ada, id2, 0, &t), STORE_OK);
	CU_ASSERT_EQUAL(count_text(ada, "zeppelin"), 1);
	CU_ASSERT_EQUAL(store_search_pending_count(st, ada, &pending),
			STORE_OK);
	CU_ASSERT_EQUAL(pending, 0);
	/* another account's item is not indexed through ada */
	CU_ASSERT_EQUAL(store_search_index(st, bob, id2, 0, &t),
			STORE_NOTFOUND);
	db_close();
}

static void
test_query_tree(void)
{
	int64_t inbox, sub;
	struct store_folder f;
	struct store_item *items;
	size_t n;
	int64_t total;

	db_open(store_schema_version());
	inbox = folder_of(ada, EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL_FATAL(store_folder_create(st, ta, ada, inbox, "Sub",
						  EAS_FOLDER_USER_MAIL, 0, &f),
			      STORE_OK);
	sub = f.id;
	for (int i = 0; i < 25; i++)
		add_mail(ada, i % 2 ? sub : inbox, "weekly report",
			 i % 3 ? "alpha" : "beta", 1000 + i, true);
	{
		struct store_search_cond fol = {.kind = STORE_SEARCH_FOLDER,
						.value = inbox};
		struct store_search_cond tx = {.kind = STORE_SEARCH_TEXT,
					       .text = "report",
					       .next = &fol};
		struct store_search_cond and = {.kind = STORE_SEARCH_AND,
						.child = &tx};
		struct store_search_cond a2 = {.kind = STORE_SEARCH_AFTER,
					       .value = 1010};
		struct store_search_cond b2 = {.kind = STORE_SEARCH_BEFORE,
					       .value = 1020};

		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 0, 5,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 13);
		CU_ASSERT_EQUAL(n, 5);
		/* newest first */
		CU_ASSERT_EQUAL(n > 0 ? items[0].meta.date : 0, 1024);
		fol.deep = true;
		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 20, 10,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 25);
		CU_ASSERT_EQUAL(n, 5);
		/* past the end: the total, no items */
		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 30, 10,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 25);
		CU_ASSERT_EQUAL(n, 0);
		/* dates: 1011..1019 */
		fol.next = &a2;
		a2.next = &b2;
		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 0, 100,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 9);
		/* Or of two words */
		{
			struct store_search_cond w1 = {
				.kind = STORE_SEARCH_TEXT, .text = "beta"};
			struct store_search_cond w2 = {
				.kind = STORE_SEARCH_TEXT,
				.text = "alpha",
				.next = NULL};
			struct store_search_cond or
				= {.kind = STORE_SEARCH_OR, .child = &w1};

			w1.next = &w2;
			CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, & or, 0,
							  100, false, &items,
							  &n, &total),
					STORE_OK);
			CU_ASSERT_EQUAL(total, 25);
		}
		/* ConversationId */
		{
			struct store_search_cond cv = {
				.kind = STORE_SEARCH_CONVERSATION,
				.text = "00ff"};

			CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &cv, 0,
							  100, false, &items,
							  &n, &total),
					STORE_OK);
			CU_ASSERT_EQUAL(total, 25);
			cv.text = "00FF"; /* hex in either case */
			CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &cv, 0,
							  100, false, &items,
							  &n, &total),
					STORE_OK);
			CU_ASSERT_EQUAL(total, 25);
			cv.text = "00fz";
			CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &cv, 0,
							  100, false, &items,
							  &n, &total),
					STORE_INVALID);
		}
	}
	/* too deep */
	{
		struct store_search_cond nodes[STORE_SEARCH_DEPTH_MAX + 2];

		memset(nodes, 0, sizeof(nodes));
		for (size_t i = 0; i < STORE_SEARCH_DEPTH_MAX + 2; i++) {
			nodes[i].kind = STORE_SEARCH_AND;
			if (i + 1 < STORE_SEARCH_DEPTH_MAX + 2)
				nodes[i].child = &nodes[i + 1];
		}
		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &nodes[0], 0, 10,
						  false, &items, &n, &total),
				STORE_INVALID);
	}
	db_close();
}

/* --- large result sets ---
 *
 * Past SEARCH_SET_INLINE matches a query walks the account's mail by date
 * and tests membership in the set FTS5 gave; below, it looks the matches
 * up by id. Dates here are a permutation of the ids, so the order of the
 * results is the dates' and never the ids'. */

#define BIG 3000

static int64_t
big_date(int i)
{
	return 100000 + (int64_t)((i * 7919) % BIG);
}

static void
big_add(int64_t account, int64_t folder, int i)
{
	char body[64];

	snprintf(body, sizeof(body), "common%s%s", i % 2 == 0 ? " half" : "",
		 i % 500 == 0 ? " rare" : "");
	add_mail(account, folder, "weekly", body, big_date(i), true);
}

/* Query, check the page is newest first (dates strictly falling) and
 * return the total. */
static int64_t
big_query(const struct store_search_cond *c, size_t offset, size_t max,
	  size_t *n_r, int64_t *first_date_r)
{
	struct store_item *items;
	int64_t total = -1;
	size_t n = 0;

	CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, c, offset, max, false,
					  &items, &n, &total),
			STORE_OK);
	for (size_t i = 1; i < n; i++)
		CU_ASSERT(items[i - 1].meta.date > items[i].meta.date);
	if (n_r != NULL)
		*n_r = n;
	if (first_date_r != NULL)
		*first_date_r = n > 0 ? items[0].meta.date : -1;
	return total;
}

static void
test_large_sets(void)
{
	struct store_search_cond common = {.kind = STORE_SEARCH_TEXT,
					   .text = "common"};
	struct store_search_cond half = {.kind = STORE_SEARCH_TEXT,
					 .text = "half"};
	struct store_search_cond rare = {.kind = STORE_SEARCH_TEXT,
					 .text = "rare"};
	struct store_search_cond after = {.kind = STORE_SEARCH_AFTER,
					  .value = 101499};
	struct store_search_cond before = {.kind = STORE_SEARCH_BEFORE,
					   .value = 100003};
	struct store_search_cond fol = {.kind = STORE_SEARCH_FOLDER};
	struct store_search_cond nothing = {.kind = STORE_SEARCH_NOTHING};
	struct store_search_cond and = {.kind = STORE_SEARCH_AND};
	struct store_search_cond or = {.kind = STORE_SEARCH_OR};
	struct store_search_cond star = {.kind = STORE_SEARCH_TEXT,
					 .text = "*"};
	int64_t inbox, sub, bob_inbox, date, want;
	struct store_folder f;
	size_t n;

	db_open(store_schema_version());
	inbox = folder_of(ada, EAS_FOLDER_INBOX);
	bob_inbox = folder_of(bob, EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL_FATAL(store_folder_create(st, ta, ada, inbox, "Sub",
						  EAS_FOLDER_USER_MAIL, 0, &f),
			      STORE_OK);
	sub = f.id;
	CU_ASSERT_EQUAL_FATAL(store_begin(st, true), STORE_OK);
	for (int i = 0; i < BIG; i++) {
		big_add(ada, i % 3 == 0 ? sub : inbox, i);
		if (i % 2 == 0)
			big_add(bob, bob_inbox, i);
	}
	CU_ASSERT_EQUAL_FATAL(store_commit(st), STORE_OK);

	/* one word in every message: counted in FTS5, the page walked */
	CU_ASSERT_EQUAL(big_query(&common, 0, 10, &n, &date), BIG);
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_EQUAL(date, 100000 + BIG - 1);
	CU_ASSERT_EQUAL(big_query(&common, BIG - 10, 20, &n, &date), BIG);
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_EQUAL(date, 100009);
	CU_ASSERT_EQUAL(count_text(bob, "common"), BIG / 2);
	/* half of them (still past the inline size) and a few */
	CU_ASSERT_EQUAL(big_query(&half, 0, 100, &n, NULL), BIG / 2);
	CU_ASSERT_EQUAL(n, 100);
	CU_ASSERT_EQUAL(big_query(&rare, 0, 100, &n, NULL), BIG / 500);
	CU_ASSERT_EQUAL(n, BIG / 500);
	/* with a folder: still FTS5 alone */
	common.next = &fol;
	fol.value = sub;
	and.child = &common;
	CU_ASSERT_EQUAL(big_query(&and, 0, 5, &n, NULL), BIG / 3);
	fol.value = inbox;
	fol.deep = true;
	CU_ASSERT_EQUAL(big_query(&and, 0, 5, &n, NULL), BIG);
	fol.deep = false;
	half.next = &fol;
	and.child = &half;
	want = 0;
	for (int i = 0; i < BIG; i++)
		want += i % 2 == 0 && i % 3 != 0;
	CU_ASSERT_EQUAL(big_query(&and, 0, 5, &n, NULL), want);
	/* with a date: the set and SQL together */
	common.next = &after;
	and.child = &common;
	CU_ASSERT_EQUAL(big_query(&and, 0, 10, &n, &date), BIG - 1500);
	CU_ASSERT_EQUAL(date, 100000 + BIG - 1);
	CU_ASSERT_EQUAL(big_query(&and, 1490, 100, &n, &date), BIG - 1500);
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_EQUAL(date, 101509);
	/* an Or of a word and a date: rare, or before 100003 */
	rare.next = &before;
	or.child = &rare;
	want = 0;
	for (int i = 0; i < BIG; i++)
		want += i % 500 == 0 || big_date(i) < 100003;
	CU_ASSERT_EQUAL(big_query(& or, 0, 100, &n, NULL), want);
	CU_ASSERT_EQUAL(n, (size_t)want);
	/* nothing, folded away; an invalid word is invalid all the same */
	nothing.next = &common;
	common.next = NULL;
	and.child = &nothing;
	CU_ASSERT_EQUAL(big_query(&and, 0, 10, &n, NULL), 0);
	or.child = &nothing;
	CU_ASSERT_EQUAL(big_query(& or, 0, 10, &n, NULL), BIG);
	nothing.next = &star;
	{
		struct store_item *items;
		int64_t total;

		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &and, 0, 10,
						  false, &items, &n, &total),
				STORE_INVALID);
	}
	/* a deleted match leaves the count */
	{
		struct store_item *items;
		int64_t total;

		CU_ASSERT_EQUAL(store_search_mail(st, ta, ada, &half, 0, 1,
						  false, &items, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL_FATAL(n, 1);
		CU_ASSERT_EQUAL(store_item_delete(st, ada, items[0].id, 0),
				STORE_OK);
		half.next = NULL;
		CU_ASSERT_EQUAL(big_query(&half, 0, 10, &n, NULL), BIG / 2 - 1);
	}
	db_close();
}

/* An older file with mail, from before the index (4) or before its scope
 * column (9): the migration queues every message. */
static void
migration_queues(int version)
{
	const char *err;
	int64_t pending;
	int64_t inbox;

	db_open(version);
	inbox = folder_of(ada, EAS_FOLDER_INBOX);
	{
		struct store_item it;

		memset(&it, 0, sizeof(it));
		it.cls = STORE_CLASS_EMAIL;
		it.data = (const uint8_t *)"Subject: old\r\n\r\nold";
		it.data_len = strlen((const char *)it.data);
		for (int i = 0; i < 3; i++)
			CU_ASSERT_EQUAL(
				store_item_add(st, ta, ada, inbox, &it, 0),
				STORE_OK);
	}
	CU_ASSERT_EQUAL(store_alias_add(st, ada, "countess@example.org"),
			STORE_OK);
	store_close(&st);
	CU_ASSERT_EQUAL_FATAL(store_open(dbpath, &st, &err), STORE_OK);
	CU_ASSERT_EQUAL(store_search_pending_count(st, 0, &pending), STORE_OK);
	CU_ASSERT_EQUAL(pending, 3);
	{
		struct store_gal_entry *list;
		size_t n;
		int64_t total;

		CU_ASSERT_EQUAL(store_gal_search(st, ta, "countess", 0, 10,
						 false, &list, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 1);
	}
	db_close();
}

static void
test_migration_queues(void)
{
	migration_queues(4);
	migration_queues(9);
}

/* --- the GAL --- */

static int64_t
gal_total(const char *q)
{
	struct store_gal_entry *list;
	size_t n;
	int64_t total = -1;
	enum store_error e =
		store_gal_search(st, ta, q, 0, 10, false, &list, &n, &total);

	return e == STORE_OK ? total : -(int64_t)e;
}

static void
test_gal(void)
{
	struct store_gal_entry g, *list;
	size_t n;
	int64_t total, id;
	static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xd9};

	db_open(store_schema_version());
	CU_ASSERT_EQUAL(gal_total("ada"), 1);
	CU_ASSERT_EQUAL(gal_total("Love"), 1);
	CU_ASSERT_EQUAL(gal_total("ada@exa"), 1);
	CU_ASSERT_EQUAL(gal_total("b"), 1);
	CU_ASSERT_EQUAL(gal_total("example"), 2);
	CU_ASSERT_EQUAL(gal_total("zz"), 0);
	CU_ASSERT_EQUAL(gal_total("\"*"), -(int64_t)STORE_INVALID);
	/* aliases and properties, kept by triggers */
	CU_ASSERT_EQUAL(store_alias_add(st, ada, "countess@example.org"),
			STORE_OK);
	CU_ASSERT_EQUAL(gal_total("countess"), 1);
	CU_ASSERT_EQUAL(store_alias_remove(st, ada, "countess@example.org"),
			STORE_OK);
	CU_ASSERT_EQUAL(gal_total("countess"), 0);
	CU_ASSERT_EQUAL(store_account_set_prop(st, ada, STORE_GAL_FIRST_NAME,
					       "Augusta"),
			STORE_OK);
	CU_ASSERT_EQUAL(
		store_account_set_prop(st, ada, STORE_GAL_PHONE, "+44 1"),
		STORE_OK);
	CU_ASSERT_EQUAL(store_account_set_photo(st, ada, jpeg, sizeof(jpeg)),
			STORE_OK);
	CU_ASSERT_EQUAL(gal_total("aug"), 1);
	CU_ASSERT_EQUAL(
		store_account_set_prop(st, ada, STORE_GAL_PHONE, "bad\nvalue"),
		STORE_INVALID);
	CU_ASSERT_EQUAL(
		store_gal_search(st, ta, "aug", 0, 10, true, &list, &n, &total),
		STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(list[0].phone, "+44 1");
	CU_ASSERT_EQUAL(list[0].photo_len, sizeof(jpeg));
	CU_ASSERT_EQUAL(list[0].account_id, ada);
	/* published contacts */
	memset(&g, 0, sizeof(g));
	g.display_name = "Jürgen Groß";
	g.email = "juergen@partner.example";
	g.uid = "u-1";
	CU_ASSERT_EQUAL(store_gal_entry_put(st, &g, &id), STORE_OK);
	CU_ASSERT_EQUAL(gal_total("jurg"), 1);
	CU_ASSERT_EQUAL(gal_total("Jür"), 1);
	g.display_name = "Jürgen Groß-Meier";
	CU_ASSERT_EQUAL(store_gal_entry_put(st, &g, &id), STORE_OK);
	CU_ASSERT_EQUAL(gal_total("meier"), 1);
	CU_ASSERT_EQUAL(gal_total("jurgen"), 1);
	CU_ASSERT_EQUAL(store_gal_entry_list(st, ta, &list, &n), STORE_OK);
	CU_ASSERT_EQUAL(n, 1);
	/* disabled accounts are not listed */
	CU_ASSERT_EQUAL(store_account_set_enabled(st, bob, false), STORE_OK);
	CU_ASSERT_EQUAL(gal_total("bob"), 0);
	CU_ASSERT_EQUAL(gal_total("example.org"), 1);
	CU_ASSERT_EQUAL(store_account_delete(st, ada), STORE_OK);
	CU_ASSERT_EQUAL(gal_total("ada"), 0);
	CU_ASSERT_EQUAL(store_gal_entry_remove(st, 0, &total), STORE_OK);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(gal_total("jurgen"), 0);
	db_close();
}

/* A prefix matching most of a large address list: the page walks the
 * names in order (both kinds merged) instead of sorting, with the same
 * order, Range and Total as the sort of a few, disabled accounts left
 * out. */
#define GAL_MANY 600

static void
test_gal_many(void)
{
	struct store_gal_entry g, *list;
	char name[32], email[64];
	size_t n;
	int64_t total;

	db_open(store_schema_version());
	CU_ASSERT_EQUAL(store_account_set_enabled(st, bob, false), STORE_OK);
	CU_ASSERT_EQUAL(store_begin(st, true), STORE_OK);
	memset(&g, 0, sizeof(g));
	for (int i = 0; i < GAL_MANY; i++) {
		snprintf(name, sizeof(name), "%s %03d",
			 i % 2 == 0 ? "Aaron" : "Zora", i);
		snprintf(email, sizeof(email), "m%03d@example.net", i);
		g.display_name = name;
		g.email = email;
		CU_ASSERT_EQUAL(store_gal_entry_put(st, &g, NULL), STORE_OK);
	}
	/* the same name as an account, in other case: the address decides */
	g.display_name = "ada lovelace";
	g.email = "ada@example.net";
	CU_ASSERT_EQUAL(store_gal_entry_put(st, &g, NULL), STORE_OK);
	CU_ASSERT_EQUAL(store_commit(st), STORE_OK);

	CU_ASSERT_EQUAL(gal_total("example"), GAL_MANY + 2);
	CU_ASSERT_EQUAL(store_gal_search(st, ta, "example", 0, 1000, false,
					 &list, &n, &total),
			STORE_OK);
	CU_ASSERT_EQUAL(total, GAL_MANY + 2);
	CU_ASSERT_EQUAL_FATAL(n, GAL_MANY + 2);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_NOT_EQUAL(list[i].account_id, bob);
		if (i > 0)
			CU_ASSERT(strcasecmp(list[i - 1].display_name,
					     list[i].display_name) <= 0);
	}
	CU_ASSERT_STRING_EQUAL(list[0].display_name, "Aaron 000");
	/* the middle of the list, as a Range */
	CU_ASSERT_EQUAL(store_gal_search(st, ta, "exa", GAL_MANY / 2 - 1, 4,
					 false, &list, &n, &total),
			STORE_OK);
	CU_ASSERT_EQUAL(total, GAL_MANY + 2);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(list[0].display_name, "Aaron 598");
	CU_ASSERT_STRING_EQUAL(list[1].email, "ada@example.net");
	CU_ASSERT_EQUAL(list[1].account_id, 0);
	CU_ASSERT_EQUAL(list[2].account_id, ada);
	CU_ASSERT_STRING_EQUAL(list[3].display_name, "Zora 001");
	/* the end, and past it */
	CU_ASSERT_EQUAL(store_gal_search(st, ta, "example", GAL_MANY, 10, false,
					 &list, &n, &total),
			STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[1].display_name, "Zora 599");
	CU_ASSERT_EQUAL(store_gal_search(st, ta, "example", GAL_MANY + 2, 10,
					 false, &list, &n, &total),
			STORE_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(total, GAL_MANY + 2);
	/* a few matches are sorted: the same order */
	CU_ASSERT_EQUAL(store_gal_search(st, ta, "aaron", 1, 2, false, &list,
					 &n, &total),
			STORE_OK);
	CU_ASSERT_EQUAL(total, GAL_MANY / 2);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0].display_name, "Aaron 002");
	/* enabled again, bob is found among the many */
	CU_ASSERT_EQUAL(store_account_set_enabled(st, bob, true), STORE_OK);
	CU_ASSERT_EQUAL(gal_total("example"), GAL_MANY + 3);
	db_close();
}

static void
test_quote_wrap(void)
{
	ta = arena_new(1024);
	test_quote();
	arena_free(&ta);
}

static CU_TestInfo tests[] = {
	{"FTS5 query quoting and CJK segmentation", test_quote_wrap},
	{"index kept on add, move, delete; the queue", test_index_upkeep},
	{"query trees: folders, dates, Or, ranges", test_query_tree},
	{"large sets: counted in FTS5, newest first", test_large_sets},
	{"migration queues older mail", test_migration_queues},
	{"GAL: accounts, aliases, properties, contacts", test_gal},
	{"GAL: a prefix matching most of a large list", test_gal_many},
	CU_TEST_INFO_NULL,
};

/* On PostgreSQL: all but the migrations of older SQLite files. */
static CU_TestInfo tests_pg[] = {
	{"index kept on add, move, delete; the queue", test_index_upkeep},
	{"query trees: folders, dates, Or, ranges", test_query_tree},
	{"large sets: counted in FTS5, newest first", test_large_sets},
	{"GAL: accounts, aliases, properties, contacts", test_gal},
	{"GAL: a prefix matching most of a large list", test_gal_many},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"search", NULL, NULL, NULL, NULL, tests},
	{"search-postgresql", suite_pg_init, suite_pg_clean, NULL, NULL,
	 tests_pg},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *why;

	pg_started = pgtest_start("easd_search", &why);
	if (pg_started == NULL) {
		printf("test-store-search: PostgreSQL skipped: %s\n", why);
		if (strstr(why, "not installed") == NULL)
			return 1;
		suites[1] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	}
	return test_main(suites);
}
