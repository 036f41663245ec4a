/* Loop detection and broken-item isolation (issue 12). A device that
 * cannot take an answer asks again with the same key. Once is the
 * protocol's lost response, answered byte for byte from the cache; an
 * answer repeated loop_limit() times is a loop. Then the answer is sent
 * again one item at a time (a window of 1: "probe"), and an item whose
 * answer loops alone is isolated: that version of it is not sent to the
 * device any more. The state lives in the device blob of loopstate.h;
 * `easctl device list` shows it and `easctl device clearloop` resets
 * it. cmd-sync.c and cmd-foldersync.c do the protocol side; this module
 * keeps the facts. */
#ifndef EASD_LOOP_H
#define EASD_LOOP_H

#include "eas.h"
#include "loopstate.h"

/* The default of easd --loop-repeats. */
#define LOOP_REPEATS_DEFAULT 3

struct loop_guard {
	struct eas_req *req;
	struct loopstate st;
	bool loaded, dirty;
};

/* Loaded on first use; a store error reads as "no state" (logged). */
void loop_guard_init(struct loop_guard *g, struct eas_req *req);
/* Write the facts back when they changed (inside the caller's write
 * transaction, if any). */
enum store_error loop_guard_save(struct loop_guard *g);

/* Answers repeated from the cache that make a loop (>= 2). */
unsigned loop_limit(const struct eas_req *req);

/* One more answer to key in folder (0 = the hierarchy): returns how many
 * times in a row that key came. */
int64_t loop_repeated(struct loop_guard *g, int64_t folder, const char *key);
/* The device went on past its last answer in folder. */
void loop_advanced(struct loop_guard *g, int64_t folder);
/* It syncs a collection, so it took the hierarchy it got for key 0. */
void loop_hierarchy_taken(struct loop_guard *g);
/* A loop was found (counted and logged; the repeat count starts over). */
void loop_found(struct loop_guard *g, int64_t folder, const char *what,
		const char *key, int64_t repeats);

/* Whether anything is known about folder (cheap once loaded). */
bool loop_concerns(struct loop_guard *g, int64_t folder);
/* Whether this version of the item (or, in folder 0, the folder) is
 * isolated. */
bool loop_is_isolated(struct loop_guard *g, int64_t folder, int64_t id,
		      int64_t modseq);
void loop_isolate(struct loop_guard *g, int64_t folder, int64_t id,
		  int64_t modseq, const char *server_id);

/* Probe: send one item an answer until the suspects went out. */
void loop_probe_start(struct loop_guard *g, int64_t folder, bool fresh,
		      const char *const *server_ids, size_t n);
bool loop_probing(struct loop_guard *g, int64_t folder, bool *fresh_r);
/* An item went out alone while probing; the probe ends once no suspect
 * is left. */
void loop_probe_sent(struct loop_guard *g, int64_t folder,
		     const char *server_id);
void loop_probe_end(struct loop_guard *g, int64_t folder);

#endif
