/* The store's backend-neutral tests: what can be checked through store.h
 * alone, for any backend that implements it. A runner (tests/test-store.c
 * for SQLite) provides the backend, registers store_suite_tests with
 * store_suite_setup/teardown, and may add tests of its own on the same
 * fixture and helpers. Links against the store and common only. */
#ifndef EASD_STORE_SUITE_H
#define EASD_STORE_SUITE_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"

struct store_suite_backend {
	const char *name;
	void *ctx; /* passed to every callback */
	/* A fresh, empty database and a first connection to it; *where_r is
	 * the database as store_subscribe names it, valid until destroy.
	 * Aborts when it cannot (there is nothing to test). */
	struct store *(*create)(void *ctx, const char **where_r);
	/* Another connection to the database create made, as a second
	 * server thread or process would open it; callable from any
	 * thread. NULL when it fails. */
	struct store *(*connect)(void *ctx);
	/* Remove the database; every connection is closed by then. */
	void (*destroy)(void *ctx);
};

/* The backend every following test runs on; call before the tests. */
void store_suite_init(const struct store_suite_backend *backend);
/* Per-test fixture: a fresh database, its connection and an arena. */
void store_suite_setup(void);
void store_suite_teardown(void);
extern CU_TestInfo store_suite_tests[];

/* The running test's connection (a runner's test may close it and open
 * another in its place) and arena. */
struct store **store_suite_store(void);
struct arena *store_suite_arena(void);

/* Helpers on the fixture's connection; they fail the test (CUnit FATAL)
 * when the store does. */
int64_t store_suite_add_account(const char *login);
int64_t store_suite_add_device(int64_t account, const char *device_id);
int64_t store_suite_folder_of_type(int64_t account, int type);
/* An item with text as data and subject, dated date_end. */
int64_t store_suite_add_item(int64_t account, int64_t folder, const char *text,
			     int64_t date_end, int64_t origin);
/* A device's saved sync state for a folder (it has an id). */
void store_suite_state_new(struct store_sync_state *st, int64_t device,
			   int64_t folder);
/* One Sync round as a handler does it: changes, marks, save, in one write
 * transaction. Returns the number of changes. */
size_t store_suite_sync_round(struct store_sync_state *st,
			      const struct store_sync_filter *f, size_t max,
			      struct store_sync_change **list_r, bool *more_r);

#endif
