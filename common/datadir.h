/* The data directory (easd.db, its -wal and -shm, easd.notify, the lock):
 * only its owner may enter it, and one server at a time serves it. Used by
 * easd and easctl alike. */
#ifndef EASD_DATADIR_H
#define EASD_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

/* The lock file in the directory, held by the serving easd. */
#define DATADIR_LOCK_FILE "easd.lock"

/* Check that dir is a directory that only its owner can read, write or
 * enter (0700). With create, a missing dir is made (mode 0700; parents
 * must exist). Returns 0 when it is usable, 1 when it does not exist (and
 * create is false), -1 otherwise with a sentence in err that says what
 * to do ("run: chmod 700 DIR"). */
int datadir_check(const char *dir, bool create, char *err, size_t errlen);

/* Take the exclusive lock of the directory (flock on DIR/easd.lock,
 * created 0600) and write our pid in it; it is held until the process
 * exits. Nothing in the directory changes when another process holds
 * it. Returns the lock's fd; -2 when another process holds the lock
 * (*holder_r is its pid, 0 if unknown); -1 on an error, with err. */
int datadir_lock(const char *dir, long *holder_r, char *err, size_t errlen);

/* Make every file directly in dir that its group or others could read
 * or write mode 0600 (left by an older version or another umask), with a
 * log line for each. Returns how many were changed. */
int datadir_tighten(const char *dir);

#endif
