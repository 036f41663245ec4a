/* Push: parked requests (Ping, Sync with Wait/HeartbeatInterval) and the
 * change notification that wakes them. A parked request holds no thread:
 * its connection is suspended in the front end, a waiter sits in the
 * registry below, and a timer heap ends it at its heartbeat.
 *
 * Every committed change reaches push_notify() through the store's notify
 * hook (in-process), or through the notification socket in the data
 * directory for changes committed by another process (easctl). A later
 * multi-node deployment feeds push_notify() from the database's own
 * notifications; nothing else needs to change. */
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
	PUSH_DEVICE,	 /* device wiped/blocked or account disabled */
	PUSH_SHUTDOWN,	 /* the server is stopping */
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

/* Start the registry, its timer thread and the notification socket
 * (data_dir/easd.notify). Returns NULL with *error_r on failure. */
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
 * watched folder changed, w fires at once. */
void push_arm(struct push *p, struct push_waiter *w);
/* Remove a waiter if it is still registered (no-op otherwise). */
void push_cancel(struct push *p, struct push_waiter *w);

/* A change was committed: folder_id 0 means the hierarchy (fires every
 * waiter of the account with PUSH_HIERARCHY), account_id 0 means "unknown,
 * wake everybody". */
void push_notify(struct push *p, int64_t account_id, int64_t folder_id);
/* A device's access or wipe state changed, or (device_row 0) the account
 * was disabled: its waiters fire with PUSH_DEVICE. */
void push_device_changed(struct push *p, int64_t account_id,
			 int64_t device_row);

/* Numbers for logs and benchmarks. */
size_t push_waiting(struct push *p);

#endif
