/* End-to-end tests of easd --workers 3: a Ping parked on one worker is
 * woken by a Sync Add committed through another; `easctl user passwd` is
 * in force in every worker at once; a killed worker is started again and
 * the server keeps answering; SIGTERM stops every worker. The server runs
 * with EASD_WORKER_HEADER set, so that each answer names the worker that
 * gave it ("INDEX:PID" in X-Easd-Worker); connections are spread over the
 * workers by the kernel, so a test opens connections until it has the
 * workers it needs (each new one lands on a given worker with odds of one
 * in three). Waits are bounded by the client's timeout. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

#define NWORKERS 3
/* Fresh connections tried to reach a wanted worker: with odds of 1/3
 * each, missing one this often does not happen. */
#define TRIES 200
#define LONG_HEARTBEAT 600
#define CLIENT_TIMEOUT_MS 30000

static struct easd_proc *srv;

static int
suite_init(void)
{
	static const char *const args[] = {
		"--workers",   "3", "--heartbeat-min", "1", "--admin-listen",
		"127.0.0.1:0", NULL};

	setenv("EASD_WORKER_HEADER", "1", 1);
	srv = easd_start(args);
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	if (srv == NULL)
		return 0;
	return easd_stop(&srv) == 0 ? 0 : -1;
}

/* The worker that gave r: its index (-1 when the header is missing) and
 * pid. */
static int
worker_of(const struct eas_response *r, long *pid_r)
{
	for (const struct eas_http_header *h = r->headers; h != NULL;
	     h = h->next) {
		int idx;
		long pid;

		if (strcasecmp(h->name, "X-Easd-Worker") == 0 &&
		    sscanf(h->value, "%d:%ld", &idx, &pid) == 2) {
			if (pid_r != NULL)
				*pid_r = pid;
			return idx;
		}
	}
	return -1;
}

/* An authenticated OPTIONS on c's connection: the worker it reached, or
 * -1 (*http_r gets the status). */
static int
options_worker(struct eas_client *c, long *http_r, long *pid_r)
{
	struct arena *a = arena_new(0);
	struct eas_response r;
	int w = -1;

	memset(&r, 0, sizeof(r));
	if (eas_client_raw(c, a, "OPTIONS", NULL, NULL, NULL, NULL, 0, &r) == 0)
		w = worker_of(&r, pid_r);
	if (http_r != NULL)
		*http_r = r.http_status;
	arena_free(&a);
	return w;
}

/* A new client of user (provisioned when provision) whose connection is
 * served by worker want (-1: any but avoid); NULL when none was found. */
static struct eas_client *
client_on(const char *user, const char *device, bool provision, int want,
	  int avoid, int *worker_r)
{
	for (int i = 0; i < TRIES; i++) {
		struct eas_client *c =
			provision ? harness_client(srv, user, device)
				  : harness_client_new(srv, user, device);
		int w;

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		c->timeout_ms = CLIENT_TIMEOUT_MS;
		w = options_worker(c, NULL, NULL);
		if (w >= 0 && (want < 0 || w == want) && w != avoid) {
			if (worker_r != NULL)
				*worker_r = w;
			return c;
		}
		eas_client_free(&c);
	}
	return NULL;
}

struct ping_job {
	struct eas_client *c;
	const char *folder;
	int rc, status, worker;
	bool changed;
	pthread_t thread;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *j = arg;
	struct arena *a = arena_new(0);
	struct wbxml_node *req = wbxml_new(a, EAS_PING_PING), *fs, *f;
	const struct wbxml_node *fl, *x;
	struct eas_response r;
	int64_t v = -1;

	wbxml_add_int(a, req, EAS_PING_HEARTBEATINTERVAL, LONG_HEARTBEAT);
	fs = wbxml_add(a, req, EAS_PING_FOLDERS);
	f = wbxml_add(a, fs, EAS_PING_FOLDER);
	wbxml_add_text(a, f, EAS_PING_ID, j->folder);
	wbxml_add_text(a, f, EAS_PING_CLASS, "Contacts");
	j->rc = eas_client_post(j->c, a, "Ping", req, NULL, &r);
	if (j->rc == 0 && r.http_status == 200 && r.tree != NULL) {
		wbxml_child_int(r.tree, EAS_PING_STATUS, &v);
		j->status = (int)v;
		j->worker = worker_of(&r, NULL);
		if ((fl = wbxml_child(r.tree, EAS_PING_FOLDERS)) != NULL)
			wbxml_foreach(fl, x) if (x->tag == EAS_PING_FOLDER &&
						 strcmp(wbxml_text(x),
							j->folder) == 0)
				j->changed = true;
	} else
		j->rc = -1;
	arena_free(&a);
	return NULL;
}

/* A Sync that adds one contact to folder, as one request on c's
 * connection: the worker that committed it, or -1. */
static int
add_contact(struct eas_client *c, const char *folder, const char *name)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *sync = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cols = wbxml_add(a, sync, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *col = wbxml_add(a, cols, EAS_AIRSYNC_COLLECTION);
	struct wbxml_node *cmds, *add, *app;
	struct eas_response r;
	int w = -1;

	wbxml_add_text(a, col, EAS_AIRSYNC_SYNCKEY,
		       eas_client_sync_key(c, folder));
	wbxml_add_text(a, col, EAS_AIRSYNC_COLLECTIONID, folder);
	cmds = wbxml_add(a, col, EAS_AIRSYNC_COMMANDS);
	add = wbxml_add(a, cmds, EAS_AIRSYNC_ADD);
	wbxml_add_text(a, add, EAS_AIRSYNC_CLIENTID, name);
	app = wbxml_add(a, add, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, name);
	wbxml_add_text(a, app, EAS_CONTACTS_FILEAS, name);
	if (eas_client_post(c, a, "Sync", sync, NULL, &r) == 0 &&
	    r.http_status == 200 && r.tree != NULL)
		w = worker_of(&r, NULL);
	arena_free(&a);
	return w;
}

/* Sync folder to its end on c. */
static void
prime(struct eas_client *c, const char *folder)
{
	struct arena *a = arena_new(0);
	struct eas_sync_result r;

	CU_ASSERT_FATAL(eas_client_sync(c, a, folder, NULL, &r) == 0);
	arena_free(&a);
}

static const char *
contacts_of(struct eas_client *c)
{
	struct arena *a = arena_new(0);
	const struct eas_folder *f;
	int st = 0;

	CU_ASSERT_FATAL(eas_client_foldersync(c, a, &st) == 0);
	arena_free(&a);
	f = eas_client_folder_by_type(c, EAS_FOLDER_CONTACTS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f->server_id;
}

/* The waiting device's Ping is on one worker, the change is committed by
 * another: the Ping answers 2 with the folder. Tried until the two were
 * seen to be different processes (each answer names its worker). */
static void
test_wake_across_workers(void)
{
	bool across = false;

	for (int round = 0; round < 10 && !across; round++) {
		struct ping_job j = {.rc = -1};
		struct eas_client *cw, *cc;
		char dev[32], name[32];
		int ww = -1, wc = -1, committed;

		snprintf(dev, sizeof(dev), "WKWAIT%d", round);
		cw = client_on(HARNESS_ADA, dev, true, -1, -1, &ww);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cw);
		j.c = cw;
		j.folder = contacts_of(cw);
		prime(cw, j.folder);
		/* The Ping goes on the connection whose worker is known (most
		 * likely: which workers answered is read off the answers
		 * below). */
		ww = options_worker(cw, NULL, NULL);
		snprintf(dev, sizeof(dev), "WKCHG%d", round);
		cc = client_on(HARNESS_ADA, dev, true, -1, ww, &wc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
		prime(cc, contacts_of(cc));

		CU_ASSERT_FATAL(
			pthread_create(&j.thread, NULL, ping_thread, &j) == 0);
		/* time to park, so the wake-up path is the one exercised; the
		 * outcome is the same if it has not parked yet */
		usleep(300 * 1000);
		snprintf(name, sizeof(name), "Across %d", round);
		committed = add_contact(cc, j.folder, name);
		pthread_join(j.thread, NULL);
		CU_ASSERT(committed >= 0);
		CU_ASSERT_EQUAL(j.rc, 0);
		CU_ASSERT_EQUAL(j.status, 2);
		CU_ASSERT(j.changed);
		if (j.worker >= 0 && committed >= 0 && j.worker != committed)
			across = true;
		eas_client_free(&cw);
		eas_client_free(&cc);
	}
	CU_ASSERT(across);
}

static void
easctl_ok(const char *const *args)
{
	char cmd[1024];
	int n = snprintf(cmd, sizeof(cmd), "'%s' --data '%s'", harness_easctl(),
			 srv->dir);

	for (size_t i = 0; args[i] != NULL; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s'",
			      args[i]);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " >/dev/null 2>&1");
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
}

/* A connection to each worker with bob's password verified (and so
 * remembered) there; `easctl user passwd` from another process; the old
 * password is refused by every worker on the very next request, the new
 * one taken. */
static void
test_passwd_in_every_worker(void)
{
	static const char *const passwd[] = {"user",	   "passwd",	 "bob",
					     "--password", "other-pass", NULL};
	static const char *const passwd_back[] = {
		"user", "passwd", "bob", "--password", HARNESS_PASSWORD, NULL};
	struct eas_client *c[NWORKERS];
	long http = 0;

	for (int w = 0; w < NWORKERS; w++) {
		c[w] = client_on(HARNESS_BOB, "WKPASS", false, w, -1, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c[w]);
		CU_ASSERT_EQUAL(options_worker(c[w], &http, NULL), w);
		CU_ASSERT_EQUAL(http, 200);
	}
	easctl_ok(passwd);
	for (int w = 0; w < NWORKERS; w++) {
		CU_ASSERT_EQUAL(options_worker(c[w], &http, NULL), w);
		CU_ASSERT_EQUAL(http, 401);
	}
	easctl_ok(passwd_back);
	for (int w = 0; w < NWORKERS; w++) {
		CU_ASSERT(options_worker(c[w], &http, NULL) >= 0);
		CU_ASSERT_EQUAL(http, 200);
		eas_client_free(&c[w]);
	}
}

/* SIGKILL worker 1: the parent starts another in its place, and the
 * server answers throughout (every connection tried gets its OPTIONS),
 * the new worker 1 among them. */
static void
test_killed_worker_restarts(void)
{
	struct eas_client *c;
	long pid = 0, npid = 0, http = 0;
	int before = harness_log_count(srv, "worker 1 serves");
	bool seen = false;

	c = client_on(HARNESS_ADA, "WKKILL", false, 1, -1, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(options_worker(c, NULL, &pid), 1);
	eas_client_free(&c);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL_FATAL(kill((pid_t)pid, SIGKILL), 0);
	CU_ASSERT(harness_wait_log(srv, "worker 1 serves", before + 1, 30000) >
		  before);
	for (int i = 0; i < TRIES && !seen; i++) {
		int w;

		c = harness_client_new(srv, HARNESS_ADA, "WKKILL");
		w = options_worker(c, &http, &npid);
		CU_ASSERT_EQUAL(http, 200);
		if (w == 1) {
			CU_ASSERT_NOT_EQUAL(npid, pid);
			seen = true;
		}
		eas_client_free(&c);
	}
	CU_ASSERT(seen);
}

/* SIGTERM to the parent stops every worker; the parent exits 0 once
 * they are gone. */
static void
test_sigterm_stops_all(void)
{
	long pids[NWORKERS] = {0};

	for (int w = 0; w < NWORKERS; w++) {
		struct eas_client *c =
			client_on(HARNESS_ADA, "WKTERM", false, w, -1, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(options_worker(c, NULL, &pids[w]), w);
		eas_client_free(&c);
	}
	CU_ASSERT_EQUAL(easd_stop(&srv), 0);
	for (int w = 0; w < NWORKERS; w++) {
		CU_ASSERT(pids[w] > 0);
		CU_ASSERT(kill((pid_t)pids[w], 0) < 0 && errno == ESRCH);
	}
}

static char *
scrape(void)
{
	char *url = xasprintf("http://127.0.0.1:%d/metrics", srv->admin_port);
	char *body;

	CU_ASSERT_EQUAL(harness_http_get(url, &body), 200);
	free(url);
	return body;
}

#define OPTIONS_200 "easd_requests_total{command=\"OPTIONS\",status=\"200\"}"

/* /metrics (worker 0's admin listener) counts what every worker answered
 * and what waits in every one of them. */
static void
test_metrics_of_every_worker(void)
{
	struct eas_client *c1, *c2, *cc;
	struct ping_job j = {.rc = -1};
	double before, parked = 0;
	char *text;
	int w;

	CU_ASSERT_FATAL(srv->admin_port > 0);
	c1 = client_on(HARNESS_BOB, "WKMET1", true, 1, -1, NULL);
	c2 = client_on(HARNESS_BOB, "WKMET2", true, 2, -1, NULL);
	cc = client_on(HARNESS_BOB, "WKMETC", true, -1, -1, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	text = scrape();
	before = harness_metric(text, OPTIONS_200);
	free(text);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(options_worker(c1, NULL, NULL), 1);
		CU_ASSERT_EQUAL(options_worker(c2, NULL, NULL), 2);
	}
	text = scrape();
	CU_ASSERT_EQUAL(harness_metric(text, OPTIONS_200) - before, 10);
	free(text);

	/* a Ping parked in worker 1 is in worker 0's gauge */
	j.c = c1;
	j.folder = contacts_of(c1);
	prime(c1, j.folder);
	prime(cc, contacts_of(cc));
	CU_ASSERT_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j) == 0);
	for (int i = 0; i < 3000 && parked < 1; i++) {
		text = scrape();
		parked = harness_metric(text, "easd_parked_requests");
		free(text);
		if (parked < 1)
			usleep(10 * 1000);
	}
	CU_ASSERT_EQUAL(parked, 1);
	w = add_contact(cc, j.folder, "Counted");
	pthread_join(j.thread, NULL);
	CU_ASSERT(w >= 0);
	CU_ASSERT_EQUAL(j.status, 2);
	CU_ASSERT_EQUAL(j.worker, 1);
	text = scrape();
	CU_ASSERT_EQUAL(harness_metric(text, "easd_parked_requests"), 0);
	free(text);
	eas_client_free(&c1);
	eas_client_free(&c2);
	eas_client_free(&cc);
}

/* A phone whose connection died Pings again on a new one, which another
 * worker may take: the newer Ping ends the older one there (Status 1), as
 * it would in one process, instead of leaving it for its heartbeat. */
static void
test_newer_ping_on_another_worker(void)
{
	int w1 = -1, w2 = -1;
	struct eas_client *c1, *c2, *cc;
	struct ping_job j1 = {.rc = -1}, j2 = {.rc = -1};

	c1 = client_on(HARNESS_ADA, "WKSUP", true, -1, -1, &w1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1);
	c2 = client_on(HARNESS_ADA, "WKSUP", false, -1, w1, &w2);
	cc = client_on(HARNESS_ADA, "WKSUPC", true, -1, -1, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cc);
	c2->policy_key = c1->policy_key; /* the same phone */
	j1.c = c1;
	j1.folder = contacts_of(c1);
	j2.c = c2;
	j2.folder = j1.folder;
	prime(c1, j1.folder);
	prime(cc, contacts_of(cc));
	CU_ASSERT_FATAL(pthread_create(&j1.thread, NULL, ping_thread, &j1) ==
			0);
	CU_ASSERT_FATAL(harness_wait_log(srv, "push: parked WKSUP (", 1,
					 CLIENT_TIMEOUT_MS) >= 1);
	CU_ASSERT_FATAL(pthread_create(&j2.thread, NULL, ping_thread, &j2) ==
			0);
	/* without the other worker's word the first would hold for its
	 * heartbeat, past the client's timeout */
	pthread_join(j1.thread, NULL);
	CU_ASSERT_EQUAL(j1.rc, 0);
	CU_ASSERT_EQUAL(j1.status, 1);
	CU_ASSERT_EQUAL(j1.worker, w1);
	CU_ASSERT_FATAL(harness_wait_log(srv, "push: parked WKSUP (", 2,
					 CLIENT_TIMEOUT_MS) >= 2);
	CU_ASSERT(add_contact(cc, j1.folder, "After the newer Ping") >= 0);
	pthread_join(j2.thread, NULL);
	CU_ASSERT_EQUAL(j2.rc, 0);
	CU_ASSERT_EQUAL(j2.status, 2);
	CU_ASSERT_EQUAL(j2.worker, w2);
	eas_client_free(&c1);
	eas_client_free(&c2);
	eas_client_free(&cc);
}

static CU_TestInfo worker_tests[] = {
	{"a newer Ping on another worker ends the older",
	 test_newer_ping_on_another_worker},
	{"/metrics counts every worker", test_metrics_of_every_worker},
	{"a Ping wakes across workers", test_wake_across_workers},
	{"easctl user passwd reaches every worker",
	 test_passwd_in_every_worker},
	{"a killed worker is started again", test_killed_worker_restarts},
	{"SIGTERM stops every worker", test_sigterm_stops_all},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"workers", suite_init, suite_clean, NULL, NULL, worker_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
