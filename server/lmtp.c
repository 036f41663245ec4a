/* LMTP server (RFC 2033): an acceptor thread polls the listeners, each
 * connection gets its own thread (capped) with blocking I/O and its own
 * store connection. A message is answered 250 per recipient only after
 * its store commit; an oversized message is read to the end and refused
 * whole. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "lmtp.h"
#include "metrics.h"
#include "log.h"
#include "mail.h"
#include "net.h"
#include "store.h"
#include "util.h"
#include "xalloc.h"

#define LMTP_LINE_MAX 2048 /* command line cap (RFC 5321: 512) */
#define LMTP_MAX_RCPTS 100
#define LMTP_READ_BUF 16384
#define LMTP_WRITE_BUF 8192

struct lmtp_conn {
	struct lmtp_server *srv;
	pthread_t thread;
	int fd;
	bool used, done;
	/* reader */
	char rbuf[LMTP_READ_BUF];
	size_t rpos, rlen;
	/* replies not yet sent: those to a pipelined group go out together,
	 * when the next read would wait (RFC 2920 3.1) */
	char wbuf[LMTP_WRITE_BUF];
	size_t wlen;
};

/* Group commit: a message ready to be stored waits in the queue; the
 * first connection that finds no one committing takes the whole queue
 * and stores it in one transaction (each message with its session's
 * arena: their threads wait). A commit is the most of a delivery (the
 * WAL frames of every page it touched, the checkpoint, the text index),
 * so over several connections a batch costs about one. Should the batch
 * fail, each message of it is stored again alone, so one bad message
 * does not fail the others. Every batch goes through the server's one
 * committing store connection: SQLite drops a connection's page cache
 * whenever another connection has written, so with each committer's own
 * the pages of every batch were read afresh. */
struct lmtp_job {
	struct lmtp_session *s;
	const struct store_item *item;
	enum store_error results[LMTP_MAX_RCPTS];
	bool done;
	struct lmtp_job *next;
};

struct lmtp_server {
	struct lmtp_config cfg;
	char *listen, *unix_path, *db_path, *hostname;
	int tcp_fd, unix_fd;
	int wake[2];
	int port;
	pthread_t acceptor;
	pthread_mutex_t lock;
	bool stopping;
	struct lmtp_conn *conns; /* cfg.max_conns slots */
	/* group commit */
	pthread_mutex_t group_mu;
	pthread_cond_t group_cond;
	struct lmtp_job *queue, **queue_tail;
	bool committing;
	struct store *commit_store; /* used by the committing thread only */
};

static __thread char lmtp_errbuf[256];

static const char *
lmtp_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lmtp_errbuf, sizeof(lmtp_errbuf), fmt, ap);
	va_end(ap);
	return lmtp_errbuf;
}

/* --- connection I/O --- */

static void
conn_flush(struct lmtp_conn *c)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t w =
			send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the connection is gone: the reader sees it */
		off += (size_t)w;
	}
	c->wlen = 0;
}

static void conn_reply(struct lmtp_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Queue one reply line; conn_line sends the queue before it waits. */
static void
conn_reply(struct lmtp_conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (c->wlen + (size_t)n > sizeof(c->wbuf))
		conn_flush(c);
	memcpy(c->wbuf + c->wlen, line, (size_t)n);
	c->wlen += (size_t)n;
}

/* Read the next piece of a line into *p_r, *len_r (without CR LF). Returns 1
 * for a whole line (or its last piece), 2 for a piece of a line longer
 * than the buffer, 0 at EOF or error. */
static int
conn_line(struct lmtp_conn *c, char **p_r, size_t *len_r)
{
	for (;;) {
		char *start = c->rbuf + c->rpos;
		size_t avail = c->rlen - c->rpos;
		char *nl = memchr(start, '\n', avail);
		ssize_t r;

		if (nl != NULL) {
			size_t n = (size_t)(nl - start);

			c->rpos += n + 1;
			if (n > 0 && start[n - 1] == '\r')
				n--;
			*p_r = start;
			*len_r = n;
			return 1;
		}
		if (avail == sizeof(c->rbuf)) {
			/* Hand out all but a trailing CR, which may belong
			 * to the CR LF that ends the line. */
			size_t n = avail - (start[avail - 1] == '\r' ? 1 : 0);

			c->rpos += n;
			*p_r = start;
			*len_r = n;
			return 2;
		}
		if (c->rpos > 0) {
			memmove(c->rbuf, start, avail);
			c->rpos = 0;
			c->rlen = avail;
		}
		/* nothing left to read: answer what was read before waiting */
		conn_flush(c);
		r = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen,
			 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		c->rlen += (size_t)r;
	}
}

/* --- the session --- */

/* The DATA buffer's first size. */
#define LMTP_DATA_START (16 * 1024)

struct lmtp_rcpt {
	int64_t account_id;
	const char *addr;
};

struct lmtp_session {
	struct lmtp_conn *c;
	struct store *store;
	struct arena *arena; /* per transaction */
	bool greeted, have_mail;
	bool lost;		   /* connection dropped mid-DATA */
	const char *envelope_from; /* MAIL FROM ("" for the null sender) */
	struct lmtp_rcpt rcpts[LMTP_MAX_RCPTS];
	size_t nrcpts;
};

static void
session_reset(struct lmtp_session *s)
{
	arena_reset(s->arena);
	s->have_mail = false;
	s->envelope_from = NULL;
	s->nrcpts = 0;
}

/* The address inside "<...>" after a "FROM:"/"TO:" keyword; *rest_r is
 * what follows (parameters). Returns NULL on a syntax error. */
static char *
parse_path(struct arena *a, const char *arg, const char **rest_r)
{
	const char *lt, *gt;

	while (*arg == ' ')
		arg++;
	lt = arg;
	if (*lt != '<')
		return NULL;
	gt = strchr(lt, '>');
	if (gt == NULL)
		return NULL;
	*rest_r = gt + 1;
	return arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
}

static void
cmd_lhlo(struct lmtp_session *s, const char *arg)
{
	struct lmtp_server *srv = s->c->srv;

	if (*arg == '\0') {
		conn_reply(s->c, "501 5.5.4 LHLO needs a domain");
		return;
	}
	session_reset(s);
	s->greeted = true;
	conn_reply(s->c, "250-%s", srv->hostname);
	conn_reply(s->c, "250-PIPELINING");
	conn_reply(s->c, "250-ENHANCEDSTATUSCODES");
	conn_reply(s->c, "250-8BITMIME");
	conn_reply(s->c, "250 SIZE %zu", srv->cfg.max_size);
}

static void
cmd_mail(struct lmtp_session *s, const char *arg)
{
	const char *rest, *p;
	char *path;

	if (!s->greeted) {
		conn_reply(s->c, "503 5.5.1 Send LHLO first");
		return;
	}
	if (s->have_mail) {
		conn_reply(s->c, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (!str_has_iprefix(arg, "FROM:") ||
	    (path = parse_path(s->arena, arg + 5, &rest)) == NULL) {
		conn_reply(s->c, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	/* RFC 1870: refuse early what is announced too large */
	for (p = rest; p != NULL && *p != '\0'; p = strchr(p, ' ')) {
		while (*p == ' ')
			p++;
		if (str_has_iprefix(p, "SIZE=")) {
			int64_t size;
			char num[32];
			size_t n = strcspn(p + 5, " ");

			if (n == 0 || n >= sizeof(num)) {
				conn_reply(s->c, "501 5.5.4 Bad SIZE");
				return;
			}
			memcpy(num, p + 5, n);
			num[n] = '\0';
			if (str_to_int64(num, &size) < 0 || size < 0) {
				conn_reply(s->c, "501 5.5.4 Bad SIZE");
				return;
			}
			if ((uint64_t)size > s->c->srv->cfg.max_size) {
				conn_reply(s->c, "552 5.3.4 Message size "
						 "exceeds fixed limit");
				return;
			}
		}
		if (*p == '\0')
			break;
	}
	if (strpbrk(path, "\r\n") != NULL || strlen(path) > 998) {
		conn_reply(s->c, "501 5.1.7 Bad sender address");
		return;
	}
	s->envelope_from = path;
	s->have_mail = true;
	conn_reply(s->c, "250 2.1.0 OK");
}

static void
cmd_rcpt(struct lmtp_session *s, const char *arg)
{
	struct store_account acc;
	enum store_error e;
	const char *rest;
	char *addr;

	if (!s->have_mail) {
		conn_reply(s->c, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (!str_has_iprefix(arg, "TO:") ||
	    (addr = parse_path(s->arena, arg + 3, &rest)) == NULL ||
	    *addr == '\0') {
		conn_reply(s->c, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (s->nrcpts >= LMTP_MAX_RCPTS) {
		conn_reply(s->c, "452 4.5.3 Too many recipients");
		return;
	}
	e = store_account_by_address(s->store, s->arena, addr, &acc);
	if (e == STORE_NOTFOUND || (e == STORE_OK && !acc.enabled)) {
		metrics_lmtp(METRICS_LMTP_UNKNOWN_USER);
		conn_reply(s->c, "550 5.1.1 <%.200s>: no such user", addr);
		return;
	}
	if (e != STORE_OK) {
		log_warn("lmtp: looking up %s: %s", addr, store_error_str(e));
		metrics_lmtp(METRICS_LMTP_TEMPORARY);
		conn_reply(s->c, "451 4.3.0 Temporary lookup failure");
		return;
	}
	s->rcpts[s->nrcpts].account_id = acc.id;
	s->rcpts[s->nrcpts].addr = addr;
	s->nrcpts++;
	conn_reply(s->c, "250 2.1.5 OK");
}

/* Every recipient of every job, in one transaction of store st. */
static enum store_error
store_batch(struct store *st, struct lmtp_job *batch)
{
	enum store_error e = store_begin(st, true);

	for (struct lmtp_job *j = batch; j != NULL && e == STORE_OK;
	     j = j->next)
		for (size_t i = 0; i < j->s->nrcpts && e == STORE_OK; i++)
			e = j->results[i] = mail_deliver(
				st, j->s->arena, j->s->rcpts[i].account_id, 0,
				j->item, j->s->envelope_from, NULL);
	if (e == STORE_OK)
		e = store_commit(st);
	if (e != STORE_OK)
		store_rollback(st);
	return e;
}

/* The store connection of the committing thread: the server's, or the
 * session's while the server's cannot be opened. */
static struct store *
commit_store(struct lmtp_server *srv, struct lmtp_session *s)
{
	const char *error;

	if (srv->commit_store == NULL &&
	    store_open(srv->db_path, &srv->commit_store, &error) != STORE_OK) {
		log_warn("lmtp: opening the store for deliveries: %s", error);
		return s->store;
	}
	return srv->commit_store;
}

/* Store job's message for each of its recipients (job->results). */
static void
deliver_grouped(struct lmtp_session *s, struct lmtp_job *job)
{
	struct lmtp_server *srv = s->c->srv;
	struct store *st;
	enum store_error e;

	job->s = s;
	job->done = false;
	job->next = NULL;
	pthread_mutex_lock(&srv->group_mu);
	*srv->queue_tail = job;
	srv->queue_tail = &job->next;
	while (!job->done) {
		struct lmtp_job *batch;

		if (srv->committing) {
			pthread_cond_wait(&srv->group_cond, &srv->group_mu);
			continue;
		}
		srv->committing = true;
		batch = srv->queue;
		srv->queue = NULL;
		srv->queue_tail = &srv->queue;
		pthread_mutex_unlock(&srv->group_mu);
		st = commit_store(srv, s);
		if ((e = store_batch(st, batch)) != STORE_OK) {
			/* nothing of it was kept: each alone, as without
			 * grouping */
			log_info("lmtp: a batch failed (%s): each message "
				 "stored alone",
				 store_error_str(e));
			for (struct lmtp_job *j = batch; j != NULL; j = j->next)
				for (size_t i = 0; i < j->s->nrcpts; i++)
					j->results[i] = mail_deliver(
						st, j->s->arena,
						j->s->rcpts[i].account_id, 0,
						j->item, j->s->envelope_from,
						NULL);
		}
		pthread_mutex_lock(&srv->group_mu);
		for (struct lmtp_job *j = batch, *next; j != NULL; j = next) {
			next = j->next;
			j->done = true;
		}
		srv->committing = false;
		pthread_cond_broadcast(&srv->group_cond);
	}
	pthread_mutex_unlock(&srv->group_mu);
}

static void
cmd_data(struct lmtp_session *s)
{
	struct lmtp_server *srv = s->c->srv;
	struct store_item item;
	enum store_error results[LMTP_MAX_RCPTS];
	struct buf msg;
	const char *error;
	bool line_start = true, ended = false;
	char *p;
	size_t len;
	int r;

	if (!s->have_mail) {
		conn_reply(s->c, "503 5.5.1 Need MAIL command");
		return;
	}
	if (s->nrcpts == 0) {
		conn_reply(s->c, "503 5.5.1 No valid recipients");
		return;
	}
	conn_reply(s->c, "354 Start mail input; end with <CRLF>.<CRLF>");
	buf_init(&msg, srv->cfg.max_size);
	/* most mail fits: no regrowth (within the cap, which a reservation
	 * past it would set off) */
	buf_reserve(&msg, srv->cfg.max_size != 0 &&
					  srv->cfg.max_size < LMTP_DATA_START
				  ? srv->cfg.max_size
				  : LMTP_DATA_START);
	while ((r = conn_line(s->c, &p, &len)) > 0) {
		if (line_start && len == 1 && p[0] == '.' && r == 1) {
			ended = true;
			break;
		}
		/* RFC 5321 4.5.2: remove one leading dot */
		if (line_start && len > 0 && p[0] == '.') {
			p++;
			len--;
		}
		/* past the cap the rest is read and dropped (overflow set) */
		if (!msg.overflow) {
			/* a line read with its CR LF goes in with it, in one
			 * piece; a bare LF becomes CR LF */
			if (r == 1 && p[len] == '\r') {
				buf_append(&msg, p, len + 2);
			} else {
				buf_append(&msg, p, len);
				if (r == 1)
					buf_append(&msg, "\r\n", 2);
			}
		}
		line_start = r == 1;
	}
	if (!ended) {
		buf_deinit(&msg);
		s->lost = true; /* connection lost: nothing stored */
		return;
	}
	if (msg.overflow) {
		for (size_t i = 0; i < s->nrcpts; i++)
			conn_reply(s->c, "552 5.3.4 Message too big");
		goto out;
	}
	if (mail_item_from_mime(s->arena, msg.len > 0 ? (char *)msg.data : "",
				msg.len, &item, &error) < 0) {
		for (size_t i = 0; i < s->nrcpts; i++) {
			metrics_lmtp(METRICS_LMTP_REJECTED);
			conn_reply(s->c, "554 5.6.0 %s", error);
		}
		goto out;
	}
	{
		struct lmtp_job job = {.item = &item};

		deliver_grouped(s, &job);
		memcpy(results, job.results, sizeof(results));
	}
	for (size_t i = 0; i < s->nrcpts; i++) {
		enum store_error e = results[i];

		if (e == STORE_OK) {
			const char *why;

			log_info("lmtp: stored %zu bytes for %s", msg.len,
				 s->rcpts[i].addr);
			mail_autoreply(s->store, s->arena,
				       s->rcpts[i].account_id, &item,
				       s->envelope_from, &srv->cfg.autoreply,
				       &why);
			metrics_lmtp(METRICS_LMTP_STORED);
			conn_reply(s->c, "250 2.0.0 <%.200s> stored",
				   s->rcpts[i].addr);
		} else {
			log_warn("lmtp: storing for %s: %s", s->rcpts[i].addr,
				 store_error_str(e));
			metrics_lmtp(METRICS_LMTP_TEMPORARY);
			conn_reply(s->c,
				   "451 4.3.0 <%.200s> store failure, "
				   "try again later",
				   s->rcpts[i].addr);
		}
	}
out:
	buf_deinit(&msg);
	session_reset(s);
}

static void
session_run(struct lmtp_session *s)
{
	char *p, line[LMTP_LINE_MAX + 1];
	size_t len;
	int r;

	conn_reply(s->c, "220 %s LMTP ready", s->c->srv->hostname);
	while (!s->lost && (r = conn_line(s->c, &p, &len)) > 0) {
		const char *arg;

		if (r == 2 || len > LMTP_LINE_MAX) {
			while (r == 2)
				r = conn_line(s->c, &p, &len);
			if (r == 0)
				break;
			conn_reply(s->c, "500 5.5.2 Line too long");
			continue;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		arg = line + strcspn(line, " ");
		while (*arg == ' ')
			arg++;
		if (str_has_iprefix(line, "LHLO ") || str_ieq(line, "LHLO")) {
			cmd_lhlo(s, arg);
		} else if (str_has_iprefix(line, "MAIL ")) {
			cmd_mail(s, arg);
		} else if (str_has_iprefix(line, "RCPT ")) {
			cmd_rcpt(s, arg);
		} else if (str_ieq(line, "DATA")) {
			cmd_data(s);
		} else if (str_ieq(line, "RSET")) {
			session_reset(s);
			conn_reply(s->c, "250 2.0.0 OK");
		} else if (str_ieq(line, "NOOP") ||
			   str_has_iprefix(line, "NOOP ")) {
			conn_reply(s->c, "250 2.0.0 OK");
		} else if (str_ieq(line, "QUIT")) {
			conn_reply(s->c, "221 2.0.0 Bye");
			break;
		} else if (str_has_iprefix(line, "HELO") ||
			   str_has_iprefix(line, "EHLO")) {
			/* RFC 2033 4.1: LMTP servers refuse HELO/EHLO */
			conn_reply(s->c, "500 5.5.1 This is LMTP, use LHLO");
		} else {
			conn_reply(s->c, "500 5.5.2 Unknown command");
		}
	}
}

static void *
conn_main(void *arg)
{
	struct lmtp_conn *c = arg;
	struct lmtp_server *srv = c->srv;
	struct lmtp_session s = {.c = c};
	const char *error;

	if (store_open(srv->db_path, &s.store, &error) != STORE_OK) {
		log_error("lmtp: opening the store: %s", error);
		conn_reply(c, "421 4.3.0 Mail store unavailable");
	} else {
		s.arena = arena_new(64 * 1024);
		session_run(&s);
		arena_free(&s.arena);
		store_close(&s.store);
	}
	conn_flush(c);
	pthread_mutex_lock(&srv->lock);
	close(c->fd);
	c->fd = -1;
	c->done = true;
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* --- acceptor --- */

/* Join finished connection threads; with all=true wait for every one. */
static void
reap(struct lmtp_server *srv, bool all)
{
	for (unsigned i = 0; i < srv->cfg.max_conns; i++) {
		struct lmtp_conn *c = &srv->conns[i];
		bool join;

		pthread_mutex_lock(&srv->lock);
		join = c->used && (c->done || all);
		pthread_mutex_unlock(&srv->lock);
		if (join) {
			pthread_join(c->thread, NULL);
			c->used = false;
		}
	}
}

static void
accept_one(struct lmtp_server *srv, int lfd)
{
	struct timeval tv = {.tv_sec = srv->cfg.timeout_s};
	struct lmtp_conn *slot = NULL;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return;
	reap(srv, false);
	for (unsigned i = 0; i < srv->cfg.max_conns; i++) {
		if (!srv->conns[i].used) {
			slot = &srv->conns[i];
			break;
		}
	}
	if (slot == NULL) {
		static const char busy[] = "421 4.3.2 Too many connections, "
					   "try again later\r\n";

		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Replies go out when the next read would wait; without this,
	 * Nagle holds them behind the client's delayed ACK (~40 ms). Fails
	 * harmlessly on UNIX sockets. */
	{
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	memset(slot, 0, sizeof(*slot));
	slot->srv = srv;
	slot->fd = fd;
	slot->used = true;
	if (pthread_create(&slot->thread, NULL, conn_main, slot) != 0) {
		log_error("lmtp: cannot start a connection thread");
		close(fd);
		slot->used = false;
	}
}

static void *
acceptor_main(void *arg)
{
	struct lmtp_server *srv = arg;

	for (;;) {
		struct pollfd pfd[3];
		nfds_t n = 0;

		pfd[n++] =
			(struct pollfd){.fd = srv->wake[0], .events = POLLIN};
		if (srv->tcp_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = srv->tcp_fd,
						   .events = POLLIN};
		if (srv->unix_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = srv->unix_fd,
						   .events = POLLIN};
		if (poll(pfd, n, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		for (nfds_t i = 1; i < n; i++) {
			if (pfd[i].revents & POLLIN)
				accept_one(srv, pfd[i].fd);
		}
		reap(srv, false);
	}
	return NULL;
}

static int
listen_tcp(struct lmtp_server *srv, const char *spec, const char **error_r)
{
	uint16_t port;

	srv->tcp_fd = net_listen(spec, 64, &port, error_r);
	if (srv->tcp_fd < 0)
		return -1;
	srv->port = port;
	return 0;
}

static int
listen_unix(struct lmtp_server *srv, const char *path, const char **error_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = lmtp_err("lmtp: socket path too long");
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 64) < 0) {
		*error_r = lmtp_err("lmtp: listening on %s: %s", path,
				    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	srv->unix_fd = fd;
	return 0;
}

struct lmtp_server *
lmtp_start(const struct lmtp_config *cfg, const char **error_r)
{
	struct lmtp_server *srv = xcalloc(1, sizeof(*srv));

	srv->cfg = *cfg;
	srv->tcp_fd = srv->unix_fd = -1;
	srv->wake[0] = srv->wake[1] = -1;
	if (srv->cfg.max_size == 0)
		srv->cfg.max_size = MAIL_DEFAULT_MAX_SIZE;
	if (srv->cfg.max_conns == 0)
		srv->cfg.max_conns = 16;
	if (srv->cfg.timeout_s == 0)
		srv->cfg.timeout_s = 300;
	srv->hostname = xstrdup(cfg->hostname != NULL ? cfg->hostname : "easd");
	if (cfg->db_path == NULL ||
	    (cfg->listen == NULL && cfg->unix_path == NULL)) {
		*error_r = lmtp_err("lmtp: need a database and a listener");
		goto fail;
	}
	srv->db_path = xstrdup(cfg->db_path);
	srv->conns = xcalloc(srv->cfg.max_conns, sizeof(*srv->conns));
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->group_mu, NULL);
	pthread_cond_init(&srv->group_cond, NULL);
	srv->queue_tail = &srv->queue;
	mail_init();
	if (cfg->listen != NULL && listen_tcp(srv, cfg->listen, error_r) < 0)
		goto fail_mutex;
	if (cfg->unix_path != NULL) {
		srv->unix_path = xstrdup(cfg->unix_path);
		if (listen_unix(srv, cfg->unix_path, error_r) < 0)
			goto fail_mutex;
	}
	if (pipe(srv->wake) < 0 ||
	    pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
		*error_r = lmtp_err("lmtp: cannot start: %s", strerror(errno));
		goto fail_mutex;
	}
	return srv;
fail_mutex:
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->group_mu);
	pthread_cond_destroy(&srv->group_cond);
fail:
	if (srv->tcp_fd >= 0)
		close(srv->tcp_fd);
	if (srv->unix_fd >= 0)
		close(srv->unix_fd);
	if (srv->wake[0] >= 0) {
		close(srv->wake[0]);
		close(srv->wake[1]);
	}
	free(srv->conns);
	free(srv->db_path);
	free(srv->unix_path);
	free(srv->hostname);
	free(srv);
	return NULL;
}

int
lmtp_port(const struct lmtp_server *srv)
{
	return srv != NULL ? srv->port : 0;
}

void
lmtp_stop(struct lmtp_server **srvp)
{
	struct lmtp_server *srv = *srvp;

	if (srv == NULL)
		return;
	(void)!write(srv->wake[1], "x", 1);
	pthread_join(srv->acceptor, NULL);
	/* wake connection threads blocked in recv */
	pthread_mutex_lock(&srv->lock);
	for (unsigned i = 0; i < srv->cfg.max_conns; i++) {
		if (srv->conns[i].used && !srv->conns[i].done &&
		    srv->conns[i].fd >= 0)
			shutdown(srv->conns[i].fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&srv->lock);
	reap(srv, true);
	store_close(&srv->commit_store);
	if (srv->tcp_fd >= 0)
		close(srv->tcp_fd);
	if (srv->unix_fd >= 0) {
		close(srv->unix_fd);
		unlink(srv->unix_path);
	}
	close(srv->wake[0]);
	close(srv->wake[1]);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->group_mu);
	pthread_cond_destroy(&srv->group_cond);
	free(srv->conns);
	free(srv->db_path);
	free(srv->unix_path);
	free(srv->hostname);
	free(srv);
	*srvp = NULL;
}
