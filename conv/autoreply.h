/* Automatic replies while out of office (autoreply.c): after a message is
 * delivered to an account whose out-of-office is on, one reply per sender
 * per period (RFC 3834), through the same outbound path as sending: local
 * senders get it at once, outside ones through the queue. */
#ifndef EASD_AUTOREPLY_H
#define EASD_AUTOREPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"

/* A sender is answered once per this many seconds (and again after the
 * settings change). */
#define MAIL_AUTOREPLY_PERIOD (7 * 24 * 3600)

struct mail_autoreply_opts {
	bool can_queue;	 /* a relay takes outside mail */
	int64_t retry_s; /* how long the queue retries an outside reply */
	int64_t period;	 /* 0: MAIL_AUTOREPLY_PERIOD */
};

/* The message just delivered to account_id (raw data in msg) with its
 * envelope sender (NULL when unknown: the From address is used): answer
 * it if the account is out of office and RFC 3834 allows. Inside the
 * caller's transaction when one is open (then a store error is the
 * caller's to roll back), else in one of its own, which never touches
 * the delivery: failures are logged. Returns 1 when a reply went, 0 when
 * none was due (why in *why_r, for tests and logs), -1 on a store error. */
int mail_autoreply(struct store *s, struct arena *a, int64_t account_id,
		   const struct store_item *msg, const char *envelope_from,
		   const struct mail_autoreply_opts *opts, const char **why_r);

/* Whether RFC 3834 and the usual list conventions let a message be
 * answered automatically, and to which address (*to_r, in a): not when
 * Auto-Submitted is other than "no", Precedence is bulk/list/junk, a
 * List-* header is present, or the sender is null, MAILER-DAEMON or a
 * no-reply address. 1 answerable, 0 not (*why_r). */
int mail_autoreply_allowed(struct arena *a, const struct store_item *msg,
			   const char *envelope_from, const char **to_r,
			   const char **why_r);

#endif
