/* End-to-end tests of what an attacker or an unlucky network can do to a
 * real easd (issue 13): forged log lines, store failures, the data
 * directory, a second server, TLS, throttling, bodies before
 * authentication, dead connections. Each test fails on the server before
 * the hardening; none depends on timing (they wait for events, with
 * generous bounds as a safety net only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"

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

static CU_TestInfo log_tests[] = {
	{"a newline in a Basic-auth user name forges no log line",
	 test_log_injection},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"logs", suite_init, suite_clean, NULL, NULL, log_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
