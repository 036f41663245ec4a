/* LMTP listener (RFC 2033) for mail delivery from an MTA into the Inbox of
 * local accounts. It runs its own threads (an acceptor and one thread per
 * connection, capped) and opens its own store connections. */
#ifndef EASD_LMTP_H
#define EASD_LMTP_H

#include <stddef.h>

#include "autoreply.h"

struct lmtp_config {
	const char *listen;    /* TCP "ADDR:PORT", ":PORT", "[::1]:PORT";
				  port 0 = ephemeral; NULL = no TCP */
	const char *unix_path; /* UNIX socket path; NULL = none */
	const char *db_path;   /* the store each connection opens */
	const char *hostname;  /* for the greeting; NULL = "easd" */
	size_t max_size;       /* message cap in bytes; 0 = 50 MiB */
	unsigned max_conns;    /* concurrent connections; 0 = 16 */
	unsigned timeout_s;    /* idle timeout per read; 0 = 300 */
	/* out-of-office replies for what is delivered */
	struct mail_autoreply_opts autoreply;
};

struct lmtp_server;

/* Bind the listeners and start serving. Returns the server, or NULL with
 * *error_r (a static text valid until the next call from this thread). */
struct lmtp_server *lmtp_start(const struct lmtp_config *cfg,
			       const char **error_r);
/* The bound TCP port (the real one when ":0" was asked), or 0. */
int lmtp_port(const struct lmtp_server *srv);
/* Stop accepting, close every connection (a transaction in progress is
 * not stored), join the threads, free and set *srvp to NULL. */
void lmtp_stop(struct lmtp_server **srvp);

#endif
