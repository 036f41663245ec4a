/* Push: parked requests (Ping, Sync with Wait/HeartbeatInterval) and the
 * change notification that wakes them. A parked request holds no thread:
 * its connection is suspended in the front end, a waiter sits in the
 * registry below, and a timer heap ends it at its heartbeat.
 *
 * The registry subscribes to the store's change notification, so every
 * committed change reaches it, whichever process committed it (easd
 * itself, LMTP, easctl), as exactly what changed: a folder wakes the
 * waiters watching it, a hierarchy change the account's, a device change
 * that device's only. Another store backend feeds the same subscription
 * (PostgreSQL: LISTEN/NOTIFY); nothing here changes. */
#ifndef EASD_PUSH_H
#define EASD_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct easd;
struct eas_req;
struct push;

enum push_reason {
	PUSH_NONE = 0,
	PUSH_CHANGE,	 /* a watched folder changed (folder_changed[]) */
	PUSH_HIERARCHY,	 /* the account's folder hierarchy changed */
	PUSH_TIMEOUT,	 /* the heartbeat ran out */
	PUSH_SUPERSEDED, /* a newer Ping/Sync of the same device arrived */
	PUSH_DEVICE,	 /* the device's or account's standing may have
			    changed (access, wipe, policy, disabled): look
			    and answer only if it did */
	PUSH_SHUTDOWN,	 /* the server is stopping */
	PUSH_LIMIT,	 /* the account already has --max-parked-per-account
			    parked requests: answer at once (503) */
};

struct push_waiter {
	/* Filled in by the handler that parks the request. */
	struct eas_req *req;
	int64_t account_id;
	int64_t device_row;
	const int64_t *folders; /* folder row ids watched */
	size_t nfolders;
	bool *folder_changed; /* nfolders flags, set when PUSH_CHANGE */
	uint64_t deadline_ms; /* time_mono_ms() at which it times out */
	uint64_t seq;	      /* push_seq() read before the store was
				 checked; a change in between fires the
				 waiter at once when armed */
	/* Set by push when the waiter fires. */
	enum push_reason reason;
	/* Private to push.c. */
	struct push_waiter *next_in_account, *prev_in_account;
	size_t heap_index;
	bool armed;
};

/* Start the registry, its timer thread and its store subscription
 * (receiving other processes' changes too). Returns NULL with *error_r on
 * failure, for instance when another process already receives the
 * database's changes. */
struct push *push_new(struct easd *srv, const char **error_r);
/* Answer every waiting request (PUSH_SHUTDOWN), wait until they are all
 * answered, then stop the threads. */
void push_shutdown(struct push *p);
void push_free(struct push **pp);

/* The account's change counter (bumped by every notification). */
uint64_t push_seq(struct push *p, int64_t account_id);

/* Register a waiter (called by the front end after it suspended the
 * connection). An older armed waiter of the same device fires with
 * PUSH_SUPERSEDED. If the account's counter moved past w->seq, or a
 * watched folder changed, w fires at once; so does a new waiter of an
 * account that has max_parked_per_account armed already
 * (PUSH_LIMIT). */
void push_arm(struct push *p, struct push_waiter *w);
/* Remove a waiter if it is still registered (no-op otherwise). */
void push_cancel(struct push *p, struct push_waiter *w);

/* A change was committed to a folder of the account (fires the waiters
 * watching it with PUSH_CHANGE); folder_id 0 means the hierarchy (fires
 * every waiter of the account with PUSH_HIERARCHY). */
void push_notify(struct push *p, int64_t account_id, int64_t folder_id);
/* A device's state changed (its waiters fire with PUSH_DEVICE), or with
 * device_row 0 the account's (all its waiters), or with account_id 0
 * every account's (a global policy). */
void push_device_changed(struct push *p, int64_t account_id,
			 int64_t device_row);

/* Numbers for logs and benchmarks. */
size_t push_waiting(struct push *p);

/* What waits now, for easctl top (through the admin listener): at most max
 * entries (arena copies), *total_r how many there are. */
struct push_parked {
	const char *login, *device_id, *cmd;
	uint64_t remaining_ms; /* until the heartbeat ends it */
};
void push_list(struct push *p, struct arena *a, size_t max,
	       struct push_parked **list_r, size_t *count_r, size_t *total_r);

#endif
