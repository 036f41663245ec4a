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
