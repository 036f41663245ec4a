/* Logging to stderr, one line per event. Every line carries the calling
 * thread's request context (set with log_ctx_set) so a line can be tied to
 * its user, device and command. Never log passwords or message bodies at
 * info level or above. */
#ifndef EASD_LOG_H
#define EASD_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level_current;

/* Parse "error|warn|info|debug"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *r);
void log_set_level(enum log_level level);
#define log_enabled(level) ((level) <= log_level_current)

/* Context prefix for this thread's lines, e.g. "req=12 user=ada dev=ABC
 * cmd=Sync". Copied; NULL clears it. */
void log_ctx_set(const char *ctx);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
