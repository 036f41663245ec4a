/* End-to-end tests of Ping against a real easd: a change made by another
 * device, an LMTP delivery and an `easctl deliver` from another process
 * each wake a waiting Ping with the right folder; the heartbeat, a newer
 * Ping of the same device, and every error status (3, 5, 7) behave as
 * MS-ASCMD 2.2.1.13 says. Waits are bounded by the client's timeout. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"

/* Long enough that only a wake-up (never the heartbeat) can end a Ping
 * before the client gives up. */
#define LONG_HEARTBEAT 600
#define CLIENT_TIMEOUT_MS 30000

static struct easd_proc *srv;

static int
suite_init(void)
{
	static const char *const args[] = {"--heartbeat-min", "1", NULL};

	srv = easd_start(args);
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	return easd_stop(&srv) == 0 ? 0 : -1;
}

struct ping_result {
	int rc; /* -1 transport failure */
	int status;
	int64_t heartbeat;   /* -1 when absent */
	int64_t max_folders; /* -1 when absent */
	const char *changed[8];
	size_t nchanged;
};

/* One Ping; heartbeat 0 and n 0 leave the parts out (n 0 and heartbeat 0:
 * empty body). */
static void
ping(struct eas_client *c, struct arena *a, unsigned heartbeat,
     const char *const *ids, size_t n, struct ping_result *pr)
{
	struct wbxml_node *req = NULL, *folders;
	const struct wbxml_node *fl, *f;
	struct eas_response r;
	int64_t v = -1;

	memset(pr, 0, sizeof(*pr));
	pr->heartbeat = pr->max_folders = -1;
	if (heartbeat > 0 || n > 0) {
		req = wbxml_new(a, EAS_PING_PING);
		if (heartbeat > 0)
			wbxml_add_int(a, req, EAS_PING_HEARTBEATINTERVAL,
				      heartbeat);
		if (n > 0)
			folders = wbxml_add(a, req, EAS_PING_FOLDERS);
		for (size_t i = 0; i < n; i++) {
			struct wbxml_node *fn =
				wbxml_add(a, folders, EAS_PING_FOLDER);

			wbxml_add_text(a, fn, EAS_PING_ID, ids[i]);
			wbxml_add_text(a, fn, EAS_PING_CLASS, "Email");
		}
	}
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	pr->rc = eas_client_post(c, a, "Ping", req, NULL, &r);
	if (pr->rc < 0 || r.http_status != 200 || r.tree == NULL ||
	    r.tree->tag != EAS_PING_PING) {
		fprintf(stderr, "Ping: rc %d HTTP %ld %s\n", pr->rc,
			r.http_status, eas_client_error(c));
		pr->rc = -1;
		return;
	}
	wbxml_child_int(r.tree, EAS_PING_STATUS, &v);
	pr->status = (int)v;
	wbxml_child_int(r.tree, EAS_PING_HEARTBEATINTERVAL, &pr->heartbeat);
	wbxml_child_int(r.tree, EAS_PING_MAXFOLDERS, &pr->max_folders);
	if ((fl = wbxml_child(r.tree, EAS_PING_FOLDERS)) != NULL)
		wbxml_foreach(fl, f) if (f->tag == EAS_PING_FOLDER &&
					 pr->nchanged < N_ELEMENTS(pr->changed))
			pr->changed[pr->nchanged++] = wbxml_text(f);
}

static bool
changed_has(const struct ping_result *pr, const char *id)
{
	for (size_t i = 0; i < pr->nchanged; i++)
		if (strcmp(pr->changed[i], id) == 0)
			return true;
	return false;
}

/* A Ping on its own thread, so the test can make the change it waits
 * for. */
struct ping_job {
	struct eas_client *c;
	struct arena *a;
	unsigned heartbeat;
	const char *ids[4];
	size_t n;
	struct ping_result res;
	pthread_t thread;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *j = arg;

	ping(j->c, j->a, j->heartbeat, j->ids, j->n, &j->res);
	return NULL;
}

static void
ping_start(struct ping_job *j)
{
	CU_ASSERT_FATAL(pthread_create(&j->thread, NULL, ping_thread, j) == 0);
	/* Give the request time to park so the wake-up path is the one
	 * exercised; the outcome is the same if it has not parked yet. */
	usleep(300 * 1000);
}

static void
ping_join(struct ping_job *j)
{
	pthread_join(j->thread, NULL);
}

/* A provisioned client that ran FolderSync. */
static struct eas_client *
client(const char *user, const char *device)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, user, device);
	int st = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FATAL(eas_client_foldersync(c, a, &st) == 0);
	arena_free(&a);
	return c;
}

static const char *
folder_id(struct eas_client *c, int type)
{
	const struct eas_folder *f = eas_client_folder_by_type(c, type);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f->server_id;
}

/* Sync the folder to the end, so the device has state and nothing
 * pending there. */
static void
prime(struct eas_client *c, const char *id)
{
	struct arena *a = arena_new(0);
	struct eas_sync_result r;

	CU_ASSERT_FATAL(eas_client_sync(c, a, id, NULL, &r) == 0);
	arena_free(&a);
}

/* A small message over LMTP (RFC 2033); 0 when it was stored. */
static int
lmtp_deliver(const char *rcpt, const char *subject)
{
	char msg[1024];

	snprintf(msg, sizeof(msg),
		 "From: Sender <sender@example.net>\r\n"
		 "To: <%s>\r\n"
		 "Subject: %s\r\n"
		 "Message-ID: <%s@example.net>\r\n"
		 "Date: Tue, 05 Mar 2024 14:30:00 +0000\r\n"
		 "\r\n"
		 "Hello.\r\n",
		 rcpt, subject, subject);
	return harness_lmtp_deliver(srv, rcpt, msg) == 250 ? 0 : -1;
}

/* Device A adds a contact; device B's Ping on Contacts and Inbox answers
 * 2 with Contacts only. */
static void
test_change_by_other_device(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *ca = client(HARNESS_ADA, "PUSHA1");
	struct eas_client *cb = client(HARNESS_ADA, "PUSHB1");
	const char *contacts = folder_id(cb, EAS_FOLDER_CONTACTS);
	const char *inbox = folder_id(cb, EAS_FOLDER_INBOX);
	struct ping_job j = {.c = cb, .heartbeat = LONG_HEARTBEAT, .n = 2};
	struct wbxml_node *app;
	const char *sid = NULL;
	int st = 0;

	prime(cb, contacts);
	prime(cb, inbox);
	prime(ca, folder_id(ca, EAS_FOLDER_CONTACTS));
	j.a = arena_new(0);
	j.ids[0] = contacts;
	j.ids[1] = inbox;
	ping_start(&j);

	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, "Grace");
	wbxml_add_text(a, app, EAS_CONTACTS_LASTNAME, "Hopper");
	wbxml_add_text(a, app, EAS_CONTACTS_FILEAS, "Hopper, Grace");
	CU_ASSERT(eas_client_add(ca, a, folder_id(ca, EAS_FOLDER_CONTACTS), app,
				 &sid, &st) == 0);
	ping_join(&j);
	CU_ASSERT_EQUAL(j.res.rc, 0);
	CU_ASSERT_EQUAL(j.res.status, 2);
	CU_ASSERT_EQUAL(j.res.nchanged, 1);
	CU_ASSERT(changed_has(&j.res, contacts));
	CU_ASSERT(!changed_has(&j.res, inbox));

	/* The change is still pending for B: the next Ping answers at once
	 * with the same folder, until B syncs it. */
	ping(cb, a, LONG_HEARTBEAT, j.ids, 2, &j.res);
	CU_ASSERT_EQUAL(j.res.status, 2);
	CU_ASSERT(changed_has(&j.res, contacts));

	arena_free(&j.a);
	arena_free(&a);
	eas_client_free(&ca);
	eas_client_free(&cb);
}

/* A hanging Sync (HeartbeatInterval) on its own thread. */
struct sync_job {
	struct eas_client *c;
	struct arena *a;
	const char *cid, *key;
	struct eas_response r;
	int rc;
	pthread_t thread;
};

static void *
sync_thread(void *arg)
{
	struct sync_job *j = arg;
	struct wbxml_node *q = wbxml_new(j->a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs = wbxml_add(j->a, q, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *c = wbxml_add(j->a, cs, EAS_AIRSYNC_COLLECTION);

	wbxml_add_text(j->a, c, EAS_AIRSYNC_SYNCKEY, j->key);
	wbxml_add_text(j->a, c, EAS_AIRSYNC_COLLECTIONID, j->cid);
	wbxml_add_int(j->a, q, EAS_AIRSYNC_HEARTBEATINTERVAL, LONG_HEARTBEAT);
	j->rc = eas_client_post(j->c, j->a, "Sync", q, NULL, &j->r);
	return NULL;
}

/* Sync with HeartbeatInterval holds until a change arrives and answers
 * with it; a wake-up that brings nothing for the device (an
 * administrator's "something changed") does not end it early. */
static void
test_sync_wait(void)
{
	const char *easctl = harness_easctl();
	struct arena *a = arena_new(0);
	struct eas_client *ca = client(HARNESS_ADA, "SWAITA");
	struct eas_client *cb = client(HARNESS_ADA, "SWAITB");
	const char *contacts = folder_id(cb, EAS_FOLDER_CONTACTS);
	struct sync_job j = {.c = cb};
	const struct wbxml_node *n;
	struct wbxml_node *app;
	char cmd[1024];
	const char *sid = NULL;
	int st = 0;

	prime(cb, contacts);
	prime(ca, folder_id(ca, EAS_FOLDER_CONTACTS));
	j.a = arena_new(0);
	j.cid = contacts;
	j.key = eas_client_sync_key(cb, contacts);
	CU_ASSERT_FATAL(pthread_create(&j.thread, NULL, sync_thread, &j) == 0);
	usleep(300 * 1000);
	if (access(easctl, X_OK) == 0) {
		snprintf(cmd, sizeof(cmd),
			 "'%s' --data '%s' user enable %s "
			 ">/dev/null",
			 easctl, srv->dir, HARNESS_ADA);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, "Katherine");
	wbxml_add_text(a, app, EAS_CONTACTS_LASTNAME, "Johnson");
	CU_ASSERT(eas_client_add(ca, a, folder_id(ca, EAS_FOLDER_CONTACTS), app,
				 &sid, &st) == 0);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.rc, 0);
	CU_ASSERT_EQUAL(j.r.http_status, 200);
	CU_ASSERT_FATAL(j.r.tree != NULL);
	n = wbxml_child(j.r.tree, EAS_AIRSYNC_COLLECTIONS);
	n = n != NULL ? wbxml_child(n, EAS_AIRSYNC_COLLECTION) : NULL;
	n = n != NULL ? wbxml_child(n, EAS_AIRSYNC_COMMANDS) : NULL;
	n = n != NULL ? wbxml_child(n, EAS_AIRSYNC_ADD) : NULL;
	CU_ASSERT_FATAL(n != NULL);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(n, EAS_AIRSYNC_SERVERID), sid);
	arena_free(&j.a);
	arena_free(&a);
	eas_client_free(&ca);
	eas_client_free(&cb);
}

/* An LMTP delivery wakes a Ping on the Inbox. */
static void
test_lmtp_wakes_inbox(void)
{
	struct eas_client *c = client(HARNESS_ADA, "PUSHL1");
	const char *inbox = folder_id(c, EAS_FOLDER_INBOX);
	struct ping_job j = {.c = c, .heartbeat = LONG_HEARTBEAT, .n = 1};

	if (srv->lmtp_port <= 0) {
		fprintf(stderr, "no LMTP port: skipped\n");
		eas_client_free(&c);
		return;
	}
	prime(c, inbox);
	j.a = arena_new(0);
	j.ids[0] = inbox;
	ping_start(&j);
	CU_ASSERT(lmtp_deliver(HARNESS_ADA_EMAIL, "push-lmtp") == 0);
	ping_join(&j);
	CU_ASSERT_EQUAL(j.res.rc, 0);
	CU_ASSERT_EQUAL(j.res.status, 2);
	CU_ASSERT(changed_has(&j.res, inbox));
	arena_free(&j.a);
	eas_client_free(&c);
}

/* `easctl deliver` commits in another process; the notification socket
 * carries the change to the waiting Ping. */
static void
test_easctl_deliver_wakes(void)
{
	const char *easctl = harness_easctl();
	struct eas_client *c = client(HARNESS_BOB, "PUSHE1");
	const char *inbox = folder_id(c, EAS_FOLDER_INBOX);
	struct ping_job j = {.c = c, .heartbeat = LONG_HEARTBEAT, .n = 1};
	char cmd[1024];
	FILE *f;

	if (access(easctl, X_OK) != 0) {
		fprintf(stderr, "%s missing: skipped\n", easctl);
		eas_client_free(&c);
		return;
	}
	prime(c, inbox);
	j.a = arena_new(0);
	j.ids[0] = inbox;
	ping_start(&j);
	snprintf(cmd, sizeof(cmd), "'%s' --data '%s' deliver %s", easctl,
		 srv->dir, HARNESS_BOB);
	f = popen(cmd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("From: <sender@example.net>\r\nTo: <bob@example.org>\r\n"
	      "Subject: via easctl\r\nMessage-ID: <easctl-push@example.net>\r\n"
	      "\r\nHello.\r\n",
	      f);
	CU_ASSERT_EQUAL(pclose(f), 0);
	ping_join(&j);
	CU_ASSERT_EQUAL(j.res.rc, 0);
	CU_ASSERT_EQUAL(j.res.status, 2);
	CU_ASSERT(changed_has(&j.res, inbox));
	arena_free(&j.a);
	eas_client_free(&c);
}

/* An administrator blocks the device from another process: its waiting
 * Ping is released at once, and its next request is refused. */
static void
test_block_releases_ping(void)
{
	const char *easctl = harness_easctl();
	struct eas_client *c = client(HARNESS_BOB, "PUSHBLK");
	const char *inbox = folder_id(c, EAS_FOLDER_INBOX);
	struct ping_job j = {.c = c, .heartbeat = LONG_HEARTBEAT, .n = 1};
	struct arena *a = arena_new(0);
	struct wbxml_node *q;
	struct eas_response r;
	int64_t st = 0;
	char cmd[1024];

	if (access(easctl, X_OK) != 0) {
		fprintf(stderr, "%s missing: skipped\n", easctl);
		eas_client_free(&c);
		arena_free(&a);
		return;
	}
	prime(c, inbox);
	j.a = arena_new(0);
	j.ids[0] = inbox;
	ping_start(&j);
	snprintf(cmd, sizeof(cmd),
		 "'%s' --data '%s' device block %s PUSHBLK "
		 ">/dev/null",
		 easctl, srv->dir, HARNESS_BOB);
	CU_ASSERT_EQUAL(system(cmd), 0);
	ping_join(&j);
	CU_ASSERT_EQUAL(j.res.rc, 0);
	CU_ASSERT_EQUAL(j.res.status, 1);
	c->auto_provision = false;
	q = wbxml_new(a, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	wbxml_add_text(a, q, EAS_FOLDERHIERARCHY_SYNCKEY, "0");
	CU_ASSERT_EQUAL_FATAL(eas_client_post(c, a, "FolderSync", q, NULL, &r),
			      0);
	CU_ASSERT_FATAL(r.tree != NULL);
	wbxml_child_int(r.tree, EAS_FOLDERHIERARCHY_STATUS, &st);
	CU_ASSERT_EQUAL(st, 129);
	arena_free(&j.a);
	arena_free(&a);
	eas_client_free(&c);
}

/* How often the server's log says needle (its debug lines "push: parked
 * DEV (" and "push: waking DEV ("). */
static int
log_count(const char *needle)
{
	FILE *f = fopen(srv->log_path, "r");
	char line[4096];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Wait until the log says needle at least n times: the server logs
 * "parked" once the waiter is armed, so after this the wake-up path is the
 * one exercised. The bound only keeps a broken build from hanging. */
static void
wait_log(const char *needle, int n)
{
	for (int i = 0; i < 3000 && log_count(needle) < n; i++)
		usleep(10 * 1000);
	CU_ASSERT_FATAL(log_count(needle) >= n);
}

static void
contact_add(struct eas_client *c, const char *first)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	const char *sid = NULL;
	int st = 0;

	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, first);
	CU_ASSERT(eas_client_add(c, a, folder_id(c, EAS_FOLDER_CONTACTS), app,
				 &sid, &st) == 0);
	arena_free(&a);
}

/* Pings of two accounts on three devices: a contact change of ada wakes
 * only the Ping of ada's that watches Contacts; blocking one of ada's
 * devices wakes only that device; an import by easctl in another process
 * wakes bob's Ping, which nothing before touched. */
static void
test_wakes_only_whom_it_concerns(void)
{
	const char *easctl = harness_easctl();
	struct eas_client *a1 = client(HARNESS_ADA, "ONLYA1");
	struct eas_client *a2 = client(HARNESS_ADA, "ONLYA2");
	struct eas_client *aw = client(HARNESS_ADA, "ONLYAW");
	struct eas_client *b1 = client(HARNESS_BOB, "ONLYB1");
	struct ping_job j1 = {.c = a1, .heartbeat = LONG_HEARTBEAT, .n = 2};
	struct ping_job j2 = {.c = a2, .heartbeat = LONG_HEARTBEAT, .n = 1};
	struct ping_job jb = {.c = b1, .heartbeat = LONG_HEARTBEAT, .n = 1};
	char cmd[1024];
	FILE *f;

	if (access(easctl, X_OK) != 0) {
		fprintf(stderr, "%s missing: skipped\n", easctl);
		return;
	}
	j1.ids[0] = folder_id(a1, EAS_FOLDER_CONTACTS);
	j1.ids[1] = folder_id(a1, EAS_FOLDER_INBOX);
	j2.ids[0] = folder_id(a2, EAS_FOLDER_CONTACTS);
	jb.ids[0] = folder_id(b1, EAS_FOLDER_CONTACTS);
	prime(a1, j1.ids[0]);
	prime(a1, j1.ids[1]);
	prime(a2, j2.ids[0]);
	prime(aw, folder_id(aw, EAS_FOLDER_CONTACTS));
	prime(b1, jb.ids[0]);
	j1.a = arena_new(0);
	j2.a = arena_new(0);
	jb.a = arena_new(0);
	CU_ASSERT_FATAL(pthread_create(&j1.thread, NULL, ping_thread, &j1) ==
			0);
	CU_ASSERT_FATAL(pthread_create(&jb.thread, NULL, ping_thread, &jb) ==
			0);
	wait_log("push: parked ONLYA1 (", 1);
	wait_log("push: parked ONLYB1 (", 1);

	/* ada's contact: A1 answers with Contacts only; bob is untouched */
	contact_add(aw, "Ada's");
	pthread_join(j1.thread, NULL);
	CU_ASSERT_EQUAL(j1.res.rc, 0);
	CU_ASSERT_EQUAL(j1.res.status, 2);
	CU_ASSERT_EQUAL(j1.res.nchanged, 1);
	CU_ASSERT(changed_has(&j1.res, j1.ids[0]));
	/* The Sync that made the change answered after the notification
	 * was handled, so a wake-up of bob's would be logged by now. */
	CU_ASSERT_EQUAL(log_count("push: waking ONLYB1 ("), 0);

	/* block A2 (waiting) from easctl: A2 answers, bob stays parked */
	prime(a1, j1.ids[0]);
	prime(a2, j2.ids[0]);
	j1.a = (arena_free(&j1.a), arena_new(0));
	CU_ASSERT_FATAL(pthread_create(&j1.thread, NULL, ping_thread, &j1) ==
			0);
	CU_ASSERT_FATAL(pthread_create(&j2.thread, NULL, ping_thread, &j2) ==
			0);
	wait_log("push: parked ONLYA1 (", 2);
	wait_log("push: parked ONLYA2 (", 1);
	snprintf(cmd, sizeof(cmd),
		 "'%s' --data '%s' device block %s ONLYA2 >/dev/null", easctl,
		 srv->dir, HARNESS_ADA);
	CU_ASSERT_EQUAL(system(cmd), 0);
	pthread_join(j2.thread, NULL);
	CU_ASSERT_EQUAL(j2.res.rc, 0);
	CU_ASSERT_EQUAL(j2.res.status, 1);
	/* the block was one commit, handled before A2 was woken by it (the
	 * debug line may reach the log just after the answer) */
	wait_log("push: waking ONLYA1 (", 1);
	CU_ASSERT_EQUAL(log_count("push: waking ONLYA1 ("), 1);
	CU_ASSERT_EQUAL(log_count("push: waking ONLYB1 ("), 0);

	/* an import into bob's Contacts by easctl wakes bob's Ping */
	snprintf(cmd, sizeof(cmd), "'%s' --data '%s' import %s - >/dev/null",
		 easctl, srv->dir, HARNESS_BOB);
	f = popen(cmd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace;Ada\r\n"
	      "FN:Ada Lovelace\r\nEND:VCARD\r\n",
	      f);
	CU_ASSERT_EQUAL(pclose(f), 0);
	pthread_join(jb.thread, NULL);
	CU_ASSERT_EQUAL(jb.res.rc, 0);
	CU_ASSERT_EQUAL(jb.res.status, 2);
	CU_ASSERT(changed_has(&jb.res, jb.ids[0]));
	wait_log("push: waking ONLYB1 (", 1);
	CU_ASSERT_EQUAL(log_count("push: waking ONLYB1 ("), 1);
	CU_ASSERT_EQUAL(log_count("push: waking ONLYA1 ("), 1);

	/* A1 is still parked: end it with a change of its own folder */
	contact_add(aw, "Ada's second");
	pthread_join(j1.thread, NULL);
	CU_ASSERT_EQUAL(j1.res.status, 2);
	arena_free(&j1.a);
	arena_free(&j2.a);
	arena_free(&jb.a);
	eas_client_free(&a1);
	eas_client_free(&a2);
	eas_client_free(&aw);
	eas_client_free(&b1);
}

/* Nothing changes: the heartbeat ends the Ping with 1. */
static void
test_heartbeat_expires(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_BOB, "PUSHH1");
	const char *ids[] = {folder_id(c, EAS_FOLDER_NOTES)};
	struct ping_result pr;

	prime(c, ids[0]);
	ping(c, a, 1, ids, 1, &pr);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 1);
	CU_ASSERT_EQUAL(pr.nchanged, 0);

	/* An empty Ping repeats the cached parameters (same outcome). */
	ping(c, a, 0, NULL, 0, &pr);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 1);
	arena_free(&a);
	eas_client_free(&c);
}

/* A Ping parks with its request and the cached parameters gone (only
 * what it watches is kept): an empty Ping waits on the folders of the
 * previous one and names the second of them when that changes. */
static void
test_empty_ping_waits_on_cached_folders(void)
{
	struct eas_client *c = client(HARNESS_ADA, "PUSHC1");
	struct eas_client *other = client(HARNESS_ADA, "PUSHC2");
	struct ping_job j = {.c = c, .heartbeat = LONG_HEARTBEAT, .n = 2};
	struct ping_job je = {.c = c};

	j.ids[0] = folder_id(c, EAS_FOLDER_INBOX);
	j.ids[1] = folder_id(c, EAS_FOLDER_CONTACTS);
	prime(c, j.ids[0]);
	prime(c, j.ids[1]);
	j.a = arena_new(0);
	CU_ASSERT_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j) == 0);
	wait_log("push: parked PUSHC1 (", 1);
	contact_add(other, "Cached one");
	ping_join(&j);
	CU_ASSERT_EQUAL(j.res.status, 2);
	CU_ASSERT(changed_has(&j.res, j.ids[1]));

	/* the device syncs what changed, then pings with an empty body */
	prime(c, j.ids[1]);
	je.a = arena_new(0);
	CU_ASSERT_FATAL(pthread_create(&je.thread, NULL, ping_thread, &je) ==
			0);
	wait_log("push: parked PUSHC1 (", 2);
	contact_add(other, "Cached two");
	ping_join(&je);
	CU_ASSERT_EQUAL(je.res.rc, 0);
	CU_ASSERT_EQUAL(je.res.status, 2);
	CU_ASSERT_EQUAL(je.res.nchanged, 1);
	CU_ASSERT(changed_has(&je.res, j.ids[1]));
	arena_free(&j.a);
	arena_free(&je.a);
	eas_client_free(&c);
	eas_client_free(&other);
}

/* Out of range: Status 5 with the bound that was crossed. */
static void
test_heartbeat_out_of_range(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_BOB, "PUSHR1");
	const char *ids[] = {folder_id(c, EAS_FOLDER_INBOX)};
	struct ping_result pr;

	ping(c, a, 100000, ids, 1, &pr);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 5);
	CU_ASSERT_EQUAL(pr.heartbeat, 3540); /* default maximum */
	arena_free(&a);
	eas_client_free(&c);
}

/* Too many folders: Status 6 with MaxFolders. */
static void
test_too_many_folders(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_BOB, "PUSHM1");
	const char *id = folder_id(c, EAS_FOLDER_INBOX);
	enum { N = 301 }; /* default limit 300 */
	const char **ids = arena_alloc(a, N * sizeof(*ids));
	struct ping_result pr;

	for (size_t i = 0; i < N; i++)
		ids[i] = id;
	ping(c, a, 60, ids, N, &pr);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 6);
	CU_ASSERT_EQUAL(pr.max_folders, 300);
	arena_free(&a);
	eas_client_free(&c);
}

/* A second Ping of the same device ends the first with 1. */
static void
test_second_ping_supersedes(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c1 = client(HARNESS_BOB, "PUSHS1");
	struct eas_client *c2 = harness_client_new(srv, HARNESS_BOB, "PUSHS1");
	const char *inbox = folder_id(c1, EAS_FOLDER_INBOX);
	struct ping_job j = {.c = c1, .heartbeat = LONG_HEARTBEAT, .n = 1};
	struct ping_result pr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	c2->policy_key = c1->policy_key; /* the same phone */
	prime(c1, inbox);
	j.a = arena_new(0);
	j.ids[0] = inbox;
	ping_start(&j);
	ping(c2, a, 1, j.ids, 1, &pr);
	ping_join(&j);
	/* The first would hold for LONG_HEARTBEAT, past the client's
	 * timeout, had the second not ended it. */
	CU_ASSERT_EQUAL(j.res.rc, 0);
	CU_ASSERT_EQUAL(j.res.status, 1);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 1);
	arena_free(&j.a);
	arena_free(&a);
	eas_client_free(&c1);
	eas_client_free(&c2);
}

/* An empty Ping with nothing cached: Status 3. */
static void
test_empty_ping_uncached(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_BOB, "PUSHX1");
	struct ping_result pr;

	ping(c, a, 0, NULL, 0, &pr);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 3);
	arena_free(&a);
	eas_client_free(&c);
}

/* A folder the account does not have: Status 7 (FolderSync). */
static void
test_unknown_folder(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_BOB, "PUSHU1");
	const char *ids[] = {"no-such-folder"};
	struct ping_result pr;

	ping(c, a, 60, ids, 1, &pr);
	CU_ASSERT_EQUAL(pr.rc, 0);
	CU_ASSERT_EQUAL(pr.status, 7);
	arena_free(&a);
	eas_client_free(&c);
}

static CU_TestInfo push_tests[] = {
	{"change by another device", test_change_by_other_device},
	{"LMTP delivery wakes Inbox", test_lmtp_wakes_inbox},
	{"easctl deliver wakes (socket)", test_easctl_deliver_wakes},
	{"blocking a device releases its Ping", test_block_releases_ping},
	{"Sync with HeartbeatInterval answers with the change", test_sync_wait},
	{"a change wakes only the Pings it concerns",
	 test_wakes_only_whom_it_concerns},
	{"heartbeat expires", test_heartbeat_expires},
	{"heartbeat out of range", test_heartbeat_out_of_range},
	{"too many folders", test_too_many_folders},
	{"second Ping supersedes", test_second_ping_supersedes},
	{"empty Ping, nothing cached", test_empty_ping_uncached},
	{"empty Ping waits on the cached folders",
	 test_empty_ping_waits_on_cached_folders},
	{"unknown folder", test_unknown_folder},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"push", suite_init, suite_clean, NULL, NULL, push_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
