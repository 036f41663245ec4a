/* easd --workers N: several serving processes on one listener. The
 * parent binds the public listener and the change-notification group
 * (store_notify_group_new), forks N workers that share both, restarts a
 * worker that dies, forwards SIGTERM/SIGINT/SIGHUP and says READY=1 to
 * systemd once every worker serves. A worker is an ordinary easd from
 * there on, serving the inherited socket. */
#ifndef EASD_WORKERS_H
#define EASD_WORKERS_H

#include <stdbool.h>

struct easd;

/* The most --workers takes. */
#define WORKERS_MAX 64

/* Before any thread is started, with SIGINT, SIGTERM and SIGHUP
 * blocked. Returns 0 in a worker (srv->worker, listen_fd and ready_fd
 * set: carry on starting), 1 in the parent once every worker has
 * stopped (*exit_r: the parent's exit status), -1 with *error_r when
 * nothing could start. */
int workers_run(struct easd *srv, int *exit_r, const char **error_r);

/* In a worker, once it serves: tell the parent. */
void workers_ready(struct easd *srv);

/* Whether this process runs what must run once per data directory: a
 * single easd, or worker 0. */
bool workers_runs_once(const struct easd *srv);

#endif
