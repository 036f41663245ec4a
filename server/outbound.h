/* The outbound queue runner: one thread of easd, off the HTTP workers,
 * that submits queued messages to the relay, retries with backoff until
 * their time runs out, and puts a non-delivery report in the sender's
 * Inbox for a permanent refusal or the end of the retry time. The queue
 * itself is in the store, so nothing accepted is lost to a crash. */
#ifndef EASD_OUTBOUND_H
#define EASD_OUTBOUND_H

#include "smtp.h"

struct easd;
struct outbound;

/* Start the runner for srv's relay (srv->cfg.relay). NULL with *error_r. */
struct outbound *outbound_start(struct easd *srv, const char **error_r);
/* Something was queued or retried: look at the queue now. Any thread. */
void outbound_kick(struct outbound *o);
/* Finish the submission in progress (if any), then stop. */
void outbound_stop(struct outbound **op);

/* The retry delay after the attempt-th failed attempt (1-based). */
int64_t outbound_backoff(int attempts);

#endif
