/* The destinations of log lines other than stderr (log-sink.c). */
#ifndef EASD_LOG_SINK_H
#define EASD_LOG_SINK_H

#include <stdbool.h>
#include <stddef.h>

/* Send every line to syslog (facility daemon) from now on. */
void log_sink_use_syslog(const char *ident);
bool log_sink_syslog(void);
/* One line at level (enum log_level's value) to syslog. */
void log_sink_syslog_write(int level, const char *line);

/* Append to the file at path (made 0600) from now on: it becomes the
 * process's stderr. Returns 0, or -1 with err. */
int log_sink_use_file(const char *path, char *err, size_t errlen);
/* Open the file again by its name (SIGHUP after a rotation): 1 when
 * reopened, 0 when no file is used, -1 with err (the old one stays). */
int log_sink_reopen(char *err, size_t errlen);
/* Forget the file or close syslog. */
void log_sink_close(void);

#endif
