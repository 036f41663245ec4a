/* Front-end benchmark (issues: HTTP front end, performance): requests per
 * second of OPTIONS, of a no-change FolderSync and of no-change Syncs with
 * 4 keep-alive connections (wrk), against a trivial libmicrohttpd server
 * measured in the same run, so the ratios are meaningful on a noisy shared
 * machine. The no-change Sync is measured on an empty folder and on an
 * Inbox whose last answer was a window of 512 mails of 32 KB: the two must
 * cost the same. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "measure.h"
#include "util.h"

#define RUNS 5
#define BIG_MAILS 512
#define BIG_MAIL_BYTES (32 * 1024)
#define BIG_TRUNCATION (16 * 1024)

/* 512 mails of 32 KB into ada's Inbox over LMTP. */
static int
deliver_big(const struct easd_proc *p)
{
	size_t n = BIG_MAIL_BYTES;
	char *body = malloc(n + 1), *msg = malloc(n + 512);
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		body[i] = (i % 72 == 71) ? '\n' : (char)('a' + i % 26);
	body[n] = '\0';
	for (int i = 0; i < BIG_MAILS && ret == 0; i++) {
		snprintf(msg, n + 512,
			 "From: Sender <s%d@example.net>\r\n"
			 "To: Ada <ada@example.org>\r\n"
			 "Subject: Large message %d\r\n"
			 "Message-ID: <big%d@example.net>\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n\r\n%s",
			 i, i, i, body);
		if (harness_lmtp_deliver(p, HARNESS_ADA_EMAIL, msg) != 250)
			ret = -1;
	}
	free(body);
	free(msg);
	return ret;
}

/* A wrk script for a no-change Sync of folder cid at key. */
static void
sync_script(struct arena *a, const char *path, const char *dev, const char *b64,
	    uint32_t policy_key, const char *cid, const char *key)
{
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs = wbxml_add(a, root, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *c = wbxml_add(a, cs, EAS_AIRSYNC_COLLECTION);
	char query[128];
	struct buf body;

	wbxml_add_text(a, c, EAS_AIRSYNC_SYNCKEY, key);
	wbxml_add_text(a, c, EAS_AIRSYNC_COLLECTIONID, cid);
	snprintf(query, sizeof(query),
		 "Cmd=Sync&User=ada&DeviceId=%s&DeviceType=bench", dev);
	buf_init(&body, 0);
	wbxml_encode(root, &body);
	measure_wrk_script(path, "POST", query, b64, "16.1", policy_key,
			   body.data, body.len);
	buf_deinit(&body);
}

static enum MHD_Result
trivial_handler(void *cls, struct MHD_Connection *conn, const char *url,
		const char *method, const char *version,
		const char *upload_data, size_t *upload_data_size,
		void **con_cls)
{
	static const char body[] = "";
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(0, (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int
main(void)
{
	static const char *const args[] = {"--log-level", "warn", NULL};
	struct MHD_Daemon *trivial;
	const union MHD_DaemonInfo *info;
	struct easd_proc *p;
	struct eas_client *c;
	struct arena *a = arena_new(0);
	char url_trivial[64], opt_script[] = "/tmp/bench-http-opt-XXXXXX",
			      fs_script[] = "/tmp/bench-http-fs-XXXXXX",
			      empty_script[] = "/tmp/bench-http-se-XXXXXX",
			      big_script[] = "/tmp/bench-http-sb-XXXXXX",
			      cred[128], b64[256];
	double triv[RUNS], opt[RUNS], fs[RUNS], se[RUNS], sb[RUNS];
	const struct eas_folder *notes, *inbox;
	struct eas_sync_opts so;
	struct eas_sync_result sr;
	struct wbxml_node *q;
	struct buf body;
	int status;

	if (system("command -v wrk >/dev/null 2>&1") != 0) {
		fprintf(stderr, "bench-http: wrk is not installed\n");
		return 1;
	}
	trivial = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
		trivial_handler, NULL, MHD_OPTION_THREAD_POOL_SIZE, 2u,
		MHD_OPTION_END);
	info = MHD_get_daemon_info(trivial, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(url_trivial, sizeof(url_trivial), "http://127.0.0.1:%u",
		 (unsigned)info->port);
	p = easd_start(args);
	if (p == NULL)
		return 1;
	c = harness_client(p, "ada", "BENCHHTTP");
	if (c == NULL || eas_client_foldersync(c, a, &status) < 0 ||
	    deliver_big(p) < 0 ||
	    (notes = eas_client_folder_by_type(c, EAS_FOLDER_NOTES)) == NULL ||
	    (inbox = eas_client_folder_by_type(c, EAS_FOLDER_INBOX)) == NULL) {
		easd_stop(&p);
		return 1;
	}
	/* the two folders synced: the Inbox's last answer is the whole
	 * window */
	eas_sync_opts_init(&so);
	so.window_size = BIG_MAILS;
	so.filter_type = 0;
	so.body_type = 1;
	so.truncation = BIG_TRUNCATION;
	if (eas_client_sync(c, a, notes->server_id, &so, &sr) < 0 ||
	    eas_client_sync(c, a, inbox->server_id, &so, &sr) < 0 ||
	    sr.count != BIG_MAILS) {
		fprintf(stderr, "bench-http: initial syncs failed: %s\n",
			eas_client_error(c));
		easd_stop(&p);
		return 1;
	}
	snprintf(cred, sizeof(cred), "ada:%s", HARNESS_PASSWORD);
	base64_encode(cred, strlen(cred), b64);
	close(mkstemp(opt_script));
	close(mkstemp(fs_script));
	measure_wrk_script(opt_script, "OPTIONS", NULL, b64, "16.1", 0, NULL,
			   0);
	q = wbxml_new(a, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	wbxml_add_text(a, q, EAS_FOLDERHIERARCHY_SYNCKEY, c->hierarchy_key);
	buf_init(&body, 0);
	wbxml_encode(q, &body);
	measure_wrk_script(
		fs_script, "POST",
		"Cmd=FolderSync&User=ada&DeviceId=BENCHHTTP&DeviceType=bench",
		b64, "16.1", c->policy_key, body.data, body.len);
	buf_deinit(&body);
	close(mkstemp(empty_script));
	close(mkstemp(big_script));
	sync_script(a, empty_script, "BENCHHTTP", b64, c->policy_key,
		    notes->server_id, eas_client_sync_key(c, notes->server_id));
	sync_script(a, big_script, "BENCHHTTP", b64, c->policy_key,
		    inbox->server_id, eas_client_sync_key(c, inbox->server_id));
	for (int i = 0; i < RUNS; i++) {
		triv[i] = measure_wrk(url_trivial, opt_script);
		opt[i] = measure_wrk(p->url, opt_script);
		fs[i] = measure_wrk(p->url, fs_script);
		se[i] = measure_wrk(p->url, empty_script);
		sb[i] = measure_wrk(p->url, big_script);
	}
	{
		double t = measure_median(triv, RUNS),
		       o = measure_median(opt, RUNS),
		       f = measure_median(fs, RUNS);

		printf("bench-http: trivial-mhd-requests %.0f req/s "
		       "(reference)\n",
		       t);
		printf("bench-http: options-requests %.0f req/s "
		       "(target >= 0.70 of trivial; ratio %.2f)\n",
		       o, o / t);
		printf("bench-http: nochange-foldersync %.0f req/s "
		       "(target >= 0.70 of trivial; ratio %.2f)\n",
		       f, f / t);
	}
	{
		double t = measure_median(triv, RUNS),
		       e = measure_median(se, RUNS),
		       b = measure_median(sb, RUNS);

		printf("bench-http: nochange-sync-empty %.0f req/s "
		       "(target >= 0.50 of trivial; ratio %.2f)\n",
		       e, e / t);
		printf("bench-http: nochange-sync-after-512x32k %.0f req/s "
		       "(target within 20 %% of empty; ratio %.2f)\n",
		       b, b / e);
	}
	unlink(opt_script);
	unlink(fs_script);
	unlink(empty_script);
	unlink(big_script);
	eas_client_free(&c);
	easd_stop(&p);
	MHD_stop_daemon(trivial);
	arena_free(&a);
	return 0;
}
