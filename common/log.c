/* Line-oriented logging to stderr with a per-thread request context. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

enum log_level log_level_current = LOG_INFO;

static _Thread_local char log_ctx[256];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
log_level_parse(const char *s, enum log_level *r)
{
	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_level(enum log_level level)
{
	log_level_current = level;
}

void
log_ctx_set(const char *ctx)
{
	if (ctx == NULL)
		log_ctx[0] = '\0';
	else
		snprintf(log_ctx, sizeof(log_ctx), "%s", ctx);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[4096], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s%s", stamp,
		     ts.tv_nsec / 1000000, level_names[level], log_ctx,
		     log_ctx[0] != '\0' ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line keeps lines of different threads whole. */
	fprintf(stderr, "%s\n", line);
}
