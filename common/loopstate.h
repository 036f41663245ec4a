/* What loop detection knows about one device (issue 12): kept by easd in
 * the device blob LOOPSTATE_BLOB, read and reset by easctl. The blob is
 * text, one fact a line, so an administrator can read it as it is:
 *
 *   repeat FOLDER COUNT KEY          FOLDER's answer to KEY was repeated
 *                                    COUNT times
 *   probe FOLDER fresh|log           FOLDER goes one item an answer until
 *                                    its suspects were sent
 *   suspect FOLDER SERVERID          an item of the looping answer
 *   isolated FOLDER MODSEQ ID TIME SERVERID
 *                                    that version of the item is not sent
 *   loops FOLDER COUNT TIME          loops seen, the last at TIME
 *
 * FOLDER is the folder's row id, 0 for the hierarchy (FolderSync); ID is
 * the item's (or, for the hierarchy, the folder's) row id. Unknown lines
 * are dropped. */
#ifndef EASD_LOOPSTATE_H
#define EASD_LOOPSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define LOOPSTATE_BLOB "loop"

enum loopstate_kind {
	LOOPSTATE_REPEAT,
	LOOPSTATE_PROBE,
	LOOPSTATE_SUSPECT,
	LOOPSTATE_ISOLATED,
	LOOPSTATE_LOOPS,
};

struct loopstate_fact {
	enum loopstate_kind kind;
	int64_t folder;
	int64_t count;	       /* REPEAT, LOOPS */
	int64_t modseq;	       /* ISOLATED */
	int64_t id;	       /* ISOLATED */
	int64_t time;	       /* ISOLATED, LOOPS */
	bool fresh;	       /* PROBE: of a hierarchy sent from key 0 */
	const char *key;       /* REPEAT */
	const char *server_id; /* SUSPECT, ISOLATED */
	bool dropped;	       /* removed; not written */
};

struct loopstate {
	struct loopstate_fact *v;
	size_t n, cap;
};

/* Parse a blob (NULL/0 = no state) into *r, in a. */
void loopstate_parse(struct arena *a, const uint8_t *data, size_t len,
		     struct loopstate *r);
/* The blob for s (NUL terminated; *len_r without the NUL; 0 = nothing). */
char *loopstate_format(struct arena *a, const struct loopstate *s,
		       size_t *len_r);

/* The first live fact of kind for folder (and server_id when not NULL). */
struct loopstate_fact *loopstate_find(struct loopstate *s,
				      enum loopstate_kind kind, int64_t folder,
				      const char *server_id);
/* A new zeroed fact; the strings it gets must live in a. */
struct loopstate_fact *loopstate_add(struct arena *a, struct loopstate *s,
				     enum loopstate_kind kind, int64_t folder);
/* Drop every fact of kind for folder; returns how many. */
size_t loopstate_drop(struct loopstate *s, enum loopstate_kind kind,
		      int64_t folder);
/* Whether any live fact concerns folder. */
bool loopstate_has(const struct loopstate *s, int64_t folder);

#endif
