/* Line-oriented logging to stderr with a per-thread request context.
 * Every control character that reaches a line is escaped here, once, so
 * that no logged value (a user name, a DeviceId, a header) can end a line
 * early, forge another one or send escape sequences to a terminal. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "log-sink.h"
#include "util.h"

enum log_level log_level_current = LOG_INFO;

/* What log_block shows of a text at most. */
#define LOG_BLOCK_MAX (16 * 1024)

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

/* Append the escaped form of s (C0 controls, DEL and UTF-8 encoded C1
 * controls: \n, \r and \t for the common ones, \xHH and \u00HH for the
 * others) to out, which has room for size bytes including the NUL. */
static void
escape_into(char *out, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		char esc[8];
		size_t n = 0;

		if (*p == '\n' || *p == '\r' || *p == '\t') {
			esc[n++] = '\\';
			esc[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[n++] = '\\';
			esc[n++] = 'x';
			esc[n++] = hex[*p >> 4];
			esc[n++] = hex[*p & 0xf];
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			esc[n++] = '\\';
			esc[n++] = 'u';
			esc[n++] = '0';
			esc[n++] = '0';
			esc[n++] = hex[p[1] >> 4];
			esc[n++] = hex[p[1] & 0xf];
			p++;
		} else {
			esc[n++] = (char)*p;
		}
		if (o + n >= size)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX * 4], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(raw, sizeof(raw), "%s%s", log_ctx,
		     log_ctx[0] != '\0' ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof(raw))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
	va_end(ap);
	escape_into(line, sizeof(line), raw);
	if (log_sink_syslog()) {
		/* syslog stamps the line itself */
		log_sink_syslog_write((int)level, line);
		return;
	}
	/* One write per line keeps lines of different threads whole. */
	fprintf(stderr, "%s.%03ldZ %s %s\n", stamp, ts.tv_nsec / 1000000,
		level_names[level], line);
}

void
log_block(enum log_level level, const char *title, const char *text, size_t len)
{
	const char *p = text, *end = text + EAS_MIN(len, LOG_BLOCK_MAX);

	if (!log_enabled(level))
		return;
	log_msg(level, "%s (%zu bytes%s):", title, len,
		len > LOG_BLOCK_MAX ? ", the first 16 KiB" : "");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		log_msg(level, "| %.*s", (int)n, p);
		p += n + (nl != NULL);
	}
}
