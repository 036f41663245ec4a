/* Counters for the admin listener's /metrics (Prometheus text format) and
 * its /healthz; the admin listener itself (admin.c). */
#ifndef EASD_METRICS_H
#define EASD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct easd;
struct http_request;

/* One answered request of the public listener: its name (a static
 * string; NULL counts as "other"), HTTP status and duration. */
void metrics_request(const char *name, int http_status, uint64_t ms);

/* LMTP, per recipient: stored, or refused with a reason
 * ("unknown_user", "rejected", "temporary"). */
enum metrics_lmtp {
	METRICS_LMTP_STORED,
	METRICS_LMTP_UNKNOWN_USER,
	METRICS_LMTP_REJECTED,
	METRICS_LMTP_TEMPORARY,
};
void metrics_lmtp(enum metrics_lmtp what);

/* With --workers: the parent makes the counters shared by the processes
 * it forks, before the first fork (0, or -1 when it cannot map them: each
 * worker then counts its own), and each worker says which it is. */
int metrics_share(void);
void metrics_worker(unsigned worker);
/* The parent, when a worker ended: what it had parked is gone. */
void metrics_worker_gone(unsigned worker);

/* The requests parked in this process now (push.c, as it changes), and
 * in all of them. */
void metrics_set_parked(size_t parked);
size_t metrics_parked_now(void);

/* The dashboard's chart: requests per minute and the most requests
 * parked at once in each minute of the last day, oldest first
 * (METRICS_HISTORY_MINUTES entries each). metrics_request samples the
 * parked count (at every answer of the public listener). */
#define METRICS_HISTORY_MINUTES 1440
void metrics_history(int64_t now, uint32_t *requests, uint32_t *parked);

/* The counters above in the Prometheus text format (metrics.c). */
void metrics_render_counters(struct buf *out);

/* Write every metric (admin.c), the gauges read now (parked requests, devices
 * seen in the last hour, the outbound queue, the database's size). */
void metrics_render(struct easd *srv, struct buf *out);

/* The admin listener (--admin-listen, admin.c): /healthz and /metrics.
 * Returns 0
 * (also when not configured), -1 with *error_r. */
int admin_start(struct easd *srv, const char **error_r);
void admin_stop(struct easd *srv);

/* The public listener's http_config.on_response. */
void metrics_on_response(const struct http_request *hr, uint64_t ms);

#endif
