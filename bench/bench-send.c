/* Sending benchmark (issue: sending), against a real SMTP relay on
 * loopback (tests/e2e/smtp-relay.py):
 *  - SendMail to a local recipient from 4 client threads: messages/s;
 *  - the time from a SendMail's answer to the recipient's Ping answering
 *    (median, p99) over 200 messages;
 *  - 1,000 queued messages submitted to the relay: messages/s, with the
 *    p99 of OPTIONS answered meanwhile against OPTIONS on an idle queue.
 * The relay is Python: its own speed bounds the submission rate. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "measure.h"
#include "util.h"

#define LOCAL_MESSAGES 1000
#define CLIENTS 4
#define WAKES 200
#define QUEUED 1000
#define OPTIONS_SAMPLES 400

static struct easd_proc *srv;
static struct relay_proc *relay;

static int
send_one(struct eas_client *c, struct arena *a, const char *to, int i)
{
	char mime[512];
	struct eas_send s = {.kind = EAS_SEND_NEW};
	int status = -1;

	snprintf(mime, sizeof(mime),
		 "From: ada@example.org\r\nTo: %s\r\n"
		 "Subject: Benchmark %d\r\n\r\nHello number %d.\r\n",
		 to, i, i);
	s.mime = mime;
	s.mime_len = strlen(mime);
	if (eas_client_send(c, a, &s, &status) < 0)
		return -1;
	return status;
}

struct worker {
	int n, failed;
	pthread_t thread;
	struct eas_client *c;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct arena *a = arena_new(0);

	for (int i = 0; i < w->n; i++) {
		if (send_one(w->c, a, HARNESS_BOB_EMAIL, i) != 0)
			w->failed++;
		arena_reset(a);
	}
	arena_free(&a);
	return NULL;
}

static void
bench_local_rate(void)
{
	struct worker w[CLIENTS];
	double t0, t, cpu0;
	int failed = 0;

	for (int i = 0; i < CLIENTS; i++) {
		char dev[32];

		snprintf(dev, sizeof(dev), "BSEND%d", i);
		w[i].c = harness_client(srv, HARNESS_ADA, dev);
		w[i].n = LOCAL_MESSAGES / CLIENTS;
		w[i].failed = 0;
	}
	cpu0 = measure_cpu(srv->pid);
	t0 = measure_now();
	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(w[i].thread, NULL);
		failed += w[i].failed;
		eas_client_free(&w[i].c);
	}
	t = measure_now() - t0;
	printf("bench-send: sendmail_local %.0f msg/s (target >= 500; %d "
	       "failed)\n",
	       LOCAL_MESSAGES / t, failed);
	printf("bench-send: sendmail_server_cpu %.0f us/msg (target -)\n",
	       (measure_cpu(srv->pid) - cpu0) * 1e6 / LOCAL_MESSAGES);
}

struct ping_job {
	struct eas_client *c;
	const char *inbox;
	int status;
	double answered;
	pthread_t thread;
};

static void *
ping_run(void *arg)
{
	struct ping_job *j = arg;
	struct arena *a = arena_new(0);
	const char **changed;
	size_t n;

	j->status = -1;
	eas_client_ping(j->c, a, 600, &j->inbox, 1, &j->status, &changed, &n);
	j->answered = measure_now();
	arena_free(&a);
	return NULL;
}

static void
bench_wake(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *bob = harness_client(srv, HARNESS_BOB, "BWAKE");
	struct eas_client *ada = harness_client(srv, HARNESS_ADA, "BWAKEA");
	double lat[WAKES];
	int n = 0, st;

	eas_client_foldersync(bob, a, &st);
	for (int i = 0; i < WAKES; i++) {
		struct ping_job j = {.c = bob};
		struct eas_sync_result r;
		double answered;

		j.inbox = eas_client_folder_by_type(bob, EAS_FOLDER_INBOX)
				  ->server_id;
		eas_client_sync(bob, a, j.inbox, NULL, &r); /* nothing new */
		pthread_create(&j.thread, NULL, ping_run, &j);
		usleep(20 * 1000); /* let it park */
		if (send_one(ada, a, HARNESS_BOB_EMAIL, i) != 0)
			break;
		answered = measure_now();
		pthread_join(j.thread, NULL);
		if (j.status == 2) {
			double d = (j.answered - answered) * 1000;

			lat[n++] = d > 0 ? d : 0;
		}
		arena_reset(a);
	}
	if (n > 0) {
		printf("bench-send: wake_after_sendmail_median %.2f ms "
		       "(target -)\n",
		       measure_median(lat, n));
		printf("bench-send: wake_after_sendmail_p99 %.2f ms (target < "
		       "100; %d of %d woken)\n",
		       measure_percentile(lat, n, 99), n, WAKES);
	}
	eas_client_free(&bob);
	eas_client_free(&ada);
	arena_free(&a);
}

static double
options_p99(struct eas_client *c, struct arena *a, int samples)
{
	double *v = calloc((size_t)samples, sizeof(*v));
	double p;
	int n = 0;

	for (int i = 0; i < samples; i++) {
		struct eas_response r;
		double t0 = measure_now();

		if (eas_client_options(c, a, &r) == 0)
			v[n++] = (measure_now() - t0) * 1000;
		arena_reset(a);
	}
	p = n > 0 ? measure_percentile(v, n, 99) : -1;
	free(v);
	return p;
}

static void
bench_queue(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, HARNESS_ADA, "BQUEUE");
	struct eas_client *o = harness_client(srv, HARNESS_BOB, "BOPTS");
	char cmd[512];
	double idle, busy, t0, t;
	int port = relay->port, failed = 0;

	idle = options_p99(o, a, OPTIONS_SAMPLES);
	/* queue while the relay is away, then let them all go at once */
	relay_stop(&relay, false);
	for (int i = 0; i < QUEUED; i++) {
		if (send_one(c, a, "someone@remote.example", i) != 0)
			failed++;
		arena_reset(a);
	}
	relay = relay_start(port, NULL);
	if (relay == NULL)
		goto out;
	snprintf(cmd, sizeof(cmd),
		 "'%s' --data '%s' queue retry all "
		 ">/dev/null",
		 harness_easctl(), srv->dir);
	t0 = measure_now();
	if (system(cmd) != 0)
		goto out;
	busy = options_p99(o, a, OPTIONS_SAMPLES);
	for (int i = 0; i < 60000 && relay_count(relay) < QUEUED - failed; i++)
		usleep(10 * 1000);
	t = measure_now() - t0;
	printf("bench-send: queue_submitted %d msg (target %d)\n",
	       relay_count(relay), QUEUED);
	printf("bench-send: queue_submit_rate %.0f msg/s (target -; bounded "
	       "by the Python relay)\n",
	       relay_count(relay) / t);
	printf("bench-send: options_p99_idle %.2f ms (target -)\n", idle);
	printf("bench-send: options_p99_while_submitting %.2f ms (target: "
	       "idle within noise)\n",
	       busy);
out:
	eas_client_free(&c);
	eas_client_free(&o);
	arena_free(&a);
}

int
main(void)
{
	char url[64];
	const char *args[] = {"--smtp-relay",
			      url,
			      "--smtp-insecure",
			      "--max-recipients-per-hour",
			      "0",
			      "--log-level",
			      "info",
			      NULL};

	relay = relay_start(0, NULL);
	if (relay == NULL) {
		printf("bench-send: skipped: no SMTP relay "
		       "(python3-aiosmtpd)\n");
		return 0;
	}
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", relay->port);
	srv = easd_start(args);
	if (srv == NULL)
		return 1;
	bench_local_rate();
	bench_wake();
	bench_queue();
	easd_stop(&srv);
	relay_stop(&relay, false);
	return 0;
}
