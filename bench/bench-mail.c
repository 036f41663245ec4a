/* Mail benchmark (issues: mail, performance): 10,000 deliveries over one
 * LMTP connection (messages/s) and 10,000 over 4 at once (to another
 * account), then the initial Sync of the 10,000-message
 * Inbox (FilterType all, WindowSize 512, plain bodies truncated at 2 KB),
 * once the server is idle (the index caught up): wall time, requests,
 * server CPU; and the rate of no-change Syncs of the
 * Inbox against a contact folder, measured the same way in the same run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "measure.h"
#include "util.h"

/* BENCH_MAIL_MESSAGES=N runs it with fewer (under callgrind, say) */
static int messages = 10000;
#define CLIENTS 4
#define RATE_SECONDS 3
#define LMTP_CLIENTS 4

static struct easd_proc *srv;

static int
reply(FILE *f)
{
	char line[512];
	int code = -1;

	while (fgets(line, sizeof(line), f) != NULL) {
		code = atoi(line);
		if (strlen(line) < 4 || line[3] != '-')
			break;
	}
	return code;
}

/* count messages (numbered from first) to rcpt over one LMTP connection;
 * how many were stored. */
static int
deliver_range(const char *rcpt, int first, int count)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;
	char body[3000];
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)srv->lmtp_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return 0;
	}
	f = fdopen(fd, "r+");
	reply(f);
	fprintf(f, "LHLO bench\r\n");
	fflush(f);
	reply(f);
	for (size_t i = 0; i < sizeof(body) - 1; i++)
		body[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
	body[sizeof(body) - 1] = '\0';
	for (int i = first; i < first + count; i++) {
		fprintf(f,
			"MAIL FROM:<sender%d@example.net>\r\n"
			"RCPT TO:<%s>\r\nDATA\r\n",
			i % 50, rcpt);
		fflush(f);
		if (reply(f) != 250 || reply(f) != 250 || reply(f) != 354)
			break;
		fprintf(f,
			"From: Sender %d <sender%d@example.net>\r\n"
			"To: <%s>\r\n"
			"Subject: Benchmark message %d\r\n"
			"Date: Sun, 22 Nov 2026 04:%02d:%02d +0000\r\n"
			"Message-ID: <bench%d@example.net>\r\n"
			"MIME-Version: 1.0\r\n"
			"Content-Type: text/plain; charset=utf-8\r\n\r\n",
			i % 50, i % 50, rcpt, i, (i / 60) % 60, i % 60, i);
		for (char *p = body; *p != '\0';) {
			char *nl = strchr(p, '\n');
			size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

			fprintf(f, "%.*s\r\n", (int)n, p);
			p += n + (nl != NULL);
		}
		fprintf(f, ".\r\n");
		fflush(f);
		if (reply(f) != 250)
			break;
		ok++;
	}
	fprintf(f, "QUIT\r\n");
	fclose(f);
	return ok;
}

static int
deliver_all(void)
{
	double t0 = measure_now(), cpu0 = measure_cpu(srv->pid), t;
	int ok = deliver_range(HARNESS_ADA_EMAIL, 0, messages);

	t = measure_now() - t0;
	printf("bench-mail: lmtp_deliveries %.0f msg/s (target >= 1500)\n",
	       ok / t);
	printf("bench-mail: lmtp_server_cpu %.1f us/msg (target -)\n",
	       (measure_cpu(srv->pid) - cpu0) * 1e6 / (ok > 0 ? ok : 1));
	return ok == messages ? 0 : -1;
}

struct lmtp_client {
	pthread_t t;
	int first, ok;
};

static void *
lmtp_client_main(void *arg)
{
	struct lmtp_client *c = arg;

	c->ok = deliver_range(HARNESS_BOB_EMAIL, c->first,
			      messages / LMTP_CLIENTS);
	return NULL;
}

/* The same number of messages, to bob, over LMTP_CLIENTS connections
 * at once: what group commit gives. */
static void
deliver_parallel(void)
{
	struct lmtp_client c[LMTP_CLIENTS];
	double t0 = measure_now(), cpu0 = measure_cpu(srv->pid), t;
	int ok = 0;

	for (int i = 0; i < LMTP_CLIENTS; i++) {
		c[i].first = messages + i * (messages / LMTP_CLIENTS);
		c[i].ok = 0;
		pthread_create(&c[i].t, NULL, lmtp_client_main, &c[i]);
	}
	for (int i = 0; i < LMTP_CLIENTS; i++) {
		pthread_join(c[i].t, NULL);
		ok += c[i].ok;
	}
	t = measure_now() - t0;
	printf("bench-mail: lmtp_deliveries_%d_conns %.0f msg/s (target >= "
	       "5000; %d of %d stored)\n",
	       LMTP_CLIENTS, ok / t, ok, messages);
	printf("bench-mail: lmtp_server_cpu_%d_conns %.1f us/msg (target -)\n",
	       LMTP_CLIENTS,
	       (measure_cpu(srv->pid) - cpu0) * 1e6 / (ok > 0 ? ok : 1));
}

/* Wait until the server is idle: the indexer has caught up with the
 * 20,000 deliveries (and the checkpointer with their log), so that the
 * server CPU of the initial Sync is its own. */
static void
wait_quiet(void)
{
	double until = measure_now() + 120, last = measure_cpu(srv->pid);
	int quiet = 0;

	while (measure_now() < until && quiet < 4) {
		double c;

		usleep(250 * 1000);
		c = measure_cpu(srv->pid);
		quiet = c - last < 0.005 ? quiet + 1 : 0;
		last = c;
	}
}

/* BENCH_MAIL_PROFILE="perf record -g -p $EASD_PID -o f" (say) runs that
 * command around the initial Sync alone, with EASD_PID in its
 * environment, and interrupts it after: a profile of that phase. */
static pid_t
profile_start(void)
{
	const char *cmd = getenv("BENCH_MAIL_PROFILE");
	char pid[32];
	pid_t p;

	if (cmd == NULL || *cmd == '\0')
		return -1;
	snprintf(pid, sizeof(pid), "%d", (int)srv->pid);
	setenv("EASD_PID", pid, 1);
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	sleep(1); /* let it attach */
	return p;
}

static void
profile_stop(pid_t p)
{
	if (p <= 0)
		return;
	kill(-p, SIGINT);
	waitpid(p, NULL, 0);
}

static void
initial_sync(void)
{
	pid_t prof;
	struct arena *a = arena_new(1 << 20);
	struct eas_client *c = harness_client(srv, HARNESS_ADA, "benchmail");
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	double t0, t, cpu0;
	int status;

	if (c == NULL || eas_client_foldersync(c, a, &status) < 0 ||
	    (inbox = eas_client_folder_by_type(c, 2)) == NULL)
		exit(1);
	eas_sync_opts_init(&o);
	o.window_size = 512;
	o.filter_type = 0;
	o.body_type = 1;
	o.truncation = 2048;
	prof = profile_start();
	cpu0 = measure_cpu(srv->pid);
	t0 = measure_now();
	if (eas_client_sync(c, a, inbox->server_id, &o, &r) < 0) {
		fprintf(stderr, "bench-mail: sync failed: %s\n",
			eas_client_error(c));
		exit(1);
	}
	t = measure_now() - t0;
	cpu0 = measure_cpu(srv->pid) - cpu0;
	profile_stop(prof);
	printf("bench-mail: initial_inbox_sync_%d %.3f s (target < 3; "
	       "%zu items)\n",
	       messages, t, r.count);
	printf("bench-mail: initial_inbox_requests %u requests (target -)\n",
	       r.rounds);
	printf("bench-mail: initial_inbox_server_cpu %.3f s (target -)\n",
	       cpu0);
	printf("bench-mail: initial_inbox_server_cpu_per_mail %.1f us/mail "
	       "(target <= 15)\n",
	       cpu0 * 1e6 / (r.count > 0 ? (double)r.count : 1));
	eas_client_free(&c);
	arena_free(&a);
}

struct worker {
	pthread_t thread;
	int folder_type;
	unsigned index;
	volatile bool *go, *stop;
	unsigned long count;
	bool ready, failed;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct arena *a = arena_new(1 << 20);
	struct eas_client *c;
	const struct eas_folder *f;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	char dev[32];
	int status;

	snprintf(dev, sizeof(dev), "nochg%d_%u", w->folder_type, w->index);
	c = harness_client(srv, HARNESS_ADA, dev);
	eas_sync_opts_init(&o);
	o.window_size = 512;
	o.filter_type = 0;
	if (c == NULL || eas_client_foldersync(c, a, &status) < 0 ||
	    (f = eas_client_folder_by_type(c, w->folder_type)) == NULL ||
	    eas_client_sync(c, a, f->server_id, &o, &r) < 0) {
		w->failed = true;
		w->ready = true;
		goto out;
	}
	w->ready = true;
	while (!*w->go)
		usleep(1000);
	while (!*w->stop) {
		arena_reset(a);
		if (eas_client_sync(c, a, f->server_id, &o, &r) < 0 ||
		    r.count != 0) {
			w->failed = true;
			break;
		}
		w->count++;
	}
out:
	eas_client_free(&c);
	arena_free(&a);
	return NULL;
}

static double
no_change_rate(int folder_type, double *cpu_us_r)
{
	struct worker w[CLIENTS];
	volatile bool go = false, stop = false;
	unsigned long total = 0;
	double t0, t, cpu0;
	bool failed = false;

	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < CLIENTS; i++) {
		w[i].folder_type = folder_type;
		w[i].index = i;
		w[i].go = &go;
		w[i].stop = &stop;
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	for (unsigned i = 0; i < CLIENTS; i++)
		while (!w[i].ready)
			usleep(10000);
	cpu0 = measure_cpu(srv->pid);
	t0 = measure_now();
	go = true;
	sleep(RATE_SECONDS);
	stop = true;
	for (unsigned i = 0; i < CLIENTS; i++) {
		pthread_join(w[i].thread, NULL);
		total += w[i].count;
		failed |= w[i].failed;
	}
	t = measure_now() - t0;
	*cpu_us_r = (measure_cpu(srv->pid) - cpu0) * 1e6 /
		    (total > 0 ? (double)total : 1);
	if (failed)
		fprintf(stderr, "bench-mail: a no-change client failed\n");
	return (double)total / t;
}

int
main(void)
{
	static const char *const args[] = {"--log-level", "warn", NULL};
	double inbox, contacts, inbox_cpu, contacts_cpu;

	if (getenv("BENCH_MAIL_MESSAGES") != NULL &&
	    atoi(getenv("BENCH_MAIL_MESSAGES")) >= LMTP_CLIENTS)
		messages = atoi(getenv("BENCH_MAIL_MESSAGES"));
	setenv("EASD_BIN",
	       getenv("EASD_BIN") != NULL ? getenv("EASD_BIN") : "build/easd",
	       1);
	srv = easd_start(args);
	if (srv == NULL)
		return 1;
	if (deliver_all() < 0) {
		fprintf(stderr, "bench-mail: delivery failed\n");
		easd_stop(&srv);
		return 1;
	}
	deliver_parallel();
	wait_quiet();
	initial_sync();
	inbox = no_change_rate(EAS_FOLDER_INBOX, &inbox_cpu);
	contacts = no_change_rate(EAS_FOLDER_CONTACTS, &contacts_cpu);
	printf("bench-mail: no_change_inbox_syncs %.0f req/s (target: as "
	       "contacts)\n",
	       inbox);
	printf("bench-mail: no_change_contacts_syncs %.0f req/s "
	       "(reference; inbox/contacts %.2f)\n",
	       contacts, contacts > 0 ? inbox / contacts : 0);
	printf("bench-mail: no_change_server_cpu_inbox %.1f us/req "
	       "(contacts %.1f us/req)\n",
	       inbox_cpu, contacts_cpu);
	easd_stop(&srv);
	return 0;
}
