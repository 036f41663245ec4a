/* What the access log costs a cheap request, counted in instructions:
 * two servers under callgrind, one writing an access line per request and
 * one not, answer the same OPTIONS requests; the counters are zeroed after
 * a warm-up and read after the series. Instruction counts do not move with
 * whatever else loads the machine, which a rate or a CPU time does by more
 * than the few per cent measured here. Target: < 5 %. Skipped without
 * valgrind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "client-eas.h"
#include "harness.h"

#define WARMUP 50
#define REQUESTS 1000

/* Instructions counted since the last zeroing of the server under
 * callgrind, dumped into dir; -1 when they cannot be read. */
static double
dump_count(const char *dir, pid_t pid)
{
	char cmd[256], path[512], line[256];
	double n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "callgrind_control -d %ld >/dev/null 2>&1",
		 (long)pid);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/cg.%ld.1", dir, (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "summary: ", 9) == 0)
			n = atof(line + 9);
	fclose(f);
	return n;
}

static int
zero(pid_t pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "callgrind_control -z %ld >/dev/null 2>&1",
		 (long)pid);
	return system(cmd) == 0 ? 0 : -1;
}

static int
options(struct eas_client *c, int n)
{
	struct arena *a = arena_new(0);
	struct eas_response r;
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		rc = eas_client_options(c, a, &r);
		arena_reset(a);
	}
	arena_free(&a);
	return rc;
}

int
main(void)
{
	static const char *const off[] = {"--log-level", "warn", NULL};
	static const char *const on[] = {"--log-level", "info", NULL};
	char dir[] = "/tmp/bench-log-XXXXXX", out[600];
	const char *wrap[] = {"valgrind", "--tool=callgrind", out, NULL};
	struct easd_proc *pn = NULL, *pl = NULL;
	struct eas_client *cn = NULL, *cl = NULL;
	double in = -1, il = -1;
	int rc = 1;

	if (system("command -v valgrind >/dev/null 2>&1 && "
		   "command -v callgrind_control >/dev/null 2>&1") != 0) {
		fprintf(stderr, "bench-log: skipped: valgrind is not "
				"installed\n");
		return 0;
	}
	if (mkdtemp(dir) == NULL) {
		perror("bench-log: mkdtemp");
		return 1;
	}
	snprintf(out, sizeof(out), "--callgrind-out-file=%s/cg.%%p", dir);
	harness_set_wrapper(wrap);
	pn = easd_start(off);
	pl = easd_start(on);
	harness_set_wrapper(NULL);
	if (pn == NULL || pl == NULL)
		goto done;
	cn = harness_client_new(pn, "ada", "BENCHLOGN");
	cl = harness_client_new(pl, "ada", "BENCHLOGL");
	if (cn == NULL || cl == NULL || options(cn, WARMUP) < 0 ||
	    options(cl, WARMUP) < 0 || zero(pn->pid) < 0 || zero(pl->pid) < 0 ||
	    options(cn, REQUESTS) < 0 || options(cl, REQUESTS) < 0) {
		fprintf(stderr, "bench-log: the requests failed\n");
		goto done;
	}
	in = dump_count(dir, pn->pid);
	il = dump_count(dir, pl->pid);
	if (in <= 0 || il <= 0) {
		fprintf(stderr, "bench-log: no callgrind counts in %s\n", dir);
		goto done;
	}
	printf("bench-log: access-log-cost %.1f %% (target < 5 %%; %.0f vs "
	       "%.0f instructions an OPTIONS with the log on and off, "
	       "callgrind, %d requests each)\n",
	       100.0 * (il / in - 1.0), il / REQUESTS, in / REQUESTS, REQUESTS);
	rc = 0;
done:
	eas_client_free(&cn);
	eas_client_free(&cl);
	easd_stop(&pn);
	easd_stop(&pl);
	harness_rmtree(dir);
	return rc;
}
