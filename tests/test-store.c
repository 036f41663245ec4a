/* Unit tests of store/ on SQLite: the backend-neutral suite
 * (store-suite.c) on a fresh database file in a temporary directory per
 * test, and the tests that need the file itself: schema migration from an
 * older file and consistency after a writer is killed. Through the public
 * API only. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "store-suite.h"
#include "store.h"
#include "test-main.h"
#include "util.h"

static char tmpdir[64];
static char dbpath[128];

static void
remove_db_files(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[160];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suffixes[i]);
		unlink(p);
	}
}

/* --- the SQLite backend of the suite --- */

static struct store *
sqlite_create(void *ctx, const char **where_r)
{
	struct store *st = NULL;
	const char *err = NULL;

	(void)ctx;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/easd-store-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(dbpath, sizeof(dbpath), "%s/easd.db", tmpdir);
	if (store_open(dbpath, &st, &err) != STORE_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	*where_r = dbpath;
	return st;
}

static struct store *
sqlite_connect(void *ctx)
{
	struct store *st = NULL;
	const char *err;

	(void)ctx;
	return store_open(dbpath, &st, &err) == STORE_OK ? st : NULL;
}

static void
sqlite_destroy(void *ctx)
{
	(void)ctx;
	remove_db_files();
	rmdir(tmpdir);
}

static const struct store_suite_backend sqlite_backend = {
	.name = "sqlite",
	.create = sqlite_create,
	.connect = sqlite_connect,
	.destroy = sqlite_destroy,
};

/* --- the database file: migration, crash --- */

static void
test_migration_empty_file(void)
{
	struct store *s = *store_suite_store(), *s2 = NULL;
	const char *err = NULL;
	char path[192];
	FILE *fp;
	int v = -1;

	CU_ASSERT_EQUAL(store_db_version(s, &v), STORE_OK);
	CU_ASSERT_EQUAL(v, store_schema_version());
	CU_ASSERT(store_schema_version() >= 2);
	/* an empty file is a database at version 0 */
	snprintf(path, sizeof(path), "%s/empty.db", tmpdir);
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fclose(fp);
	CU_ASSERT_EQUAL(store_open(path, &s2, &err), STORE_OK);
	CU_ASSERT_EQUAL(store_db_version(s2, &v), STORE_OK);
	CU_ASSERT_EQUAL(v, store_schema_version());
	store_close(&s2);
	unlink(path);
	/* a file that is not a database is refused, not crashed on */
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite database ", fp);
	fclose(fp);
	CU_ASSERT_NOT_EQUAL(store_open(path, &s2, &err), STORE_OK);
	CU_ASSERT_PTR_NULL(s2);
	CU_ASSERT_PTR_NOT_NULL(err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/empty.db-wal", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/empty.db-shm", tmpdir);
	unlink(path);
}

static void
test_migration_from_v1(void)
{
	struct store **sp = store_suite_store();
	struct arena *a = store_suite_arena();
	struct store_account acc;
	struct store_sync_state st;
	const char *err = NULL;
	int64_t id, inbox, x, removed, dev;
	int v = -1;

	/* replace the fixture's database with one an older easd wrote */
	store_close(sp);
	remove_db_files();
	CU_ASSERT_EQUAL_FATAL(store_open_at_version(dbpath, 1, sp, &err),
			      STORE_OK);
	CU_ASSERT_EQUAL(store_db_version(*sp, &v), STORE_OK);
	CU_ASSERT_EQUAL(v, 1);
	id = store_suite_add_account("ada");
	inbox = store_suite_folder_of_type(id, EAS_FOLDER_INBOX);
	x = store_suite_add_item(id, inbox, "kept across the upgrade", 0, 0);
	dev = store_suite_add_device(id, "A");
	store_close(sp);

	CU_ASSERT_EQUAL_FATAL(store_open(dbpath, sp, &err), STORE_OK);
	CU_ASSERT_EQUAL(store_db_version(*sp, &v), STORE_OK);
	CU_ASSERT_EQUAL(v, store_schema_version());
	CU_ASSERT_EQUAL(
		store_account_check_password(*sp, a, "ada", "secret", &acc),
		STORE_OK);
	/* sync states are written in today's layout (step 9 moved their
	 * cached answers to a table of their own) */
	store_suite_state_new(&st, dev, inbox);
	CU_ASSERT_EQUAL(store_suite_sync_round(&st, NULL, 10, NULL, NULL), 1);
	CU_ASSERT_EQUAL(store_sync_get(*sp, a, st.device_id, inbox, &st),
			STORE_OK);
	/* the index step 2 added serves gc */
	CU_ASSERT_EQUAL(store_item_delete(*sp, id, x, 0), STORE_OK);
	CU_ASSERT_EQUAL(store_gc(*sp, &removed), STORE_OK);
	CU_ASSERT_EQUAL(removed, 0);
	CU_ASSERT_EQUAL(store_suite_sync_round(&st, NULL, 10, NULL, NULL), 1);
	CU_ASSERT_EQUAL(store_gc(*sp, &removed), STORE_OK);
	CU_ASSERT_EQUAL(removed, 1);
	CU_ASSERT_EQUAL(store_check(*sp), STORE_OK);
}

/* The child writes batches of 10 items, one transaction each, and reports
 * every committed batch through the pipe until it is killed. */
static void __attribute__((noreturn))
crash_child(int fd, int64_t acc, int64_t folder)
{
	struct store *cs = NULL;
	struct arena *ca = arena_new(0);
	const char *err;

	if (store_open(dbpath, &cs, &err) != STORE_OK)
		_exit(2);
	for (uint32_t batch = 1;; batch++) {
		if (store_begin(cs, true) != STORE_OK)
			_exit(3);
		for (int i = 0; i < 10; i++) {
			struct store_item it;

			memset(&it, 0, sizeof(it));
			it.data = (const uint8_t *)"batch item";
			it.data_len = 10;
			if (store_item_add(cs, ca, acc, folder, &it, 0) !=
			    STORE_OK)
				_exit(4);
		}
		if (store_commit(cs) != STORE_OK)
			_exit(5);
		if (write(fd, &batch, sizeof(batch)) != sizeof(batch))
			_exit(6);
		arena_reset(ca);
	}
}

static void
test_crash_consistency(void)
{
	enum { REPORTS = 20 };
	struct store **sp = store_suite_store();
	int64_t acc = store_suite_add_account("ada");
	int64_t notes = store_suite_folder_of_type(acc, EAS_FOLDER_NOTES);
	uint32_t batch = 0;
	int64_t count = 0;
	const char *err;
	int fds[2], status;
	pid_t pid;

	store_close(sp);
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(fds[1], acc, notes);
	}
	close(fds[1]);
	for (int i = 0; i < REPORTS; i++) {
		ssize_t r;

		do
			r = read(fds[0], &batch, sizeof(batch));
		while (r < 0 && errno == EINTR);
		CU_ASSERT_EQUAL_FATAL(r, (ssize_t)sizeof(batch));
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	CU_ASSERT(WIFSIGNALED(status));

	CU_ASSERT_EQUAL_FATAL(store_open(dbpath, sp, &err), STORE_OK);
	CU_ASSERT_EQUAL(store_check(*sp), STORE_OK);
	CU_ASSERT_EQUAL(store_item_count(*sp, notes, &count), STORE_OK);
	CU_ASSERT(count >= (int64_t)batch * 10);
	CU_ASSERT_EQUAL(count % 10, 0);
	CU_ASSERT(batch >= REPORTS);
}

/* A committer waits for room in the queue of a receiver that is behind
 * instead of dropping the notification (the queue holds 10 datagrams by
 * default): 30 commits of another process while nobody reads, then every
 * one of them is heard. The child reports each commit through the pipe;
 * the queue is full after the tenth. */
static void
test_notify_receiver_behind(void)
{
	enum { COMMITS = 30 };
	int64_t acc = store_suite_add_account("ada");
	int64_t notes = store_suite_folder_of_type(acc, EAS_FOLDER_NOTES);
	struct sockaddr_un sun;
	struct timeval tv = {.tv_sec = 60};
	char buf[8192];
	int fd, fds[2], status, heard = 0;
	pid_t pid;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/easd.notify", tmpdir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)),
			      0);
	/* a failure ends in a minute instead of hanging */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		struct arena *ca = arena_new(0);
		const char *err;

		close(fds[0]);
		if (store_open(dbpath, &cs, &err) != STORE_OK)
			_exit(2);
		for (int i = 0; i < COMMITS; i++) {
			struct store_item it;

			memset(&it, 0, sizeof(it));
			it.data = (const uint8_t *)"note";
			it.data_len = 4;
			if (store_item_add(cs, ca, acc, notes, &it, 0) !=
				    STORE_OK ||
			    write(fds[1], "c", 1) != 1)
				_exit(3);
			arena_reset(ca);
		}
		_exit(0);
	}
	close(fds[1]);
	for (int i = 0; i < 10; i++) {
		ssize_t r;

		do
			r = read(fds[0], buf, 1);
		while (r < 0 && errno == EINTR);
		CU_ASSERT_EQUAL_FATAL(r, 1);
	}
	while (heard < COMMITS) {
		ssize_t got = recv(fd, buf, sizeof(buf) - 1, 0);

		if (got <= 0)
			break;
		buf[got] = '\0';
		for (char *l = buf; l != NULL && *l != '\0';
		     l = strchr(l, '\n') != NULL ? strchr(l, '\n') + 1 : NULL)
			if (*l == 'F')
				heard++;
	}
	CU_ASSERT_EQUAL(heard, COMMITS);
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);
	close(fd);
	unlink(sun.sun_path);
}

/* A password in a store path is never shown: the user part of a URL and
 * password= parameters and keywords read ***, the rest is kept. */
static void
test_path_shown(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"postgresql://easd:secret@db.example/easd",
		 "postgresql://easd:***@db.example/easd"},
		{"postgres://u:p%40ss@h:5432/d?sslmode=require",
		 "postgres://u:***@h:5432/d?sslmode=require"},
		{"postgresql://easd@h/d?password=secret&sslmode=require",
		 "postgresql://easd@h/d?password=***&sslmode=require"},
		{"host=h dbname=d password=secret user=u",
		 "host=h dbname=d password=*** user=u"},
		{"postgresql://h/d?application_name=xpassword=1",
		 "postgresql://h/d?application_name=xpassword=1"},
		{"postgresql://easd@h/d", "postgresql://easd@h/d"},
		{"/var/lib/easd/easd.db", "/var/lib/easd/easd.db"},
	};
	char buf[STORE_SHOWN_MAX], tiny[8];

	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		CU_ASSERT_STRING_EQUAL(
			store_path_shown(cases[i].in, buf, sizeof(buf)),
			cases[i].out);
	/* cut to the buffer, still without the password */
	store_path_shown("postgresql://u:secret@h/d", tiny, sizeof(tiny));
	CU_ASSERT_EQUAL(strlen(tiny), sizeof(tiny) - 1);
	CU_ASSERT_PTR_NULL(strstr(
		store_path_shown("postgresql://u:secret@h/d", buf, sizeof(buf)),
		"secret"));
}

#define TEST(fn)                                                               \
	{                                                                      \
#fn, fn                                                        \
	}

static CU_TestInfo sqlite_tests[] = {
	TEST(test_migration_empty_file), TEST(test_migration_from_v1),
	TEST(test_crash_consistency),	 TEST(test_notify_receiver_behind),
	TEST(test_path_shown),		 CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"store", NULL, NULL, store_suite_setup, store_suite_teardown,
	 store_suite_tests},
	{"store-sqlite", NULL, NULL, store_suite_setup, store_suite_teardown,
	 sqlite_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	store_suite_init(&sqlite_backend);
	return test_main(suites);
}
