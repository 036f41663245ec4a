/* Small measuring helpers shared by the benchmarks. */
#ifndef EASD_E2E_MEASURE_H
#define EASD_E2E_MEASURE_H

#include <sys/types.h>

/* Monotonic time in seconds. */
double measure_now(void);
/* CPU time (user + system) the process has used, in seconds, or -1. */
double measure_cpu(pid_t pid);
/* Resident memory of the process in KiB, or -1. */
long measure_rss_kib(pid_t pid);
/* Median of v[0..n) (sorts v). */
double measure_median(double *v, int n);
/* The p-th percentile (0..100) of v[0..n) (sorts v). */
double measure_percentile(double *v, int n, double p);

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client-eas.h"

#define MEASURE_WRK_SECONDS "4"

/* Write a wrk Lua script that sends one ActiveSync request: method, query
 * (after /Microsoft-Server-ActiveSync?, may be NULL), Basic credentials
 * already base64-encoded, protocol version, policy key, WBXML body. */
void measure_wrk_script(const char *path, const char *method, const char *query,
			const char *auth_b64, const char *version,
			uint32_t policy_key, const uint8_t *body, size_t len);
/* Run wrk (2 threads, 4 keep-alive connections) with the script against
 * url; requests/s, or -1. */
double measure_wrk(const char *url, const char *script_path);

/* Sync requests of the benchmarks: one collection, with the key and (not
 * 0) a WindowSize. */
struct wbxml_node *measure_sync_body(struct arena *a, const char *cid,
				     const char *key, unsigned window);
/* One Sync; *key gets the new key (or stays), *items_r the commands,
 * *more_r MoreAvailable. 0, or -1 on an error or another HTTP status. */
int measure_sync_once(struct eas_client *c, struct arena *a, const char *cid,
		      const char **key, unsigned window, size_t *items_r,
		      bool *more_r);
/* Prime (SyncKey 0) and drain the folder with WindowSize window: the
 * last key (in a), or NULL; the requests (NULL: not wanted) and items. */
const char *measure_full_sync(struct eas_client *c, struct arena *a,
			      const char *cid, unsigned window,
			      unsigned *requests_r, size_t *items_r);

#endif
