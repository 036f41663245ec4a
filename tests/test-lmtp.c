/* Unit tests of the LMTP listener (server/lmtp.c, RFC 2033) against a fresh
 * store in a temporary directory: the session, size limits, bad command
 * sequences and a real client (swaks). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "lmtp.h"
#include "store.h"
#include "test-main.h"

struct lmtp_fixture {
	char dir[256], db[300];
	struct store *store;
	int64_t bob;
	struct lmtp_server *srv;
};

static int
fixture_start(struct lmtp_fixture *fx, size_t max_size)
{
	struct lmtp_config cfg = {.listen = "127.0.0.1:0",
				  .max_size = max_size};
	const char *error = NULL;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/easd-test-mail-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->db, sizeof(fx->db), "%s/easd.db", fx->dir);
	if (store_open(fx->db, &fx->store, &error) != STORE_OK ||
	    store_account_add(fx->store, "bob", "bob@example.org", "Bob",
			      "secret", &fx->bob) != STORE_OK)
		return -1;
	cfg.db_path = fx->db;
	fx->srv = lmtp_start(&cfg, &error);
	if (fx->srv == NULL) {
		fprintf(stderr, "lmtp_start: %s\n", error);
		return -1;
	}
	return 0;
}

static void
fixture_stop(struct lmtp_fixture *fx)
{
	char cmd[400];

	lmtp_stop(&fx->srv);
	store_close(&fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	(void)!system(cmd);
}

static int64_t
inbox_count(struct lmtp_fixture *fx)
{
	struct arena *a = arena_new(0);
	struct store_folder inbox;
	int64_t n = -1;

	if (store_folder_get_by_type(fx->store, a, fx->bob, EAS_FOLDER_INBOX,
				     &inbox) == STORE_OK)
		store_item_count(fx->store, inbox.id, &n);
	arena_free(&a);
	return n;
}

static int
lmtp_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one reply line (a multi-line reply's lines one call each). */
static const char *
reply(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char ch;

		if (recv(fd, &ch, 1, 0) != 1)
			break;
		if (ch == '\n')
			break;
		if (ch != '\r')
			line[n++] = ch;
	}
	line[n] = '\0';
	return line;
}

/* Skip a multi-line reply to its last line. */
static const char *
reply_last(int fd, char *line, size_t size)
{
	do
		reply(fd, line, size);
	while (strlen(line) > 3 && line[3] == '-');
	return line;
}

static void
say(int fd, const char *s)
{
	(void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

static void
test_lmtp_session(void)
{
	struct lmtp_fixture fx;
	struct arena *a = arena_new(0);
	struct store_folder inbox;
	struct store_item *list;
	size_t count = 0;
	char line[512];
	int fd;

	CU_ASSERT_EQUAL_FATAL(fixture_start(&fx, 0), 0);
	CU_ASSERT(lmtp_port(fx.srv) > 0);
	fd = lmtp_connect(lmtp_port(fx.srv));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "220", 3) == 0);
	say(fd, "MAIL FROM:<a@example.com>\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "503", 3) == 0);
	say(fd, "HELO x\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "500", 3) == 0);
	say(fd, "LHLO client.example\r\n");
	CU_ASSERT(strncmp(reply_last(fd, line, sizeof(line)), "250 SIZE", 8) ==
		  0);
	say(fd, "MAIL FROM:<alice@example.com> SIZE=100\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	say(fd, "RCPT TO:<bob@example.org>\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	say(fd, "RCPT TO:<nobody@example.org>\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "550 5.1.1", 9) == 0);
	say(fd, "RCPT TO:<BOB>\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	say(fd, "DATA\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "354", 3) == 0);
	say(fd, "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
		"Subject: via LMTP\r\nMessage-ID: <lmtp-1@example.com>\r\n\r\n"
		"Hello Bob.\r\n..leading dot\r\n.\r\n");
	/* one reply per accepted recipient, in order */
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250 2.0.0", 9) == 0);
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250 2.0.0", 9) == 0);
	say(fd, "NOOP\r\nRSET\r\nQUIT\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "221", 3) == 0);
	close(fd);

	CU_ASSERT_EQUAL(inbox_count(&fx), 2);
	CU_ASSERT_EQUAL_FATAL(store_folder_get_by_type(fx.store, a, fx.bob,
						       EAS_FOLDER_INBOX,
						       &inbox),
			      STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_item_list(fx.store, a, fx.bob, inbox.id, 0,
					      10, true, &list, &count),
			      STORE_OK);
	CU_ASSERT_EQUAL_FATAL(count, 2);
	CU_ASSERT_STRING_EQUAL(list[0].meta.subject, "via LMTP");
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)list[0].data, "\r\n.leading dot\r\n"));
	CU_ASSERT_FALSE(list[0].meta.read);
	fixture_stop(&fx);
	arena_free(&a);
}

static void
test_lmtp_oversize(void)
{
	struct lmtp_fixture fx;
	char line[512], chunk[1001];
	int fd;

	CU_ASSERT_EQUAL_FATAL(fixture_start(&fx, 4096), 0);
	fd = lmtp_connect(lmtp_port(fx.srv));
	CU_ASSERT_FATAL(fd >= 0);
	reply(fd, line, sizeof(line));
	say(fd, "LHLO client.example\r\n");
	CU_ASSERT(strncmp(reply_last(fd, line, sizeof(line)), "250 SIZE 4096",
			  13) == 0);
	/* announced too big */
	say(fd, "MAIL FROM:<alice@example.com> SIZE=999999\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "552", 3) == 0);
	/* not announced, but too big */
	say(fd, "MAIL FROM:<alice@example.com>\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	say(fd, "RCPT TO:<bob@example.org>\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	say(fd, "DATA\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "354", 3) == 0);
	say(fd, "Subject: big\r\n\r\n");
	memset(chunk, 'x', 998);
	chunk[998] = '\r';
	chunk[999] = '\n';
	chunk[1000] = '\0';
	for (int i = 0; i < 20; i++)
		say(fd, chunk);
	say(fd, ".\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "552 5.3.4", 9) == 0);
	/* the session goes on */
	say(fd, "NOOP\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "250", 3) == 0);
	close(fd);
	CU_ASSERT_EQUAL(inbox_count(&fx), 0);
	fixture_stop(&fx);
}

/* Store busy on delivery: 451, nothing stored, never 250. */
static void
test_lmtp_long_line(void)
{
	struct lmtp_fixture fx;
	char line[512], big[5000];
	int fd;

	CU_ASSERT_EQUAL_FATAL(fixture_start(&fx, 0), 0);
	fd = lmtp_connect(lmtp_port(fx.srv));
	CU_ASSERT_FATAL(fd >= 0);
	reply(fd, line, sizeof(line));
	memset(big, 'A', sizeof(big) - 3);
	memcpy(big + sizeof(big) - 3, "\r\n", 3);
	say(fd, big);
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "500", 3) == 0);
	say(fd, "DATA\r\n");
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "503", 3) == 0);
	say(fd, "LHLO x\r\nRCPT TO:<bob@example.org>\r\n");
	reply_last(fd, line, sizeof(line));
	CU_ASSERT(strncmp(reply(fd, line, sizeof(line)), "503", 3) == 0);
	close(fd);
	fixture_stop(&fx);
}

static void
test_lmtp_swaks(void)
{
	struct lmtp_fixture fx;
	char cmd[1024];
	int rc;

	if (system("command -v swaks >/dev/null 2>&1") != 0) {
		fprintf(stderr, "swaks not installed: skipped\n");
		return;
	}
	CU_ASSERT_EQUAL_FATAL(fixture_start(&fx, 0), 0);
	snprintf(cmd, sizeof(cmd),
		 "swaks --to bob@example.org --from alice@example.com "
		 "--server 127.0.0.1 --port %d --protocol LMTP "
		 "--header 'Subject: from swaks' --body 'hello' "
		 ">/dev/null 2>&1",
		 lmtp_port(fx.srv));
	rc = system(cmd);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(inbox_count(&fx), 1);
	fixture_stop(&fx);
}

/* Group commit: connections delivering at once each get their 250 for
 * each of their messages, and every message is stored once. */
#define GROUP_CONNS 4
#define GROUP_MSGS 25

struct group_client {
	pthread_t t;
	int port, id, ok;
};

static void *
group_client_main(void *arg)
{
	struct group_client *c = arg;
	int fd = lmtp_connect(c->port);
	char line[512], msg[256];

	if (fd < 0)
		return NULL;
	reply(fd, line, sizeof(line));
	say(fd, "LHLO test\r\n");
	reply_last(fd, line, sizeof(line));
	for (int i = 0; i < GROUP_MSGS; i++) {
		say(fd, "MAIL FROM:<a@example.net>\r\n");
		reply(fd, line, sizeof(line));
		say(fd, "RCPT TO:<bob@example.org>\r\n");
		reply(fd, line, sizeof(line));
		say(fd, "DATA\r\n");
		reply(fd, line, sizeof(line));
		snprintf(msg, sizeof(msg),
			 "Subject: group %d.%d\r\nMessage-ID: "
			 "<g%d.%d@example.net>\r\n\r\nbody\r\n.\r\n",
			 c->id, i, c->id, i);
		say(fd, msg);
		if (strncmp(reply(fd, line, sizeof(line)), "250 2.0.0", 9) == 0)
			c->ok++;
	}
	say(fd, "QUIT\r\n");
	reply(fd, line, sizeof(line));
	close(fd);
	return NULL;
}

static void
test_lmtp_group_commit(void)
{
	struct lmtp_fixture fx;
	struct group_client c[GROUP_CONNS];
	int ok = 0;

	CU_ASSERT_EQUAL_FATAL(fixture_start(&fx, 0), 0);
	for (int i = 0; i < GROUP_CONNS; i++) {
		c[i] = (struct group_client){.port = lmtp_port(fx.srv),
					     .id = i};
		CU_ASSERT_EQUAL_FATAL(
			pthread_create(&c[i].t, NULL, group_client_main, &c[i]),
			0);
	}
	for (int i = 0; i < GROUP_CONNS; i++) {
		pthread_join(c[i].t, NULL);
		ok += c[i].ok;
	}
	CU_ASSERT_EQUAL(ok, GROUP_CONNS * GROUP_MSGS);
	CU_ASSERT_EQUAL(inbox_count(&fx), GROUP_CONNS * GROUP_MSGS);
	fixture_stop(&fx);
}

/* A message that cannot be stored in a batch fails the batch; each of its
 * messages is then stored alone: the others still get their 250, stored
 * once, and the bad one its failure (here: a recipient whose Inbox is
 * gone, which fails however the message is delivered). Holds however the
 * messages were grouped. */
#define BAD_EVERY 5

struct mixed_client {
	pthread_t t;
	int port, id, ok, failed;
};

static void *
mixed_client_main(void *arg)
{
	struct mixed_client *c = arg;
	int fd = lmtp_connect(c->port);
	char line[512], msg[256];

	if (fd < 0)
		return NULL;
	reply(fd, line, sizeof(line));
	say(fd, "LHLO test\r\n");
	reply_last(fd, line, sizeof(line));
	for (int i = 0; i < GROUP_MSGS; i++) {
		bool bad = i % BAD_EVERY == BAD_EVERY - 1;

		say(fd, "MAIL FROM:<a@example.net>\r\n");
		reply(fd, line, sizeof(line));
		say(fd, bad ? "RCPT TO:<carl@example.org>\r\n"
			    : "RCPT TO:<bob@example.org>\r\n");
		reply(fd, line, sizeof(line));
		say(fd, "DATA\r\n");
		reply(fd, line, sizeof(line));
		snprintf(msg, sizeof(msg),
			 "Subject: mixed %d.%d\r\nMessage-ID: "
			 "<m%d.%d@example.net>\r\n\r\nbody\r\n.\r\n",
			 c->id, i, c->id, i);
		say(fd, msg);
		/* a wrong answer counts 100 */
		if (strncmp(reply(fd, line, sizeof(line)), "250 2.0.0", 9) == 0)
			c->ok += bad ? 100 : 1;
		else
			c->failed += bad ? 1 : 100;
	}
	say(fd, "QUIT\r\n");
	reply(fd, line, sizeof(line));
	close(fd);
	return NULL;
}

static void
test_lmtp_group_fallback(void)
{
	struct lmtp_fixture fx;
	struct mixed_client c[GROUP_CONNS];
	struct arena *a = arena_new(0);
	struct store_folder inbox;
	int64_t carl;
	sqlite3 *db;
	char sql[128];
	int ok = 0, failed = 0, bad = GROUP_MSGS / BAD_EVERY;

	CU_ASSERT_EQUAL_FATAL(fixture_start(&fx, 0), 0);
	CU_ASSERT_EQUAL_FATAL(store_account_add(fx.store, "carl",
						"carl@example.org", "Carl",
						"secret", &carl),
			      STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_folder_get_by_type(fx.store, a, carl,
						       EAS_FOLDER_INBOX,
						       &inbox),
			      STORE_OK);
	/* a default folder cannot be deleted: its type goes, behind the
	 * store's back */
	snprintf(sql, sizeof(sql),
		 "UPDATE folders SET type = 12 WHERE id = %lld",
		 (long long)inbox.id);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(fx.db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	CU_ASSERT_EQUAL(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	for (int i = 0; i < GROUP_CONNS; i++) {
		c[i] = (struct mixed_client){.port = lmtp_port(fx.srv),
					     .id = i};
		CU_ASSERT_EQUAL_FATAL(
			pthread_create(&c[i].t, NULL, mixed_client_main, &c[i]),
			0);
	}
	for (int i = 0; i < GROUP_CONNS; i++) {
		pthread_join(c[i].t, NULL);
		ok += c[i].ok;
		failed += c[i].failed;
	}
	CU_ASSERT_EQUAL(ok, GROUP_CONNS * (GROUP_MSGS - bad));
	CU_ASSERT_EQUAL(failed, GROUP_CONNS * bad);
	/* every good one once */
	CU_ASSERT_EQUAL(inbox_count(&fx), GROUP_CONNS * (GROUP_MSGS - bad));
	arena_free(&a);
	fixture_stop(&fx);
}

static CU_TestInfo lmtp_tests[] = {
	{"deliveries over several connections at once (group commit)",
	 test_lmtp_group_commit},
	{"a failed batch: each message stored alone, none lost or twice",
	 test_lmtp_group_fallback},
	{"session with two recipients", test_lmtp_session},
	{"oversized message is refused", test_lmtp_oversize},
	{"long lines and bad sequences", test_lmtp_long_line},
	{"swaks delivers", test_lmtp_swaks},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"lmtp", NULL, NULL, NULL, NULL, lmtp_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
