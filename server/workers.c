/* easd --workers (workers.h).
 *
 * The listener: the parent binds the public address with SO_REUSEPORT
 * and never listens on it (it only holds the port, the real one when
 * port 0 was asked); each worker binds its own socket to the same address
 * with SO_REUSEPORT and listens, so that the kernel spreads connections
 * over the workers evenly by their addresses and ports. A worker that
 * is at its connection limit, or dies, takes nothing from the others'
 * queues; a dead one's queued connections are refused and the next one
 * binds again.
 *
 * What runs once (workers_runs_once): worker 0 runs LMTP, the sending
 * queue and relay, the search indexer and the admin listener, because
 * each owns a port or a queue that two processes would fight over, and
 * the parent stays a small single-threaded supervisor without a store.
 * Every worker runs its own checkpointer (it checkpoints what that
 * process committed, and SQLite lets one checkpoint run at a time),
 * push registry, caches and store connections.
 *
 * Changes: a worker's commit reaches the others directly, on their
 * channels of the notification group (store_notify_group_*), before the
 * commit returns; the parent reads the socket other processes (easctl)
 * send to and hands each datagram to every worker. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "log-sink.h"
#include "metrics.h"
#include "net.h"
#include "server.h"
#include "util.h"
#include "workers.h"
#include "xalloc.h"

/* How long the parent waits for its workers after SIGTERM before it
 * kills them (a worker waits up to 15 s for parked requests). */
#define WORKERS_STOP_WAIT_MS 30000
/* A worker that dies sooner than this after its start is started again
 * only this much later (a crash loop costs a fork a second). */
#define WORKERS_RESTART_DELAY_MS 1000

struct worker {
	pid_t pid;	     /* 0: not running */
	int ready_fd;	     /* read end of its ready pipe; -1 when done */
	bool ready;	     /* said it serves */
	uint64_t started_ms; /* time_mono_ms() of the fork */
	uint64_t restart_ms; /* when to start it again; 0 = not due */
};

static struct sockaddr_storage listen_addr;
static socklen_t listen_addr_len;

bool
workers_runs_once(const struct easd *srv)
{
	return srv->worker <= 0;
}

void
workers_ready(struct easd *srv)
{
	if (srv->ready_fd < 0)
		return;
	fflush(stdout);
	if (write(srv->ready_fd, "r", 1) != 1)
		log_warn("cannot tell the parent this worker serves: %s",
			 strerror(errno));
	close(srv->ready_fd);
	srv->ready_fd = -1;
}

/* A worker's own listening socket on the parent's address. */
static int
worker_listen(const char **error_r)
{
	int one = 1;
	int fd = socket(listen_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&listen_addr, listen_addr_len) < 0 ||
	    listen(fd, 4096) < 0) {
		*error_r = strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The parent's socket: bound with SO_REUSEPORT, not listening. */
static int
parent_bind(const char *spec, uint16_t *port_r, const char **error_r)
{
	int fd = net_listen_opts(spec, 0, true, port_r, error_r);

	if (fd < 0)
		return -1;
	listen_addr_len = sizeof(listen_addr);
	if (getsockname(fd, (struct sockaddr *)&listen_addr, &listen_addr_len) <
	    0) {
		*error_r = strerror(errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* Fork worker i. Returns 0 in the child, 1 in the parent, -1 when the
 * fork failed. */
static int
spawn(struct easd *srv, struct worker *w, unsigned nw, unsigned i, int sfd,
      pid_t parent)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t chld;
		const char *err;

		close(pfd[0]);
		close(sfd);
		for (unsigned k = 0; k < nw; k++)
			if (w[k].ready_fd >= 0)
				close(w[k].ready_fd);
		/* the parent's SIGTERM reaches a worker whatever kills it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		/* systemd hears the parent only */
		unsetenv("NOTIFY_SOCKET");
		store_notify_group_join(i);
		metrics_worker(i);
		srv->worker = (int)i;
		srv->ready_fd = pfd[1];
		srv->listen_fd = worker_listen(&err);
		if (srv->listen_fd < 0) {
			fprintf(stderr, "easd: worker %u: cannot listen: %s\n",
				i, err);
			_exit(1);
		}
		return 0;
	}
	close(pfd[1]);
	w[i].pid = pid;
	w[i].ready_fd = pfd[0];
	w[i].ready = false;
	w[i].started_ms = time_mono_ms();
	w[i].restart_ms = 0;
	log_info("worker %u started (pid %ld)", i, (long)pid);
	return 1;
}

static void
signal_all(struct worker *w, unsigned n, int sig)
{
	for (unsigned i = 0; i < n; i++)
		if (w[i].pid > 0)
			kill(w[i].pid, sig);
}

static unsigned
alive(const struct worker *w, unsigned n)
{
	unsigned a = 0;

	for (unsigned i = 0; i < n; i++)
		a += w[i].pid > 0;
	return a;
}

static void
describe_exit(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(buf, size, "exited with status %d",
			 WEXITSTATUS(status));
}

int
workers_run(struct easd *srv, int *exit_r, const char **error_r)
{
	unsigned n = srv->cfg.workers;
	struct worker *w;
	sigset_t sigs;
	uint16_t port;
	pid_t parent = getpid();
	int lfd, sfd, rc = 0;
	bool started = false, stopping = false;
	uint64_t stop_deadline = 0;

	*exit_r = 1;
	lfd = parent_bind(srv->cfg.listen, &port, error_r);
	if (lfd < 0)
		return -1;
	if (store_notify_group_new(srv->cfg.db_path, n, error_r) != STORE_OK) {
		close(lfd);
		return -1;
	}
	if (metrics_share() < 0)
		fprintf(stderr, "easd: cannot share the metrics between the "
				"workers: /metrics shows worker 0's\n");
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		*error_r = "cannot make a signalfd";
		store_notify_group_free();
		close(lfd);
		return -1;
	}
	{
		const char *colon = strrchr(srv->cfg.listen, ':');

		printf("easd: listening on %.*s:%u\n",
		       (int)(colon - srv->cfg.listen), srv->cfg.listen, port);
		fflush(stdout);
	}
	w = xcalloc(n, sizeof(*w));
	for (unsigned i = 0; i < n; i++)
		w[i].ready_fd = -1;
	for (unsigned i = 0; i < n; i++) {
		int s = spawn(srv, w, n, i, sfd, parent);

		if (s == 0) {
			close(lfd);
			free(w);
			return 0;
		}
		if (s < 0) {
			log_error("cannot start worker %u: %s", i,
				  strerror(errno));
			stopping = true;
			stop_deadline = time_mono_ms() + WORKERS_STOP_WAIT_MS;
			signal_all(w, n, SIGTERM);
			rc = 1;
			break;
		}
	}

	for (;;) {
		struct pollfd pfd[2 + 2 * WORKERS_MAX];
		unsigned idx[2 + 2 * WORKERS_MAX];
		bool drain[2 + 2 * WORKERS_MAX];
		nfds_t np = 0;
		int timeout = -1;
		uint64_t now = time_mono_ms();
		pid_t pid;
		int status;

		pfd[np++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		if (store_notify_group_fd() >= 0)
			pfd[np++] =
				(struct pollfd){.fd = store_notify_group_fd(),
						.events = POLLIN};
		for (unsigned i = 0; i < n; i++) {
			if (w[i].ready_fd >= 0) {
				idx[np] = i;
				drain[np] = false;
				pfd[np++] = (struct pollfd){.fd = w[i].ready_fd,
							    .events = POLLIN};
			}
			/* What the others send a worker that is not running
			 * concerns nobody (the next one starts with empty
			 * caches): it is read away as it comes, so that its
			 * queue never fills and blocks their commits. */
			if (w[i].pid == 0 && store_notify_group_rx_fd(i) >= 0) {
				idx[np] = i;
				drain[np] = true;
				pfd[np++] = (struct pollfd){
					.fd = store_notify_group_rx_fd(i),
					.events = POLLIN};
			}
			if (!stopping && w[i].pid == 0 && w[i].restart_ms > 0) {
				int t = w[i].restart_ms > now
						? (int)(w[i].restart_ms - now)
						: 0;

				if (timeout < 0 || t < timeout)
					timeout = t;
			}
		}
		if (stopping) {
			int t = stop_deadline > now ? (int)(stop_deadline - now)
						    : 0;

			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		if (poll(pfd, np, timeout) < 0 && errno != EINTR) {
			log_error("workers: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					char err[512];

					if (log_sink_reopen(err, sizeof(err)) <
					    0)
						log_error("SIGHUP: %s", err);
					signal_all(w, n, SIGHUP);
				} else if (si.ssi_signo != SIGCHLD &&
					   !stopping) {
					log_info("signal %d: stopping the "
						 "workers",
						 (int)si.ssi_signo);
					sd_notify(0, "STOPPING=1");
					stopping = true;
					stop_deadline = time_mono_ms() +
							WORKERS_STOP_WAIT_MS;
					signal_all(w, n, SIGTERM);
				}
			}
		}
		for (nfds_t k = 1; k < np; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (pfd[k].fd == store_notify_group_fd()) {
				store_notify_group_forward();
				continue;
			}
			if (drain[k]) {
				store_notify_group_drain(idx[k]);
				continue;
			}
			{
				struct worker *x = &w[idx[k]];
				char b;

				if (read(x->ready_fd, &b, 1) == 1)
					x->ready = true;
				close(x->ready_fd);
				x->ready_fd = -1;
				if (x->ready)
					log_info("worker %u serves", idx[k]);
			}
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				char how[64];

				if (w[i].pid != pid)
					continue;
				w[i].pid = 0;
				if (w[i].ready_fd >= 0) {
					close(w[i].ready_fd);
					w[i].ready_fd = -1;
				}
				describe_exit(status, how, sizeof(how));
				store_notify_group_drain(i);
				metrics_worker_gone(i);
				if (stopping) {
					if (status != 0)
						rc = 1;
					break;
				}
				if (!started) {
					/* A worker that cannot start is a
					 * setting the others share: stop. */
					log_error("worker %u %s before it "
						  "served; stopping",
						  i, how);
					stopping = true;
					stop_deadline = time_mono_ms() +
							WORKERS_STOP_WAIT_MS;
					signal_all(w, n, SIGTERM);
					rc = 1;
					break;
				}
				log_error("worker %u (pid %ld) %s; starting "
					  "another",
					  i, (long)pid, how);
				w[i].restart_ms =
					time_mono_ms() - w[i].started_ms <
							WORKERS_RESTART_DELAY_MS
						? time_mono_ms() +
							  WORKERS_RESTART_DELAY_MS
						: time_mono_ms();
				if (w[i].restart_ms == 0)
					w[i].restart_ms = 1;
				break;
			}
		}
		if (!started && !stopping) {
			unsigned ready = 0;

			for (unsigned i = 0; i < n; i++)
				ready += w[i].ready;
			if (ready == n) {
				started = true;
				printf("easd: ready\n");
				fflush(stdout);
				log_info("easd ready: %u workers, data %s, "
					 "http %s port %u",
					 n, srv->cfg.data_dir, srv->cfg.listen,
					 port);
				sd_notify(0, "READY=1");
			}
		}
		now = time_mono_ms();
		for (unsigned i = 0; !stopping && i < n; i++) {
			int s;

			if (w[i].pid != 0 || w[i].restart_ms == 0 ||
			    w[i].restart_ms > now)
				continue;
			s = spawn(srv, w, n, i, sfd, parent);
			if (s == 0) {
				close(lfd);
				free(w);
				return 0;
			}
			if (s < 0) {
				log_error("cannot start worker %u again: %s", i,
					  strerror(errno));
				w[i].restart_ms =
					now + WORKERS_RESTART_DELAY_MS;
			}
		}
		if (stopping && alive(w, n) == 0)
			break;
		if (stopping && time_mono_ms() >= stop_deadline) {
			log_warn("workers still running after %d s: killed",
				 WORKERS_STOP_WAIT_MS / 1000);
			signal_all(w, n, SIGKILL);
			stop_deadline = time_mono_ms() + WORKERS_STOP_WAIT_MS;
			rc = 1;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (w[i].ready_fd >= 0)
			close(w[i].ready_fd);
	free(w);
	close(sfd);
	close(lfd);
	store_notify_group_free();
	log_info("stopped");
	*exit_r = rc;
	return 1;
}
