/* Sync benchmark (issue 5): initial sync of 10,000 contacts over loopback
 * with WindowSize 100 and 512 (wall time, requests, server CPU), and the
 * rate of no-change Syncs from 4 keep-alive clients on a 10,000-item and a
 * 10-item folder (the no-change cost must not depend on folder size).
 * Where PostgreSQL is installed, the initial sync at 512 and the no-change
 * rate of the big folder again on a PostgreSQL store of the benchmark's
 * own (tests/pgtest.c), and their ratios to SQLite's in the same run
 * (issue 20: initial sync within 2x, no-change rate at least 0.5x; the
 * no-change ratio from windows the two servers take in turns). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conv.h"
#include "harness.h"
#include "measure.h"
#include "pgtest.h"
#include "util.h"

#define CONTACTS 10000
#define NOTES 10
#define CLIENTS 4
#define RATE_SECONDS 3
/* turns of the two stores' no-change windows */
#define ROUNDS 5

static struct easd_proc *srv;
/* before every figure's name: "" on SQLite, "pg_" on PostgreSQL */
static const char *tag = "";

/* Items straight into the store: the benchmark measures Sync, not the
 * Adds. */
static int
load_items(int folder_type, enum store_class cls, unsigned count)
{
	struct store *s = easd_store(srv);
	struct arena *a = arena_new(1 << 16);
	struct store_folder f;
	int ret = -1;

	if (s == NULL)
		goto out;
	if (store_folder_get_by_type(s, a, srv->ada_id, folder_type, &f) !=
		    STORE_OK ||
	    store_begin(s, true) != STORE_OK)
		goto out;
	for (unsigned i = 0; i < count; i++) {
		struct store_item item;
		const char *error, *text;

		arena_reset(a);
		if (cls == STORE_CLASS_CONTACTS)
			text = arena_printf(
				a,
				"BEGIN:VCARD\r\nVERSION:3.0\r\n"
				"N:Person%u;Bench;;;\r\nFN:Bench Person%u\r\n"
				"EMAIL;TYPE=INTERNET:p%u@example.org\r\n"
				"TEL;TYPE=CELL:+1 555 %04u\r\n"
				"ORG:Example Inc.\r\nEND:VCARD\r\n",
				i, i, i, i % 10000);
		else
			text = arena_printf(a, "Note %u\r\nsome text", i);
		memset(&item, 0, sizeof(item));
		if (conv_from_standard(a, cls, text, strlen(text), &item,
				       &error) < 0) {
			fprintf(stderr, "bench-sync: %s\n", error);
			store_rollback(s);
			goto out;
		}
		if (store_item_add(s, a, srv->ada_id, f.id, &item, 0) !=
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

/* A new device's initial sync on srv at window; its wall time. quiet:
 * one of several turns (initial_turns), nothing printed. */
static double
initial_sync_as(const char *cid, unsigned window, const char *dev_tag,
		bool quiet)
{
	struct eas_client *c;
	struct arena *a = arena_new(1 << 20);
	char dev[32];
	unsigned requests;
	size_t items;
	double t0, cpu0, t, cpu;

	snprintf(dev, sizeof(dev), "benchinit%u%s", window, dev_tag);
	c = harness_client(srv, HARNESS_ADA, dev);
	if (c == NULL)
		exit(1);
	cpu0 = measure_cpu(srv->pid);
	t0 = measure_now();
	if (measure_full_sync(c, a, cid, window, &requests, &items) == NULL) {
		fprintf(stderr, "bench-sync: initial sync failed: %s\n",
			eas_client_error(c));
		exit(1);
	}
	t = measure_now() - t0;
	cpu = measure_cpu(srv->pid) - cpu0;
	if (quiet)
		goto out;
	printf("bench-sync: %sinitial_%u_contacts_window_%u %.3f s "
	       "(target %s)\n",
	       tag, CONTACTS, window, t,
	       window == 512 && tag[0] == '\0' ? "< 0.5" : "-");
	printf("bench-sync: %sinitial_window_%u_requests %u requests "
	       "(target -)\n",
	       tag, window, requests);
	printf("bench-sync: %sinitial_window_%u_items %zu items (target %u)\n",
	       tag, window, items, CONTACTS);
	printf("bench-sync: %sinitial_window_%u_server_cpu %.3f s (target "
	       "-)\n",
	       tag, window, cpu);
out:
	eas_client_free(&c);
	arena_free(&a);
	return t;
}

static double
initial_sync(const char *cid, unsigned window)
{
	return initial_sync_as(cid, window, "", false);
}

/* The initial sync at 512 on both servers in turns, each turn a new
 * device: the median of the turns' ratios, PostgreSQL's time to
 * SQLite's. */
static double
initial_turns(struct easd_proc *lite, const char *lite_cid,
	      struct easd_proc *pg, const char *pg_cid)
{
	struct easd_proc *keep = srv;
	double ratios[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		char dev_tag[16];
		double l, p;

		snprintf(dev_tag, sizeof(dev_tag), "t%d", r);
		srv = lite;
		l = initial_sync_as(lite_cid, 512, dev_tag, true);
		srv = pg;
		p = initial_sync_as(pg_cid, 512, dev_tag, true);
		ratios[r] = l > 0 ? p / l : 0;
	}
	srv = keep;
	printf("bench-sync: pg_initial_512_vs_sqlite_turns");
	for (int r = 0; r < ROUNDS; r++)
		printf(" %.2f", ratios[r]);
	printf(" (target -)\n");
	return measure_median(ratios, ROUNDS);
}

struct worker {
	pthread_t thread;
	struct easd_proc *p;
	const char *cid;
	unsigned index;
	const char *tag;
	volatile bool *stop, *pause;
	unsigned long count;
	bool failed;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct arena *a = arena_new(1 << 16);
	struct eas_client *c;
	char dev[48];
	const char *key, *k;
	unsigned requests;
	size_t items;
	bool more;

	snprintf(dev, sizeof(dev), "bench%s%u", w->tag, w->index);
	c = harness_client(w->p, HARNESS_ADA, dev);
	if (c == NULL) {
		w->failed = true;
		goto out;
	}
	key = measure_full_sync(c, a, w->cid, 512, &requests, &items);
	if (key == NULL) {
		w->failed = true;
		goto out;
	}
	key = arena_strdup(a, key);
	w->count = 1; /* ready */
	while (!*w->stop) {
		struct arena *r;

		if (*w->pause) {
			usleep(2000);
			continue;
		}
		r = arena_new(8192);
		k = key;
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

/* Four clients repeating a no-change Sync on one server, measured in
 * windows; paused between them, so that two servers' windows can take
 * turns in one run. */
struct load {
	struct easd_proc *p;
	struct worker w[CLIENTS];
	volatile bool stop, pause;
	unsigned long requests; /* in the windows so far */
	double cpu;
};

/* Clients on p, each after its initial sync; false when one failed. */
static bool
load_start(struct load *l, struct easd_proc *p, const char *cid,
	   const char *dev_tag)
{
	bool ready = false, failed = false;

	memset(l, 0, sizeof(*l));
	l->p = p;
	for (unsigned i = 0; i < CLIENTS; i++) {
		l->w[i].p = p;
		l->w[i].cid = cid;
		l->w[i].index = i;
		l->w[i].tag = dev_tag;
		l->w[i].stop = &l->stop;
		l->w[i].pause = &l->pause;
		pthread_create(&l->w[i].thread, NULL, worker_run, &l->w[i]);
	}
	while (!ready && !failed) {
		usleep(100000);
		ready = true;
		for (unsigned i = 0; i < CLIENTS; i++) {
			ready = ready && l->w[i].count > 0;
			failed = failed || l->w[i].failed;
		}
	}
	l->pause = true;
	return !failed;
}

/* One window of RATE_SECONDS: requests a second, or 0 when a client
 * failed. */
static double
load_window(struct load *l)
{
	unsigned long before[CLIENTS], total = 0;
	double t0, t, cpu0;
	bool failed = false;

	l->pause = false;
	usleep(200000); /* every client busy again */
	for (unsigned i = 0; i < CLIENTS; i++)
		before[i] = l->w[i].count;
	cpu0 = measure_cpu(l->p->pid);
	t0 = measure_now();
	sleep(RATE_SECONDS);
	for (unsigned i = 0; i < CLIENTS; i++) {
		total += l->w[i].count - before[i];
		failed = failed || l->w[i].failed;
	}
	t = measure_now() - t0;
	l->cpu += measure_cpu(l->p->pid) - cpu0;
	l->pause = true;
	l->requests += total;
	if (failed)
		fprintf(stderr, "bench-sync: a no-change client failed\n");
	return failed ? 0 : (double)total / t;
}

static void
load_stop(struct load *l)
{
	l->stop = true;
	for (unsigned i = 0; i < CLIENTS; i++)
		pthread_join(l->w[i].thread, NULL);
}

static void
print_rate(const char *store_tag, size_t folder_items, double rate,
	   const struct load *l)
{
	printf("bench-sync: %sno_change_syncs_%zu_items %.0f req/s "
	       "(target %s)\n",
	       store_tag, folder_items, rate,
	       store_tag[0] == '\0' ? ">= 20000" : "-");
	printf("bench-sync: %sno_change_server_cpu_%zu_items %.1f us/req "
	       "(target -)\n",
	       store_tag, folder_items,
	       l->requests > 0 ? l->cpu * 1e6 / (double)l->requests : 0.0);
}

/* The no-change rate on srv, one window. */
static double
no_change_rate(const char *cid, const char *dev_tag, size_t folder_items)
{
	struct load l;
	double rate = 0;

	if (load_start(&l, srv, cid, dev_tag))
		rate = load_window(&l);
	load_stop(&l);
	print_rate(tag, folder_items, rate, &l);
	return rate;
}

/* The same no-change Sync from wrk (a lighter load generator than four
 * libcurl clients on the same two cores): median of three runs. */
static void
no_change_rate_wrk(const char *cid, const char *dev_tag, size_t folder_items)
{
	struct arena *a = arena_new(1 << 20);
	struct eas_client *c;
	char dev[32], cred[128], b64[256], query[256];
	char script[] = "/tmp/bench-sync-wrk-XXXXXX";
	double rates[3];
	unsigned requests;
	size_t items;
	const char *key;
	struct buf body;

	snprintf(dev, sizeof(dev), "benchwrk%s", dev_tag);
	c = harness_client(srv, HARNESS_ADA, dev);
	if (c == NULL || (key = measure_full_sync(c, a, cid, 512, &requests,
						  &items)) == NULL) {
		fprintf(stderr, "bench-sync: wrk client setup failed\n");
		eas_client_free(&c);
		arena_free(&a);
		return;
	}
	snprintf(cred, sizeof(cred), "%s:%s", HARNESS_ADA, HARNESS_PASSWORD);
	base64_encode(cred, strlen(cred), b64);
	snprintf(query, sizeof(query),
		 "Cmd=Sync&User=%s&DeviceId=%s&"
		 "DeviceType=bench",
		 HARNESS_ADA, dev);
	buf_init(&body, 0);
	wbxml_encode(measure_sync_body(a, cid, key, 0), &body);
	close(mkstemp(script));
	measure_wrk_script(script, "POST", query, b64, "16.1", c->policy_key,
			   body.data, body.len);
	for (int i = 0; i < 3; i++)
		rates[i] = measure_wrk(srv->url, script);
	printf("bench-sync: no_change_syncs_wrk_%zu_items %.0f req/s "
	       "(target >= 20000)\n",
	       folder_items, measure_median(rates, 3));
	unlink(script);
	buf_deinit(&body);
	eas_client_free(&c);
	arena_free(&a);
}

/* A server on store_url (NULL: its own SQLite file) with the data set
 * loaded, or NULL. The folders' ServerIds into the arena. */
static struct easd_proc *
start_loaded(struct arena *a, const char *store_url, const char **contacts_r,
	     const char **notes_r)
{
	/* debug logging (the harness default) would dominate the figures */
	const char *args[] = {"--log-level", "warn", NULL, NULL, NULL};
	struct store_folder contacts, notes;
	struct store *s;

	if (store_url != NULL) {
		args[2] = "--store";
		args[3] = store_url;
	}
	srv = easd_start(args);
	if (srv == NULL)
		return NULL;
	if (load_items(EAS_FOLDER_CONTACTS, STORE_CLASS_CONTACTS, CONTACTS) <
		    0 ||
	    load_items(EAS_FOLDER_NOTES, STORE_CLASS_NOTES, NOTES) < 0) {
		fprintf(stderr, "bench-sync: cannot load items\n");
		easd_stop(&srv);
		return NULL;
	}
	s = easd_store(srv);
	if (s == NULL ||
	    store_folder_get_by_type(s, a, srv->ada_id, EAS_FOLDER_CONTACTS,
				     &contacts) != STORE_OK ||
	    store_folder_get_by_type(s, a, srv->ada_id, EAS_FOLDER_NOTES,
				     &notes) != STORE_OK) {
		store_close(&s);
		easd_stop(&srv);
		return NULL;
	}
	store_close(&s);
	*contacts_r = contacts.server_id;
	*notes_r = notes.server_id;
	return srv;
}

int
main(void)
{
	struct arena *a = arena_new(4096);
	const char *contacts, *notes, *lite_contacts, *url, *why = NULL;
	double init_ratio, lite_rates[ROUNDS], pg_rates[ROUNDS], ratios[ROUNDS];
	struct easd_proc *lite;
	struct load ll, pl;
	bool ok;

	/* the release server unless told otherwise */
	setenv("EASD_BIN",
	       getenv("EASD_BIN") != NULL ? getenv("EASD_BIN") : "build/easd",
	       1);
	if ((lite = start_loaded(a, NULL, &contacts, &notes)) == NULL)
		return 1;
	initial_sync(contacts, 100);
	initial_sync(contacts, 512);
	no_change_rate(contacts, "big", CONTACTS);
	no_change_rate(notes, "small", NOTES);
	if (system("command -v wrk >/dev/null 2>&1") == 0) {
		no_change_rate_wrk(contacts, "big", CONTACTS);
		no_change_rate_wrk(notes, "small", NOTES);
	}
	lite_contacts = contacts;

	url = pgtest_start("easd_bench_sync", &why);
	if (url == NULL) {
		fprintf(stderr, "bench-sync: no PostgreSQL run: %s\n",
			why != NULL ? why : "it did not start");
		easd_stop(&lite);
		arena_free(&a);
		return 0;
	}
	tag = "pg_";
	if (start_loaded(a, url, &contacts, &notes) == NULL)
		return 1;
	initial_sync(contacts, 512);
	init_ratio = initial_turns(lite, lite_contacts, srv, contacts);
	/* The no-change rates of both stores in turns, the SQLite server
	 * still up: what the ratio says is a load on these two shared cores
	 * that changes from one second to the next, so it is the median of
	 * ROUNDS ratios of neighbouring windows. */
	ok = load_start(&ll, lite, lite_contacts, "altlite") &&
	     load_start(&pl, srv, contacts, "altpg");
	for (int r = 0; ok && r < ROUNDS; r++) {
		lite_rates[r] = load_window(&ll);
		pg_rates[r] = load_window(&pl);
		ratios[r] = lite_rates[r] > 0 ? pg_rates[r] / lite_rates[r] : 0;
	}
	load_stop(&ll);
	load_stop(&pl);
	easd_stop(&srv);
	easd_stop(&lite);
	if (!ok)
		for (int r = 0; r < ROUNDS; r++)
			lite_rates[r] = pg_rates[r] = ratios[r] = 0;
	print_rate("pg_", CONTACTS, measure_median(pg_rates, ROUNDS), &pl);
	printf("bench-sync: pg_initial_512_vs_sqlite %.1f times (target <= "
	       "2; median of %d turns)\n",
	       init_ratio, ROUNDS);
	printf("bench-sync: pg_no_change_vs_sqlite_windows");
	for (int r = 0; r < ROUNDS; r++)
		printf(" %.2f", ratios[r]);
	printf(" (target -; SQLite %.0f req/s in the same windows)\n",
	       measure_median(lite_rates, ROUNDS));
	printf("bench-sync: pg_no_change_vs_sqlite %.2f of sqlite's (target "
	       ">= 0.5; median of %d)\n",
	       measure_median(ratios, ROUNDS), ROUNDS);
	pgtest_stop();
	arena_free(&a);
	return 0;
}
