/* The client quirk table (server/quirks.c): each entry matches the
 * headers its client sends (from ../shared/fixtures/client-requests when
 * it is there) and nothing else, and what a flag does to a response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quirks.h"
#include "test-main.h"
#include "util.h"

static const struct {
	const char *device_type, *user_agent;
	unsigned want;
} cases[] = {
	/* pyactivesync */
	{"pyactivesync", "python-requests/2.28.1", QUIRK_NO_EMPTY_SYNC},
	/* Thunderbird's add-on, by either header */
	{"TbSync", "Thunderbird ActiveSync", QUIRK_NO_OPAQUE},
	{"TbSync", NULL, QUIRK_NO_OPAQUE},
	{"Something", "Thunderbird ActiveSync", QUIRK_NO_OPAQUE},
	/* iOS */
	{"iPhone", "Apple-iPhone14C2/2101.48", QUIRK_EMPTY_PICTURE_KEEPS},
	{"iPad", "Apple-iPad13C1/2101.48", QUIRK_EMPTY_PICTURE_KEEPS},
	/* Gmail and Samsung */
	{"Android", "Android-Mail/2023.05.14.534281893.Release",
	 QUIRK_DATES_AS_UTC},
	{"SAMSUNGSMG991B", "SAMSUNG-SM-G991B/101.30004", QUIRK_DATES_AS_UTC},
	/* clients without a quirk */
	{"libeas", "libeas", 0},
	{"WindowsOutlook15", "Outlook/16.0 (16.0.5461; MSI; x64)", 0},
	{"easclient", "easclient/1.0", 0},
	{NULL, NULL, 0},
	/* a pattern is the whole name, not a part of it */
	{"notpyactivesync", NULL, 0},
	{"MyiPhoneApp", NULL, 0},
};

static void
test_table(void)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		unsigned got =
			quirks_of(cases[i].device_type, cases[i].user_agent);

		if (got != cases[i].want)
			fprintf(stderr, "%s / %s: got %#x want %#x\n",
				cases[i].device_type, cases[i].user_agent, got,
				cases[i].want);
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
}

/* The value of header name in a captured .http request, or NULL. */
static char *
header_of(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *eol = strstr(p, "\r\n");

		if (eol == NULL || eol == p)
			break;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(eol - v));
		}
		p = eol + 2;
	}
	return NULL;
}

static char *
query_param(const char *text, const char *name)
{
	char *key;
	const char *p, *e;
	char *r;

	if (asprintf(&key, "%s=", name) < 0)
		return NULL;
	p = strstr(text, key);
	free(key);
	if (p == NULL)
		return NULL;
	p += strlen(name) + 1;
	e = p + strcspn(p, "& \r\n");
	r = strndup(p, (size_t)(e - p));
	return r;
}

/* The exact headers the real clients sent (fixtures, when present). */
static void
test_captured(void)
{
	static const struct {
		const char *dir;
		unsigned want;
	} clients[] = {
		{"pyactivesync-eas16.1", QUIRK_NO_EMPTY_SYNC},
		{"eas4tbsync-5.3.4-eas16.1", QUIRK_NO_OPAQUE},
		{"eas4tbsync-5.3.4-eas14.0", QUIRK_NO_OPAQUE},
		{"evolution-activesync-16.1", 0},
	};
	const char *shared = test_shared_dir();

	if (shared == NULL) {
		fprintf(stderr, "(no ../shared: captured requests skipped) ");
		return;
	}
	for (size_t i = 0; i < N_ELEMENTS(clients); i++) {
		char path[512], text[8192];
		char *dt, *ua;
		size_t n;
		FILE *f;

		snprintf(path, sizeof(path),
			 "%s/fixtures/client-requests/%s/006-Sync.http", shared,
			 clients[i].dir);
		f = fopen(path, "rb");
		if (f == NULL) {
			fprintf(stderr, "(%s missing) ", path);
			continue;
		}
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		dt = query_param(text, "DeviceType");
		ua = header_of(text, "User-Agent");
		CU_ASSERT_PTR_NOT_NULL(dt);
		CU_ASSERT_EQUAL(quirks_of(dt, ua), clients[i].want);
		free(dt);
		free(ua);
	}
}

static void
test_no_opaque(void)
{
	struct arena *a = arena_new(4096);
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC), *app;
	const struct wbxml_node *n;

	app = wbxml_add(a, root, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_opaque(a, app, EAS_CONTACTS_COMPRESSEDRTF, "text", 4);
	wbxml_add_opaque(a, app, EAS_EMAIL2_CONVERSATIONID, "\x00\x01\xff", 3);
	wbxml_add_opaque(a, app, EAS_CONTACTS_BODYSIZE, "\xc3\x28", 2);
	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, "Tb");
	quirks_response(0, root);
	CU_ASSERT_EQUAL(wbxml_count_children(app), 4);
	quirks_response(QUIRK_NO_OPAQUE, root);
	/* UTF-8 text goes as a string; bytes no string carries go */
	CU_ASSERT_EQUAL(wbxml_count_children(app), 2);
	n = wbxml_child(app, EAS_CONTACTS_COMPRESSEDRTF);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT(!n->opaque);
	CU_ASSERT_PTR_NULL(wbxml_child(app, EAS_EMAIL2_CONVERSATIONID));
	CU_ASSERT_PTR_NULL(wbxml_child(app, EAS_CONTACTS_BODYSIZE));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(app, EAS_CONTACTS_FIRSTNAME));
	CU_ASSERT_STRING_EQUAL(
		quirks_names(a, QUIRK_NO_OPAQUE | QUIRK_DATES_AS_UTC),
		"no-opaque,dates-as-utc");
	CU_ASSERT_STRING_EQUAL(quirks_names(a, 0), "");
	arena_free(&a);
}

static void
test_conv_flags(void)
{
	struct conv_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	quirks_conv_ctx(QUIRK_EMPTY_PICTURE_KEEPS | QUIRK_DATES_AS_UTC, &ctx);
	CU_ASSERT(ctx.empty_picture_kept);
	CU_ASSERT(ctx.dates_as_utc);
	quirks_conv_ctx(0, &ctx);
	CU_ASSERT(!ctx.empty_picture_kept);
	CU_ASSERT(!ctx.dates_as_utc);
}

static CU_TestInfo tests[] = {
	{"entries match their clients only", test_table},
	{"the headers real clients sent", test_captured},
	{"no OPAQUE: strings stay, binary goes", test_no_opaque},
	{"conv flags", test_conv_flags},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"quirk table", NULL, NULL, NULL, NULL, tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
