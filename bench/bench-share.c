/* Sharing benchmark (issue: shared mailboxes): a shared mailbox with 50
 * members, each with 2 devices parked in a Ping on the team Inbox; one
 * delivery (a commit through the store API in this process, which tells
 * the server through its notification socket as easctl and LMTP commits
 * do) must wake all 100 within 100 ms at the 99th percentile; and the
 * no-change Sync of a shared folder must run within 10 % of the rate of
 * the device's own folder, both measured in the same run, interleaved,
 * the ratio a median of blocks (the machine is shared: the reference is
 * what makes the figure mean something). Loopback only. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

#define MEMBERS 50
#define DEVICES 2
#define CLIENTS (MEMBERS * DEVICES)
#define ROUNDS 10
#define HEARTBEAT 900
#define SYNC_BLOCKS 7
#define SYNCS_PER_BLOCK 200

struct dev {
	struct eas_client *c;
	struct arena *a;
	const char *cid; /* the shared Inbox */
	const char *own; /* the device's own Inbox */
	int64_t woke_us;
	int status;
	pthread_t thread;
};

static struct easd_proc *srv;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static const char *
shared_inbox(const struct eas_client *c)
{
	for (size_t i = 0; i < c->nfolders; i++) {
		const struct eas_folder *p = &c->folders[i];

		if (strcmp(p->name, "team@example.org") != 0)
			continue;
		for (size_t k = 0; k < c->nfolders; k++)
			if (strcmp(c->folders[k].parent_id, p->server_id) ==
				    0 &&
			    strcmp(c->folders[k].name, "Inbox") == 0)
				return c->folders[k].server_id;
	}
	return NULL;
}

static int
setup(int64_t *team_r, int64_t *inbox_r)
{
	struct store *s = easd_store(srv);
	struct arena *a = arena_new(0);
	struct store_folder inbox;
	int64_t team = 0, id;
	int ret = -1;

	if (s == NULL)
		goto out;
	if (store_account_add(s, "team", "team@example.org", "Team",
			      HARNESS_PASSWORD, &team) != STORE_OK ||
	    store_account_set_shared(s, team, true) != STORE_OK ||
	    store_folder_get_by_type(s, a, team, EAS_FOLDER_INBOX, &inbox) !=
		    STORE_OK)
		goto out;
	for (int i = 0; i < MEMBERS; i++) {
		char login[32], email[64];

		snprintf(login, sizeof(login), "member%02d", i);
		snprintf(email, sizeof(email), "%s@example.org", login);
		if (store_account_add(s, login, email, login, HARNESS_PASSWORD,
				      &id) != STORE_OK ||
		    store_share_set(s, team, 0, id, STORE_RIGHT_OWNER,
				    STORE_SEND_AS) != STORE_OK)
			goto out;
	}
	*team_r = team;
	*inbox_r = inbox.id;
	ret = 0;
out:
	if (ret < 0)
		fprintf(stderr, "bench-share: setup failed\n");
	arena_free(&a);
	store_close(&s);
	return ret;
}

static int
deliver(int64_t team, int64_t inbox, int n)
{
	struct store *s = easd_store(srv);
	struct arena *a = arena_new(0);
	struct store_item it;
	char *msg = arena_printf(a,
				 "From: customer@example.net\r\n"
				 "To: team@example.org\r\n"
				 "Subject: question %d\r\n\r\nHello.\r\n",
				 n);
	int ret = -1;

	memset(&it, 0, sizeof(it));
	it.cls = STORE_CLASS_EMAIL;
	it.data = (const uint8_t *)msg;
	it.data_len = strlen(msg);
	it.meta.subject = "question";
	it.meta.date = time_now();
	it.meta.date_end = it.meta.date;
	if (s != NULL && store_item_add(s, a, team, inbox, &it, 0) == STORE_OK)
		ret = 0;
	arena_free(&a);
	store_close(&s);
	return ret;
}

static void *
ping_thread(void *arg)
{
	struct dev *d = arg;
	const char **changed;
	size_t n;

	d->status = 0;
	if (eas_client_ping(d->c, d->a, HEARTBEAT, &d->cid, 1, &d->status,
			    &changed, &n) < 0)
		d->status = -1;
	d->woke_us = now_us();
	return NULL;
}

static int
catch_up(struct dev *d)
{
	struct eas_sync_result r;

	arena_free(&d->a);
	d->a = arena_new(0);
	return eas_client_sync(d->c, d->a, d->cid, NULL, &r);
}

/* n no-change Syncs; vary: alternate the WindowSize, so that no answer
 * comes from the server's memory of the device's last request
 * (server/standing.c) and every one reads the store. */
static double
sync_rate(struct dev *d, const char *cid, int n, bool vary)
{
	struct eas_sync_result r;
	struct eas_sync_opts o;
	int64_t t0 = now_us();

	eas_sync_opts_init(&o);
	for (int i = 0; i < n; i++) {
		struct arena *a = arena_new(0);
		int rc;

		o.window_size = vary && i % 2 != 0 ? 99 : 100;
		rc = eas_client_sync(d->c, a, cid, &o, &r);

		arena_free(&a);
		if (rc < 0)
			return -1;
	}
	return n / ((now_us() - t0) / 1e6);
}

int
main(void)
{
	static const char *const args[] = {"--heartbeat-min", "1",
					   "--heartbeat-max", "3600", NULL};
	static struct dev devs[CLIENTS];
	int64_t lat[CLIENTS * ROUNDS], round_p99[ROUNDS];
	double shared_r[SYNC_BLOCKS], own_r[SYNC_BLOCKS], ratio[SYNC_BLOCKS];
	int64_t team = 0, inbox = 0;
	size_t nlat = 0;
	int rc = 1;

	srv = easd_start(args);
	if (srv == NULL)
		return 1;
	if (setup(&team, &inbox) < 0)
		goto out;
	for (int i = 0; i < CLIENTS; i++) {
		char login[32], dev[32];
		struct dev *d = &devs[i];

		snprintf(login, sizeof(login), "member%02d", i / DEVICES);
		snprintf(dev, sizeof(dev), "share%03d", i);
		d->a = arena_new(0);
		d->c = harness_client(srv, login, dev);
		if (d->c == NULL ||
		    eas_client_foldersync(d->c, d->a, NULL) < 0 ||
		    (d->cid = shared_inbox(d->c)) == NULL || catch_up(d) < 0) {
			fprintf(stderr, "bench-share: device %d: %s\n", i,
				d->c != NULL ? eas_client_error(d->c) : "-");
			goto out;
		}
		d->c->timeout_ms = 120000;
	}
	for (int round = 0; round < ROUNDS; round++) {
		int parked = harness_log_count(srv, "push: parked");
		int64_t t0, rl[CLIENTS];

		for (int i = 0; i < CLIENTS; i++)
			pthread_create(&devs[i].thread, NULL, ping_thread,
				       &devs[i]);
		if (harness_wait_log(srv, "push: parked", parked + CLIENTS,
				     120000) < parked + CLIENTS) {
			fprintf(stderr,
				"bench-share: the Pings did not park\n");
			goto out;
		}
		t0 = now_us();
		if (deliver(team, inbox, round) < 0)
			goto out;
		for (int i = 0; i < CLIENTS; i++) {
			pthread_join(devs[i].thread, NULL);
			if (devs[i].status != 2) {
				fprintf(stderr,
					"bench-share: device %d: Ping status "
					"%d\n",
					i, devs[i].status);
				goto out;
			}
			rl[i] = devs[i].woke_us - t0;
			lat[nlat++] = rl[i];
		}
		qsort(rl, CLIENTS, sizeof(rl[0]), cmp_i64);
		round_p99[round] = rl[CLIENTS * 99 / 100];
		for (int i = 0; i < CLIENTS; i++)
			if (catch_up(&devs[i]) < 0)
				goto out;
	}
	qsort(lat, nlat, sizeof(lat[0]), cmp_i64);
	qsort(round_p99, ROUNDS, sizeof(round_p99[0]), cmp_i64);
	printf("bench-share: wake_%d_parked_p99 %.1f ms (target 100)\n",
	       CLIENTS, lat[nlat * 99 / 100] / 1000.0);
	printf("bench-share: wake_%d_parked_round_p99_median %.1f ms "
	       "(target 100)\n",
	       CLIENTS, round_p99[ROUNDS / 2] / 1000.0);
	printf("bench-share: wake_%d_parked_p50 %.1f ms (-)\n", CLIENTS,
	       lat[nlat / 2] / 1000.0);

	/* a member's device: no-change Syncs of the team Inbox against its
	 * own Inbox, in alternating blocks */
	{
		struct dev *d = &devs[0];
		const struct eas_folder *own =
			eas_client_folder_by_type(d->c, EAS_FOLDER_INBOX);

		if (own == NULL || catch_up(d) < 0)
			goto out;
		d->own = own->server_id;
		if (sync_rate(d, d->own, 20, false) < 0 ||
		    sync_rate(d, d->cid, 20, false) < 0)
			goto out;
		for (int vary = 0; vary < 2; vary++) {
			const char *how = vary ? "_store" : "";

			for (int b = 0; b < SYNC_BLOCKS; b++) {
				own_r[b] = sync_rate(d, d->own, SYNCS_PER_BLOCK,
						     vary);
				shared_r[b] = sync_rate(d, d->cid,
							SYNCS_PER_BLOCK, vary);
				if (own_r[b] <= 0 || shared_r[b] <= 0)
					goto out;
				ratio[b] = shared_r[b] / own_r[b];
			}
			qsort(own_r, SYNC_BLOCKS, sizeof(double), cmp_double);
			qsort(shared_r, SYNC_BLOCKS, sizeof(double),
			      cmp_double);
			qsort(ratio, SYNC_BLOCKS, sizeof(double), cmp_double);
			printf("bench-share: nochange_sync%s_own %.0f req/s "
			       "(-)\n",
			       how, own_r[SYNC_BLOCKS / 2]);
			printf("bench-share: nochange_sync%s_shared %.0f "
			       "req/s (-)\n",
			       how, shared_r[SYNC_BLOCKS / 2]);
			printf("bench-share: nochange_sync%s_shared_vs_own "
			       "%.3f ratio (target >= 0.90)\n",
			       how, ratio[SYNC_BLOCKS / 2]);
		}
	}
	rc = 0;
out:
	for (int i = 0; i < CLIENTS; i++) {
		eas_client_free(&devs[i].c);
		arena_free(&devs[i].a);
	}
	if (easd_stop(&srv) != 0)
		rc = 1;
	return rc;
}
