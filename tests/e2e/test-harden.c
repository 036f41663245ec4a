/* End-to-end tests of what an attacker or an unlucky network can do to a
 * real easd (issue 13): forged log lines, store failures, the data
 * directory, a second server, TLS, throttling, bodies before
 * authentication, dead connections. Each test fails on the server before
 * the hardening; none depends on timing (they wait for events, with
 * generous bounds as a safety net only). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

/* Safety bound for waiting on a log line. */
#define WAIT_MS 20000

static struct easd_proc *srv;

static int
suite_init(void)
{
	srv = easd_start(NULL);
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	return easd_stop(&srv) == 0 ? 0 : -1;
}

/* "Authorization: Basic base64(user:password)" in the arena. */
static const char *
basic_header(struct arena *a, const char *user, const char *password)
{
	const char *plain = arena_printf(a, "%s:%s", user, password);
	char *b64 = arena_alloc(a, base64_encoded_len(strlen(plain)) + 1);

	base64_encode(plain, strlen(plain), b64);
	return arena_printf(a, "Authorization: Basic %s", b64);
}

/* A newline in a Basic-auth user name does not start a log line of its
 * own: the forged text stays inside the line that logs the failure. */
static void
test_log_injection(void)
{
	/* No ':' (it would end the user name) and lower case (user names
	 * are compared in lower case). */
	static const char forged[] = "forged-line warn login of root ok";
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, "ada", "LOGINJ");
	const char *hdrs[2];
	struct eas_response r;
	const char *user = arena_printf(a, "mallory\n%s\r\x1b[2J", forged);
	FILE *f;
	char line[8192];
	int lines_with = 0, lines_starting = 0;

	CU_ASSERT_FATAL(c != NULL);
	hdrs[0] = basic_header(a, user, "wrong");
	hdrs[1] = NULL;
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "OPTIONS", NULL, NULL, hdrs, NULL, 0, &r),
		0);
	CU_ASSERT_EQUAL(r.http_status, 401);
	/* The access line is written after the failure line. */
	CU_ASSERT(harness_wait_log(srv, "OPTIONS", 1, WAIT_MS) >= 1);
	f = fopen(srv->log_path, "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "forged-line") != NULL) {
			lines_with++;
			CU_ASSERT_PTR_NOT_NULL(
				strstr(line, "mallory\\nforged-line"));
			CU_ASSERT_PTR_NULL(strchr(line, '\x1b'));
		}
		if (strncmp(line, forged, strlen(forged)) == 0)
			lines_starting++;
	}
	fclose(f);
	CU_ASSERT(lines_with >= 1);
	CU_ASSERT_EQUAL(lines_starting, 0);
	eas_client_free(&c);
	arena_free(&a);
}

/* An unknown user costs the server a password check like a known one
 * with a wrong password (against a dummy hash): only the code path is
 * asserted here, bench-harden measures the times. */
static void
test_unknown_user_dummy_hash(void)
{
	static const char needle[] = "checked against a dummy hash";
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, "nobody-here", "DUMMY");
	struct eas_client *k = harness_client_new(srv, "bob", "DUMMY2");
	struct eas_response r;
	int before = harness_log_count(srv, needle), before_401;

	CU_ASSERT_FATAL(c != NULL && k != NULL);
	CU_ASSERT_EQUAL(eas_client_options(c, a, &r), -1);
	CU_ASSERT_EQUAL(r.http_status, 401);
	CU_ASSERT_EQUAL(harness_wait_log(srv, needle, before + 1, WAIT_MS),
			before + 1);
	/* A known user with a wrong password takes the real hash (its
	 * access line comes after the check). */
	free(k->password);
	k->password = strdup("wrong");
	before_401 = harness_log_count(srv, " http=401 ");
	CU_ASSERT_EQUAL(eas_client_options(k, a, &r), -1);
	CU_ASSERT_EQUAL(r.http_status, 401);
	CU_ASSERT(harness_wait_log(srv, " http=401 ", before_401 + 1, WAIT_MS) >
		  before_401);
	CU_ASSERT_EQUAL(harness_log_count(srv, needle), before + 1);
	eas_client_free(&c);
	eas_client_free(&k);
	arena_free(&a);
}

/* --- store failures --- */

#define FULL_CONTACTS 100
#define FULL_PICTURE 40000 /* bytes of each contact's Picture */

/* One Sync of the collection at key adding FULL_CONTACTS contacts, each
 * with a picture: some 5 MB to write, more than the space left. */
static struct wbxml_node *
big_adds(struct arena *a, const char *collection_id, const char *key)
{
	struct wbxml_node *req = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *col =
		wbxml_add(a, wbxml_add(a, req, EAS_AIRSYNC_COLLECTIONS),
			  EAS_AIRSYNC_COLLECTION);
	struct wbxml_node *cmds;
	uint8_t *pic = arena_alloc(a, FULL_PICTURE);
	char *b64 = arena_alloc(a, base64_encoded_len(FULL_PICTURE) + 1);

	for (size_t i = 0; i < FULL_PICTURE; i++)
		pic[i] = (uint8_t)(random_u32_nonzero() & 0xff);
	base64_encode(pic, FULL_PICTURE, b64);
	wbxml_add_text(a, col, EAS_AIRSYNC_SYNCKEY, key);
	wbxml_add_text(a, col, EAS_AIRSYNC_COLLECTIONID, collection_id);
	wbxml_add_int(a, col, EAS_AIRSYNC_GETCHANGES, 0);
	cmds = wbxml_add(a, col, EAS_AIRSYNC_COMMANDS);
	for (int i = 0; i < FULL_CONTACTS; i++) {
		struct wbxml_node *add = wbxml_add(a, cmds, EAS_AIRSYNC_ADD);
		struct wbxml_node *ad;

		wbxml_add_textf(a, add, EAS_AIRSYNC_CLIENTID, "full%d", i);
		ad = wbxml_add(a, add, EAS_AIRSYNC_APPLICATIONDATA);
		wbxml_add_textf(a, ad, EAS_CONTACTS_FILEAS, "Full %d", i);
		wbxml_add_text(a, ad, EAS_CONTACTS_FIRSTNAME, "Full");
		wbxml_add_textf(a, ad, EAS_CONTACTS_LASTNAME, "%d", i);
		wbxml_add_text(a, ad, EAS_CONTACTS_PICTURE, b64);
	}
	return req;
}

/* Fill the file system of dir but for keep bytes. */
static int
fill_disk(const char *path, off_t keep)
{
	static char chunk[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	off_t size = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = write(fd, chunk, sizeof(chunk));

		if (n <= 0)
			break;
		size += n;
	}
	while (write(fd, chunk, 4096) > 0)
		size += 4096;
	if (ftruncate(fd, size > keep ? size - keep : 0) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A full disk answers a Sync with 503 and Retry-After (a device backs off
 * instead of retrying at once), with a log line; once there is space
 * again the same request succeeds and nothing was lost or damaged. Needs
 * a small tmpfs (mount needs root: skipped otherwise). */
static void
test_disk_full(void)
{
	char base[] = "/tmp/easd-full-XXXXXX";
	char *data = NULL, *filler = NULL, *dir = NULL, *db = NULL;
	struct arena *a = arena_new(0);
	struct easd_proc *p = NULL;
	struct eas_client *c = NULL;
	const struct eas_folder *contacts;
	struct eas_response r;
	struct wbxml_node *req;
	const char *key, *sid;
	struct store *s = NULL;
	struct store_stats st;
	int status;

	if (mkdtemp(base) == NULL) {
		CU_FAIL("mkdtemp");
		goto out;
	}
	if (mount("tmpfs", base, "tmpfs", 0, "size=12m,mode=0700") < 0) {
		printf("cannot mount a tmpfs (%s): disk-full test skipped\n",
		       strerror(errno));
		rmdir(base);
		goto out;
	}
	data = xasprintf("%s/data", base);
	filler = xasprintf("%s/filler", base);
	CU_ASSERT_EQUAL(mkdir(data, 0700), 0);
	p = easd_start_in(data, NULL);
	CU_ASSERT(p != NULL);
	if (p == NULL)
		goto unmount;
	c = harness_client(p, "ada", "FULLDISK");
	CU_ASSERT(c != NULL && eas_client_foldersync(c, a, &status) == 0);
	contacts = c != NULL ? eas_client_folder_by_type(c, 9) : NULL;
	CU_ASSERT(contacts != NULL);
	if (contacts == NULL)
		goto stop;
	{
		struct wbxml_node *ad =
			wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);

		wbxml_add_text(a, ad, EAS_CONTACTS_FILEAS, "Before");
		CU_ASSERT_EQUAL(eas_client_add(c, a, contacts->server_id, ad,
					       &sid, &status),
				0);
	}
	key = arena_strdup(a, eas_client_sync_key(c, contacts->server_id));
	req = big_adds(a, contacts->server_id, key);

	/* Room for the log lines, not for the contacts. */
	CU_ASSERT_EQUAL(fill_disk(filler, 256 * 1024), 0);
	CU_ASSERT_EQUAL(eas_client_post(c, a, "Sync", req, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 503);
	CU_ASSERT_PTR_NOT_NULL(r.retry_after);
	CU_ASSERT(harness_wait_log(p, "answered 503, Retry-After", 1,
				   WAIT_MS) >= 1);

	/* Space again: the same request (same key) goes through. */
	CU_ASSERT_EQUAL(unlink(filler), 0);
	CU_ASSERT_EQUAL(eas_client_post(c, a, "Sync", req, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 200);
stop:
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop_keep(&p, &dir), 0);
	db = xasprintf("%s/easd.db", data);
	{
		const char *err;

		CU_ASSERT_EQUAL(store_open(db, &s, &err), STORE_OK);
	}
	if (s != NULL) {
		CU_ASSERT_EQUAL(store_check(s), STORE_OK);
		CU_ASSERT_EQUAL(store_stats(s, &st), STORE_OK);
		CU_ASSERT_EQUAL(st.items[STORE_CLASS_CONTACTS],
				FULL_CONTACTS + 1);
		store_close(&s);
	}
	harness_rmtree(data);
unmount:
	unlink(filler);
	CU_ASSERT_EQUAL(umount(base), 0);
	rmdir(base);
out:
	free(data);
	free(filler);
	free(dir);
	free(db);
	arena_free(&a);
}

/* --- the front end: before the body --- */

static struct easd_proc *fe;

static int
fe_init(void)
{
	static const char *const args[] = {
		"--max-body", "200000",		"--max-body-small",
		"20000",      "--idle-timeout", "2",
		NULL};

	fe = easd_start(args);
	return fe == NULL ? -1 : 0;
}

static int
fe_clean(void)
{
	return easd_stop(&fe) == 0 ? 0 : -1;
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Read what the server answers on fd until it closes, a whole response
 * is in or WAIT_MS pass; returns the HTTP status (0 when none came). */
static int
read_status(int fd)
{
	char buf[8192];
	size_t len = 0;
	uint64_t until = time_mono_ms() + WAIT_MS;

	while (len < sizeof(buf) - 1 && time_mono_ms() < until) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	buf[len] = '\0';
	return strncmp(buf, "HTTP/1.", 7) == 0 && len > 12 ? atoi(buf + 9) : 0;
}

/* Send head, then up to body_len bytes of body for as long as the server
 * takes them (it may stop reading), then read its answer. */
static int
raw_request(int port, const char *head, size_t body_len)
{
	static char zeros[65536];
	int fd = tcp_connect(port), status;
	size_t sent = 0;

	if (fd < 0)
		return -1;
	if (write(fd, head, strlen(head)) != (ssize_t)strlen(head)) {
		close(fd);
		return -1;
	}
	while (sent < body_len) {
		size_t n = EAS_MIN(sizeof(zeros), body_len - sent);
		ssize_t w = send(fd, zeros, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			break; /* full (not read) or closed */
		sent += (size_t)w;
	}
	status = read_status(fd);
	close(fd);
	return status;
}

static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

/* Without valid credentials a request gets 401 when its headers are in:
 * five 10 MB bodies, wrong password or none, do not make the server
 * grow (it used to buffer each body before it looked at the
 * credentials). */
static void
test_unauth_body_not_read(void)
{
	struct arena *a = arena_new(0);
	long before, after;
	int port = srv->port;

	/* Warm up: threads, store connections, the credential check. */
	for (int i = 0; i < 3; i++)
		raw_request(port,
			    "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n"
			    "Host: x\r\nContent-Length: 0\r\n\r\n",
			    0);
	before = rss_kb(srv->pid);
	for (int i = 0; i < 5; i++) {
		const char *auth = i % 2 == 0 ? basic_header(a, "ada", "wrong")
					      : "X-No-Auth: 1";
		const char *head = arena_printf(
			a,
			"POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=ada&"
			"DeviceId=BIG%d&DeviceType=t HTTP/1.1\r\nHost: x\r\n"
			"%s\r\nMS-ASProtocolVersion: 16.1\r\n"
			"Content-Type: application/vnd.ms-sync.wbxml\r\n"
			"Content-Length: 10485760\r\n\r\n",
			i, auth);

		CU_ASSERT_EQUAL(raw_request(port, head, 10485760), 401);
	}
	after = rss_kb(srv->pid);
	printf("server RSS %ld kB before, %ld kB after five 10 MB bodies\n",
	       before, after);
	CU_ASSERT(before > 0 && after > 0);
	CU_ASSERT(after - before < 8 * 1024);
	arena_free(&a);
}

/* A Content-Length that is no plain number, or beyond any file
 * (18446744073709551615 is libmicrohttpd's "unknown size"), gets 400 at
 * once. */
static void
test_absurd_content_length(void)
{
	static const char *const bad[] = {"18446744073709551615",
					  "99999999999999999999",
					  "-1",
					  "+5",
					  "1e3",
					  "0x10"};
	struct arena *a = arena_new(0);

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		const char *head = arena_printf(
			a,
			"POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=ada&"
			"DeviceId=CL&DeviceType=t HTTP/1.1\r\nHost: x\r\n"
			"%s\r\nContent-Length: %s\r\n\r\n",
			basic_header(a, "ada", HARNESS_PASSWORD), bad[i]);
		int st = raw_request(fe->port, head, 16);

		/* libmicrohttpd itself refuses what does not fit 64 bits */
		if (st != 400)
			fprintf(stderr, "Content-Length %s: %d\n", bad[i], st);
		CU_ASSERT(st == 400 || (i == 1 && st == 413));
	}
	arena_free(&a);
}

/* Bodies are limited per command: Sync may be large (--max-body), the
 * rest small (--max-body-small), whichever form the query has. The
 * refusals come when the headers are in (raw requests: the server does
 * not read the body it refuses). */
static void
test_body_limits(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(fe, "ada", "LIMITS");
	static const char *const ct[] = {
		"Content-Type: application/vnd.ms-sync.wbxml",
		"MS-ASProtocolVersion: 16.1", NULL};
	const char *auth = basic_header(a, "ada", HARNESS_PASSWORD);
	struct eas_response r;
	char *body = calloc(1, 50000);
	struct eas_b64_query q;
	static const uint8_t devid[4] = {1, 2, 3, 4};
	const char *head;

	CU_ASSERT_FATAL(c != NULL && body != NULL);
	head = arena_printf(a,
			    "POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&"
			    "User=ada&DeviceId=LIMITS&DeviceType=t HTTP/1.1\r\n"
			    "Host: x\r\n%s\r\nContent-Length: 50000\r\n\r\n",
			    auth);
	CU_ASSERT_EQUAL(raw_request(fe->port, head, 50000), 413);
	/* Sync takes it (and says what it thinks of the zeros) */
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST", NULL,
				       "Cmd=Sync&User=ada&DeviceId=LIMITS&"
				       "DeviceType=t",
				       ct, body, 50000, &r),
			0);
	CU_ASSERT_NOT_EQUAL(r.http_status, 413);
	CU_ASSERT_NOT_EQUAL(r.http_status, 0);
	/* the base64 form: FolderSync (code 9) is small */
	memset(&q, 0, sizeof(q));
	q.version = 161;
	q.command = 9;
	q.locale = 0x0409;
	q.device_id = devid;
	q.device_id_len = sizeof(devid);
	q.device_type = "t";
	head = arena_printf(a,
			    "POST /Microsoft-Server-ActiveSync?%s HTTP/1.1\r\n"
			    "Host: x\r\n%s\r\nContent-Length: 50000\r\n\r\n",
			    eas_url_escape(a, eas_query_b64(a, &q)), auth);
	CU_ASSERT_EQUAL(raw_request(fe->port, head, 50000), 413);
	/* past --max-body even Sync is refused */
	head = arena_printf(a,
			    "POST /Microsoft-Server-ActiveSync?Cmd=Sync&"
			    "User=ada&DeviceId=LIMITS&DeviceType=t HTTP/1.1\r\n"
			    "Host: x\r\n%s\r\nContent-Length: 300000\r\n\r\n",
			    auth);
	CU_ASSERT_EQUAL(raw_request(fe->port, head, 300000), 413);
	free(body);
	eas_client_free(&c);
	arena_free(&a);
}

/* Headers past --max-header-bytes are refused; a connection that sends
 * nothing is closed after --idle-timeout (2 s here: the test waits for
 * the close, at most WAIT_MS). */
static void
test_header_and_idle_limits(void)
{
	struct arena *a = arena_new(0);
	char *big = arena_alloc(a, 40001);
	int fd;

	memset(big, 'a', 40000);
	big[40000] = '\0';
	CU_ASSERT_EQUAL(
		raw_request(fe->port,
			    arena_printf(a,
					 "OPTIONS /Microsoft-Server-ActiveSync "
					 "HTTP/1.1\r\nHost: x\r\nX-Big: "
					 "%s\r\n\r\n",
					 big),
			    0),
		431);
	fd = tcp_connect(fe->port);
	CU_ASSERT_FATAL(fd >= 0);
	{
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char c;

		CU_ASSERT_EQUAL(poll(&pfd, 1, WAIT_MS), 1);
		CU_ASSERT(read(fd, &c, 1) <= 0);
	}
	close(fd);
	arena_free(&a);
}

/* Without --trusted-proxy a client's X-Forwarded-For is not believed. */
static void
test_forwarded_for_untrusted(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(fe, "ada", "XFFU");
	static const char *const h[] = {"X-Forwarded-For: 198.51.100.66", NULL};
	struct eas_response r;

	int before = harness_log_count(fe, "127.0.0.1 OPTIONS user=ada ");

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "OPTIONS", NULL, NULL, h, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT(harness_wait_log(fe, "127.0.0.1 OPTIONS user=ada ",
				   before + 1, WAIT_MS) > before);
	CU_ASSERT_EQUAL(harness_log_count(fe, "198.51.100.66"), 0);
	eas_client_free(&c);
	arena_free(&a);
}

/* --- connections per address --- */

/* From one address at most --max-connections-per-addr connections; a
 * closed one makes room again. */
static void
test_connections_per_addr(void)
{
	static const char *const args[] = {"--max-connections-per-addr", "3",
					   NULL};
	static const char req[] =
		"OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n"
		"Host: x\r\n\r\n";
	struct easd_proc *p = easd_start(args);
	int held[3], extra, st = 0;

	CU_ASSERT_FATAL(p != NULL);
	/* Three kept-alive connections, each surely accepted (answered). */
	for (int i = 0; i < 3; i++) {
		held[i] = tcp_connect(p->port);
		CU_ASSERT_FATAL(held[i] >= 0);
		CU_ASSERT(write(held[i], req, strlen(req)) ==
			  (ssize_t)strlen(req));
		CU_ASSERT_EQUAL(read_status(held[i]), 401);
	}
	/* libmicrohttpd accepts the fourth and closes it at once. */
	extra = tcp_connect(p->port);
	CU_ASSERT(extra >= 0);
	if (extra >= 0) {
		/* it may be closed already: either way no answer comes */
		(void)!write(extra, req, strlen(req));
		CU_ASSERT_EQUAL(read_status(extra), 0);
		close(extra);
	}
	CU_ASSERT(harness_wait_log(p, "--max-connections-per-addr", 1,
				   WAIT_MS) >= 1);
	close(held[0]);
	/* Room again once the server has seen the close. */
	for (uint64_t until = time_mono_ms() + WAIT_MS;
	     st != 401 && time_mono_ms() < until;)
		st = raw_request(p->port, req, 0);
	CU_ASSERT_EQUAL(st, 401);
	close(held[1]);
	close(held[2]);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

/* --- behind a reverse proxy --- */

/* From a trusted proxy the client is the rightmost X-Forwarded-For hop
 * that is not a trusted proxy itself, and the log names it; Autodiscover
 * answers with the scheme and host the proxy reports. */
static void
test_trusted_proxy(void)
{
	static const char *const args[] = {"--trusted-proxy", "127.0.0.1/32",
					   "--trusted-proxy", "10.0.0.0/8",
					   NULL};
	static const char ad_body[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
		"autodiscover/mobilesync/requestschema/2006\"><Request>"
		"<EMailAddress>ada@example.org</EMailAddress>"
		"<AcceptableResponseSchema>http://schemas.microsoft.com/"
		"exchange/autodiscover/mobilesync/responseschema/2006"
		"</AcceptableResponseSchema></Request></Autodiscover>";
	struct easd_proc *p = easd_start(args);
	struct arena *a = arena_new(0);
	struct eas_client *c;
	struct eas_response r;
	const char *h[5];

	CU_ASSERT_FATAL(p != NULL);
	c = harness_client_new(p, "ada", "PROXIED");
	h[0] = "X-Forwarded-For: 203.0.113.9, 198.51.100.7, 10.1.2.3";
	h[1] = NULL;
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "OPTIONS", NULL, NULL, h, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT(harness_wait_log(p, "198.51.100.7 OPTIONS user=ada", 1,
				   WAIT_MS) >= 1);
	/* an IPv6 client behind the same proxies, with a port */
	h[0] = "X-Forwarded-For: [2001:db8::5]:4711";
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "OPTIONS", NULL, NULL, h, NULL, 0, &r), 0);
	CU_ASSERT(harness_wait_log(p, "2001:db8::5 OPTIONS user=ada", 1,
				   WAIT_MS) >= 1);
	h[0] = "X-Forwarded-For: 198.51.100.7";
	h[1] = "X-Forwarded-Proto: https";
	h[2] = "X-Forwarded-Host: mail.example.org";
	h[3] = "Content-Type: text/xml";
	h[4] = NULL;
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST",
				       "/autodiscover/autodiscover.xml", NULL,
				       h, ad_body, strlen(ad_body), &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT(r.body != NULL &&
		  strstr((const char *)r.body,
			 "<Url>https://mail.example.org/"
			 "Microsoft-Server-ActiveSync</Url>") != NULL);
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	arena_free(&a);
}

/* --- throttling --- */

static struct easd_proc *th;

static int
th_init(void)
{
	/* 127.0.0.1 is a proxy: X-Forwarded-For gives each test the client
	 * addresses it needs. No delays: they are tested below. */
	static const char *const args[] = {"--trusted-proxy",
					   "127.0.0.1/32",
					   "--auth-delay-max",
					   "0",
					   "--auth-max-failures-per-addr",
					   "30",
					   NULL};

	th = easd_start(args);
	return th == NULL ? -1 : 0;
}

static int
th_clean(void)
{
	return easd_stop(&th) == 0 ? 0 : -1;
}

/* OPTIONS as user/password from client address from; the HTTP status. */
static int
login_from(struct easd_proc *p, const char *from, const char *user,
	   const char *password, struct eas_response *r)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(p, "ada", "THROTTLE");
	struct eas_response local;
	const char *h[3];
	int st;

	h[0] = basic_header(a, user, password);
	h[1] = arena_printf(a, "X-Forwarded-For: %s", from);
	h[2] = NULL;
	if (r == NULL)
		r = &local;
	st = eas_client_raw(c, a, "OPTIONS", NULL, NULL, h, NULL, 0, r) < 0
		     ? -1
		     : (int)r->http_status;
	/* r's strings live in a; keep only what callers look at */
	r->retry_after = r->retry_after != NULL ? "yes" : NULL;
	eas_client_free(&c);
	arena_free(&a);
	return st;
}

/* An attacker failing bob's password from a third address locks only
 * that address's pair: bob from his own address keeps working; the
 * attacker is refused even with the right password. */
static void
test_lockout_third_address(void)
{
	struct eas_response r;

	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(
			login_from(th, "203.0.113.66", "bob", "guess", NULL),
			401);
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.66", "bob", HARNESS_PASSWORD, &r),
		503);
	CU_ASSERT_PTR_NOT_NULL(r.retry_after);
	CU_ASSERT_EQUAL(
		login_from(th, "198.51.100.20", "bob", HARNESS_PASSWORD, NULL),
		200);
	/* and another account from the attacker's address is not locked */
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.66", "ada", HARNESS_PASSWORD, NULL),
		200);
	CU_ASSERT(harness_log_count(th,
				    "auth: login locked: "
				    "client=203.0.113.66 account='bob'") == 1);
}

/* The lock is the account's, whatever name form is typed: failures as
 * "bob" lock bob@example.org and EXAMPLE\bob from that address too. */
static void
test_lock_by_email_form(void)
{
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(
			login_from(th, "203.0.113.77", "bob", "guess", NULL),
			401);
	CU_ASSERT_EQUAL(login_from(th, "203.0.113.77", HARNESS_BOB_EMAIL,
				   HARNESS_PASSWORD, NULL),
			503);
	CU_ASSERT_EQUAL(login_from(th, "203.0.113.77", "EXAMPLE\\BOB",
				   HARNESS_PASSWORD, NULL),
			503);
	/* failures by the address count for bob as well */
	for (int i = 0; i < 10; i++)
		login_from(th, "203.0.113.78", HARNESS_BOB_EMAIL, "guess",
			   NULL);
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.78", "bob", HARNESS_PASSWORD, NULL),
		503);
}

/* A successful login resets its pair: failures before it do not add up
 * with failures after it. */
static void
test_success_resets_pair(void)
{
	for (int i = 0; i < 6; i++)
		login_from(th, "203.0.113.88", "ada", "typo", NULL);
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.88", "ada", HARNESS_PASSWORD, NULL),
		200);
	for (int i = 0; i < 9; i++)
		CU_ASSERT_EQUAL(
			login_from(th, "203.0.113.88", "ada", "typo", NULL),
			401);
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.88", "ada", HARNESS_PASSWORD, NULL),
		200);
}

/* An address failing across many accounts is refused for all of them
 * (--auth-max-failures-per-addr, 30 here); other addresses are not. */
static void
test_address_lock(void)
{
	struct arena *a = arena_new(0);

	for (int i = 0; i < 30; i++)
		CU_ASSERT_EQUAL(login_from(th, "203.0.113.99",
					   arena_printf(a, "user%d", i), "x",
					   NULL),
				401);
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.99", "ada", HARNESS_PASSWORD, NULL),
		503);
	CU_ASSERT_EQUAL(
		login_from(th, "203.0.113.100", "ada", HARNESS_PASSWORD, NULL),
		200);
	CU_ASSERT(harness_log_count(th, "auth: address locked: "
					"client=203.0.113.99 ") == 1);
	arena_free(&a);
}

/* The failure lines carry the client address before anything the client
 * typed, so the README's fail2ban filter takes the real address even
 * from a user name made to look like a line. */
static void
test_fail2ban_line(void)
{
	/* the README's failregex with <ADDR> spelled out */
	static const char re[] = "^[^ ]+ warn (req=[0-9]+: )?auth: login "
				 "failed: client=([0-9a-f.:]+) ";
	regex_t rx;
	regmatch_t m[3];
	FILE *f;
	char line[8192];
	int hits = 0;

	CU_ASSERT_EQUAL(
		login_from(th, "192.0.2.55", "x client=6.6.6.6 ", "p", NULL),
		401);
	CU_ASSERT(harness_wait_log(th, "192.0.2.55", 1, WAIT_MS) >= 1);
	CU_ASSERT_EQUAL_FATAL(regcomp(&rx, re, REG_EXTENDED), 0);
	f = fopen(th->log_path, "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "6.6.6.6") == NULL ||
		    regexec(&rx, line, 3, m, 0) != 0)
			continue;
		hits++;
		line[m[2].rm_eo] = '\0';
		CU_ASSERT_STRING_EQUAL(line + m[2].rm_so, "192.0.2.55");
	}
	fclose(f);
	regfree(&rx);
	CU_ASSERT_EQUAL(hits, 1);
}

/* After three failures a pair's 401s come later and later (here at most
 * 1 s): the answer is parked on a timer, not slept on a thread. Only the
 * path is asserted (the log line with the delay), not a time. */
static void
test_growing_delay(void)
{
	static const char *const args[] = {"--auth-delay-max", "1", NULL};
	struct easd_proc *p = easd_start(args);
	struct arena *a = arena_new(0);
	struct eas_client *c;
	struct eas_response r;

	CU_ASSERT_FATAL(p != NULL);
	c = harness_client_new(p, "bob", "DELAY");
	free(c->password);
	c->password = strdup("nope");
	for (int i = 0; i < 5; i++) {
		eas_client_options(c, a, &r);
		CU_ASSERT_EQUAL(r.http_status, 401);
	}
	CU_ASSERT_EQUAL(harness_log_count(p, "failures=3 delay=0 ms"), 1);
	CU_ASSERT_EQUAL(harness_log_count(p, "failures=4 delay=1000 ms"), 1);
	CU_ASSERT_EQUAL(harness_log_count(p, "failures=5 delay=1000 ms"), 1);
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	arena_free(&a);
}

/* --- parked requests --- */

/* A provisioned device of ada that synced its Inbox to the end, and the
 * raw bytes of a Ping on that Inbox (600 s), for a socket of our own. */
static struct eas_client *
ping_device(const struct easd_proc *p, struct arena *a, const char *device,
	    const char **req_r, size_t *len_r)
{
	struct eas_client *c = harness_client(p, "ada", device);
	const struct eas_folder *inbox;
	struct eas_sync_result sr;
	struct wbxml_node *ping, *f;
	struct buf body, out;
	int st;

	if (c == NULL || eas_client_foldersync(c, a, &st) < 0 ||
	    (inbox = eas_client_folder_by_type(c, 2)) == NULL ||
	    eas_client_sync(c, a, inbox->server_id, NULL, &sr) < 0) {
		eas_client_free(&c);
		return NULL;
	}
	ping = wbxml_new(a, EAS_PING_PING);
	wbxml_add_int(a, ping, EAS_PING_HEARTBEATINTERVAL, 600);
	f = wbxml_add(a, wbxml_add(a, ping, EAS_PING_FOLDERS), EAS_PING_FOLDER);
	wbxml_add_text(a, f, EAS_PING_ID, inbox->server_id);
	wbxml_add_text(a, f, EAS_PING_CLASS, "Email");
	buf_init(&body, 0);
	wbxml_encode(ping, &body);
	buf_init(&out, 0);
	buf_printf(&out,
		   "POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=ada&"
		   "DeviceId=%s&DeviceType=TestDevice HTTP/1.1\r\n"
		   "Host: 127.0.0.1\r\n%s\r\nMS-ASProtocolVersion: 16.1\r\n"
		   "X-MS-PolicyKey: %u\r\n"
		   "Content-Type: application/vnd.ms-sync.wbxml\r\n"
		   "Content-Length: %zu\r\n\r\n",
		   device, basic_header(a, "ada", HARNESS_PASSWORD),
		   c->policy_key, body.len);
	buf_append(&out, body.data, body.len);
	*req_r = arena_memdup(a, out.data, out.len);
	*len_r = out.len;
	buf_deinit(&body);
	buf_deinit(&out);
	return c;
}

/* Send a prepared request on a new connection and leave it open. */
static int
send_open(int port, const char *req, size_t len)
{
	int fd = tcp_connect(port);

	if (fd >= 0 && write(fd, req, len) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A parked Ping whose client hangs up is released then, not at the end
 * of its 600 s heartbeat: the server logs it (the test waits for that
 * line, at most WAIT_MS). */
static void
test_hungup_ping_released(void)
{
	static const char parked[] = "push: parked HUNGUP";
	static const char released[] = "closed its connection while parked";
	struct arena *a = arena_new(0);
	const char *req;
	size_t len;
	struct eas_client *c = ping_device(srv, a, "HUNGUP", &req, &len);
	int p0 = harness_log_count(srv, parked);
	int r0 = harness_log_count(srv, released);
	int fd;

	CU_ASSERT_FATAL(c != NULL);
	fd = send_open(srv->port, req, len);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(harness_wait_log(srv, parked, p0 + 1, WAIT_MS), p0 + 1);
	close(fd);
	CU_ASSERT_EQUAL(harness_wait_log(srv, released, r0 + 1, WAIT_MS),
			r0 + 1);
	/* and the device can ping again */
	{
		int st = 0;

		CU_ASSERT_EQUAL(eas_client_foldersync(c, a, &st), 0);
	}
	eas_client_free(&c);
	arena_free(&a);
}

/* An account has at most --max-parked-per-account parked requests; one
 * more is answered 503 with Retry-After at once, and the others wait
 * on. */
static void
test_parked_limit(void)
{
	static const char *const args[] = {"--max-parked-per-account", "2",
					   NULL};
	struct easd_proc *p = easd_start(args);
	struct arena *a = arena_new(0);
	struct eas_client *c[3] = {NULL, NULL, NULL};
	const char *req[3];
	size_t len[3];
	int fd[3], st;

	CU_ASSERT_FATAL(p != NULL);
	for (int i = 0; i < 3; i++) {
		c[i] = ping_device(p, a, arena_printf(a, "PARK%d", i), &req[i],
				   &len[i]);
		CU_ASSERT_FATAL(c[i] != NULL);
	}
	fd[0] = send_open(p->port, req[0], len[0]);
	fd[1] = send_open(p->port, req[1], len[1]);
	CU_ASSERT_EQUAL(harness_wait_log(p, "push: parked PARK", 2, WAIT_MS),
			2);
	fd[2] = send_open(p->port, req[2], len[2]);
	CU_ASSERT_FATAL(fd[0] >= 0 && fd[1] >= 0 && fd[2] >= 0);
	st = read_status(fd[2]);
	CU_ASSERT_EQUAL(st, 503);
	CU_ASSERT(harness_log_count(p, "--max-parked-per-account") >= 1);
	/* the first two are still parked: their clients hang up */
	close(fd[0]);
	close(fd[1]);
	close(fd[2]);
	CU_ASSERT_EQUAL(harness_wait_log(p,
					 "closed its connection while "
					 "parked",
					 2, WAIT_MS),
			2);
	for (int i = 0; i < 3; i++)
		eas_client_free(&c[i]);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	arena_free(&a);
}

/* An account has at most --max-devices-per-account devices: a new one
 * gets status 177 (MaximumDevicesReached) with 14.0+, 403 with 12.1; the
 * known ones keep working. */
static void
test_device_limit(void)
{
	static const char *const args[] = {"--max-devices-per-account", "2",
					   NULL};
	struct easd_proc *p = easd_start(args);
	struct arena *a = arena_new(0);
	struct eas_client *d1, *d2, *d3, *d4;
	struct wbxml_node *prov, *pol;
	struct eas_response r;
	int64_t status = -1;
	int st;

	CU_ASSERT_FATAL(p != NULL);
	d1 = harness_client(p, "ada", "DEV1");
	d2 = harness_client(p, "ada", "DEV2");
	CU_ASSERT_FATAL(d1 != NULL && d2 != NULL);
	d3 = harness_client_new(p, "ada", "DEV3");
	prov = wbxml_new(a, EAS_PROVISION_PROVISION);
	pol = wbxml_add(a, wbxml_add(a, prov, EAS_PROVISION_POLICIES),
			EAS_PROVISION_POLICY);
	wbxml_add_text(a, pol, EAS_PROVISION_POLICYTYPE,
		       "MS-EAS-Provisioning-WBXML");
	d3->auto_provision = false;
	CU_ASSERT_EQUAL(eas_client_post(d3, a, "Provision", prov, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT(r.tree != NULL &&
		  wbxml_child_int(r.tree, EAS_PROVISION_STATUS, &status) > 0);
	CU_ASSERT_EQUAL(status, 177);
	d4 = harness_client_new(p, "ada", "DEV4");
	eas_client_set_version(d4, "12.1");
	d4->auto_provision = false;
	eas_client_post(d4, a, "FolderSync", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.http_status, 403);
	CU_ASSERT(harness_log_count(p, "--max-devices-per-account") >= 2);
	CU_ASSERT_EQUAL(eas_client_foldersync(d1, a, &st), 0);
	CU_ASSERT_EQUAL(st, 1);
	eas_client_free(&d1);
	eas_client_free(&d2);
	eas_client_free(&d3);
	eas_client_free(&d4);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	arena_free(&a);
}

/* --- the data directory --- */

#define RUN_MS 60000

/* The directory is 0700 and every entry in it 0600, and the names in
 * must (NULL-terminated) are there. */
static void
check_private(const char *dir, const char *const *must)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	CU_ASSERT_EQUAL_FATAL(stat(dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	d = opendir(dir);
	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		CU_ASSERT_EQUAL(lstat(path, &st), 0);
		if ((st.st_mode & 07777) != 0600)
			fprintf(stderr, "%s: mode %04o\n", path,
				(unsigned)(st.st_mode & 07777));
		CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
		free(path);
	}
	closedir(d);
	for (size_t i = 0; must[i] != NULL; i++) {
		char *path = xasprintf("%s/%s", dir, must[i]);

		if (lstat(path, &st) < 0)
			fprintf(stderr, "%s is missing\n", path);
		CU_ASSERT_EQUAL(lstat(path, &st), 0);
		free(path);
	}
}

/* Under umask 000 the data directory easd creates is 0700 and everything
 * in it 0600 (database, -wal, -shm, notification socket, lock, log), also
 * after easctl wrote to it; a directory others can read is refused by
 * easd and easctl with the chmod to run. */
static void
test_permissions_umask000(void)
{
	char base[] = "/tmp/easd-perm-XXXXXX";
	char *dir, *out = NULL, *dir2 = NULL;
	struct easd_proc *p;
	mode_t old = umask(0);
	int rc;

	CU_ASSERT_FATAL(mkdtemp(base) != NULL);
	dir = xasprintf("%s/data", base);
	/* easd makes the missing directory and its database, then stops on
	 * an address it cannot listen on. */
	rc = harness_run((const char *const[]){harness_easd(), "--data", dir,
					       "--listen", "no-such-address",
					       NULL},
			 &out, RUN_MS);
	CU_ASSERT_NOT_EQUAL(rc, 0);
	free(out);
	p = easd_start_dir(dir, NULL);
	CU_ASSERT_FATAL(p != NULL);
	rc = harness_run((const char *const[]){harness_easctl(), "--data", dir,
					       "user", "add", "carol",
					       "--password", "pw", NULL},
			 &out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 0);
	free(out);
	/* A request makes a worker thread open the database (-wal, -shm). */
	{
		struct eas_client *c = eas_client_new(p->url, "carol", "pw",
						      "PERMS", "TestDevice");
		struct arena *a = arena_new(0);
		struct eas_response r;

		CU_ASSERT_EQUAL(eas_client_options(c, a, &r), 0);
		eas_client_free(&c);
		arena_free(&a);
	}
	check_private(dir,
		      (const char *const[]){"easd.db", "easd.db-wal",
					    "easd.db-shm", "easd.notify",
					    "easd.lock", "easd.log", NULL});
	CU_ASSERT_EQUAL(easd_stop_keep(&p, &dir2), 0);
	check_private(dir, (const char *const[]){"easd.db", "easd.lock", NULL});

	/* Others may read it: refused, with the fix in the message. */
	CU_ASSERT_EQUAL(chmod(dir, 0755), 0);
	rc = harness_run((const char *const[]){harness_easd(), "--data", dir,
					       "--listen", "127.0.0.1:0", NULL},
			 &out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(out != NULL && strstr(out, "chmod 700") != NULL);
	free(out);
	rc = harness_run((const char *const[]){harness_easctl(), "--data", dir,
					       "user", "list", NULL},
			 &out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(out != NULL && strstr(out, "chmod 700") != NULL);
	free(out);
	umask(old);
	harness_rmtree(base);
	free(dir);
	free(dir2);
}

/* What a directory holds: names with inode, size and mtime, the log (the
 * running server may write to it) and the parent left out. */
static char *
dir_snapshot(const char *dir)
{
	struct buf b;
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t len;

	buf_init(&b, 0);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;

		/* ".." is the world's (/tmp); "." changes if an entry comes
		 * or goes */
		if (strcmp(de->d_name, "easd.log") != 0 &&
		    strcmp(de->d_name, "..") != 0 && lstat(path, &st) == 0)
			buf_printf(&b, "%s %lu %lld %lld.%09ld\n", de->d_name,
				   (unsigned long)st.st_ino,
				   (long long)st.st_size,
				   (long long)st.st_mtim.tv_sec,
				   st.st_mtim.tv_nsec);
		free(path);
	}
	if (d != NULL)
		closedir(d);
	buf_append(&b, "", 1);
	return (char *)buf_steal(&b, &len);
}

/* A second easd on the same data directory, even one that would fail at
 * once on the address in use, says who serves it and leaves everything
 * as it was: the first server keeps its notification socket. */
static void
test_second_server(void)
{
	struct easd_proc *p = easd_start(NULL);
	char *before, *after, *out = NULL, *notify, *want, port[32];
	struct sockaddr_un sun;
	int rc, fd;

	CU_ASSERT_FATAL(p != NULL);
	before = dir_snapshot(p->dir);
	snprintf(port, sizeof(port), "127.0.0.1:%d", p->port);
	rc = harness_run((const char *const[]){harness_easd(), "--data", p->dir,
					       "--listen", port, NULL},
			 &out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 1);
	want = xasprintf("already served by pid %ld", (long)p->pid);
	CU_ASSERT(out != NULL && strstr(out, want) != NULL);
	if (out != NULL && strstr(out, want) == NULL)
		fprintf(stderr, "second easd said: %s\n", out);
	after = dir_snapshot(p->dir);
	CU_ASSERT_STRING_EQUAL(after, before);
	if (strcmp(after, before) != 0)
		fprintf(stderr, "before:\n%safter:\n%s", before, after);
	/* The first server still receives on its socket. */
	notify = xasprintf("%s/easd.notify", p->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", notify);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	CU_ASSERT(fd >= 0 &&
		  connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	if (fd >= 0)
		close(fd);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	free(before);
	free(after);
	free(out);
	free(want);
	free(notify);
}

/* easctl on a directory that does not exist creates nothing and says how
 * to make one; easctl init makes it (0700) and then the commands work,
 * naming the data directory they used. */
static void
test_easctl_missing_dir(void)
{
	char base[] = "/tmp/easctl-missing-XXXXXX";
	char *dir, *out = NULL, *real;
	struct stat st;
	int rc;

	CU_ASSERT_FATAL(mkdtemp(base) != NULL);
	dir = xasprintf("%s/not-there", base);
	rc = harness_run((const char *const[]){harness_easctl(), "--data", dir,
					       "user", "list", NULL},
			 &out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(out != NULL && strstr(out, "does not exist") != NULL &&
		  strstr(out, "easctl init") != NULL);
	CU_ASSERT(stat(dir, &st) < 0 && errno == ENOENT);
	free(out);
	rc = harness_run(
		(const char *const[]){harness_easctl(), "init", dir, NULL},
		&out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 0);
	free(out);
	CU_ASSERT_EQUAL_FATAL(stat(dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	real = realpath(dir, NULL);
	rc = harness_run((const char *const[]){harness_easctl(), "--data", dir,
					       "user", "list", NULL},
			 &out, RUN_MS);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(out != NULL && real != NULL && strstr(out, real) != NULL);
	free(out);
	free(real);
	harness_rmtree(base);
	free(dir);
}

static CU_TestInfo default_tests[] = {
	{"a newline in a Basic-auth user name forges no log line",
	 test_log_injection},
	{"an unknown user is checked against a dummy hash",
	 test_unknown_user_dummy_hash},
	{"401 before a 10 MB body is read; the server does not grow",
	 test_unauth_body_not_read},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo store_tests[] = {
	{"disk full: 503 with Retry-After, nothing lost once there is space",
	 test_disk_full},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo datadir_tests[] = {
	{"umask 000: the directory 0700, every file 0600; others refused",
	 test_permissions_umask000},
	{"a second easd changes nothing and names the first",
	 test_second_server},
	{"easctl refuses a missing directory until easctl init",
	 test_easctl_missing_dir},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo frontend_tests[] = {
	{"an absurd Content-Length gets 400", test_absurd_content_length},
	{"body limits per command, plain and base64 query", test_body_limits},
	{"header size and idle connections are limited",
	 test_header_and_idle_limits},
	{"X-Forwarded-For from an untrusted peer is ignored",
	 test_forwarded_for_untrusted},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo throttle_tests[] = {
	{"lockout by a third address does not lock the real user",
	 test_lockout_third_address},
	{"the lock is the account's, by its e-mail form too",
	 test_lock_by_email_form},
	{"a successful login resets its pair", test_success_resets_pair},
	{"an address failing for many accounts is refused", test_address_lock},
	{"failure lines fit the fail2ban filter, injection or not",
	 test_fail2ban_line},
	{"a pair's failed answers are delayed more and more",
	 test_growing_delay},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo parked_tests[] = {
	{"a parked Ping whose client hangs up is released",
	 test_hungup_ping_released},
	{"parked requests per account are limited (503)", test_parked_limit},
	{"devices per account are limited (177, 403)", test_device_limit},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo network_tests[] = {
	{"connections per client address are limited",
	 test_connections_per_addr},
	{"behind a trusted proxy: the real client, the public URL",
	 test_trusted_proxy},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"default limits", suite_init, suite_clean, NULL, NULL, default_tests},
	{"before the body", fe_init, fe_clean, NULL, NULL, frontend_tests},
	{"network", NULL, NULL, NULL, NULL, network_tests},
	{"parked requests and devices", suite_init, suite_clean, NULL, NULL,
	 parked_tests},
	{"throttling", th_init, th_clean, NULL, NULL, throttle_tests},
	{"store", NULL, NULL, NULL, NULL, store_tests},
	{"data directory", NULL, NULL, NULL, NULL, datadir_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
