/* Where log lines go besides stderr: a file that is reopened on request
 * (after logrotate moved it), or syslog. Kept apart from log.c because
 * <syslog.h> names its priorities LOG_INFO, LOG_DEBUG... as log.h does. */
#include "log-sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static bool use_syslog;
static char *file_path;

bool
log_sink_syslog(void)
{
	return use_syslog;
}

void
log_sink_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
}

void
log_sink_syslog_write(int level, const char *line)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

	syslog(level >= 0 && level < 4 ? prio[level] : LOG_INFO, "%s", line);
}

/* Open path for appending and make it this process's stderr, so every
 * line (and whatever a library prints) lands there. */
static int
open_onto_stderr(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open log file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fd != STDERR_FILENO) {
		if (dup2(fd, STDERR_FILENO) < 0) {
			snprintf(err, errlen, "cannot log to %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

int
log_sink_use_file(const char *path, char *err, size_t errlen)
{
	if (open_onto_stderr(path, err, errlen) < 0)
		return -1;
	free(file_path);
	file_path = strdup(path);
	return 0;
}

int
log_sink_reopen(char *err, size_t errlen)
{
	if (file_path == NULL)
		return 0;
	return open_onto_stderr(file_path, err, errlen) < 0 ? -1 : 1;
}

void
log_sink_close(void)
{
	if (use_syslog)
		closelog();
	use_syslog = false;
	free(file_path);
	file_path = NULL;
}
