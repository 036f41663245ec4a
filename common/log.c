/* Line-oriented logging to stderr with a per-thread request context.
 * Every control character that reaches a line is escaped here, once, so
 * that no logged value (a user name, a DeviceId, a header) can end a line
 * early, forge another one or send escape sequences to a terminal.
 *
 * Once log_writer_start() has run (easd does), a line is copied into a
 * buffer and a writer thread writes what has gathered with one write()
 * per sink: a request pays for formatting, not for a system call. Without
 * the writer (easctl, tests) every line is written at once. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log-sink.h"
#include "util.h"
#include "xalloc.h"

enum log_level log_level_current = LOG_INFO;

/* What log_block shows of a text at most. */
#define LOG_BLOCK_MAX (16 * 1024)

static _Thread_local char log_ctx[256];

/* What gathers between two writes of a sink at most; a caller that finds
 * it full waits for the writer (lines are never dropped). */
#define LOG_BUFFER_MAX (1024 * 1024)

/* Where lines go: the log (stderr) and the access log (stderr, a file of
 * its own, or nowhere: fd -1). */
struct log_sink {
	int fd;
	char *buf; /* gathered, not yet written */
	size_t len;
};

enum { SINK_MAIN, SINK_ACCESS, SINK_COUNT };

/* How long the writer gathers lines after the first of a batch: a burst
 * of requests costs one wake-up and one write() per sink, not one per
 * line. */
#define LOG_BATCH_NS (10 * 1000 * 1000)

static struct {
	pthread_mutex_t mu;
	pthread_cond_t more; /* the writer waits for lines */
	pthread_cond_t room; /* callers wait for the writer */
	struct log_sink sinks[SINK_COUNT];
	bool running, stopping, writing;
	bool pending; /* lines gathered, the writer told */
	bool urgent;  /* a buffer is half full, or somebody flushes */
	pthread_t thread;
} lw = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
	.sinks = {{.fd = 2}, {.fd = 2}},
};

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to report it */
		p += w;
		n -= (size_t)w;
	}
}

static void *
writer_main(void *arg)
{
	char *mine[SINK_COUNT];

	(void)arg;
	for (int i = 0; i < SINK_COUNT; i++)
		mine[i] = xmalloc(LOG_BUFFER_MAX);
	pthread_mutex_lock(&lw.mu);
	for (;;) {
		size_t len[SINK_COUNT];
		int fd[SINK_COUNT];
		struct timespec until;

		while (!lw.pending && !lw.stopping)
			pthread_cond_wait(&lw.more, &lw.mu);
		if (!lw.pending) {
			/* stopping, and everything written: callers write
			 * their lines themselves from now on */
			lw.running = false;
			pthread_cond_broadcast(&lw.room);
			break;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += LOG_BATCH_NS;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!lw.urgent && !lw.stopping)
			if (pthread_cond_timedwait(&lw.more, &lw.mu, &until) ==
			    ETIMEDOUT)
				break;
		/* Swap buffers: callers go on filling the other one while
		 * this one is written. */
		for (int i = 0; i < SINK_COUNT; i++) {
			char *t = lw.sinks[i].buf;

			len[i] = lw.sinks[i].len;
			fd[i] = lw.sinks[i].fd;
			lw.sinks[i].buf = mine[i];
			lw.sinks[i].len = 0;
			mine[i] = t;
		}
		lw.pending = lw.urgent = false;
		lw.writing = true;
		pthread_cond_broadcast(&lw.room);
		pthread_mutex_unlock(&lw.mu);
		for (int i = 0; i < SINK_COUNT; i++)
			if (len[i] > 0 && fd[i] >= 0)
				write_all(fd[i], mine[i], len[i]);
		pthread_mutex_lock(&lw.mu);
		lw.writing = false;
		pthread_cond_broadcast(&lw.room);
	}
	pthread_mutex_unlock(&lw.mu);
	for (int i = 0; i < SINK_COUNT; i++)
		free(mine[i]);
	return NULL;
}

/* With lw.mu held: make the writer write now. */
static void
hurry(void)
{
	lw.urgent = true;
	pthread_cond_signal(&lw.more);
}

void
log_writer_start(void)
{
	pthread_mutex_lock(&lw.mu);
	if (!lw.running) {
		for (int i = 0; i < SINK_COUNT; i++) {
			lw.sinks[i].buf = xmalloc(LOG_BUFFER_MAX);
			lw.sinks[i].len = 0;
		}
		lw.stopping = false;
		if (pthread_create(&lw.thread, NULL, writer_main, NULL) != 0)
			eas_panic("cannot start the log writer");
		lw.running = true;
	}
	pthread_mutex_unlock(&lw.mu);
}

void
log_writer_stop(void)
{
	pthread_mutex_lock(&lw.mu);
	if (!lw.running) {
		pthread_mutex_unlock(&lw.mu);
		return;
	}
	lw.stopping = true;
	pthread_cond_signal(&lw.more);
	pthread_mutex_unlock(&lw.mu);
	pthread_join(lw.thread, NULL);
	pthread_mutex_lock(&lw.mu);
	for (int i = 0; i < SINK_COUNT; i++) {
		free(lw.sinks[i].buf);
		lw.sinks[i].buf = NULL;
		lw.sinks[i].len = 0;
	}
	pthread_mutex_unlock(&lw.mu);
}

void
log_flush(void)
{
	/* the writer itself (a panic in it) cannot wait for itself */
	if (lw.running && pthread_equal(pthread_self(), lw.thread))
		return;
	pthread_mutex_lock(&lw.mu);
	while (lw.running && (lw.pending || lw.writing)) {
		if (lw.pending)
			hurry();
		pthread_cond_wait(&lw.room, &lw.mu);
	}
	pthread_mutex_unlock(&lw.mu);
}

/* Hand one finished line (with its newline) to a sink. */
static void
emit(int sink, const char *line, size_t n)
{
	struct log_sink *k = &lw.sinks[sink];

	pthread_mutex_lock(&lw.mu);
	if (!lw.running) {
		int fd = k->fd;

		/* One write per line keeps lines of different threads
		 * whole. */
		pthread_mutex_unlock(&lw.mu);
		if (fd >= 0)
			write_all(fd, line, n);
		return;
	}
	if (k->fd < 0) {
		pthread_mutex_unlock(&lw.mu);
		return;
	}
	while (k->len + n > LOG_BUFFER_MAX && lw.running) {
		hurry();
		pthread_cond_wait(&lw.room, &lw.mu);
	}
	memcpy(k->buf + k->len, line, n);
	k->len += n;
	/* One wake-up per batch: the first line of it tells the writer. */
	if (!lw.pending) {
		lw.pending = true;
		pthread_cond_signal(&lw.more);
	}
	if (k->len > LOG_BUFFER_MAX / 2 && !lw.urgent)
		hurry();
	pthread_mutex_unlock(&lw.mu);
}

int
log_access_set(const char *where, const char **error_r)
{
	int fd, old;

	*error_r = NULL;
	if (strcmp(where, "off") == 0)
		fd = -1;
	else if (strcmp(where, "stderr") == 0)
		fd = 2;
	else {
		fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			*error_r = strerror(errno);
			return -1;
		}
	}
	pthread_mutex_lock(&lw.mu);
	/* what is gathered for the old file goes there first */
	while (lw.running && (lw.pending || lw.writing)) {
		if (lw.pending)
			hurry();
		pthread_cond_wait(&lw.room, &lw.mu);
	}
	old = lw.sinks[SINK_ACCESS].fd;
	__atomic_store_n(&lw.sinks[SINK_ACCESS].fd, fd, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lw.mu);
	if (old > 2)
		close(old);
	return 0;
}

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
		const unsigned char *run = p;
		char esc[8];
		size_t n = 0;

		/* Most lines need no escape at all: copy the run of bytes
		 * that stand for themselves at once. */
		while (*p >= 0x20 && *p != 0x7f && *p != 0xc2)
			p++;
		if (p > run) {
			n = EAS_MIN((size_t)(p - run), size - 1 - o);
			memcpy(out + o, run, n);
			o += n;
			if (o == size - 1 || *p == '\0')
				break;
			n = 0;
		}
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

/* The thread's context and ": " at the start of raw; their length. The
 * context is shorter than raw (log_ctx_set cuts it). */
static size_t
ctx_prefix(char *raw)
{
	size_t n = strlen(log_ctx);

	memcpy(raw, log_ctx, n);
	if (n > 0) {
		raw[n++] = ':';
		raw[n++] = ' ';
	}
	return n;
}

/* Stamp, level and the escaped raw message into line, which has room for
 * LOG_LINE_MAX * 4 + 64 bytes; its length. No printf: a request's access
 * line is formatted on its thread. */
static size_t
finish_line(char *line, enum log_level level, const char *raw,
	    size_t *msg_off_r)
{
	static _Thread_local char stamp[32];
	static _Thread_local time_t stamp_sec = -1;
	struct timespec ts;
	struct tm tm;
	size_t o, n;
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != stamp_sec) {
		/* once a second per thread, not once a line */
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		stamp_sec = ts.tv_sec;
	}
	o = strlen(stamp);
	memcpy(line, stamp, o);
	ms = ts.tv_nsec / 1000000;
	line[o++] = '.';
	line[o++] = (char)('0' + ms / 100);
	line[o++] = (char)('0' + ms / 10 % 10);
	line[o++] = (char)('0' + ms % 10);
	line[o++] = 'Z';
	line[o++] = ' ';
	n = strlen(level_names[level]);
	memcpy(line + o, level_names[level], n);
	o += n;
	line[o++] = ' ';
	*msg_off_r = o;
	escape_into(line + o, LOG_LINE_MAX * 4, raw);
	o += strlen(line + o);
	line[o++] = '\n';
	return o;
}

/* Format one line (stamp, level, context, message, all escaped) into
 * line, which has room for LOG_LINE_MAX * 4 + 64 bytes; its length. */
static size_t
format_line(char *line, enum log_level level, const char *fmt, va_list ap,
	    size_t *msg_off_r)
{
	char raw[LOG_LINE_MAX];
	size_t n = ctx_prefix(raw);

	vsnprintf(raw + n, sizeof(raw) - n, fmt, ap);
	return finish_line(line, level, raw, msg_off_r);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX * 4 + 64];
	va_list ap;
	size_t n, off;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	n = format_line(line, level, fmt, ap, &off);
	va_end(ap);
	if (log_sink_syslog()) {
		/* syslog stamps the line itself */
		line[n - 1] = '\0';
		log_sink_syslog_write((int)level, line + off);
		return;
	}
	emit(SINK_MAIN, line, n);
	/* Events (an account deleted, a login locked, a warning) are rare
	 * next to the access log's line per request, and someone may act on
	 * them at once (fail2ban, whoever reads the log after an answer):
	 * they are written before the call returns. Debug lines and the
	 * access log are gathered. */
	if (level <= LOG_INFO)
		log_flush();
}

static bool
access_on(void)
{
	return log_enabled(LOG_INFO) &&
	       __atomic_load_n(&lw.sinks[SINK_ACCESS].fd, __ATOMIC_RELAXED) >=
		       0;
}

static void
access_emit(char *line, size_t n, size_t off)
{
	if (log_sink_syslog() &&
	    __atomic_load_n(&lw.sinks[SINK_ACCESS].fd, __ATOMIC_RELAXED) == 2) {
		line[n - 1] = '\0';
		log_sink_syslog_write((int)LOG_INFO, line + off);
		return;
	}
	emit(SINK_ACCESS, line, n);
}

void
log_access(const char *fmt, ...)
{
	char line[LOG_LINE_MAX * 4 + 64];
	va_list ap;
	size_t n, off;

	if (!access_on())
		return;
	va_start(ap, fmt);
	n = format_line(line, LOG_INFO, fmt, ap, &off);
	va_end(ap);
	access_emit(line, n, off);
}

bool
log_access_enabled(void)
{
	return access_on();
}

void
log_access_text(const char *text)
{
	char line[LOG_LINE_MAX * 4 + 64], raw[LOG_LINE_MAX];
	size_t n, off, len;

	if (!access_on())
		return;
	n = ctx_prefix(raw);
	len = EAS_MIN(strlen(text), sizeof(raw) - 1 - n);
	memcpy(raw + n, text, len);
	raw[n + len] = '\0';
	n = finish_line(line, LOG_INFO, raw, &off);
	access_emit(line, n, off);
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
