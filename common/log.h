/* Logging to stderr, one line per event. Every line carries the calling
 * thread's request context (set with log_ctx_set) so a line can be tied to
 * its user, device and command. Never log passwords or message bodies at
 * info level or above. */
#ifndef EASD_LOG_H
#define EASD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level_current;

/* Parse "error|warn|info|debug"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *r);
void log_set_level(enum log_level level);
#define log_enabled(level) ((level) <= log_level_current)

/* Context prefix for this thread's lines, e.g. "req=12 user=ada dev=ABC
 * cmd=Sync". Copied; NULL clears it. */
void log_ctx_set(const char *ctx);

/* The longest line before escaping; longer ones are cut. */
#define LOG_LINE_MAX 4096

/* Write lines from a thread of their own from now on: an access-log or
 * debug line is copied into a buffer (up to 1 MiB per sink; a caller
 * waits only when the writer is that far behind) and written, within
 * about 10 ms, with the others gathered meanwhile; an info line, a
 * warning or an error is written before log_msg returns. log_writer_stop()
 * writes what is left and stops it. */
void log_writer_start(void);
void log_writer_stop(void);
/* Wait until every line logged so far has been written. */
void log_flush(void);

/* Where the access log (log_access) goes: "stderr" (the default, with
 * the other lines), "off", or a file that is opened for appending
 * (created 0600); calling it again reopens (after a rotation). 0, or -1
 * with *error_r. */
int log_access_set(const char *where, const char **error_r);
/* One access-log line (info level, with the thread's context). */
void log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a line already put together (no printf on the request's
 * thread), and whether log_access writes anywhere at all. */
void log_access_text(const char *text);
bool log_access_enabled(void);

/* Log one line. Control characters in the result (in the context, the
 * format or any argument) are escaped (\n, \x1b, ...): a line of the log
 * is always one call. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A multi-line text (an XML dump): a title line, then one "| " line per
 * line of its first 16 KiB, each escaped like any other. */
void log_block(enum log_level level, const char *title, const char *text,
	       size_t len);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)                                                          \
	do {                                                                   \
		if (log_enabled(LOG_INFO))                                     \
			log_msg(LOG_INFO, __VA_ARGS__);                        \
	} while (0)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_DEBUG))                                    \
			log_msg(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

#endif
