/* The checkpointer: one thread of easd that copies the write-ahead log
 * back into the database (see store_checkpoints_elsewhere), so that no
 * commit of a request or a delivery waits for that copy and its fsync. */
#ifndef EASD_CHECKPOINTER_H
#define EASD_CHECKPOINTER_H

/* Start the thread on the database at db_path (copied) and have the
 * stores opened from now on leave their checkpoints to it. 0, or -1 with
 * *error_r. */
int checkpointer_start(const char *db_path, const char **error_r);
/* Stop the thread (after the checkpoint in progress); a no-op when it
 * was not started. The stores' commits past the threshold kick nothing
 * then: the WAL waits for the next start or for its hard limit. */
void checkpointer_stop(void);

#endif
