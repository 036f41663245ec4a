/* Sync keys: opaque strings of the form "{8 hex}N". The hex part is new
 * after every reset, so keys of an earlier partnership never match again;
 * N counts the answers since (MS-ASCMD 2.2.3.166 SyncKey, at most 64
 * characters). */
#ifndef EASD_SYNCKEY_H
#define EASD_SYNCKEY_H

#include "arena.h"

/* The key after old (NULL or malformed: a fresh series). */
const char *synckey_next(struct arena *a, const char *old);

#endif
