/* Two easd nodes on one PostgreSQL (issue 20): a server of the
 * benchmark's own (tests/pgtest.c) with bench-sync's data set (10,000
 * contacts), two nodes on it behind a real nginx balancing them round
 * robin (upstream keep-alive on), and one node direct in the same run:
 * - the initial contact sync (WindowSize 512) of a new device through
 *   nginx (its requests spread over both nodes) vs direct to node 1;
 * - no-change Syncs of the 10,000-item folder from 4 libcurl clients
 *   through nginx vs direct to node 1;
 * each of the two three times in turn (medians, and the median of the
 * three ratios);
 * - cross-node wake latency: 100 devices' Pings parked on node 1 (known
 *   parked from its /metrics, never by sleeping), one Add committed
 *   through node 2, and the time from sending the Add to each Ping's
 *   answer (the Add's own round trip included), over rounds; p50 and
 *   p99 of all answers (target p99 < 100 ms).
 * Skips, with the reason printed, when PostgreSQL or nginx is missing. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conv.h"
#include "harness.h"
#include "nginx.h"
#include "measure.h"
#include "pgtest.h"
#include "util.h"
#include "xalloc.h"

#define CONTACTS 10000
#define WINDOW 512
#define CLIENTS 4
#define RATE_SECONDS 2
/* direct and through nginx in turn, this many times */
#define PAIRS 3
#define PINGERS 100
#define ROUNDS 10
/* a bound on every wait: a lost wake-up is a failure, not a hang */
#define WAIT_MS 30000

static struct easd_proc *node1, *node2;
static const char *nginx_url; /* nginx in front of both nodes */

/* --- the data set (as bench-sync's) --- */

static int
load_contacts(void)
{
	struct store *s = easd_store(node1);
	struct arena *a = arena_new(1 << 16);
	struct store_folder f;
	int ret = -1;

	if (s == NULL ||
	    store_folder_get_by_type(s, a, node1->ada_id, EAS_FOLDER_CONTACTS,
				     &f) != STORE_OK ||
	    store_begin(s, true) != STORE_OK)
		goto out;
	for (unsigned i = 0; i < CONTACTS; i++) {
		struct store_item item;
		const char *error, *text;

		arena_reset(a);
		text = arena_printf(
			a,
			"BEGIN:VCARD\r\nVERSION:3.0\r\n"
			"N:Person%u;Bench;;;\r\nFN:Bench Person%u\r\n"
			"EMAIL;TYPE=INTERNET:p%u@example.org\r\n"
			"TEL;TYPE=CELL:+1 555 %04u\r\n"
			"ORG:Example Inc.\r\nEND:VCARD\r\n",
			i, i, i, i % 10000);
		memset(&item, 0, sizeof(item));
		if (conv_from_standard(a, STORE_CLASS_CONTACTS, text,
				       strlen(text), &item, &error) < 0 ||
		    store_item_add(s, a, node1->ada_id, f.id, &item, 0) !=
			    STORE_OK) {
			store_rollback(s);
			goto out;
		}
	}
	ret = store_commit(s) == STORE_OK ? 0 : -1;
out:
	arena_free(&a);
	store_close(&s);
	return ret;
}

/* --- clients --- */

/* A provisioned device of ada's at url; NULL after printing why. */
static struct eas_client *
client_at(const char *url, const char *device)
{
	struct eas_client *c = eas_client_new(
		url, HARNESS_ADA, HARNESS_PASSWORD, device, "BenchDevice");
	struct arena *a = arena_new(16 * 1024);

	if (eas_client_provision(c, a, NULL) != 0) {
		fprintf(stderr, "bench-nodes: provisioning %s at %s: %s\n",
			device, url, eas_client_error(c));
		eas_client_free(&c);
	}
	arena_free(&a);
	if (c != NULL)
		c->timeout_ms = WAIT_MS;
	return c;
}

/* The initial sync of a new device at url: seconds, or -1. */
static double
initial_sync(const char *url, const char *cid, const char *device)
{
	struct eas_client *c = client_at(url, device);
	struct arena *a = arena_new(1 << 20);
	size_t items = 0;
	double t0, t = -1;

	if (c == NULL)
		goto out;
	t0 = measure_now();
	if (measure_full_sync(c, a, cid, WINDOW, NULL, &items) != NULL &&
	    items == CONTACTS)
		t = measure_now() - t0;
	else
		fprintf(stderr,
			"bench-nodes: initial sync at %s: %zu items, %s\n", url,
			items, eas_client_error(c));
out:
	eas_client_free(&c);
	arena_free(&a);
	return t;
}

struct worker {
	pthread_t thread;
	const char *url, *cid;
	char device[48];
	volatile bool *stop;
	volatile unsigned long count;
	volatile bool ready;
	bool failed;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct arena *a = arena_new(1 << 16);
	struct eas_client *c = client_at(w->url, w->device);
	const char *key;
	size_t items;
	bool more;

	if (c == NULL || (key = measure_full_sync(c, a, w->cid, WINDOW, NULL,
						  &items)) == NULL) {
		w->failed = true;
		w->ready = true;
		goto out;
	}
	key = arena_strdup(a, key);
	w->ready = true;
	while (!*w->stop) {
		struct arena *r = arena_new(8192);
		const char *k = key;

		if (measure_sync_once(c, r, w->cid, &k, 0, &items, &more) < 0 ||
		    items != 0) {
			w->failed = true;
			arena_free(&r);
			break;
		}
		arena_free(&r);
		w->count++;
	}
out:
	eas_client_free(&c);
	arena_free(&a);
	return NULL;
}

/* No-change Syncs a second from CLIENTS clients at url; -1 on failure. */
static double
no_change_rate(const char *url, const char *cid, const char *tag)
{
	struct worker w[CLIENTS];
	volatile bool stop = false;
	unsigned long before[CLIENTS], total = 0;
	bool failed = false;
	double t0, t;

	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < CLIENTS; i++) {
		w[i].url = url;
		w[i].cid = cid;
		w[i].stop = &stop;
		snprintf(w[i].device, sizeof(w[i].device), "benchnc%s%u", tag,
			 i);
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	/* every client past its initial sync and one no-change Sync */
	for (bool all = false; !all;) {
		all = true;
		for (unsigned i = 0; i < CLIENTS; i++)
			if (!w[i].failed && (!w[i].ready || w[i].count == 0))
				all = false;
		if (!all)
			usleep(100 * 1000);
	}
	for (unsigned i = 0; i < CLIENTS; i++)
		before[i] = w[i].count;
	t0 = measure_now();
	sleep(RATE_SECONDS);
	for (unsigned i = 0; i < CLIENTS; i++)
		total += w[i].count - before[i];
	t = measure_now() - t0;
	stop = true;
	for (unsigned i = 0; i < CLIENTS; i++) {
		pthread_join(w[i].thread, NULL);
		failed |= w[i].failed;
	}
	if (failed) {
		fprintf(stderr,
			"bench-nodes: a no-change client at %s failed\n", url);
		return -1;
	}
	return (double)total / t;
}

/* --- cross-node wake latency --- */

static size_t
collect(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	if (b->len + size * n < 1 << 20)
		buf_append(b, data, size * n);
	return size * n;
}

/* easd_parked_requests from node 1's /metrics, or -1. */
static long
parked_now(void)
{
	char url[64];
	struct buf b;
	CURL *h = curl_easy_init();
	long n = -1;
	const char *p;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics",
		 node1->admin_port);
	buf_init(&b, 0);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	if (curl_easy_perform(h) == CURLE_OK) {
		buf_putc(&b, '\0');
		p = strstr((const char *)b.data, "\neasd_parked_requests ");
		if (p != NULL)
			n = atol(p + strlen("\neasd_parked_requests "));
	}
	curl_easy_cleanup(h);
	buf_deinit(&b);
	return n;
}

struct pinger {
	pthread_t thread;
	struct eas_client *c;
	const char *folder;
	double answered; /* measure_now() of the answer */
	int status;
};

static void *
ping_run(void *arg)
{
	struct pinger *p = arg;
	struct arena *a = arena_new(4096);
	const char *const ids[] = {p->folder};
	const char **changed;
	size_t n = 0;

	if (eas_client_ping(p->c, a, 600, ids, 1, &p->status, &changed, &n) !=
	    0)
		p->status = -1;
	p->answered = measure_now();
	arena_free(&a);
	return NULL;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* PINGERS devices Ping on node 1; an Add through node 2 wakes them all;
 * ROUNDS times. The latencies (ms) into lat (PINGERS * ROUNDS); how
 * many, or -1. */
static int
wake_latency(double *lat)
{
	struct pinger *p = xcalloc(PINGERS, sizeof(*p));
	struct arena *a = arena_new(1 << 16);
	struct eas_client *writer = NULL;
	char *tasks = NULL;
	struct eas_sync_result r;
	int n = 0, st = 0, rc = -1;

	for (int i = 0; i < PINGERS; i++) {
		char dev[32];

		snprintf(dev, sizeof(dev), "benchping%d", i);
		p[i].c = client_at(node1->url, dev);
		if (p[i].c == NULL || eas_client_foldersync(p[i].c, a, &st) < 0)
			goto out;
		if (tasks == NULL)
			tasks = xstrdup(eas_client_folder_by_type(
						p[i].c, EAS_FOLDER_TASKS)
						->server_id);
		p[i].folder = tasks;
		if (eas_client_sync(p[i].c, a, tasks, NULL, &r) < 0)
			goto out;
		arena_reset(a);
	}
	writer = client_at(node2->url, "benchwriter");
	if (writer == NULL || eas_client_foldersync(writer, a, &st) < 0 ||
	    eas_client_sync(writer, a, tasks, NULL, &r) < 0)
		goto out;
	for (int round = 0; round < ROUNDS; round++) {
		struct wbxml_node *app;
		double t0;
		long parked = 0;

		for (int i = 0; i < PINGERS; i++)
			pthread_create(&p[i].thread, NULL, ping_run, &p[i]);
		for (int w = 0; w < WAIT_MS / 20 && parked < PINGERS; w++) {
			parked = parked_now();
			if (parked < PINGERS)
				usleep(20 * 1000);
		}
		if (parked < PINGERS) {
			fprintf(stderr,
				"bench-nodes: only %ld of %d Pings parked\n",
				parked, PINGERS);
			for (int i = 0; i < PINGERS; i++)
				pthread_join(p[i].thread, NULL);
			goto out;
		}
		app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
		wbxml_add_text(a, app, EAS_TASKS_SUBJECT,
			       arena_printf(a, "wake %d", round));
		t0 = measure_now();
		if (eas_client_add(writer, a, tasks, app, NULL, &st) < 0) {
			fprintf(stderr, "bench-nodes: the Add failed: %s\n",
				eas_client_error(writer));
			for (int i = 0; i < PINGERS; i++)
				pthread_join(p[i].thread, NULL);
			goto out;
		}
		for (int i = 0; i < PINGERS; i++) {
			pthread_join(p[i].thread, NULL);
			if (p[i].status != 2) {
				fprintf(stderr,
					"bench-nodes: a Ping answered status "
					"%d\n",
					p[i].status);
				goto out;
			}
			lat[n++] = (p[i].answered - t0) * 1000.0;
		}
		/* each device takes the change, so its next Ping waits */
		for (int i = 0; i < PINGERS; i++)
			if (eas_client_sync(p[i].c, a, tasks, NULL, &r) < 0)
				goto out;
		arena_reset(a);
	}
	rc = n;
out:
	for (int i = 0; i < PINGERS; i++)
		eas_client_free(&p[i].c);
	eas_client_free(&writer);
	free(tasks);
	free(p);
	arena_free(&a);
	return rc;
}

int
main(void)
{
	const char *url, *why = NULL;
	char dir[] = "/tmp/easd-bench-node2-XXXXXX";
	struct arena *a = arena_new(4096);
	struct store_folder contacts;
	struct store *s;
	double init_d[PAIRS], init_lb[PAIRS], rate_d[PAIRS], rate_lb[PAIRS];
	double init_ratio[PAIRS], rate_ratio[PAIRS];
	double *lat = xcalloc(PINGERS * ROUNDS, sizeof(*lat));
	int n;

	setenv("EASD_BIN",
	       getenv("EASD_BIN") != NULL ? getenv("EASD_BIN") : "build/easd",
	       1);
	if (access("/usr/sbin/nginx", X_OK) != 0) {
		printf("bench-nodes: skipped: nginx is not installed (make "
		       "deploy-deps installs it)\n");
		return 0;
	}
	url = pgtest_start("easd_bench_nodes", &why);
	if (url == NULL) {
		printf("bench-nodes: skipped: %s\n",
		       why != NULL ? why : "PostgreSQL did not start");
		return 0;
	}
	{
		/* debug logging (the harness default) would dominate */
		const char *args1[] = {"--log-level",
				       "warn",
				       "--store",
				       url,
				       "--admin-listen",
				       "127.0.0.1:0",
				       "--max-parked-per-account",
				       "1000",
				       "--max-devices-per-account",
				       "1000",
				       NULL};
		const char *args2[] = {"--log-level",
				       "warn",
				       "--store",
				       url,
				       "--max-devices-per-account",
				       "1000",
				       NULL};

		node1 = easd_start(args1);
		if (node1 == NULL || load_contacts() < 0 ||
		    mkdtemp(dir) == NULL ||
		    (node2 = easd_start_dir(dir, args2)) == NULL) {
			fprintf(stderr,
				"bench-nodes: cannot start the nodes\n");
			goto fail;
		}
	}
	if ((nginx_url = harness_nginx_start(node1->port, node2->port)) ==
	    NULL) {
		fprintf(stderr, "bench-nodes: nginx did not start\n");
		goto fail;
	}
	s = easd_store(node1);
	if (s == NULL ||
	    store_folder_get_by_type(s, a, node1->ada_id, EAS_FOLDER_CONTACTS,
				     &contacts) != STORE_OK) {
		store_close(&s);
		goto fail;
	}
	store_close(&s);

	/* direct and through nginx in turn, PAIRS times: the medians, and
	 * the median of the pairs' ratios (the machine's load moves both
	 * of a pair alike) */
	for (int i = 0; i < PAIRS; i++) {
		char dev[32], tag[16];

		snprintf(dev, sizeof(dev), "benchid%d", i);
		init_d[i] = initial_sync(node1->url, contacts.server_id, dev);
		snprintf(dev, sizeof(dev), "benchilb%d", i);
		init_lb[i] = initial_sync(nginx_url, contacts.server_id, dev);
		snprintf(tag, sizeof(tag), "d%d", i);
		rate_d[i] = no_change_rate(node1->url, contacts.server_id, tag);
		snprintf(tag, sizeof(tag), "lb%d", i);
		rate_lb[i] = no_change_rate(nginx_url, contacts.server_id, tag);
		if (init_d[i] < 0 || init_lb[i] < 0 || rate_d[i] < 0 ||
		    rate_lb[i] < 0)
			goto fail;
		init_ratio[i] = init_lb[i] / init_d[i];
		rate_ratio[i] = rate_lb[i] / rate_d[i];
	}
	printf("bench-nodes: pg_initial_%u_contacts_window_%u_one_node %.3f s "
	       "(target -)\n",
	       CONTACTS, WINDOW, measure_median(init_d, PAIRS));
	printf("bench-nodes: pg_initial_%u_contacts_window_%u_two_nodes_nginx "
	       "%.3f s (target -)\n",
	       CONTACTS, WINDOW, measure_median(init_lb, PAIRS));
	printf("bench-nodes: pg_initial_two_nodes_vs_one %.2f times (target "
	       "-)\n",
	       measure_median(init_ratio, PAIRS));
	printf("bench-nodes: pg_no_change_syncs_one_node %.0f req/s (target "
	       "-)\n",
	       measure_median(rate_d, PAIRS));
	printf("bench-nodes: pg_no_change_syncs_two_nodes_nginx %.0f req/s "
	       "(target -)\n",
	       measure_median(rate_lb, PAIRS));
	printf("bench-nodes: pg_no_change_two_nodes_vs_one %.2f of one "
	       "node's (target -)\n",
	       measure_median(rate_ratio, PAIRS));

	n = wake_latency(lat);
	if (n <= 0)
		goto fail;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("bench-nodes: pg_cross_node_wake_p50 %.1f ms (target -)\n",
	       lat[n / 2]);
	printf("bench-nodes: pg_cross_node_wake_p99 %.1f ms (target < 100)\n",
	       lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
	printf("bench-nodes: pg_cross_node_wake_answers %d pings (target "
	       "%d)\n",
	       n, PINGERS * ROUNDS);

	easd_stop(&node2);
	easd_stop(&node1);
	harness_nginx_stop();
	pgtest_stop();
	free(lat);
	arena_free(&a);
	return 0;
fail:
	easd_stop(&node2);
	easd_stop(&node1);
	harness_nginx_stop();
	pgtest_stop();
	free(lat);
	arena_free(&a);
	return 1;
}
