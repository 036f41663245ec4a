/* The search indexer: one thread of easd that indexes the mail deliveries
 * queued for the index (search_pending), many messages per transaction.
 * The queue is written in each delivery's own transaction, so nothing is
 * lost to a crash; a Search indexes its account's queued mail itself
 * first, so it never depends on how far the indexer has come. */
#ifndef EASD_INDEXER_H
#define EASD_INDEXER_H

struct indexer;

/* Start the thread on the database at db_path (copied). It indexes what
 * is queued at once, then whenever kicked. NULL with *error_r. */
struct indexer *indexer_start(const char *db_path, const char **error_r);
/* Mail was queued: index it soon (after a short pause that lets a burst
 * of deliveries gather into one transaction). Any thread; NULL is a
 * no-op. */
void indexer_kick(struct indexer *ix);
/* Finish the batch in progress, then stop; NULL is a no-op. */
void indexer_stop(struct indexer **ixp);

#endif
