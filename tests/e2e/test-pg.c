/* End-to-end on PostgreSQL: two easd nodes on one database the test
 * starts (tests/pgtest.c), each with a data directory of its own. Device
 * A of ada speaks to node 1 and device B to node 2: what one adds the
 * other receives, a SyncKey repeated on the other node is answered as
 * the first node answered it, and a Ping parked on node 1 is woken by a
 * change through node 2 (a device's Add, an LMTP delivery) or through
 * easctl: PostgreSQL's NOTIFY carries it. With nginx installed, the same
 * through nginx balancing the two nodes round robin (no stickiness).
 * Skips, passing, when PostgreSQL is not installed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nginx.h"
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

static size_t contacts_seen_by_new_device(struct easd_proc *node,
					  const char *device);

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

/* Writers on both nodes at once: each Add is acknowledged once and every
 * device ends up with every contact exactly once. */
#define BURST 40

struct writer {
	struct eas_client *c;
	const char *tag;
	int failed;
	pthread_t thread;
};

static void *
writer_thread(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < BURST; i++) {
		struct arena *a = arena_new(0);
		struct wbxml_node *app =
			wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
		const char *sid = NULL;
		char name[64];
		int st = 0;

		snprintf(name, sizeof(name), "%s %d", w->tag, i);
		wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, name);
		if (eas_client_add(w->c, a, contacts_of(w->c), app, &sid,
				   &st) != 0 ||
		    st != 1)
			w->failed++;
		arena_free(&a);
	}
	return NULL;
}

/* Items a Sync of c brings, each server id seen once. */
static size_t
distinct_items(struct eas_client *c)
{
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	size_t n = 0;

	CU_ASSERT_FATAL(eas_client_sync(c, a, contacts_of(c), NULL, &r) == 0);
	for (size_t i = 0; i < r.count; i++) {
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup = dup || strcmp(r.items[k].server_id,
					    r.items[i].server_id) == 0;
		CU_ASSERT(!dup);
		n += !dup;
	}
	arena_free(&a);
	return n;
}

static void
test_writers_on_both_nodes(void)
{
	struct writer w1 = {.tag = "Node one"}, w2 = {.tag = "Node two"};
	struct arena *a = arena_new(0);
	size_t before;
	int st = 0;

	before = contacts_seen_by_new_device(node1, "PGBURSTX");
	w1.c = harness_client(node1, HARNESS_ADA, "PGBURST1");
	w2.c = harness_client(node2, HARNESS_ADA, "PGBURST2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(w1.c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w2.c);
	CU_ASSERT(eas_client_foldersync(w1.c, a, &st) == 0 && st == 1);
	CU_ASSERT(eas_client_foldersync(w2.c, a, &st) == 0 && st == 1);
	CU_ASSERT_EQUAL(sync_count(w1.c), before);
	CU_ASSERT_EQUAL(sync_count(w2.c), before);
	CU_ASSERT_FATAL(pthread_create(&w1.thread, NULL, writer_thread, &w1) ==
			0);
	CU_ASSERT_FATAL(pthread_create(&w2.thread, NULL, writer_thread, &w2) ==
			0);
	pthread_join(w1.thread, NULL);
	pthread_join(w2.thread, NULL);
	CU_ASSERT_EQUAL(w1.failed, 0);
	CU_ASSERT_EQUAL(w2.failed, 0);
	/* each receives the other's, once; a new device everything */
	CU_ASSERT_EQUAL(distinct_items(w1.c), BURST);
	CU_ASSERT_EQUAL(distinct_items(w2.c), BURST);
	CU_ASSERT_EQUAL(contacts_seen_by_new_device(node2, "PGBURSTY"),
			before + 2 * BURST);
	arena_free(&a);
	eas_client_free(&w1.c);
	eas_client_free(&w2.c);
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

/* Node 1 answers a device's repeated no-change Sync from memory; an Add
 * through node 2 that returned before the next Sync began is in that
 * Sync's answer, every time (the round trip on node 1's LISTEN
 * connection has heard it first). */
static void
test_no_change_after_other_node(void)
{
	static const char memory[] =
		"Sync of device PGNCA: no change, from memory";
	struct eas_client *a = harness_client(node1, HARNESS_ADA, "PGNCA");
	struct eas_client *w = harness_client(node2, HARNESS_ADA, "PGNCW");
	struct arena *ar = arena_new(0);
	int st = 0, heard;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT(eas_client_foldersync(a, ar, &st) == 0 && st == 1);
	CU_ASSERT(eas_client_foldersync(w, ar, &st) == 0 && st == 1);
	for (int i = 0; i < 100 && sync_count(a) > 0; i++)
		;
	heard = harness_log_count(node1, memory);
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(sync_count(a), 0);
		CU_ASSERT_EQUAL(sync_count(a), 0);
		contact_add(w, "Between");
		CU_ASSERT_EQUAL(sync_count(a), 1);
	}
	/* the no-change answers came from memory, or this tested nothing */
	CU_ASSERT(harness_log_count(node1, memory) >= heard + 20);
	arena_free(&ar);
	eas_client_free(&a);
	eas_client_free(&w);
}

/* A Ping on node 1, in a thread of its own. */
struct ping_job {
	struct eas_client *c;
	const char *folder;
	int status;
	size_t nchanged;
	const char *changed;
	pthread_t thread;
	struct arena *a;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *j = arg;
	const char *const ids[] = {j->folder};
	const char **changed = NULL;

	if (eas_client_ping(j->c, j->a, 600, ids, 1, &j->status, &changed,
			    &j->nchanged) != 0)
		j->status = -1;
	if (j->nchanged > 0)
		j->changed = changed[0];
	return NULL;
}

/* Park a Ping of a fresh device of ada's on node 1 watching the folder of
 * type (the log says when it is parked: no sleeping). */
static void
ping_park(struct ping_job *j, const char *device, int type)
{
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	char needle[96];
	int st = 0;

	memset(j, 0, sizeof(*j));
	j->c = harness_client(node1, HARNESS_ADA, device);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j->c);
	/* a lost wake-up ends in a failure, not a hang */
	j->c->timeout_ms = 30000;
	CU_ASSERT_FATAL(eas_client_foldersync(j->c, a, &st) == 0);
	j->folder = eas_client_folder_by_type(j->c, type)->server_id;
	CU_ASSERT_FATAL(eas_client_sync(j->c, a, j->folder, NULL, &r) == 0);
	arena_free(&a);
	j->a = arena_new(0);
	CU_ASSERT_FATAL(pthread_create(&j->thread, NULL, ping_thread, j) == 0);
	snprintf(needle, sizeof(needle), "push: parked %s (", device);
	CU_ASSERT_FATAL(harness_wait_log(node1, needle, 1, 30000) >= 1);
}

static void
ping_done(struct ping_job *j)
{
	pthread_join(j->thread, NULL);
	CU_ASSERT_EQUAL(j->status, 2);
	CU_ASSERT_EQUAL(j->nchanged, 1);
	CU_ASSERT_PTR_NOT_NULL(j->changed);
	if (j->changed != NULL)
		CU_ASSERT_STRING_EQUAL(j->changed, j->folder);
	arena_free(&j->a);
	eas_client_free(&j->c);
}

static void
test_ping_woken_by_other_node(void)
{
	struct eas_client *b = harness_client(node2, HARNESS_ADA, "PGWAKEB");
	struct arena *a = arena_new(0);
	struct ping_job j;
	int st = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(eas_client_foldersync(b, a, &st) == 0);
	(void)sync_count(b);
	ping_park(&j, "PGWAKEA", EAS_FOLDER_CONTACTS);
	contact_add(b, "Wakes node one");
	ping_done(&j);
	arena_free(&a);
	eas_client_free(&b);
}

/* The phone's new connection reaches node 2 while its older Ping waits on
 * node 1 (a dead connection the node cannot see): the newer ends the
 * older with Status 1 through NOTIFY, as within one node. */
static void
test_newer_ping_on_other_node(void)
{
	struct ping_job j, j2;
	struct eas_client *c2,
		*w = harness_client(node2, HARNESS_ADA, "PGSUPW");
	struct arena *a = arena_new(0);
	int st = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT(eas_client_foldersync(w, a, &st) == 0);
	(void)sync_count(w);
	ping_park(&j, "PGSUP", EAS_FOLDER_CONTACTS);
	c2 = harness_client_new(node2, HARNESS_ADA, "PGSUP");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	c2->policy_key = j.c->policy_key; /* the same phone */
	c2->timeout_ms = 30000;
	memset(&j2, 0, sizeof(j2));
	j2.c = c2;
	j2.folder = j.folder;
	j2.a = arena_new(0);
	CU_ASSERT_FATAL(pthread_create(&j2.thread, NULL, ping_thread, &j2) ==
			0);
	/* without node 2's word the first would hold for its heartbeat,
	 * past the client's timeout */
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.status, 1);
	CU_ASSERT_FATAL(
		harness_wait_log(node2, "push: parked PGSUP (", 1, 30000) >= 1);
	contact_add(w, "After the newer Ping");
	pthread_join(j2.thread, NULL);
	CU_ASSERT_EQUAL(j2.status, 2);
	arena_free(&j.a);
	arena_free(&j2.a);
	arena_free(&a);
	eas_client_free(&j.c);
	eas_client_free(&c2);
	eas_client_free(&w);
}

static void
test_lmtp_on_other_node_wakes(void)
{
	static const char msg[] = "From: Sender <sender@example.net>\r\n"
				  "To: <ada@example.org>\r\n"
				  "Subject: through node two\r\n"
				  "Message-ID: <pg-lmtp-1@example.net>\r\n"
				  "\r\n"
				  "Hello.\r\n";
	struct ping_job j;

	ping_park(&j, "PGLMTPA", EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(node2, HARNESS_ADA_EMAIL, msg),
			250);
	ping_done(&j);
}

static void
test_easctl_wakes(void)
{
	char cmd[512];
	struct ping_job j;
	FILE *f;

	ping_park(&j, "PGCTLA", EAS_FOLDER_CONTACTS);
	snprintf(cmd, sizeof(cmd), "'%s' --store '%s' import %s - >/dev/null",
		 harness_easctl(), url, HARNESS_ADA);
	f = popen(cmd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace\r\n"
	      "FN:Grace Hopper\r\nEND:VCARD\r\n",
	      f);
	CU_ASSERT_EQUAL(pclose(f), 0);
	ping_done(&j);
}

/* Items a new device of ada's on node finds in Contacts. */
static size_t
contacts_seen_by_new_device(struct easd_proc *node, const char *device)
{
	struct eas_client *c = harness_client(node, HARNESS_ADA, device);
	struct arena *a = arena_new(0);
	size_t n;
	int st = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FATAL(eas_client_foldersync(c, a, &st) == 0);
	n = sync_count(c);
	arena_free(&a);
	eas_client_free(&c);
	return n;
}

/* PostgreSQL restarted under the nodes: node 1's listener reconnects and
 * LISTENs again, and the Ping it had parked looks at its folders again
 * (it parks again: nothing changed); both nodes serve the next requests
 * on new connections of their own, an Add through node 2 wakes the Ping
 * on node 1 as before, and what was acknowledged before is all there. */
static void
test_postgresql_restart(void)
{
	static const char again[] = "change notification listening again";
	struct eas_client *b = harness_client(node2, HARNESS_ADA, "PGRSB");
	struct arena *a = arena_new(0);
	struct ping_job j;
	size_t before;
	int st = 0, heard;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_FATAL(eas_client_foldersync(b, a, &st) == 0);
	contact_add(b, "Before the restart");
	(void)sync_count(b);
	before = contacts_seen_by_new_device(node1, "PGRSX");
	ping_park(&j, "PGRSA", EAS_FOLDER_CONTACTS);
	heard = harness_log_count(node1, again);
	CU_ASSERT_EQUAL_FATAL(pgtest_restart(), 0);
	CU_ASSERT(harness_wait_log(node1, again, heard + 1, 30000) > heard);
	CU_ASSERT(harness_wait_log(node1, "push: waking PGRSA (", 1, 30000) >=
		  1);
	CU_ASSERT(harness_wait_log(node1, "push: parked PGRSA (", 2, 30000) >=
		  2);
	contact_add(b, "After the restart");
	ping_done(&j);
	CU_ASSERT_EQUAL(contacts_seen_by_new_device(node1, "PGRSY"),
			before + 1);
	CU_ASSERT_EQUAL(contacts_seen_by_new_device(node2, "PGRSZ"),
			before + 1);
	arena_free(&a);
	eas_client_free(&b);
}

/* A phone on an SQLite easd; easctl migrate copies the stopped data
 * directory into an empty PostgreSQL database; easd on that database
 * accepts the phone's keys as they are: its next FolderSync and Sync need
 * no resync, and a change made after the move reaches it. */
static void
test_migrate_keeps_sync_states(void)
{
	struct easd_proc *lite = easd_start(NULL), *node = NULL;
	struct eas_client *c, *moved = NULL, *other = NULL;
	struct arena *a = arena_new(0);
	char state[] = "/tmp/easd-pgstate-XXXXXX";
	char newdir[] = "/tmp/easd-e2e-XXXXXX";
	char *dir = NULL, *to = NULL, *out = NULL;
	int st = 0, fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lite);
	c = harness_client(lite, HARNESS_ADA, "PGMIGA");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FATAL(eas_client_foldersync(c, a, &st) == 0 && st == 1);
	contact_add(c, "Kept across the move");
	CU_ASSERT_EQUAL(sync_count(c), 0);
	fd = mkstemp(state);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(eas_client_state_save(c, state), 0);
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop_keep(&lite, &dir), 0);

	to = pgtest_createdb("easd_migrated");
	CU_ASSERT_PTR_NOT_NULL_FATAL(to);
	{
		const char *const argv[] = {
			harness_easctl(), "--data", dir, "migrate",
			"--to",		  to,	    NULL};

		CU_ASSERT_EQUAL(harness_run(argv, &out, 60000), 0);
		if (out != NULL && strstr(out, "done") == NULL)
			fprintf(stderr, "easctl migrate: %s\n", out);
		free(out);
		out = NULL;
		/* a second time: the database is no longer empty */
		CU_ASSERT_NOT_EQUAL(harness_run(argv, &out, 60000), 0);
		free(out);
	}
	CU_ASSERT_FATAL(mkdtemp(newdir) != NULL);
	{
		const char *const args[] = {"--store", to, NULL};

		node = easd_start_dir(newdir, args);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(node);
	moved = harness_client_new(node, HARNESS_ADA, "PGMIGA");
	CU_ASSERT_PTR_NOT_NULL_FATAL(moved);
	CU_ASSERT_EQUAL(eas_client_state_load(moved, state), 0);
	/* the keys it holds are the server's: no resync of either */
	CU_ASSERT(eas_client_foldersync(moved, a, &st) == 0);
	CU_ASSERT_EQUAL(st, 1);
	CU_ASSERT_EQUAL(sync_count(moved), 0);
	other = harness_client(node, HARNESS_ADA, "PGMIGB");
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT(eas_client_foldersync(other, a, &st) == 0 && st == 1);
	CU_ASSERT_EQUAL(sync_count(other), 1); /* the contact came along */
	contact_add(other, "After the move");
	CU_ASSERT_EQUAL(sync_count(moved), 1);
	eas_client_free(&moved);
	eas_client_free(&other);
	CU_ASSERT_EQUAL(easd_stop(&node), 0);
	harness_rmtree(dir);
	unlink(state);
	free(dir);
	free(to);
	arena_free(&a);
}

/* --- nginx in front of both nodes --- */

/* Whether either node logged needle, waiting up to about 30 s. */
static bool
either_logged(const char *needle)
{
	for (int i = 0; i < 300; i++)
		if (harness_wait_log(node1, needle, 1, 50) >= 1 ||
		    harness_wait_log(node2, needle, 1, 50) >= 1)
			return true;
	return false;
}

/* Two devices and a Ping, every request through nginx, which sends
 * consecutive requests to alternate nodes. */
static void
test_through_nginx(void)
{
	const char *via_url = harness_nginx_start(node1->port, node2->port);
	struct easd_proc via;
	struct eas_client *a, *b;
	struct arena *ar = arena_new(0);
	struct ping_job j;
	int st = 0;

	if (via_url == NULL) {
		printf("nginx is not installed or did not start: skipped\n");
		arena_free(&ar);
		return;
	}
	via = *node1;
	via.url = (char *)via_url;
	a = harness_client(&via, HARNESS_ADA, "NGXA");
	b = harness_client(&via, HARNESS_ADA, "NGXB");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(eas_client_foldersync(a, ar, &st) == 0 && st == 1);
	CU_ASSERT(eas_client_foldersync(b, ar, &st) == 0 && st == 1);
	(void)sync_count(a);
	(void)sync_count(b);
	contact_add(a, "Through the balancer");
	CU_ASSERT_EQUAL(sync_count(b), 1);
	CU_ASSERT_EQUAL(sync_count(a), 0);
	/* a Ping parked on whichever node, woken by an Add on whichever */
	memset(&j, 0, sizeof(j));
	j.c = a;
	j.c->timeout_ms = 30000;
	j.folder = contacts_of(a);
	j.a = arena_new(0);
	CU_ASSERT_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j) == 0);
	CU_ASSERT_FATAL(either_logged("push: parked NGXA ("));
	contact_add(b, "Wakes through the balancer");
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.status, 2);
	CU_ASSERT_EQUAL(j.nchanged, 1);
	arena_free(&j.a);
	CU_ASSERT_EQUAL(sync_count(a), 1);
	arena_free(&ar);
	eas_client_free(&a);
	eas_client_free(&b);
	harness_nginx_stop();
}

/* A password in the --store URL is never printed: easd and easctl that
 * cannot open the database say which one with the password as ***. */
static void
test_password_not_shown(void)
{
	char secret_url[512], dir[] = "/tmp/easd-pgpw-XXXXXX";
	const char *host = strchr(url, '@');
	const char *slash = host != NULL ? strchr(host, '/') : NULL;
	char *out = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(slash);
	/* a database that does not exist: the open fails after connecting */
	snprintf(secret_url, sizeof(secret_url),
		 "postgresql://easd:Pw0rdSecret%.*s/easd_no_such_db",
		 (int)(slash - host), host);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	{
		const char *const argv[] = {
			harness_easd(), "--data",  dir,	       "--listen",
			"127.0.0.1:0",	"--store", secret_url, NULL};

		CU_ASSERT_NOT_EQUAL(harness_run(argv, &out, 60000), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		CU_ASSERT_PTR_NULL(strstr(out, "Pw0rdSecret"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "easd:***@"));
		free(out);
		out = NULL;
	}
	{
		const char *const argv[] = {harness_easctl(), "--store",
					    secret_url,	      "user",
					    "list",	      NULL};

		CU_ASSERT_NOT_EQUAL(harness_run(argv, &out, 60000), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		CU_ASSERT_PTR_NULL(strstr(out, "Pw0rdSecret"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "easd:***@"));
		free(out);
	}
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
}

static CU_TestInfo pg_tests[] = {
	{"a password in the store URL is never shown", test_password_not_shown},
	{"two nodes, two devices: round trip", test_two_nodes_round_trip},
	{"a repeated key answered by the other node",
	 test_repeated_key_on_other_node},
	{"no change from memory, then an Add through the other node",
	 test_no_change_after_other_node},
	{"writers on both nodes at once", test_writers_on_both_nodes},
	{"a Ping on node 1 woken by an Add on node 2",
	 test_ping_woken_by_other_node},
	{"a newer Ping on the other node ends the older",
	 test_newer_ping_on_other_node},
	{"LMTP into node 2 wakes a Ping on node 1",
	 test_lmtp_on_other_node_wakes},
	{"easctl --store wakes a Ping", test_easctl_wakes},
	{"PostgreSQL restarted under two nodes", test_postgresql_restart},
	{"easctl migrate keeps the phones' sync states",
	 test_migrate_keeps_sync_states},
	{"two nodes behind nginx", test_through_nginx},
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
