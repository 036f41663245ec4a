/* easctl backup, restore and check against a real easd: a backup taken
 * while mail is being delivered holds every delivery acknowledged before it
 * began (the WAL's included), restores into a fresh data directory and
 * passes the integrity check; a damaged file fails it. On PostgreSQL (a
 * server of the test's own, pgtest.c; skipped when it is not installed)
 * the same with pg_dump under easctl backup, pg_restore into an empty
 * database, and easctl check finding broken invariants. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "harness.h"
#include "pgtest.h"
#include "store.h"
#include "test-main.h"
#include "util.h"
#include "version.h"
#include "xalloc.h"

/* Deliveries before the backup starts, and the most the writer makes. */
#define BEFORE_BACKUP 60
#define WRITER_MAX 2000

static char *tmpdir; /* backups and restored data directories */
static char *last_out;
static const char *pg_server; /* pgtest's first database, or NULL */

/* Run easctl with args (NULL terminated); its stdout and stderr end up
 * in last_out. Returns the exit status, -1 when it did not exit. */
static int
easctl_run(const char *const *args)
{
	const char *argv[16];
	char *out_path = xasprintf("%s/easctl.out", tmpdir);
	size_t n = 0;
	int status = -1;
	pid_t pid;

	argv[n++] = harness_easctl();
	for (size_t i = 0; args[i] != NULL && n < N_ELEMENTS(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	free(last_out);
	{
		FILE *f = fopen(out_path, "r");
		size_t len = 0;

		last_out = xmalloc(65536);
		if (f != NULL) {
			len = fread(last_out, 1, 65535, f);
			fclose(f);
		}
		last_out[len] = '\0';
	}
	unlink(out_path);
	free(out_path);
	if (pid < 0 || !WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "easctl %s: %s", args[0], last_out);
	return WEXITSTATUS(status);
}

#define EASCTL(...) easctl_run((const char *const[]){__VA_ARGS__, NULL})

/* The writer: delivers "backup-N" to ada until told to stop. */
struct writer {
	const struct easd_proc *srv;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int acked; /* deliveries answered 250 */
	int failed;
	bool stop;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < WRITER_MAX; i++) {
		char msg[256];
		int code;

		pthread_mutex_lock(&w->lock);
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);
		snprintf(msg, sizeof(msg),
			 "From: x@example.net\nTo: ada@example.org\n"
			 "Subject: backup-%d\n\nmessage %d\n",
			 i, i);
		code = harness_lmtp_deliver(w->srv, HARNESS_ADA_EMAIL, msg);
		pthread_mutex_lock(&w->lock);
		if (code == 250)
			w->acked = i + 1;
		else
			w->failed++;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		if (code != 250)
			break;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static long long
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Which backup-N subjects ada's Inbox holds in the database at db_path:
 * seen[N] set; returns how many there are, -1 on an error. */
static int
inbox_subjects(const char *db_path, bool *seen, int max)
{
	struct arena *a = arena_new(64 * 1024);
	struct store_account acc;
	struct store_folder inbox;
	struct store_item *items;
	struct store *s = NULL;
	const char *err;
	int64_t after = 0;
	size_t count;
	int n = -1, total = 0;

	if (store_open(db_path, &s, &err) != STORE_OK ||
	    store_account_get(s, a, HARNESS_ADA, &acc) != STORE_OK ||
	    store_folder_get_by_type(s, a, acc.id, EAS_FOLDER_INBOX, &inbox) !=
		    STORE_OK)
		goto out;
	do {
		if (store_item_list(s, a, acc.id, inbox.id, after, 500, false,
				    &items, &count) != STORE_OK)
			goto out;
		for (size_t i = 0; i < count; i++) {
			const char *subj = items[i].meta.subject;
			int k;

			after = items[i].id;
			if (subj == NULL ||
			    sscanf(subj, "backup-%d", &k) != 1 || k < 0 ||
			    k >= max)
				continue;
			if (!seen[k])
				total++;
			seen[k] = true;
		}
	} while (count > 0);
	n = total;
out:
	store_close(&s);
	arena_free(&a);
	return n;
}

static void
test_backup_while_writing(void)
{
	struct easd_proc *srv = easd_start(NULL);
	struct writer w = {.lock = PTHREAD_MUTEX_INITIALIZER,
			   .cond = PTHREAD_COND_INITIALIZER};
	char *file = xasprintf("%s/live.db", tmpdir);
	char *restored = xasprintf("%s/restored", tmpdir);
	char *restored_db = xasprintf("%s/easd.db", restored);
	char *wal = NULL;
	bool *seen = xcalloc(WRITER_MAX, sizeof(*seen));
	pthread_t t;
	int before, after, got, missing = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	wal = xasprintf("%s-wal", srv->db_path);
	w.srv = srv;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, writer_main, &w), 0);
	pthread_mutex_lock(&w.lock);
	while (w.acked < BEFORE_BACKUP && !w.stop)
		pthread_cond_wait(&w.cond, &w.lock);
	before = w.acked;
	pthread_mutex_unlock(&w.lock);
	CU_ASSERT_EQUAL(before, BEFORE_BACKUP);
	/* What was delivered is in the WAL: a copy of easd.db alone would
	 * not hold it. */
	CU_ASSERT(size_of(wal) > 0);

	CU_ASSERT_EQUAL(EASCTL("--data", srv->dir, "backup", file), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "written to"));

	pthread_mutex_lock(&w.lock);
	w.stop = true;
	pthread_mutex_unlock(&w.lock);
	pthread_join(t, NULL);
	after = w.acked;
	CU_ASSERT_EQUAL(w.failed, 0);

	/* The backup file stands alone: no WAL beside it, and it checks. */
	CU_ASSERT_EQUAL(size_of(file) > 0, true);
	{
		char *bwal = xasprintf("%s-wal", file);

		CU_ASSERT_EQUAL(size_of(bwal), -1);
		free(bwal);
	}
	CU_ASSERT_EQUAL(EASCTL("check", file), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, ": ok"));

	CU_ASSERT_EQUAL(EASCTL("--data", restored, "restore", file), 0);
	CU_ASSERT_EQUAL(EASCTL("--data", restored, "check"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, ": ok"));

	got = inbox_subjects(restored_db, seen, WRITER_MAX);
	CU_ASSERT(got >= before);
	CU_ASSERT(got <= after);
	for (int i = 0; i < before; i++)
		if (!seen[i])
			missing++;
	CU_ASSERT_EQUAL(missing, 0);
	/* a consistent snapshot has no holes: deliveries are serial */
	for (int i = 0; i < got; i++)
		CU_ASSERT_FATAL(seen[i]);

	/* The restored directory serves: a server starts on it. */
	{
		char *dir = NULL;
		struct easd_proc *again;

		again = easd_start_dir(restored, NULL);
		CU_ASSERT_PTR_NOT_NULL(again);
		if (again != NULL) {
			struct eas_client *c =
				harness_client(again, HARNESS_ADA, "restored1");

			CU_ASSERT_PTR_NOT_NULL(c);
			eas_client_free(&c);
			CU_ASSERT_EQUAL(easd_stop_keep(&again, &dir), 0);
		}
		free(dir);
	}
	CU_ASSERT_EQUAL(easd_stop(&srv), 0);
	free(seen);
	free(wal);
	free(restored_db);
	free(restored);
	free(file);
}

static void
test_restore_keeps_the_old_database(void)
{
	char *dir = xasprintf("%s/keep", tmpdir);
	char *file = xasprintf("%s/keep.db", tmpdir);
	char *pre = xasprintf("%s/easd.db.pre-restore", dir);

	CU_ASSERT_EQUAL(EASCTL("init", dir), 0);
	CU_ASSERT_EQUAL(
		EASCTL("--data", dir, "user", "add", "one", "--password", "pw"),
		0);
	CU_ASSERT_EQUAL(EASCTL("--data", dir, "backup", file), 0);
	CU_ASSERT_EQUAL(
		EASCTL("--data", dir, "user", "add", "two", "--password", "pw"),
		0);
	CU_ASSERT_EQUAL(EASCTL("--data", dir, "restore", file), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "easd.db.pre-restore"));
	CU_ASSERT(size_of(pre) > 0);
	CU_ASSERT_EQUAL(EASCTL("--data", dir, "user", "list"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "one"));
	CU_ASSERT_PTR_NULL(strstr(last_out, "two"));
	free(pre);
	free(file);
	free(dir);
}

static void
test_check_finds_damage(void)
{
	char *dir = xasprintf("%s/damage", tmpdir);
	char *file = xasprintf("%s/damage.db", tmpdir);
	char *other = xasprintf("%s/other", tmpdir);
	char junk[4096];
	int fd;

	CU_ASSERT_EQUAL(EASCTL("init", dir), 0);
	CU_ASSERT_EQUAL(
		EASCTL("--data", dir, "user", "add", "one", "--password", "pw"),
		0);
	CU_ASSERT_EQUAL(EASCTL("--data", dir, "backup", file), 0);
	/* overwrite the third page (a table's b-tree) with garbage */
	memset(junk, 0x5a, sizeof(junk));
	fd = open(file, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, junk, sizeof(junk), 2 * 4096),
			(ssize_t)sizeof(junk));
	close(fd);
	CU_ASSERT_EQUAL(EASCTL("check", file), 1);
	/* and such a file is not restored */
	CU_ASSERT_EQUAL(EASCTL("--data", other, "restore", file), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "restore failed"));
	/* nor is something that is no database */
	CU_ASSERT_EQUAL(EASCTL("--data", other, "restore", "/etc/hostname"), 1);
	CU_ASSERT_EQUAL(EASCTL("check", "/nonexistent/x.db"), 1);
	CU_ASSERT_EQUAL(EASCTL("backup"), 2);
	free(other);
	free(file);
	free(dir);
}

/* A running server's data directory is not restored into. */
static void
test_restore_refused_while_running(void)
{
	struct easd_proc *srv = easd_start(NULL);
	char *file = xasprintf("%s/running.db", tmpdir);

	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT_EQUAL(EASCTL("--data", srv->dir, "backup", file), 0);
	CU_ASSERT_EQUAL(EASCTL("--data", srv->dir, "restore", file), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "is running on"));
	/* and it still serves */
	{
		struct eas_client *c = harness_client(srv, HARNESS_BOB, "run1");

		CU_ASSERT_PTR_NOT_NULL(c);
		eas_client_free(&c);
	}
	CU_ASSERT_EQUAL(easd_stop(&srv), 0);
	free(file);
}

/* --version of the three programs: "NAME VERSION", exit 0. */
static void
test_versions(void)
{
	static const char *const progs[][2] = {
		{"easd", "EASD_BIN"},
		{"easctl", "EASCTL_BIN"},
		{"easclient", "EASCLIENT_BIN"},
	};

	for (size_t i = 0; i < N_ELEMENTS(progs); i++) {
		const char *bin = getenv(progs[i][1]);
		char *cmd, *want, line[256] = "", dflt[64];
		FILE *f;

		snprintf(dflt, sizeof(dflt), "build/asan/%s", progs[i][0]);
		if (bin == NULL)
			bin = dflt;
		cmd = xasprintf("'%s' --version", bin);
		want = xasprintf("%s %s\n", progs[i][0], EASD_VERSION);
		f = popen(cmd, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		CU_ASSERT_EQUAL(pclose(f), 0);
		CU_ASSERT_STRING_EQUAL(line, want);
		free(want);
		free(cmd);
	}
}

/* --- PostgreSQL --- */

static int suite_init(void);

/* Literal SQL on the database at url (the test's own statements). */
static int
pg_sql(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
	int rc = r != NULL && (PQresultStatus(r) == PGRES_COMMAND_OK ||
			       PQresultStatus(r) == PGRES_TUPLES_OK)
			 ? 0
			 : -1;

	if (rc != 0)
		fprintf(stderr, "pg_sql %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* pg_restore of file into the (empty) database at url, as the README
 * says an administrator restores; its exit status. */
static int
pg_restore_into(const char *url, const char *file)
{
	glob_t g;
	char *cmd;
	int rc = -1;

	if (glob("/usr/lib/postgresql/*/bin/pg_restore", 0, NULL, &g) != 0)
		return -1;
	cmd = xasprintf("'%s' --no-owner --exit-on-error --dbname '%s' '%s'",
			g.gl_pathv[g.gl_pathc - 1], url, file);
	rc = system(cmd);
	globfree(&g);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void
test_pg_backup_while_writing(void)
{
	char *url = pgtest_createdb("easd_backup_live");
	char *url2 = pgtest_createdb("easd_backup_restored");
	const char *args[] = {"--store", url, NULL};
	struct easd_proc *srv;
	struct writer w = {.lock = PTHREAD_MUTEX_INITIALIZER,
			   .cond = PTHREAD_COND_INITIALIZER};
	char *file = xasprintf("%s/pg.dump", tmpdir);
	bool *seen = xcalloc(WRITER_MAX, sizeof(*seen));
	pthread_t t;
	int before, after, got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(url);
	CU_ASSERT_PTR_NOT_NULL_FATAL(url2);
	srv = easd_start(args);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	w.srv = srv;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, writer_main, &w), 0);
	pthread_mutex_lock(&w.lock);
	while (w.acked < BEFORE_BACKUP && !w.stop)
		pthread_cond_wait(&w.cond, &w.lock);
	before = w.acked;
	pthread_mutex_unlock(&w.lock);
	CU_ASSERT_EQUAL(before, BEFORE_BACKUP);

	CU_ASSERT_EQUAL(
		EASCTL("--data", srv->dir, "--store", url, "backup", file), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "written to"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "pg_dump"));

	pthread_mutex_lock(&w.lock);
	w.stop = true;
	pthread_mutex_unlock(&w.lock);
	pthread_join(t, NULL);
	after = w.acked;
	CU_ASSERT_EQUAL(w.failed, 0);
	/* the live database checks, and so does the dump */
	CU_ASSERT_EQUAL(EASCTL("--data", srv->dir, "--store", url, "check"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, ": ok"));
	CU_ASSERT_EQUAL(EASCTL("check", file), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "pg_dump archive"));
	/* easctl does not restore over a database: pg_restore does */
	CU_ASSERT_EQUAL(
		EASCTL("--data", srv->dir, "--store", url, "restore", file), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "pg_restore"));
	CU_ASSERT_EQUAL(easd_stop(&srv), 0);

	CU_ASSERT_EQUAL_FATAL(pg_restore_into(url2, file), 0);
	CU_ASSERT_EQUAL(EASCTL("--data", tmpdir, "--store", url2, "check"), 0);
	got = inbox_subjects(url2, seen, WRITER_MAX);
	CU_ASSERT(got >= before);
	CU_ASSERT(got <= after);
	/* one snapshot: no holes */
	for (int i = 0; i < got; i++)
		CU_ASSERT_FATAL(seen[i]);
	/* the restored copy searches: its indexes came with it */
	{
		struct arena *a = arena_new(4096);
		struct store_gal_entry *list;
		struct store *s = NULL;
		const char *err;
		int64_t total = 0;
		size_t n;

		CU_ASSERT_EQUAL_FATAL(store_open(url2, &s, &err), STORE_OK);
		CU_ASSERT_EQUAL(store_gal_search(s, a, "ada", 0, 10, false,
						 &list, &n, &total),
				STORE_OK);
		CU_ASSERT_EQUAL(total, 1);
		store_close(&s);
		arena_free(&a);
	}

	/* broken invariants are found: an index row lost, a modseq ahead
	 * of its account's, an id sequence behind the ids */
	CU_ASSERT_EQUAL(pg_sql(url2, "DELETE FROM gal_docs WHERE id = (SELECT "
				     "min(id) FROM accounts);"
				     "UPDATE items SET modseq = modseq + "
				     "1000000 WHERE id = (SELECT min(id) "
				     "FROM items);"
				     "SELECT setval(pg_get_serial_sequence("
				     "'folders', 'id'), 1)"),
			0);
	CU_ASSERT_EQUAL(EASCTL("--data", tmpdir, "--store", url2, "check"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "3 problems"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "address list's index"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "modseq is ahead"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_out, "folders: ids at or past"));
	free(seen);
	free(file);
	free(url);
	free(url2);
}

static int
suite_pg_init(void)
{
	return pg_server != NULL ? suite_init() : -1;
}

static int
suite_init(void)
{
	char tmpl[] = "/tmp/easd-backup-XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	tmpdir = xstrdup(tmpl);
	return 0;
}

static int
suite_clean(void)
{
	harness_rmtree(tmpdir);
	xfree(&tmpdir);
	xfree(&last_out);
	return 0;
}

#define T(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static CU_TestInfo backup_tests[] = {
	T(test_backup_while_writing),
	T(test_restore_keeps_the_old_database),
	T(test_check_finds_damage),
	T(test_restore_refused_while_running),
	T(test_versions),
	CU_TEST_INFO_NULL,
};

static CU_TestInfo backup_pg_tests[] = {
	T(test_pg_backup_while_writing),
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"backup", suite_init, suite_clean, NULL, NULL, backup_tests},
	{"backup-postgresql", suite_pg_init, suite_clean, NULL, NULL,
	 backup_pg_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *why;

	pg_server = pgtest_start("easd_backup", &why);
	if (pg_server == NULL) {
		printf("e2e-test-backup: PostgreSQL skipped: %s\n", why);
		if (strstr(why, "not installed") == NULL)
			return 1;
		suites[1] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	}
	return test_main(suites);
}
