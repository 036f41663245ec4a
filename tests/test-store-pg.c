/* Unit tests of store/ on PostgreSQL: the backend-neutral suite
 * (store-suite.c) against a real server the test starts (pgtest.c), on an
 * empty schema per test. Skips, passing, when PostgreSQL is not
 * installed. */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "pgtest.h"
#include "store-suite.h"
#include "store.h"
#include "test-main.h"

static const char *url;

static struct store *
pg_create(void *ctx, const char **where_r)
{
	struct store *st = NULL;
	const char *err = NULL;

	(void)ctx;
	pgtest_wipe(url);
	if (store_open(url, &st, &err) != STORE_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	*where_r = url;
	return st;
}

static struct store *
pg_connect(void *ctx)
{
	struct store *st = NULL;
	const char *err;

	(void)ctx;
	return store_open(url, &st, &err) == STORE_OK ? st : NULL;
}

static void
pg_destroy(void *ctx)
{
	(void)ctx;
}

static const struct store_suite_backend pg_backend = {
	.name = "postgresql",
	.create = pg_create,
	.connect = pg_connect,
	.destroy = pg_destroy,
};

/* --- a deadlock between two connections, run again by store_txn --- */

struct deadlock_side {
	struct store *s;
	struct arena *a;
	int64_t first, second;	       /* accounts, in the order it writes */
	int64_t first_box, second_box; /* their contacts folders */
	pthread_barrier_t *both_hold;
	int runs;
	enum store_error result;
};

static enum store_error
add_contact(struct store *s, struct arena *a, int64_t account, int64_t folder)
{
	static const char text[] = "BEGIN:VCARD\r\nFN:Deadlock\r\nEND:VCARD";
	struct store_item it;

	memset(&it, 0, sizeof(it));
	it.data = (const uint8_t *)text;
	it.data_len = strlen(text);
	return store_item_add(s, a, account, folder, &it, 0);
}

/* Each side writes its first account (taking that account's row lock),
 * waits until the other holds its own, then writes the other's: a
 * deadlock the first time round, whatever the timing. */
static enum store_error
deadlock_run(struct store *s, void *ctx)
{
	struct deadlock_side *d = ctx;
	enum store_error e;

	d->runs++;
	e = add_contact(s, d->a, d->first, d->first_box);
	if (e != STORE_OK)
		return e;
	if (d->runs == 1)
		pthread_barrier_wait(d->both_hold);
	return add_contact(s, d->a, d->second, d->second_box);
}

static void *
deadlock_thread(void *arg)
{
	struct deadlock_side *d = arg;

	d->result = store_txn(d->s, true, deadlock_run, d);
	return NULL;
}

static int64_t
live_items(int64_t account)
{
	PGconn *c = PQconnectdb(url);
	char sql[128];
	PGresult *r;
	int64_t n = -1;

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM items WHERE account_id = %lld AND "
		 "deleted = 0",
		 (long long)account);
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return n;
}

static void
test_deadlock_run_again(void)
{
	struct deadlock_side side[2];
	pthread_barrier_t both_hold;
	struct store *setup;
	struct store_folder f;
	const char *where;
	int64_t acc[2], box[2];
	pthread_t t[2];

	setup = pg_create(NULL, &where);
	for (int i = 0; i < 2; i++) {
		struct arena *a = arena_new(4096);

		CU_ASSERT_EQUAL_FATAL(
			store_account_add(setup, i == 0 ? "ann" : "ben",
					  i == 0 ? "ann@example.org"
						 : "ben@example.org",
					  "", "pw", &acc[i]),
			STORE_OK);
		CU_ASSERT_EQUAL_FATAL(
			store_folder_get_by_type(setup, a, acc[i],
						 EAS_FOLDER_CONTACTS, &f),
			STORE_OK);
		box[i] = f.id;
		arena_free(&a);
	}
	store_close(&setup);
	pthread_barrier_init(&both_hold, NULL, 2);
	memset(side, 0, sizeof(side));
	for (int i = 0; i < 2; i++) {
		side[i].s = pg_connect(NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(side[i].s);
		side[i].a = arena_new(4096);
		side[i].first = acc[i];
		side[i].first_box = box[i];
		side[i].second = acc[1 - i];
		side[i].second_box = box[1 - i];
		side[i].both_hold = &both_hold;
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, deadlock_thread, &side[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* both succeed; PostgreSQL gave one up, and it ran again */
	CU_ASSERT_EQUAL(side[0].result, STORE_OK);
	CU_ASSERT_EQUAL(side[1].result, STORE_OK);
	CU_ASSERT_EQUAL(side[0].runs + side[1].runs, 3);
	/* nothing of the lost run stayed: one item from each side */
	CU_ASSERT_EQUAL(live_items(acc[0]), 2);
	CU_ASSERT_EQUAL(live_items(acc[1]), 2);
	for (int i = 0; i < 2; i++) {
		store_close(&side[i].s);
		arena_free(&side[i].a);
	}
	pthread_barrier_destroy(&both_hold);
}

/* A pool of one connection: a second store waits for it, is answered
 * busy when it stays taken, and goes on once it is given back. */
static void
test_pool_cap(void)
{
	char pool_url[512];
	struct store *a = NULL, *b = NULL, *setup;
	const char *where, *err;
	int64_t id;

	setup = pg_create(NULL, &where);
	store_close(&setup);
	/* a URL of its own: a pool of its own */
	snprintf(pool_url, sizeof(pool_url), "%s?application_name=pooltest",
		 url);
	store_pg_pool_set(1, 50);
	CU_ASSERT_EQUAL_FATAL(store_open(pool_url, &a, &err), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_open(pool_url, &b, &err), STORE_OK);
	CU_ASSERT_EQUAL(store_begin(a, true), STORE_OK);
	CU_ASSERT_EQUAL(
		store_account_add(a, "pann", "pann@example.org", "", "pw", &id),
		STORE_OK);
	/* a holds the only connection */
	CU_ASSERT_EQUAL(
		store_account_add(b, "pben", "pben@example.org", "", "pw", &id),
		STORE_BUSY);
	CU_ASSERT_EQUAL(store_commit(a), STORE_OK);
	CU_ASSERT_EQUAL(
		store_account_add(b, "pben", "pben@example.org", "", "pw", &id),
		STORE_OK);
	store_close(&a);
	store_close(&b);
	store_pg_pool_set(0, -1);
}

static CU_TestInfo pg_only_tests[] = {
	{"a capped pool: wait, busy, then on", test_pool_cap},
	{"a deadlock between two connections: both succeed",
	 test_deadlock_run_again},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"store-postgresql", NULL, NULL, store_suite_setup,
	 store_suite_teardown, store_suite_tests},
	{"store-postgresql-only", NULL, NULL, NULL, NULL, pg_only_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *why;

	url = pgtest_start("easd_test", &why);
	if (url == NULL) {
		printf("test-store-pg: skipped: %s\n", why);
		return strstr(why, "not installed") != NULL ? 0 : 1;
	}
	store_suite_init(&pg_backend);
	return test_main(suites);
}
