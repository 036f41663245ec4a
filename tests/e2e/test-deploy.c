/* Running easd for real, against a real easd: /metrics scraped during
 * traffic counts exactly that traffic, /healthz answers, SIGHUP reopens the
 * log file and keeps a parked Ping, and easclient --cacert trusts a
 * private certificate. */
#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "harness.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

#define WAIT_MS 30000 /* safety bound of every wait for an event */

static char *
scrape(const struct easd_proc *p)
{
	char *url = xasprintf("http://127.0.0.1:%d/metrics", p->admin_port);
	char *body;

	CU_ASSERT_EQUAL(harness_http_get(url, &body), 200);
	free(url);
	return body;
}

/* Every line is a comment or "name{labels} value". */
static bool
well_formed(const char *text)
{
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		const char *sp;

		if (nl == NULL)
			return false; /* the last line ends too */
		if (*p != '#') {
			sp = memchr(p, ' ', (size_t)(nl - p));
			if (sp == NULL || sp == p || sp + 1 == nl)
				return false;
			for (const char *q = p; q < sp; q++)
				if (*q == '{')
					break;
				else if (!(*q == '_' ||
					   (*q >= 'a' && *q <= 'z')))
					return false;
		}
		p = nl + 1;
	}
	return true;
}

struct ping_job {
	struct eas_client *c;
	const char *folder;
	unsigned heartbeat;
	int rc, status;
	size_t nchanged;
	pthread_t thread;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *j = arg;
	struct arena *a = arena_new(0);
	const char *ids[1] = {j->folder};
	const char **changed = NULL;

	j->c->timeout_ms = WAIT_MS * 2;
	j->rc = eas_client_ping(j->c, a, j->heartbeat, ids, 1, &j->status,
				&changed, &j->nchanged);
	arena_free(&a);
	return NULL;
}

/* A client of ada that has synced its Inbox to the end; *inbox_r is the
 * Inbox's id (in the client's memory). */
static struct eas_client *
inbox_client(const struct easd_proc *p, const char *device,
	     const char **inbox_r)
{
	struct eas_client *c = harness_client(p, HARNESS_ADA, device);
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	const struct eas_folder *f;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	f = eas_client_folder_by_type(c, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	*inbox_r = f->server_id;
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, a, f->server_id, NULL, &r), 0);
	arena_free(&a);
	return c;
}

static const char mail[] = "From: x@example.net\nTo: ada@example.org\n"
			   "Subject: metrics\n\nhello\n";

static void
test_metrics_during_traffic(void)
{
	static const char *const args[] = {"--admin-listen", "127.0.0.1:0",
					   NULL};
	struct easd_proc *p = easd_start(args);
	struct eas_client *c, *bad;
	struct arena *a = arena_new(0);
	struct ping_job j = {.heartbeat = 600};
	char *before, *mid, *after, *url, *body;
	const char *inbox;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_FATAL(p->admin_port > 0);
	url = xasprintf("http://127.0.0.1:%d/healthz", p->admin_port);
	CU_ASSERT_EQUAL(harness_http_get(url, &body), 200);
	CU_ASSERT_STRING_EQUAL(body, "ok\n");
	free(body);
	free(url);

	c = inbox_client(p, "METRICS1", &inbox);
	before = scrape(p);
	CU_ASSERT(well_formed(before));
	/* three FolderSyncs, one refused OPTIONS, mail in and refused */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(eas_client_foldersync(c, a, &status), 0);
	bad = eas_client_new(p->url, HARNESS_ADA, "wrong-password", "BAD1",
			     "TestDevice");
	{
		struct eas_response r;

		eas_client_options(bad, a, &r);
		CU_ASSERT_EQUAL(r.http_status, 401);
	}
	eas_client_free(&bad);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, mail), 250);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_BOB_EMAIL, mail), 250);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, "nobody@example.org", mail),
			550);
	/* and a Ping that waits: ada's Inbox changed above, so sync first */
	{
		struct eas_sync_result r;

		CU_ASSERT_EQUAL(eas_client_sync(c, a, inbox, NULL, &r), 0);
	}
	j.c = c;
	j.folder = inbox;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j),
			      0);
	CU_ASSERT(harness_wait_log(p, "push: parked METRICS1 (", 1, WAIT_MS) >=
		  1);

	mid = scrape(p);
	CU_ASSERT(well_formed(mid));
	CU_ASSERT_EQUAL(
		harness_metric(mid,
			       "easd_requests_total{command=\"FolderSync\","
			       "status=\"200\"}") -
			harness_metric(before,
				       "easd_requests_total{command="
				       "\"FolderSync\",status=\"200\"}"),
		3);
	CU_ASSERT_EQUAL(
		harness_metric(mid, "easd_request_duration_seconds_count{"
				    "command=\"FolderSync\"}") -
			harness_metric(before, "easd_request_duration_seconds_"
					       "count{command=\"FolderSync\"}"),
		3);
	CU_ASSERT_EQUAL(
		harness_metric(mid, "easd_requests_total{command=\"OPTIONS\","
				    "status=\"401\"}") -
			harness_metric(before, "easd_requests_total{command="
					       "\"OPTIONS\",status=\"401\"}"),
		1);
	CU_ASSERT_EQUAL(
		harness_metric(mid, "easd_lmtp_deliveries_total") -
			harness_metric(before, "easd_lmtp_deliveries_total"),
		2);
	CU_ASSERT_EQUAL(
		harness_metric(
			mid,
			"easd_lmtp_refusals_total{reason=\"unknown_user\"}") -
			harness_metric(before,
				       "easd_lmtp_refusals_total{reason="
				       "\"unknown_user\"}"),
		1);
	CU_ASSERT_EQUAL(harness_metric(mid, "easd_parked_requests"), 1);
	CU_ASSERT(harness_metric(mid, "easd_devices_active") >= 1);
	CU_ASSERT_EQUAL(harness_metric(mid, "easd_outbound_queue"), 0);
	CU_ASSERT_EQUAL(harness_metric(mid, "easd_store_errors_total"), 0);
	CU_ASSERT(harness_metric(mid, "easd_database_bytes") > 0);
	/* the largest bucket holds them all */
	CU_ASSERT_EQUAL(
		harness_metric(mid, "easd_request_duration_seconds_bucket{"
				    "command=\"FolderSync\",le=\"+Inf\"}"),
		harness_metric(mid, "easd_request_duration_seconds_count{"
				    "command=\"FolderSync\"}"));

	/* the mail wakes the Ping; then nothing is parked */
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, mail), 250);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.rc, 0);
	CU_ASSERT_EQUAL(j.status, 2);
	after = scrape(p);
	CU_ASSERT_EQUAL(harness_metric(after, "easd_parked_requests"), 0);
	CU_ASSERT_EQUAL(
		harness_metric(after, "easd_requests_total{command=\"Ping\","
				      "status=\"200\"}") -
			harness_metric(mid, "easd_requests_total{command="
					    "\"Ping\",status=\"200\"}"),
		1);
	free(before);
	free(mid);
	free(after);
	eas_client_free(&c);
	arena_free(&a);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* A parked Ping outlives SIGHUP: after the reload a change still
 * answers it. */
static void
test_sighup_keeps_parked_ping(void)
{
	struct easd_proc *p = easd_start(NULL);
	struct ping_job j = {.heartbeat = 600};
	const char *inbox;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	j.c = inbox_client(p, "HUP1", &inbox);
	j.folder = inbox;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j),
			      0);
	CU_ASSERT(harness_wait_log(p, "push: parked HUP1 (", 1, WAIT_MS) >= 1);
	CU_ASSERT_EQUAL(kill(p->pid, SIGHUP), 0);
	CU_ASSERT(harness_wait_log(p, "SIGHUP: ", 1, WAIT_MS) >= 1);
	/* still parked: the change answers it, with the Inbox */
	CU_ASSERT_EQUAL(harness_log_count(p, "push: parked HUP1 ("), 1);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, mail), 250);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.rc, 0);
	CU_ASSERT_EQUAL(j.status, 2);
	CU_ASSERT_EQUAL(j.nchanged, 1);
	eas_client_free(&j.c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char tmp[4096], *r;
	size_t n;

	buf_init(&b, 64 * 1024 * 1024);
	if (f != NULL) {
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			buf_append(&b, tmp, n);
		fclose(f);
	}
	r = xstrndup(b.data != NULL ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

/* Wait (bounded) until the file at path contains needle. */
static bool
wait_file_has(const char *path, const char *needle)
{
	uint64_t until = time_mono_ms() + WAIT_MS;

	for (;;) {
		char *t = slurp(path);
		bool found = strstr(t, needle) != NULL;

		free(t);
		if (found)
			return true;
		if (time_mono_ms() >= until)
			return false;
		usleep(20 * 1000);
	}
}

/* --log-file, moved away by a rotation: SIGHUP opens it again by name. */
static void
test_log_file_reopened(void)
{
	char dir[] = "/tmp/easd-logs-XXXXXX";
	char *log, *old;
	const char *args[4];
	struct easd_proc *p;
	struct eas_client *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	log = xasprintf("%s/easd.log", dir);
	old = xasprintf("%s/easd.log.1", dir);
	args[0] = "--log-file";
	args[1] = log;
	args[2] = NULL;
	p = easd_start(args);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(wait_file_has(log, "easd ready"));
	CU_ASSERT_EQUAL(rename(log, old), 0);
	CU_ASSERT_EQUAL(kill(p->pid, SIGHUP), 0);
	CU_ASSERT(wait_file_has(log, "log file reopened"));
	/* a request after it is logged in the new file only */
	c = harness_client(p, HARNESS_BOB, "LOGS1");
	CU_ASSERT_PTR_NOT_NULL(c);
	eas_client_free(&c);
	CU_ASSERT(wait_file_has(log, "device=LOGS1"));
	{
		char *t = slurp(old);

		CU_ASSERT_PTR_NULL(strstr(t, "device=LOGS1"));
		CU_ASSERT_PTR_NOT_NULL(strstr(t, "easd ready"));
		free(t);
	}
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	harness_rmtree(dir);
	free(log);
	free(old);
}

/* easclient --cacert: a server with a private certificate is trusted with
 * it and refused without it. */
static void
test_easclient_cacert(void)
{
	char dir[] = "/tmp/easd-cacert-XXXXXX", cmd[1024];
	char *cert, *key, *url, *port, *out = NULL;
	const char *args[6];
	struct easd_proc *p;

	if (system("command -v openssl >/dev/null") != 0) {
		printf("openssl missing: skipped\n");
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	cert = xasprintf("%s/cert.pem", dir);
	key = xasprintf("%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s "
		 "-out %s -days 2 -subj /CN=127.0.0.1 "
		 "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
		 key, cert);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	args[0] = "--tls-cert";
	args[1] = cert;
	args[2] = "--tls-key";
	args[3] = key;
	args[4] = NULL;
	p = easd_start(args);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	url = xasprintf("https://127.0.0.1:%d", p->port);
	port = getenv("EASCLIENT_BIN");
	{
		const char *bin = port != NULL ? port : "build/asan/easclient";
		const char *with[] = {bin,
				      "--url",
				      url,
				      "--user",
				      HARNESS_ADA,
				      "--password",
				      HARNESS_PASSWORD,
				      "--device",
				      "TLS1",
				      "--cacert",
				      cert,
				      "options",
				      NULL};
		const char *without[] = {bin,
					 "--url",
					 url,
					 "--user",
					 HARNESS_ADA,
					 "--password",
					 HARNESS_PASSWORD,
					 "--device",
					 "TLS2",
					 "options",
					 NULL};

		CU_ASSERT_EQUAL(harness_run(with, &out, WAIT_MS), 0);
		CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "versions:")
						   : NULL);
		free(out);
		out = NULL;
		CU_ASSERT_EQUAL(harness_run(without, &out, WAIT_MS), 1);
		free(out);
	}
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	harness_rmtree(dir);
	free(url);
	free(cert);
	free(key);
}

static void
make_cert(const char *dir, const char *name, const char *cn)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey rsa:2048 -nodes "
		 "-keyout %s.key -out %s.pem -days 2 -subj /CN=%s "
		 "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
		 dir, name, name, cn);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
}

/* A client of ada over https trusting cafile; provisioned, with the Inbox
 * synced when inbox_r is not NULL. NULL when it cannot connect. */
static struct eas_client *
tls_client(const struct easd_proc *p, const char *device, const char *cafile,
	   const char **inbox_r)
{
	char *url = xasprintf("https://127.0.0.1:%d", p->port);
	struct eas_client *c = eas_client_new(
		url, HARNESS_ADA, HARNESS_PASSWORD, device, "TestDevice");
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	int status, ok;

	free(url);
	c->cainfo = cafile;
	c->timeout_ms = WAIT_MS;
	ok = eas_client_provision(c, a, NULL) >= 0;
	if (ok && inbox_r != NULL) {
		const struct eas_folder *f;

		ok = eas_client_foldersync(c, a, &status) == 0 &&
		     (f = eas_client_folder_by_type(c, 2)) != NULL &&
		     eas_client_sync(c, a, f->server_id, NULL, &r) == 0;
		if (ok)
			*inbox_r = f->server_id;
	}
	arena_free(&a);
	if (!ok)
		eas_client_free(&c);
	return c;
}

/* SIGHUP after a renewal: new connections get the new certificate, a Ping
 * parked on a connection made with the old one still answers; files that
 * do not make a certificate leave the last good one in use. */
static void
test_sighup_reloads_tls(void)
{
	char dir[] = "/tmp/easd-renew-XXXXXX", cmd[1024];
	char *cert, *key, *a_pem, *b_pem, *mv;
	struct ping_job j = {.heartbeat = 600};
	struct easd_proc *p;
	struct eas_client *c;
	const char *args[6], *inbox;

	if (system("command -v openssl >/dev/null") != 0) {
		printf("openssl missing: skipped\n");
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	make_cert(dir, "a", "first");
	make_cert(dir, "b", "second");
	cert = xasprintf("%s/cert.pem", dir);
	key = xasprintf("%s/key.pem", dir);
	a_pem = xasprintf("%s/a.pem", dir);
	b_pem = xasprintf("%s/b.pem", dir);
	snprintf(cmd, sizeof(cmd), "cp %s/a.pem %s && cp %s/a.key %s", dir,
		 cert, dir, key);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	args[0] = "--tls-cert";
	args[1] = cert;
	args[2] = "--tls-key";
	args[3] = key;
	args[4] = NULL;
	p = easd_start(args);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);

	j.c = tls_client(p, "RENEW1", a_pem, &inbox);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j.c);
	j.folder = inbox;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j),
			      0);
	CU_ASSERT(harness_wait_log(p, "push: parked RENEW1 (", 1, WAIT_MS) >=
		  1);

	/* the renewal: new files under the same names, then SIGHUP */
	mv = xasprintf("cp %s/b.key %s.new && mv %s.new %s && "
		       "cp %s/b.pem %s.new && mv %s.new %s",
		       dir, key, key, key, dir, cert, cert, cert);
	CU_ASSERT_EQUAL(system(mv), 0);
	free(mv);
	CU_ASSERT_EQUAL(kill(p->pid, SIGHUP), 0);
	CU_ASSERT(harness_wait_log(p, "TLS certificate reloaded", 1, WAIT_MS) >=
		  1);
	/* new connections: the new certificate, and only it */
	c = tls_client(p, "RENEW2", b_pem, NULL);
	CU_ASSERT_PTR_NOT_NULL(c);
	eas_client_free(&c);
	c = tls_client(p, "RENEW3", a_pem, NULL);
	CU_ASSERT_PTR_NULL(c);
	eas_client_free(&c);
	/* the Ping parked before is still there and answers a change */
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, mail), 250);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.rc, 0);
	CU_ASSERT_EQUAL(j.status, 2);
	eas_client_free(&j.c);

	/* a broken renewal keeps the certificate that works */
	snprintf(cmd, sizeof(cmd), "echo garbage > %s", cert);
	CU_ASSERT_EQUAL(system(cmd), 0);
	CU_ASSERT_EQUAL(kill(p->pid, SIGHUP), 0);
	CU_ASSERT(harness_wait_log(p, "the old certificate stays", 1,
				   WAIT_MS) >= 1);
	c = tls_client(p, "RENEW4", b_pem, NULL);
	CU_ASSERT_PTR_NOT_NULL(c);
	eas_client_free(&c);

	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	harness_rmtree(dir);
	free(cert);
	free(key);
	free(a_pem);
	free(b_pem);
}

/* easctl with args against the server's data directory; its output
 * (heap) in *out_r. Returns the exit status. */
static int
easctl(const struct easd_proc *p, char **out_r, const char *const *args)
{
	const char *argv[16];
	size_t n = 0;

	argv[n++] = harness_easctl();
	argv[n++] = "--data";
	argv[n++] = p->dir;
	for (size_t i = 0; args[i] != NULL && n < N_ELEMENTS(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	free(*out_r);
	*out_r = NULL;
	return harness_run(argv, out_r, WAIT_MS);
}

#define EASCTL(p, out, ...)                                                    \
	easctl((p), (out), (const char *const[]){__VA_ARGS__, NULL})

/* What z-push-admin users look for: the last sync of each folder, when a
 * wipe was asked for and acknowledged and by whom, resync by folder type
 * and for every device of a user, and the users' last activity. */
static void
test_device_admin(void)
{
	struct easd_proc *p = easd_start(NULL);
	struct eas_client *c1, *c2;
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	const char *inbox;
	char *out = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c1 = inbox_client(p, "ADM1", &inbox);
	c2 = inbox_client(p, "ADM2", &inbox);
	CU_ASSERT_EQUAL(
		eas_client_sync(c1, a,
				eas_client_folder_by_type(c1, 9)->server_id,
				NULL, &r),
		0);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ada/ADM1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "folders:      3 synced:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "hierarchy (FolderSync)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "mail      Inbox"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "contacts  Contacts"));

	/* a wipe: asked by the administrator, acknowledged by the device */
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "wipe", "ada", "ADM2"), 0);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "wipe requested by admin"));
	/* Provision delivers the wipe; the client acknowledges it */
	CU_ASSERT_EQUAL(eas_client_provision(c2, a, NULL), 1);
	CU_ASSERT(c2->wiped);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "wipe requested by admin"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "wipe acknowledged by device: wiped"));

	/* resync by type: only the contacts go */
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "resync", "ada", "ADM1",
			       "--type", "contacts"),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 contacts folder dropped"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "mail      Inbox"));
	CU_ASSERT_PTR_NULL(strstr(out, "contacts  Contacts"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "resync", "ada", "ADM1",
			       "--type", "bogus"),
			2);
	/* every device of the user */
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "resync", "ada", "--all"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "device ADM1 of ada"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "device ADM2 of ada"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "mail      Inbox"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "device", "resync", "ada"), 2);

	/* last activity: ada's devices made requests, bob's none */
	CU_ASSERT_EQUAL(EASCTL(p, &out, "user", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "LAST ACTIVITY"));
	{
		const char *ada = strstr(out, "\n1 "),
			   *bob = strstr(out, "\n2 ");
		char line[512];

		CU_ASSERT_PTR_NOT_NULL_FATAL(ada);
		CU_ASSERT_PTR_NOT_NULL_FATAL(bob);
		/* created and last activity: two times on ada's line */
		sscanf(ada + 1, "%511[^\n]", line);
		CU_ASSERT_PTR_NOT_NULL(strstr(strchr(line, 'Z') + 1, "Z "));
		sscanf(bob + 1, "%511[^\n]", line);
		CU_ASSERT_PTR_NULL(strstr(strchr(line, 'Z') + 1, "Z "));
	}
	free(out);
	eas_client_free(&c1);
	eas_client_free(&c2);
	arena_free(&a);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* easctl debug on: a running easd logs the device's decoded requests and
 * responses, bodies elided unless --bodies; other devices are not
 * traced; off stops it. */
static void
test_debug_trace(void)
{
	static const char body[] = "From: x@example.net\nTo: ada@example.org\n"
				   "Subject: traced\n\nsecret-body-text\n";
	/* info: the trace's lines are the only dumps in the log */
	static const char *const args[] = {"--log-level", "info", NULL};
	struct easd_proc *p = easd_start(args);
	struct eas_client *c, *other;
	struct arena *a = arena_new(0);
	struct eas_sync_result r;
	const char *inbox, *other_inbox;
	char *out = NULL;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = inbox_client(p, "TRACE1", &inbox);
	other = inbox_client(p, "QUIET1", &other_inbox);
	CU_ASSERT_EQUAL(harness_log_count(p, "trace request"), 0);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "on", "ada", "TRACE1"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bodies elided"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "TRACE1"));
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, body), 250);
	/* the traced device: its Sync request and response, the body
	 * elided */
	CU_ASSERT_EQUAL(eas_client_sync(c, a, inbox, NULL, &r), 0);
	CU_ASSERT(harness_wait_log(p, "trace response", 1, WAIT_MS) >= 1);
	CU_ASSERT(harness_log_count(p, "trace request") >= 1);
	CU_ASSERT(harness_log_count(p, "bytes elided]") >= 1);
	CU_ASSERT_EQUAL(harness_log_count(p, "secret-body-text"), 0);
	CU_ASSERT(harness_log_count(p, "dev=TRACE1 cmd=Sync: | ") >= 1);
	/* the other device is not traced */
	CU_ASSERT_EQUAL(eas_client_sync(other, a, other_inbox, NULL, &r), 0);
	CU_ASSERT_EQUAL(harness_log_count(p, "dev=QUIET1 cmd=Sync: | "), 0);

	/* with bodies */
	CU_ASSERT_EQUAL(
		EASCTL(p, &out, "debug", "on", "ada", "TRACE1", "--bodies"), 0);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, body), 250);
	CU_ASSERT_EQUAL(eas_client_sync(c, a, inbox, NULL, &r), 0);
	CU_ASSERT(harness_wait_log(p, "secret-body-text", 1, WAIT_MS) >= 1);

	/* off: nothing more */
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "off", "ada"), 0);
	n = harness_log_count(p, "trace request");
	CU_ASSERT_EQUAL(eas_client_foldersync(c, a, &(int){0}), 0);
	CU_ASSERT_EQUAL(harness_log_count(p, "trace request"), n);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "off", "ada"), 1);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no device is traced"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "on", "nosuchuser"), 1);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "debug", "sideways"), 2);
	free(out);
	eas_client_free(&c);
	eas_client_free(&other);
	arena_free(&a);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* easctl top --once: the active devices from the store, what is parked
 * and the request counts from the admin listener. */
static void
test_top(void)
{
	static const char *const args[] = {"--admin-listen", "127.0.0.1:0",
					   NULL};
	struct easd_proc *p = easd_start(args);
	struct ping_job j = {.heartbeat = 600};
	char *out = NULL, *admin;
	const char *inbox;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	admin = xasprintf("127.0.0.1:%d", p->admin_port);
	j.c = inbox_client(p, "TOP1", &inbox);
	j.folder = inbox;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&j.thread, NULL, ping_thread, &j),
			      0);
	CU_ASSERT(harness_wait_log(p, "push: parked TOP1 (", 1, WAIT_MS) >= 1);
	CU_ASSERT_EQUAL(EASCTL(p, &out, "top", "--once", "--admin", admin), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "devices active in the last 60 "
					   "min: 1 of 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "parked requests: 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "PARKED USER"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "ada                  TOP1       "
					   "              Ping"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  FolderSync\n"));
	/* without the admin listener: the devices only */
	CU_ASSERT_EQUAL(EASCTL(p, &out, "top", "--once"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "TOP1"));
	CU_ASSERT_PTR_NULL(strstr(out, "PARKED USER"));
	CU_ASSERT_EQUAL(EASCTL(p, &out, "top", "--interval", "0"), 2);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, mail), 250);
	pthread_join(j.thread, NULL);
	CU_ASSERT_EQUAL(j.status, 2);
	eas_client_free(&j.c);
	free(out);
	free(admin);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

#define T(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static CU_TestInfo deploy_tests[] = {
	T(test_metrics_during_traffic),
	T(test_sighup_keeps_parked_ping),
	T(test_log_file_reopened),
	T(test_easclient_cacert),
	T(test_device_admin),
	T(test_sighup_reloads_tls),
	T(test_debug_trace),
	T(test_top),
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"deploy", NULL, NULL, NULL, NULL, deploy_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = test_main(suites);
	curl_global_cleanup();
	return rc;
}
