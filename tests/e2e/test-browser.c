/* The web pages in a real browser: easclient provisions two devices, a
 * headless Chromium (tests/e2e/browser.py, Selenium with Debian's chromium
 * and chromedriver) logs in as the administrator and wipes one from its
 * page, then as its user on the self-service page and wipes the other;
 * each device's next request gets its wipe. The screenshots of every page
 * are left in the build folder (screenshots/ beside easd). */
#include <CUnit/CUnit.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "xalloc.h"

#define BROWSER_MS (240 * 1000) /* safety bound of the browser's run */
#define CLIENT_MS (60 * 1000)

/* Run easclient as device of user with its state in dir; its output
 * (heap) in *out_r; the exit status. */
static int
easclient(const struct easd_proc *p, const char *user, const char *device,
	  const char *command, char **out_r)
{
	char *state = xasprintf("%s/%s.state", p->dir, device);
	const char *argv[] = {getenv("EASCLIENT_BIN") != NULL
				      ? getenv("EASCLIENT_BIN")
				      : "build/asan/easclient",
			      "--url",
			      p->url,
			      "--user",
			      user,
			      "--password",
			      HARNESS_PASSWORD,
			      "--device",
			      device,
			      "--type",
			      "iPhone",
			      "--state",
			      state,
			      command,
			      NULL};
	int rc = harness_run(argv, out_r, CLIENT_MS);

	free(state);
	return rc;
}

static enum store_wipe
wipe_of(const struct easd_proc *p, int64_t account, const char *device)
{
	struct store *s = easd_store(p);
	struct arena *a = arena_new(0);
	struct store_device d = {.wipe = STORE_WIPE_NONE};

	if (s != NULL)
		CU_ASSERT_EQUAL(store_device_get(s, a, account, device, &d),
				STORE_OK);
	arena_free(&a);
	store_close(&s);
	return d.wipe;
}

static void
next_request_wipes(const struct easd_proc *p, const char *device)
{
	char *out = NULL;

	CU_ASSERT_EQUAL(easclient(p, HARNESS_BOB, device, "foldersync", &out),
			1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Status 140"));
	free(out);
	CU_ASSERT_EQUAL(easclient(p, HARNESS_BOB, device, "provision", &out),
			0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "remote wipe requested and acknowledged"));
	free(out);
}

/* Exit status of browser.py when the browser itself broke (chromedriver
 * or Chromium, not a page): the run is repeated once on a fresh server. */
#define BROWSER_BROKE 75

/* A server with bob's two devices, and browser.py run against it: its
 * exit status into *rc_r, its output into *out_r. */
static struct easd_proc *
start_and_browse(int *rc_r, char **out_r)
{
	static const char *const args[] = {"--admin-listen", "127.0.0.1:0",
					   NULL};
	struct easd_proc *p = easd_start(args);
	char *out = NULL, *admin, *bin, *shots, *script;
	struct store *s;

	*rc_r = -1;
	*out_r = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	s = easd_store(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(store_account_set_admin(s, p->ada_id, true), STORE_OK);
	store_close(&s);

	/* the devices: bob's lost phone for the admin, his old tablet for
	 * himself */
	CU_ASSERT_EQUAL(
		easclient(p, HARNESS_BOB, "LOSTPHONE", "provision", &out), 0);
	free(out);
	CU_ASSERT_EQUAL(
		easclient(p, HARNESS_BOB, "OLDTABLET", "provision", &out), 0);
	free(out);

	admin = xasprintf("http://127.0.0.1:%d", p->admin_port);
	bin = xstrdup(harness_easd());
	shots = xasprintf("%s/screenshots", dirname(bin));
	script = xasprintf("%s/tests/e2e/browser.py",
			   getenv("EASD_SRCDIR") != NULL ? getenv("EASD_SRCDIR")
							 : ".");
	{
		const char *argv[] = {"/usr/bin/python3",
				      script,
				      "--admin",
				      admin,
				      "--public",
				      p->url,
				      "--admin-user",
				      HARNESS_ADA,
				      "--user",
				      HARNESS_BOB,
				      "--password",
				      HARNESS_PASSWORD,
				      "--admin-device",
				      "LOSTPHONE",
				      "--self-device",
				      "OLDTABLET",
				      "--shots",
				      shots,
				      NULL};

		*rc_r = harness_run(argv, out_r, BROWSER_MS);
	}
	free(script);
	free(shots);
	free(bin);
	free(admin);
	return p;
}

static void
test_browser_wipes(void)
{
	struct easd_proc *p;
	char *out;
	int rc;

	CU_ASSERT_FATAL(access("/usr/bin/chromium", X_OK) == 0 &&
			access("/usr/bin/chromedriver", X_OK) == 0);
	p = start_and_browse(&rc, &out);
	if (rc == BROWSER_BROKE) {
		/* what the pages did before the browser broke is not known:
		 * everything again, from a fresh server */
		printf("\n%s\nthe browser broke; once more on a fresh "
		       "server\n",
		       out != NULL ? out : "");
		free(out);
		CU_ASSERT_EQUAL(easd_stop(&p), 0);
		p = start_and_browse(&rc, &out);
	}
	printf("\n%s", out != NULL ? out : "");
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "\n0 failed") : NULL);
	free(out);
	CU_ASSERT_EQUAL(wipe_of(p, p->bob_id, "LOSTPHONE"),
			STORE_WIPE_REQUESTED);
	CU_ASSERT_EQUAL(wipe_of(p, p->bob_id, "OLDTABLET"),
			STORE_WIPE_REQUESTED);

	/* each device's next request gets its wipe: Status 140 (MS-ASCMD
	 * 2.2.2: remote wipe requested) sends it to Provision, which hands
	 * it the wipe; it acknowledges */
	next_request_wipes(p, "LOSTPHONE");
	next_request_wipes(p, "OLDTABLET");
	CU_ASSERT_EQUAL(wipe_of(p, p->bob_id, "LOSTPHONE"),
			STORE_WIPE_ACKNOWLEDGED);
	CU_ASSERT_EQUAL(wipe_of(p, p->bob_id, "OLDTABLET"),
			STORE_WIPE_ACKNOWLEDGED);
	CU_ASSERT(harness_log_count(p, "LOSTPHONE (row ") == 1);
	CU_ASSERT(harness_log_count(p, "by ada from") >= 1);
	CU_ASSERT(harness_log_count(p, "web: self-service: device OLDTABLET") ==
		  1);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
}

#define T(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static CU_TestInfo browser_tests[] = {
	T(test_browser_wipes),
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"browser", NULL, NULL, NULL, NULL, browser_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
