/* Front-end benchmark (issue: HTTP front end): requests per second of
 * OPTIONS and of a no-change FolderSync with 4 keep-alive connections
 * (wrk), against a trivial libmicrohttpd server measured in the same run,
 * so the ratio is meaningful on a noisy shared machine. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "measure.h"
#include "util.h"

#define RUNS 3

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
			      cred[128], b64[256];
	double triv[RUNS], opt[RUNS], fs[RUNS];
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
	if (c == NULL || eas_client_foldersync(c, a, &status) < 0) {
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
	for (int i = 0; i < RUNS; i++) {
		triv[i] = measure_wrk(url_trivial, opt_script);
		opt[i] = measure_wrk(p->url, opt_script);
		fs[i] = measure_wrk(p->url, fs_script);
	}
	{
		double t = measure_median(triv, RUNS),
		       o = measure_median(opt, RUNS),
		       f = measure_median(fs, RUNS);

		printf("bench-http: trivial-mhd-requests %.0f req/s "
		       "(reference)\n",
		       t);
		printf("bench-http: options-requests %.0f req/s "
		       "(ratio %.2f of trivial)\n",
		       o, o / t);
		printf("bench-http: nochange-foldersync %.0f req/s "
		       "(target >= 0.50 of trivial; ratio %.2f)\n",
		       f, f / t);
	}
	unlink(opt_script);
	unlink(fs_script);
	eas_client_free(&c);
	easd_stop(&p);
	MHD_stop_daemon(trivial);
	arena_free(&a);
	return 0;
}
