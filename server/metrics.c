/* The counters behind /metrics and their Prometheus text. Request series are
 * keyed by the command's static name, so a client cannot grow the table: names
 * that are not commands of the dispatch table arrive as NULL ("other").
 *
 * With --workers the counters are the whole server's: the parent maps them
 * shared before it forks (metrics_share), every worker counts into the
 * same memory under a process-shared mutex, and worker 0's admin listener
 * shows the sums. The names stay valid in every worker: they are static
 * strings of the one binary, which every worker is a fork of. The mutex is
 * robust, so a worker that dies holding it does not stop the others. */
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "http.h"
#include "push.h"
#include "server.h"
#include "util.h"
#include "workers.h"

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

/* The last day by minute, for the dashboard's chart. */
struct minute_slot {
	int64_t minute; /* unix time / 60 */
	uint32_t requests, parked_max;
};

struct counters {
	pthread_mutex_t lock;
	struct status_series statuses[MAX_SERIES];
	size_t nstatuses;
	struct latency_series latencies[MAX_NAMES];
	size_t nlatencies;
	uint64_t lmtp_counts[4];
	struct minute_slot history[METRICS_HISTORY_MINUTES];
	/* requests parked now, per worker (one process: [0]) */
	atomic_size_t parked[WORKERS_MAX];
};

static struct counters own = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct counters *c = &own;
/* this process's slot of c->parked */
static unsigned self;

int
metrics_share(void)
{
	struct counters *shared;
	pthread_mutexattr_t ma;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	memset(shared, 0, sizeof(*shared));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&shared->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	c = shared;
	return 0;
}

void
metrics_worker_gone(unsigned worker)
{
	if (worker < WORKERS_MAX)
		atomic_store(&c->parked[worker], 0);
}

void
metrics_worker(unsigned worker)
{
	self = worker < WORKERS_MAX ? worker : 0;
	atomic_store(&c->parked[self], 0);
}

static void
lock(void)
{
	/* the worker that held it died: what it counted so far stays */
	if (pthread_mutex_lock(&c->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&c->lock);
}

static void
unlock(void)
{
	pthread_mutex_unlock(&c->lock);
}

/* With the lock held: the slot of this minute, emptied when it is
 * older. */
static struct minute_slot *
minute_slot(int64_t minute)
{
	struct minute_slot *m = &c->history[minute % METRICS_HISTORY_MINUTES];

	if (m->minute != minute)
		*m = (struct minute_slot){minute, 0, 0};
	return m;
}

void
metrics_set_parked(size_t parked)
{
	atomic_store_explicit(&c->parked[self], parked, memory_order_relaxed);
}

size_t
metrics_parked_now(void)
{
	size_t sum = 0;

	for (size_t i = 0; i < WORKERS_MAX; i++)
		sum += atomic_load_explicit(&c->parked[i],
					    memory_order_relaxed);
	return sum;
}

void
metrics_history(int64_t now, uint32_t *requests, uint32_t *parked)
{
	int64_t last = now / 60;

	lock();
	for (size_t i = 0; i < METRICS_HISTORY_MINUTES; i++) {
		int64_t minute = last - (int64_t)METRICS_HISTORY_MINUTES + 1 +
				 (int64_t)i;
		const struct minute_slot *m =
			&c->history[minute % METRICS_HISTORY_MINUTES];

		requests[i] = m->minute == minute ? m->requests : 0;
		parked[i] = m->minute == minute ? m->parked_max : 0;
	}
	unlock();
}

void
metrics_request(const char *name, int http_status, uint64_t ms)
{
	struct latency_series *l = NULL;
	size_t i, b;

	size_t parked = metrics_parked_now();
	struct minute_slot *m;

	if (name == NULL)
		name = "other";
	lock();
	/* the chart's minute: one more request, and the most parked */
	m = minute_slot(time_now() / 60);
	m->requests++;
	if (parked > m->parked_max)
		m->parked_max = (uint32_t)EAS_MIN(parked, UINT32_MAX);
	for (i = 0; i < c->nstatuses; i++)
		if (c->statuses[i].status == http_status &&
		    strcmp(c->statuses[i].name, name) == 0)
			break;
	/* a new series is written before it is counted: a worker that
	 * dies here (the lock is robust) leaves no half-made one */
	if (i == c->nstatuses && c->nstatuses < MAX_SERIES) {
		c->statuses[i] = (struct status_series){name, http_status, 0};
		__atomic_store_n(&c->nstatuses, i + 1, __ATOMIC_RELEASE);
	}
	if (i < c->nstatuses)
		c->statuses[i].count++;
	for (i = 0; i < c->nlatencies; i++)
		if (strcmp(c->latencies[i].name, name) == 0)
			break;
	if (i == c->nlatencies && c->nlatencies < MAX_NAMES) {
		memset(&c->latencies[i], 0, sizeof(c->latencies[i]));
		c->latencies[i].name = name;
		__atomic_store_n(&c->nlatencies, i + 1, __ATOMIC_RELEASE);
	}
	if (i < c->nlatencies) {
		l = &c->latencies[i];
		for (b = 0; b < NBUCKETS && ms > bucket_ms[b]; b++)
			;
		if (b < NBUCKETS)
			l->buckets[b]++;
		l->count++;
		l->sum_ms += ms;
	}
	unlock();
}

void
metrics_on_response(const struct http_request *hr, uint64_t ms)
{
	metrics_request(hr->metric_name, hr->status, ms);
}

void
metrics_lmtp(enum metrics_lmtp what)
{
	lock();
	c->lmtp_counts[what]++;
	unlock();
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

	lock();
	help(out, "easd_requests_total", "counter",
	     "Requests answered, by ActiveSync command and HTTP status.");
	for (size_t i = 0; i < c->nstatuses; i++)
		buf_printf(out,
			   "easd_requests_total{command=\"%s\",status=\"%d\"} "
			   "%llu\n",
			   c->statuses[i].name, c->statuses[i].status,
			   (unsigned long long)c->statuses[i].count);
	help(out, "easd_request_duration_seconds", "histogram",
	     "Time from a request's first byte to its answer (parked "
	     "requests included), by command.");
	for (size_t i = 0; i < c->nlatencies; i++) {
		const struct latency_series *l = &c->latencies[i];
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
		   (unsigned long long)c->lmtp_counts[METRICS_LMTP_STORED]);
	help(out, "easd_lmtp_refusals_total", "counter",
	     "LMTP recipients refused, by reason.");
	for (size_t r = 1; r < N_ELEMENTS(lmtp_reasons); r++)
		buf_printf(
			out, "easd_lmtp_refusals_total{reason=\"%s\"} %llu\n",
			lmtp_reasons[r], (unsigned long long)c->lmtp_counts[r]);
	unlock();
}
