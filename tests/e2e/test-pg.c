/* End-to-end on PostgreSQL: two easd nodes on one database the test
 * starts (tests/pgtest.c), each with a data directory of its own. Device
 * A of ada speaks to node 1 and device B to node 2: what one adds the
 * other receives, and a SyncKey repeated on the other node is answered as
 * the first node answered it. Skips, passing, when PostgreSQL is not
 * installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pgtest.h"
#include "test-main.h"

static const char *url;
static struct easd_proc *node1, *node2;

static int
suite_init(void)
{
	const char *const args[] = {"--store", url, NULL};
	char dir[] = "/tmp/easd-e2e-XXXXXX";

	node1 = easd_start(args);
	if (node1 == NULL || mkdtemp(dir) == NULL)
		return -1;
	/* the second node finds the accounts the first one's harness made */
	node2 = easd_start_dir(dir, args);
	return node2 == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	int r1 = easd_stop(&node1), r2 = easd_stop(&node2);

	return r1 == 0 && r2 == 0 ? 0 : -1;
}

static const char *
contacts_of(struct eas_client *c)
{
	const struct eas_folder *f =
		eas_client_folder_by_type(c, EAS_FOLDER_CONTACTS);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f->server_id;
}

static void
contact_add(struct eas_client *c, const char *first)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	const char *sid = NULL;
	int st = 0;

	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, first);
	CU_ASSERT(eas_client_add(c, a, contacts_of(c), app, &sid, &st) == 0);
	CU_ASSERT_EQUAL(st, 1);
	arena_free(&a);
}

/* Items the next Sync brings. */
static size_t
sync_count(struct eas_client *c)
{
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	size_t n;

	CU_ASSERT_FATAL(eas_client_sync(c, a, contacts_of(c), NULL, &r) == 0);
	CU_ASSERT_EQUAL(r.status, 1);
	n = r.count;
	arena_free(&a);
	return n;
}

static void
test_two_nodes_round_trip(void)
{
	struct eas_client *a = harness_client(node1, HARNESS_ADA, "PGDEVA");
	struct eas_client *b = harness_client(node2, HARNESS_ADA, "PGDEVB");
	struct arena *ar = arena_new(0);
	int st = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(eas_client_foldersync(a, ar, &st) == 0 && st == 1);
	CU_ASSERT(eas_client_foldersync(b, ar, &st) == 0 && st == 1);
	CU_ASSERT_EQUAL(sync_count(a), 0);
	CU_ASSERT_EQUAL(sync_count(b), 0);
	/* A adds through node 1, B receives it through node 2, and back */
	contact_add(a, "Written on node one");
	CU_ASSERT_EQUAL(sync_count(b), 1);
	CU_ASSERT_EQUAL(sync_count(a), 0); /* its own change is no echo */
	contact_add(b, "Written on node two");
	CU_ASSERT_EQUAL(sync_count(a), 1);
	CU_ASSERT_EQUAL(sync_count(b), 0);
	arena_free(&ar);
	eas_client_free(&a);
	eas_client_free(&b);
}

/* A device whose answer was lost repeats its key, and the balancer sends
 * the repeat to the other node: the same items come back, not an invalid
 * key. */
static void
test_repeated_key_on_other_node(void)
{
	struct eas_client *a = harness_client(node1, HARNESS_ADA, "PGREPA");
	struct eas_client *w = harness_client(node2, HARNESS_ADA, "PGREPW");
	struct eas_client *again;
	struct arena *ar = arena_new(0);
	struct eas_sync_result r1, r2;
	char state[] = "/tmp/easd-pgstate-XXXXXX";
	char *key;
	int st = 0, fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT(eas_client_foldersync(a, ar, &st) == 0 && st == 1);
	CU_ASSERT(eas_client_foldersync(w, ar, &st) == 0 && st == 1);
	(void)sync_count(a);
	(void)sync_count(w);
	key = strdup(eas_client_sync_key(a, contacts_of(a)));
	fd = mkstemp(state);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(eas_client_state_save(a, state), 0);
	contact_add(w, "Repeated");
	CU_ASSERT_EQUAL(eas_client_sync(a, ar, contacts_of(a), NULL, &r1), 0);
	CU_ASSERT_EQUAL(r1.status, 1);
	CU_ASSERT_EQUAL(r1.count, 1);
	/* the same device on node 2, holding the key before that answer */
	again = harness_client_new(node2, HARNESS_ADA, "PGREPA");
	CU_ASSERT_PTR_NOT_NULL_FATAL(again);
	CU_ASSERT_EQUAL(eas_client_state_load(again, state), 0);
	CU_ASSERT_STRING_EQUAL(eas_client_sync_key(again, contacts_of(again)),
			       key);
	CU_ASSERT_EQUAL(
		eas_client_sync(again, ar, contacts_of(again), NULL, &r2), 0);
	CU_ASSERT_EQUAL(r2.status, 1);
	CU_ASSERT_EQUAL(r2.count, 1);
	CU_ASSERT_STRING_EQUAL(r2.sync_key, r1.sync_key);
	unlink(state);
	free(key);
	arena_free(&ar);
	eas_client_free(&again);
	eas_client_free(&a);
	eas_client_free(&w);
}

static CU_TestInfo pg_tests[] = {
	{"two nodes, two devices: round trip", test_two_nodes_round_trip},
	{"a repeated key answered by the other node",
	 test_repeated_key_on_other_node},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"postgresql", suite_init, suite_clean, NULL, NULL, pg_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *why;

	url = pgtest_start("easd_e2e", &why);
	if (url == NULL) {
		printf("e2e-test-pg: skipped: %s\n", why);
		return strstr(why, "not installed") != NULL ? 0 : 1;
	}
	return test_main(suites);
}
