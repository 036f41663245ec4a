/* easctl backup, restore and check: a consistent copy of a running
 * server's database, putting one back into a stopped data directory, and
 * the integrity check of either. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "datadir.h"
#include "easctl.h"
#include "util.h"
#include "xalloc.h"

#define EX_FAIL 1
#define EX_USAGE 2

static const char usage_backup[] =
	"usage: easctl [--data DIR] backup FILE\n"
	"  write a consistent copy of DIR/easd.db to FILE (what the WAL\n"
	"  holds included) while easd runs; FILE is replaced at the end,\n"
	"  after the copy passed the integrity check\n";
static const char usage_restore[] =
	"usage: easctl [--data DIR] restore FILE\n"
	"  replace DIR/easd.db with the backup FILE; easd must be stopped.\n"
	"  The database it replaces is kept as DIR/easd.db.pre-restore\n";
static const char usage_check[] =
	"usage: easctl [--data DIR] check [FILE]\n"
	"  run the integrity and foreign-key checks on DIR/easd.db, or on\n"
	"  the backup FILE; exit 0 when sound, 1 with the problems listed\n";

static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("easctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EX_FAIL;
}

/* One positional argument (or none when optional), --help. Returns -1
 * with *rc_r when the caller should return. */
static int
one_arg(int argc, char **argv, const char *usage, bool optional,
	const char **arg_r, int *rc_r)
{
	*arg_r = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			*rc_r = 0;
			return -1;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fail("unknown option %s", argv[i]);
			goto usage;
		}
		if (*arg_r != NULL) {
			fail("too many arguments");
			goto usage;
		}
		*arg_r = argv[i];
	}
	if (*arg_r != NULL || optional)
		return 0;
	fail("%s needs a FILE", argv[0]);
usage:
	fputs(usage, stderr);
	*rc_r = EX_USAGE;
	return -1;
}

static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int
easctl_backup(struct easctl *ctl, int argc, char **argv)
{
	const char *file, *error;
	struct store *s;
	enum store_error e;
	int rc;

	if (one_arg(argc, argv, usage_backup, false, &file, &rc) < 0)
		return rc;
	if ((s = easctl_store(ctl)) == NULL)
		return EX_FAIL;
	/* mail and password hashes: for the owner only */
	umask(077);
	e = store_backup(s, file, &error);
	if (e != STORE_OK)
		return fail("backup failed: %s",
			    error != NULL ? error : store_error_str(e));
	printf("backup of %s written to %s (%lld bytes)\n", ctl->db_path, file,
	       file_size(file));
	return 0;
}

/* Run as root on a directory that belongs to the service's user: what the
 * restore made gets the directory's owner, or easd could not open it. */
static void
give_to_dir_owner(const char *dir, const char *name)
{
	struct stat st;
	char *path;

	if (geteuid() != 0 || stat(dir, &st) < 0 || st.st_uid == 0)
		return;
	path = xasprintf("%s/%s", dir, name);
	if (lchown(path, st.st_uid, st.st_gid) < 0 && errno != ENOENT)
		fprintf(stderr, "easctl: cannot give %s to uid %u: %s\n", path,
			(unsigned)st.st_uid, strerror(errno));
	free(path);
}

int
easctl_restore(struct easctl *ctl, int argc, char **argv)
{
	static const char *const made[] = {
		"easd.db",
		"easd.db-wal",
		"easd.db-shm",
		"easd.db.pre-restore",
		"easd.db.pre-restore-wal",
		"easd.db.pre-restore-shm",
	};
	const char *file, *error;
	char *keep = NULL;
	struct store *s = NULL;
	enum store_error e;
	char why[1024], lock_path[4096];
	bool lock_created, had_db;
	long holder;
	int rc, fd;

	if (one_arg(argc, argv, usage_restore, false, &file, &rc) < 0)
		return rc;
	snprintf(lock_path, sizeof(lock_path), "%s/%s", ctl->data_dir,
		 DATADIR_LOCK_FILE);
	umask(077);
	/* a fresh directory is fine: restoring is how a new machine starts */
	if (datadir_check(ctl->data_dir, true, why, sizeof(why)) < 0)
		return fail("%s", why);
	lock_created = access(lock_path, F_OK) < 0;
	fd = datadir_lock(ctl->data_dir, &holder, why, sizeof(why));
	if (fd == -2)
		return fail("easd (pid %ld) is running on %s; stop it first "
			    "(systemctl stop easd)",
			    holder, ctl->data_dir);
	if (fd < 0)
		return fail("%s", why);
	if (lock_created)
		give_to_dir_owner(ctl->data_dir, DATADIR_LOCK_FILE);
	had_db = access(ctl->db_path, F_OK) == 0;
	keep = xasprintf("%s.pre-restore", ctl->db_path);
	e = store_restore(file, ctl->db_path, had_db ? keep : NULL, &error);
	if (e != STORE_OK) {
		rc = fail("restore failed: %s",
			  error != NULL ? error : store_error_str(e));
		goto out;
	}
	/* Open it once: a backup of an older easd is migrated now, while
	 * the lock is held, and the file is known to open. */
	e = store_open(ctl->db_path, &s, &error);
	store_close(&s);
	if (e != STORE_OK) {
		rc = fail("the restored database does not open: %s",
			  error != NULL ? error : store_error_str(e));
		goto out;
	}
	for (size_t i = 0; i < N_ELEMENTS(made); i++)
		give_to_dir_owner(ctl->data_dir, made[i]);
	printf("%s restored from %s\n", ctl->db_path, file);
	if (had_db)
		printf("the database it replaced is %s\n", keep);
	rc = 0;
out:
	free(keep);
	close(fd);
	return rc;
}

static void
print_problems(const char *what, const char **msgs, size_t n)
{
	printf("%s: %zu problem%s\n", what, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", msgs[i]);
}

int
easctl_check(struct easctl *ctl, int argc, char **argv)
{
	const char *file, *error = NULL, **msgs;
	struct arena *a;
	struct store *s;
	enum store_error e;
	size_t n = 0;
	int rc, version = 0;

	if (one_arg(argc, argv, usage_check, true, &file, &rc) < 0)
		return rc;
	a = arena_new(16 * 1024);
	if (file != NULL) {
		e = store_file_check(file, a, &version, &msgs, &n, &error);
	} else if ((s = easctl_store(ctl)) == NULL) {
		arena_free(&a);
		return EX_FAIL;
	} else {
		file = ctl->db_path;
		e = store_check_report(s, a, &msgs, &n);
		if (e == STORE_OK)
			e = store_db_version(s, &version);
	}
	if (e != STORE_OK) {
		rc = fail("%s: %s", file,
			  error != NULL ? error : store_error_str(e));
	} else if (n > 0) {
		print_problems(file, msgs, n);
		rc = EX_FAIL;
	} else {
		printf("%s: ok (schema %d, %lld bytes)\n", file, version,
		       file_size(file));
		rc = 0;
	}
	arena_free(&a);
	return rc;
}
