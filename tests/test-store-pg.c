/* Unit tests of store/ on PostgreSQL: the backend-neutral suite
 * (store-suite.c) against a real server the test starts (pgtest.c), on an
 * empty schema per test. Skips, passing, when PostgreSQL is not
 * installed. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtest.h"
#include "store-suite.h"
#include "store.h"
#include "test-main.h"

static const char *url;

/* An empty database: what every test starts from. */
static void
pg_wipe(void)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pg_wipe: %s", PQerrorMessage(c));
		abort();
	}
	r = PQexec(c, "SET client_min_messages = warning;"
		      "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pg_wipe: %s", PQerrorMessage(c));
		abort();
	}
	PQclear(r);
	PQfinish(c);
}

static struct store *
pg_create(void *ctx, const char **where_r)
{
	struct store *st = NULL;
	const char *err = NULL;

	(void)ctx;
	pg_wipe();
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

static CU_SuiteInfo suites[] = {
	{"store-postgresql", NULL, NULL, store_suite_setup,
	 store_suite_teardown, store_suite_tests},
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
