/* Backup, restore and checking of database files with SQLite's online
 * backup API: a copy taken from an open connection is one consistent
 * snapshot (what the WAL holds included) while other connections write. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store-sqlite.h"
#include "util.h"
#include "xalloc.h"

/* How often a copy that meets a lock is tried again (250 ms apart). */
#define BACKUP_BUSY_TRIES 120

static _Thread_local char errbuf[512];

static const char *__attribute__((format(printf, 1, 2)))
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return errbuf;
}

/* fsync a file, then its directory, so a finished backup survives a crash
 * of the machine right after. */
static int
sync_path(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd, ret = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fsync(fd) < 0)
		ret = -1;
	if (fd >= 0)
		close(fd);
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
	return ret;
}

/* Every problem PRAGMA integrity_check and foreign_key_check find on db,
 * at most max of them, into *msgs_r (arena); 0 when it is sound, -1 when
 * the checks themselves cannot run. */
static int
check_db(sqlite3 *db, struct arena *a, size_t max, const char ***msgs_r,
	 size_t *n_r)
{
	static const char *const checks[] = {
		"PRAGMA integrity_check",
		"PRAGMA foreign_key_check",
	};
	const char **msgs = arena_alloc(a, (max + 1) * sizeof(*msgs));
	size_t n = 0;

	for (size_t c = 0; c < N_ELEMENTS(checks); c++) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db, checks[c], -1, &st, NULL);

		if (rc != SQLITE_OK)
			goto failed;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
			const char *t;

			if (c == 0) {
				t = (const char *)sqlite3_column_text(st, 0);
				if (t != NULL && strcmp(t, "ok") == 0)
					continue;
				msgs[n++] =
					arena_strdup(a, t != NULL ? t : "?");
			} else {
				/* table, rowid, parent table, fk index */
				msgs[n++] = arena_printf(
					a,
					"foreign key: row %lld of %s "
					"refers to a missing row of %s",
					(long long)sqlite3_column_int64(st, 1),
					sqlite3_column_text(st, 0),
					sqlite3_column_text(st, 2));
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto failed;
		continue;
	failed:
		/* a file too damaged for the check is a finding too */
		rc = sqlite3_errcode(db);
		if (rc != SQLITE_CORRUPT && rc != SQLITE_NOTADB)
			return -1;
		if (n < max)
			msgs[n++] = arena_printf(a, "%s", sqlite3_errmsg(db));
		break;
	}
	msgs[n] = NULL;
	*msgs_r = msgs;
	*n_r = n;
	return 0;
}

/* Copy all of src into the new file path (which must not exist) in one
 * step, so the copy is the snapshot of one read transaction, and leave it
 * in rollback-journal mode: one self-contained file. */
static enum store_error
copy_db(sqlite3 *src, const char *path, const char **error_r)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, tries = 0;
	enum store_error e = STORE_INTERNAL;

	rc = sqlite3_open_v2(path, &dst,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_EXCLUSIVE,
			     NULL);
	if (rc != SQLITE_OK) {
		*error_r = set_error("cannot create %s", path);
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL) {
		*error_r = set_error("cannot start the copy: %s",
				     sqlite3_errmsg(dst));
		goto out;
	}
	/* -1: every page in one step, under one read lock of the source;
	 * writers in WAL mode carry on meanwhile. A lock held by a writer
	 * that is checkpointing, or by a restore, is waited out. */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	       rc == SQLITE_LOCKED) {
		if (++tries > BACKUP_BUSY_TRIES)
			break;
		sqlite3_sleep(250);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		*error_r = set_error("the copy failed: %s", sqlite3_errstr(rc));
		e = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? STORE_BUSY
		    : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB
			    ? STORE_CORRUPT
			    : STORE_INTERNAL;
		goto out;
	}
	rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
			  NULL);
	if (rc != SQLITE_OK) {
		*error_r = set_error("cannot finish the copy: %s",
				     sqlite3_errmsg(dst));
		goto out;
	}
	e = STORE_OK;
out:
	if (sqlite3_close(dst) != SQLITE_OK && e == STORE_OK) {
		*error_r = "cannot close the copy";
		e = STORE_INTERNAL;
	}
	return e;
}

/* Open path read-only (no WAL file made for a rollback-journal file) and
 * check that it is an easd database this code can use. */
static enum store_error
open_checked(const char *path, struct arena *a, sqlite3 **db_r, int *version_r,
	     const char ***msgs_r, size_t *n_r, const char **error_r)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int rc, version = -1;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		*error_r = set_error("cannot open %s", path);
		sqlite3_close(db);
		return STORE_NOTFOUND;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version <= 0) {
		*error_r = set_error("%s is not an easd database", path);
		sqlite3_close(db);
		return STORE_CORRUPT;
	}
	if (check_db(db, a, 100, msgs_r, n_r) < 0) {
		*error_r = set_error("cannot check %s: not a database file?",
				     path);
		sqlite3_close(db);
		return STORE_CORRUPT;
	}
	*version_r = version;
	*db_r = db;
	return STORE_OK;
}

enum store_error
store_backup(struct store *s, const char *path, const char **error_r)
{
	char *tmp = xasprintf("%s.tmp", path);
	struct arena *a = arena_new(4096);
	const char **msgs;
	sqlite3 *copy = NULL;
	enum store_error e;
	size_t n;
	int version;

	*error_r = NULL;
	if (!store_sqlite_only(s, "backup")) {
		*error_r = "a PostgreSQL store is backed up with pg_dump";
		free(tmp);
		arena_free(&a);
		return STORE_INVALID;
	}
	if (s->in_txn || s->in_snapshot) {
		*error_r = "a transaction is open on this connection";
		e = STORE_INVALID;
		goto out;
	}
	/* a leftover of an interrupted backup */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		*error_r = set_error("cannot remove %s", tmp);
		e = STORE_INTERNAL;
		goto out;
	}
	e = copy_db(s->db, tmp, error_r);
	if (e != STORE_OK)
		goto out;
	e = open_checked(tmp, a, &copy, &version, &msgs, &n, error_r);
	sqlite3_close(copy);
	if (e == STORE_OK && n > 0) {
		*error_r = set_error("the copy fails the integrity check: %s",
				     msgs[0]);
		e = STORE_CORRUPT;
	}
	if (e != STORE_OK)
		goto out;
	if (sync_path(tmp) < 0 || rename(tmp, path) < 0) {
		*error_r = set_error("cannot write %s", path);
		e = STORE_INTERNAL;
		goto out;
	}
	(void)sync_path(path);
	log_info("store: backup written to %s", path);
out:
	if (e != STORE_OK)
		unlink(tmp);
	arena_free(&a);
	free(tmp);
	return e;
}

enum store_error
store_file_check(const char *path, struct arena *a, int *version_r,
		 const char ***msgs_r, size_t *n_r, const char **error_r)
{
	sqlite3 *db = NULL;
	enum store_error e;

	*error_r = NULL;
	e = open_checked(path, a, &db, version_r, msgs_r, n_r, error_r);
	sqlite3_close(db);
	return e;
}

enum store_error
store_check_report(struct store *s, struct arena *a, const char ***msgs_r,
		   size_t *n_r)
{
	*msgs_r = NULL;
	*n_r = 0;
	if (s->drv != &store_driver_sqlite)
		return store_pg_check(s, a, 100, msgs_r, n_r);
	if (check_db(s->db, a, 100, msgs_r, n_r) < 0)
		return STORE_CORRUPT;
	return STORE_OK;
}

/* Move a database file and its -wal and -shm to another name. */
static int
rename_db(const char *from, const char *to)
{
	static const char *const suffixes[] = {"-wal", "-shm", ""};
	int ret = 0;

	for (size_t i = 0; i < N_ELEMENTS(suffixes); i++) {
		char *f = xasprintf("%s%s", from, suffixes[i]);
		char *t = xasprintf("%s%s", to, suffixes[i]);

		if (rename(f, t) < 0 && errno != ENOENT)
			ret = -1;
		free(f);
		free(t);
	}
	return ret;
}

/* Remove a database file and its -wal and -shm (ignoring errors). */
static void
remove_db(const char *path)
{
	static const char *const suffixes[] = {"-wal", "-shm", ""};

	for (size_t i = 0; i < N_ELEMENTS(suffixes); i++) {
		char *f = xasprintf("%s%s", path, suffixes[i]);

		(void)unlink(f);
		free(f);
	}
}

enum store_error
store_restore(const char *backup, const char *db_path, const char *keep_path,
	      const char **error_r)
{
	char *tmp = xasprintf("%s.restore", db_path);
	struct arena *a = arena_new(4096);
	const char **msgs;
	sqlite3 *src = NULL;
	enum store_error e;
	size_t n;
	int version;

	*error_r = NULL;
	e = open_checked(backup, a, &src, &version, &msgs, &n, error_r);
	if (e != STORE_OK)
		goto out;
	if (n > 0) {
		*error_r = set_error("the backup fails the integrity check: %s",
				     msgs[0]);
		e = STORE_CORRUPT;
		goto out;
	}
	if (version > store_schema_version()) {
		*error_r = "the backup is from a newer easd (its schema is "
			   "newer than this program's)";
		e = STORE_INVALID;
		goto out;
	}
	if (unlink(tmp) < 0 && errno != ENOENT) {
		*error_r = set_error("cannot remove %s", tmp);
		e = STORE_INTERNAL;
		goto out;
	}
	e = copy_db(src, tmp, error_r);
	if (e != STORE_OK)
		goto out;
	if (sync_path(tmp) < 0) {
		*error_r = set_error("cannot write %s", tmp);
		e = STORE_INTERNAL;
		goto out;
	}
	/* The database it replaces is kept, with its WAL, under keep_path,
	 * or removed: a WAL left beside the restored file would be applied
	 * to it. */
	if (keep_path != NULL) {
		remove_db(keep_path);
		if (rename_db(db_path, keep_path) < 0) {
			*error_r = set_error("cannot move the current "
					     "database to %s",
					     keep_path);
			e = STORE_INTERNAL;
			goto out;
		}
	} else {
		remove_db(db_path);
	}
	if (rename(tmp, db_path) < 0) {
		*error_r = set_error("cannot move the restored copy to %s",
				     db_path);
		e = STORE_INTERNAL;
		goto out;
	}
	(void)sync_path(db_path);
	log_info("store: %s restored from %s", db_path, backup);
out:
	sqlite3_close(src);
	if (e != STORE_OK)
		unlink(tmp);
	arena_free(&a);
	free(tmp);
	return e;
}
