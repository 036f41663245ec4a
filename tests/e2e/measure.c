/* Measuring helpers for the benchmarks (see measure.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"

double
measure_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
measure_cpu(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from its ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu",
				&ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long
measure_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
measure_percentile(double *v, int n, double p)
{
	int i;

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	i = (int)(p / 100.0 * (n - 1) + 0.5);
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

double
measure_median(double *v, int n)
{
	return measure_percentile(v, n, 50);
}

double
measure_wrk(const char *url, const char *script_path)
{
	char cmd[1024], line[512];
	double rps = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "wrk -t2 -c4 -d" MEASURE_WRK_SECONDS "s -s %s %s 2>&1",
		 script_path, url);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strncmp(line, "Requests/sec:", 13) == 0)
			rps = atof(line + 13);
		if (strstr(line, "Non-2xx") != NULL)
			fprintf(stderr, "wrk: %s", line);
	}
	pclose(p);
	return rps;
}

void
measure_wrk_script(const char *path, const char *method, const char *query,
		   const char *auth_b64, const char *version,
		   uint32_t policy_key, const uint8_t *body, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fprintf(f, "wrk.method = \"%s\"\n", method);
	fprintf(f, "wrk.path = \"/Microsoft-Server-ActiveSync%s%s\"\n",
		query != NULL ? "?" : "", query != NULL ? query : "");
	fprintf(f, "wrk.headers[\"Authorization\"] = \"Basic %s\"\n", auth_b64);
	fprintf(f, "wrk.headers[\"MS-ASProtocolVersion\"] = \"%s\"\n", version);
	fprintf(f, "wrk.headers[\"X-MS-PolicyKey\"] = \"%u\"\n", policy_key);
	fprintf(f, "wrk.headers[\"Content-Type\"] = "
		   "\"application/vnd.ms-sync.wbxml\"\n");
	fprintf(f, "wrk.body = \"");
	for (size_t i = 0; i < len; i++)
		fprintf(f, "\\%u", body[i]);
	fprintf(f, "\"\n");
	fclose(f);
}

struct wbxml_node *
measure_sync_body(struct arena *a, const char *cid, const char *key,
		  unsigned window)
{
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs = wbxml_add(a, root, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *c = wbxml_add(a, cs, EAS_AIRSYNC_COLLECTION);

	wbxml_add_text(a, c, EAS_AIRSYNC_SYNCKEY, key);
	wbxml_add_text(a, c, EAS_AIRSYNC_COLLECTIONID, cid);
	if (window > 0)
		wbxml_add_int(a, c, EAS_AIRSYNC_WINDOWSIZE, window);
	return root;
}

int
measure_sync_once(struct eas_client *c, struct arena *a, const char *cid,
		  const char **key, unsigned window, size_t *items_r,
		  bool *more_r)
{
	struct eas_response r;
	const struct wbxml_node *cs, *coll, *cmds;

	*items_r = 0;
	*more_r = false;
	if (eas_client_post(c, a, "Sync",
			    measure_sync_body(a, cid, *key, window), NULL,
			    &r) < 0 ||
	    r.http_status != 200)
		return -1;
	if (r.tree == NULL)
		return 0; /* no change: empty body */
	cs = wbxml_child(r.tree, EAS_AIRSYNC_COLLECTIONS);
	coll = cs != NULL ? wbxml_child(cs, EAS_AIRSYNC_COLLECTION) : NULL;
	if (coll == NULL)
		return -1;
	*key = wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY);
	*more_r = wbxml_child(coll, EAS_AIRSYNC_MOREAVAILABLE) != NULL;
	cmds = wbxml_child(coll, EAS_AIRSYNC_COMMANDS);
	if (cmds != NULL)
		*items_r = wbxml_count_children(cmds);
	return 0;
}

const char *
measure_full_sync(struct eas_client *c, struct arena *a, const char *cid,
		  unsigned window, unsigned *requests_r, size_t *items_r)
{
	const char *key = "0";
	size_t n;
	bool more = true;

	unsigned requests = 0;

	*items_r = 0;
	if (measure_sync_once(c, a, cid, &key, 0, &n, &more) < 0)
		return NULL;
	requests++;
	do {
		if (measure_sync_once(c, a, cid, &key, window, &n, &more) < 0)
			return NULL;
		requests++;
		*items_r += n;
	} while (more);
	if (requests_r != NULL)
		*requests_r = requests;
	return key;
}
