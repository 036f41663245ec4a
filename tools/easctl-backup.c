/* easctl backup, restore and check: a consistent copy of a running
 * server's database, putting one back into a stopped data directory, and
 * the integrity check of either. On PostgreSQL (--store URL) the copy is
 * pg_dump's (one snapshot, its custom format), checked by pg_restore
 * reading it back; the check is the store's invariants in SQL; restoring
 * is pg_restore's (the README says how). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
	"  after the copy passed the integrity check\n"
	"       easctl --store postgresql://... backup FILE\n"
	"  the same of the PostgreSQL database with pg_dump (custom format,\n"
	"  read back by pg_restore before FILE is replaced); restore it with\n"
	"  pg_restore (see README)\n";
static const char usage_restore[] =
	"usage: easctl [--data DIR] restore FILE\n"
	"  replace DIR/easd.db with the backup FILE; easd must be stopped.\n"
	"  The database it replaces is kept as DIR/easd.db.pre-restore\n";
static const char usage_check[] =
	"usage: easctl [--data DIR] check [FILE]\n"
	"  run the integrity and foreign-key checks on DIR/easd.db, or on\n"
	"  the backup FILE; exit 0 when sound, 1 with the problems listed\n"
	"       easctl --store postgresql://... check [FILE]\n"
	"  the store's own consistency checks on the PostgreSQL database;\n"
	"  a FILE of pg_dump's is read through by pg_restore\n";

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

/* --- PostgreSQL's tools --- */

/* A PostgreSQL client program: on PATH, else the newest of Debian's
 * /usr/lib/postgresql/N/bin. Heap, or NULL when it is not installed. */
static char *
pg_tool(const char *name)
{
	const char *path = getenv("PATH");
	char *r = NULL, *pattern;
	int best = -1;
	glob_t g;

	while (path != NULL && *path != '\0') {
		const char *end = strchr(path, ':');
		size_t len = end != NULL ? (size_t)(end - path) : strlen(path);

		if (len > 0) {
			r = xasprintf("%.*s/%s", (int)len, path, name);
			if (access(r, X_OK) == 0)
				return r;
			free(r);
			r = NULL;
		}
		path = end != NULL ? end + 1 : NULL;
	}
	pattern = xasprintf("/usr/lib/postgresql/*/bin/%s", name);
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			int v = atoi(g.gl_pathv[i] +
				     strlen("/usr/lib/postgresql/"));

			if (v > best && access(g.gl_pathv[i], X_OK) == 0) {
				best = v;
				free(r);
				r = xstrdup(g.gl_pathv[i]);
			}
		}
		globfree(&g);
	}
	free(pattern);
	return r;
}

/* Run argv (argv[0] a path), its output to /dev/null when quiet; its
 * errors go to ours. The exit status, or -1 when it did not run. */
static int
pg_run(char *const argv[], bool quiet)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0)
				dup2(fd, STDOUT_FILENO);
		}
		execv(argv[0], argv);
		fprintf(stderr, "easctl: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
pg_missing(const char *tool)
{
	return fail("%s is not installed: a PostgreSQL store is backed up "
		    "with PostgreSQL's own tools (Debian: apt install "
		    "postgresql-client)",
		    tool);
}

/* The URL as it may be shown: without a password. Heap. */
static char *
url_shown(const char *url)
{
	char buf[STORE_SHOWN_MAX];

	return xstrdup(store_path_shown(url, buf, sizeof(buf)));
}

/* pg_restore --list: whether FILE is an archive it can read through. */
static int
pg_archive_ok(const char *file)
{
	char *tool = pg_tool("pg_restore");
	int rc;

	if (tool == NULL)
		return -2;
	{
		char *const argv[] = {tool, (char *)"--list", (char *)file,
				      NULL};

		rc = pg_run(argv, true);
	}
	free(tool);
	return rc == 0 ? 0 : -1;
}

/* pg_dump of the database into FILE.tmp, read back, then renamed. */
static int
pg_backup(struct easctl *ctl, const char *file)
{
	char *tool = pg_tool("pg_dump"), *tmp, *shown;
	int rc, fd;

	if (tool == NULL)
		return pg_missing("pg_dump");
	tmp = xasprintf("%s.tmp", file);
	shown = url_shown(ctl->db_path);
	(void)unlink(tmp);
	{
		/* one snapshot of the whole database, compressed; the URL
		 * as its own argument, never through a shell */
		char *const argv[] = {
			tool, (char *)"--format=custom", (char *)"--file",
			tmp,  (char *)"--dbname",	 (char *)ctl->db_path,
			NULL};

		rc = pg_run(argv, false);
	}
	if (rc != 0) {
		rc = fail("backup failed: pg_dump of %s did not finish "
			  "(its message is above)",
			  shown);
		goto out;
	}
	rc = pg_archive_ok(tmp);
	if (rc == -2) {
		rc = pg_missing("pg_restore");
		goto out;
	}
	if (rc != 0) {
		rc = fail("backup failed: pg_restore cannot read the dump "
			  "back");
		goto out;
	}
	fd = open(tmp, O_RDONLY);
	if (fd < 0 || fsync(fd) < 0 || rename(tmp, file) < 0) {
		rc = fail("cannot write %s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	printf("backup of %s written to %s (%lld bytes, pg_dump's custom "
	       "format)\n",
	       shown, file, file_size(file));
	rc = 0;
out:
	if (rc != 0)
		(void)unlink(tmp);
	free(tool);
	free(tmp);
	free(shown);
	return rc;
}

/* Whether FILE begins as pg_dump's custom format does. */
static bool
is_pg_archive(const char *file)
{
	char magic[5];
	int fd = open(file, O_RDONLY);
	bool r;

	if (fd < 0)
		return false;
	r = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "PGDMP", 5) == 0;
	close(fd);
	return r;
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
	if (ctl->store_url != NULL) {
		/* mail and password hashes: for the owner only */
		umask(077);
		return pg_backup(ctl, file);
	}
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
	if (ctl->store_url != NULL)
		return fail("a PostgreSQL store is restored with pg_restore "
			    "into an empty database, with easd stopped: "
			    "pg_restore --no-owner --dbname URL %s (see the "
			    "README)",
			    file);
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
	char *shown = NULL;

	if (one_arg(argc, argv, usage_check, true, &file, &rc) < 0)
		return rc;
	if (file != NULL && is_pg_archive(file)) {
		rc = pg_archive_ok(file);
		if (rc == -2)
			return pg_missing("pg_restore");
		if (rc != 0)
			return fail("%s: pg_restore cannot read it through",
				    file);
		printf("%s: ok (a pg_dump archive that pg_restore reads "
		       "through, %lld bytes)\n",
		       file, file_size(file));
		return 0;
	}
	a = arena_new(16 * 1024);
	if (file != NULL) {
		e = store_file_check(file, a, &version, &msgs, &n, &error);
	} else if ((s = easctl_store(ctl)) == NULL) {
		arena_free(&a);
		return EX_FAIL;
	} else {
		file = ctl->db_path;
		if (store_is_url(file))
			file = shown = url_shown(file);
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
	} else if (shown != NULL) {
		printf("%s: ok (PostgreSQL)\n", shown);
		rc = 0;
	} else {
		printf("%s: ok (schema %d, %lld bytes)\n", file, version,
		       file_size(file));
		rc = 0;
	}
	arena_free(&a);
	free(shown);
	return rc;
}
