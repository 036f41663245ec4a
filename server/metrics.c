/* The counters behind /metrics and their Prometheus text. Request series are
 * keyed by the command's static name, so a client cannot grow the table: names
 * that are not commands of the dispatch table arrive as NULL ("other"). */
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "push.h"
#include "server.h"
#include "util.h"

/* Latency buckets, milliseconds (le= in seconds). */
static const uint64_t bucket_ms[] = {1,	  5,	10,   25,   50,	   100,	 250,
				     500, 1000, 2500, 5000, 10000, 60000};
#define NBUCKETS N_ELEMENTS(bucket_ms)
/* More series than commands times the statuses they answer with. */
#define MAX_SERIES 256
#define MAX_NAMES 64

struct status_series {
	const char *name;
	int status;
	uint64_t count;
};

struct latency_series {
	const char *name;
	uint64_t buckets[NBUCKETS]; /* not cumulative; summed on output */
	uint64_t count, sum_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct status_series statuses[MAX_SERIES];
static size_t nstatuses;
static struct latency_series latencies[MAX_NAMES];
static size_t nlatencies;
static uint64_t lmtp_counts[4];

/* The last day by minute, for the dashboard's chart. */
struct minute_slot {
	int64_t minute; /* unix time / 60 */
	uint32_t requests, parked_max;
};
static struct minute_slot history[METRICS_HISTORY_MINUTES];

/* With lock held: the slot of this minute, emptied when it is older. */
static struct minute_slot *
minute_slot(int64_t minute)
{
	struct minute_slot *m = &history[minute % METRICS_HISTORY_MINUTES];

	if (m->minute != minute)
		*m = (struct minute_slot){minute, 0, 0};
	return m;
}

void
metrics_parked(size_t parked)
{
	pthread_mutex_lock(&lock);
	{
		struct minute_slot *m = minute_slot(time_now() / 60);

		if (parked > m->parked_max)
			m->parked_max = (uint32_t)EAS_MIN(parked, UINT32_MAX);
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_history(int64_t now, uint32_t *requests, uint32_t *parked)
{
	int64_t last = now / 60;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < METRICS_HISTORY_MINUTES; i++) {
		int64_t minute = last - (int64_t)METRICS_HISTORY_MINUTES + 1 +
				 (int64_t)i;
		const struct minute_slot *m =
			&history[minute % METRICS_HISTORY_MINUTES];

		requests[i] = m->minute == minute ? m->requests : 0;
		parked[i] = m->minute == minute ? m->parked_max : 0;
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_request(const char *name, int http_status, uint64_t ms)
{
	struct latency_series *l = NULL;
	size_t i, b;

	if (name == NULL)
		name = "other";
	pthread_mutex_lock(&lock);
	minute_slot(time_now() / 60)->requests++;
	for (i = 0; i < nstatuses; i++)
		if (statuses[i].status == http_status &&
		    strcmp(statuses[i].name, name) == 0)
			break;
	if (i == nstatuses && nstatuses < MAX_SERIES)
		statuses[nstatuses++] =
			(struct status_series){name, http_status, 0};
	if (i < nstatuses)
		statuses[i].count++;
	for (i = 0; i < nlatencies; i++)
		if (strcmp(latencies[i].name, name) == 0)
			break;
	if (i == nlatencies && nlatencies < MAX_NAMES) {
		memset(&latencies[i], 0, sizeof(latencies[i]));
		latencies[nlatencies++].name = name;
	}
	if (i < nlatencies) {
		l = &latencies[i];
		for (b = 0; b < NBUCKETS && ms > bucket_ms[b]; b++)
			;
		if (b < NBUCKETS)
			l->buckets[b]++;
		l->count++;
		l->sum_ms += ms;
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_on_response(const struct http_request *hr, uint64_t ms)
{
	struct easd *srv = hr->ctx;

	metrics_request(hr->metric_name, hr->status, ms);
	if (srv != NULL && srv->push != NULL)
		metrics_parked(push_waiting(srv->push));
}

void
metrics_lmtp(enum metrics_lmtp what)
{
	pthread_mutex_lock(&lock);
	lmtp_counts[what]++;
	pthread_mutex_unlock(&lock);
}

static void
help(struct buf *out, const char *name, const char *type, const char *text)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void
metrics_render_counters(struct buf *out)
{
	static const char *const lmtp_reasons[] = {NULL, "unknown_user",
						   "rejected", "temporary"};

	pthread_mutex_lock(&lock);
	help(out, "easd_requests_total", "counter",
	     "Requests answered, by ActiveSync command and HTTP status.");
	for (size_t i = 0; i < nstatuses; i++)
		buf_printf(out,
			   "easd_requests_total{command=\"%s\",status=\"%d\"} "
			   "%llu\n",
			   statuses[i].name, statuses[i].status,
			   (unsigned long long)statuses[i].count);
	help(out, "easd_request_duration_seconds", "histogram",
	     "Time from a request's first byte to its answer (parked "
	     "requests included), by command.");
	for (size_t i = 0; i < nlatencies; i++) {
		const struct latency_series *l = &latencies[i];
		uint64_t cum = 0;

		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += l->buckets[b];
			buf_printf(out,
				   "easd_request_duration_seconds_bucket{"
				   "command=\"%s\",le=\"%g\"} %llu\n",
				   l->name, (double)bucket_ms[b] / 1000.0,
				   (unsigned long long)cum);
		}
		buf_printf(out,
			   "easd_request_duration_seconds_bucket{command="
			   "\"%s\",le=\"+Inf\"} %llu\n"
			   "easd_request_duration_seconds_sum{command=\"%s\"} "
			   "%.3f\n"
			   "easd_request_duration_seconds_count{command=\"%s\"}"
			   " %llu\n",
			   l->name, (unsigned long long)l->count, l->name,
			   (double)l->sum_ms / 1000.0, l->name,
			   (unsigned long long)l->count);
	}
	help(out, "easd_lmtp_deliveries_total", "counter",
	     "Messages stored for a recipient over LMTP.");
	buf_printf(out, "easd_lmtp_deliveries_total %llu\n",
		   (unsigned long long)lmtp_counts[METRICS_LMTP_STORED]);
	help(out, "easd_lmtp_refusals_total", "counter",
	     "LMTP recipients refused, by reason.");
	for (size_t r = 1; r < N_ELEMENTS(lmtp_reasons); r++)
		buf_printf(out,
			   "easd_lmtp_refusals_total{reason=\"%s\"} %llu\n",
			   lmtp_reasons[r], (unsigned long long)lmtp_counts[r]);
	pthread_mutex_unlock(&lock);
}
