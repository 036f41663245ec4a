/* The web pages' output helpers: the one HTML-escaping function every
 * value goes through, web_printf (markup from the format, values
 * escaped), and the URL encoding of query values. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "test-main.h"
#include "util.h"
#include "web.h"

/* web.c asks the server for its store only when serving a request. */
struct store *
easd_thread_store(struct easd *srv)
{
	(void)srv;
	return NULL;
}

static const char *
escaped(struct arena *a, const char *s)
{
	struct buf b;
	const char *r;

	buf_init(&b, 0);
	web_escape(&b, s);
	r = arena_strndup(a, b.len > 0 ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

static void
test_escape(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain", "plain"},
		{"<script>alert(1)</script>",
		 "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"a & b", "a &amp; b"},
		{"\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;"},
		{"&amp;", "&amp;amp;"},
		{"caf\xc3\xa9", "caf\xc3\xa9"}, /* UTF-8 passes */
		{"", ""},
	};
	struct arena *a = arena_new(0);

	for (size_t i = 0; i < N_ELEMENTS(cases); i++)
		CU_ASSERT_STRING_EQUAL(escaped(a, cases[i].in), cases[i].out);
	CU_ASSERT_STRING_EQUAL(escaped(a, NULL), "");
	arena_free(&a);
}

static void
test_printf(void)
{
	struct web w;

	memset(&w, 0, sizeof(w));
	w.arena = arena_new(0);
	buf_init(&w.out, 0);
	web_printf(&w, "<a href=\"/device?id=%lld\">%s</a> %d%% %zu %u|",
		   (long long)42, "<b>\"x\"</b>", -7, (size_t)3, 5u);
	CU_ASSERT_STRING_EQUAL(
		(const char *)w.out.data,
		"<a "
		"href=\"/device?id=42\">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</a> "
		"-7% 3 5|");
	buf_deinit(&w.out);
	arena_free(&w.arena);
}

static void
test_url_encode(void)
{
	struct web w;

	memset(&w, 0, sizeof(w));
	w.arena = arena_new(0);
	CU_ASSERT_STRING_EQUAL(web_url_encode(&w, "a b&c=d/\"<"),
			       "a%20b%26c%3Dd%2F%22%3C");
	CU_ASSERT_STRING_EQUAL(web_url_encode(&w, "Az09-._~"), "Az09-._~");
	CU_ASSERT_STRING_EQUAL(web_url_encode(&w, NULL), "");
	arena_free(&w.arena);
}

static CU_TestInfo web_tests[] = {
	{"escape", test_escape},
	{"printf", test_printf},
	{"url_encode", test_url_encode},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"web", NULL, NULL, NULL, NULL, web_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
