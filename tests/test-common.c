/* Unit tests of common/: arena, buffer, base64, dates, numbers, listen
 * addresses, client addresses and CIDR ranges, log lines, the
 * loop-detection blob. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "log.h"
#include "loopstate.h"
#include "net.h"
#include "test-main.h"
#include "util.h"

static void
test_arena_many_and_large(void)
{
	struct arena *a = arena_new(0);
	char *big;

	for (int i = 0; i < 10000; i++) {
		char *p = arena_printf(a, "item %d", i);

		CU_ASSERT_STRING_EQUAL(p, arena_printf(a, "item %d", i));
	}
	big = arena_alloc(a, 4 * 1024 * 1024);
	memset(big, 'x', 4 * 1024 * 1024);
	CU_ASSERT(arena_used(a) >= 4 * 1024 * 1024);
	arena_reset(a);
	CU_ASSERT_EQUAL(arena_used(a), 0);
	arena_free(&a);
	CU_ASSERT_PTR_NULL(a);
}

static void
test_arena_grow(void)
{
	struct arena *a = arena_new(0);
	int *v = NULL;
	size_t cap = 0;

	for (int i = 0; i < 1000; i++) {
		v = arena_grow(a, v, (size_t)i, &cap, sizeof(*v));
		v[i] = i;
	}
	CU_ASSERT(cap >= 1000);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(v[i], i);
	arena_free(&a);
}

/* Strings are packed (many short ones a request), everything else stays
 * aligned for any type, and a small arena's strings keep their values
 * across the blocks it grows. */
static void
test_arena_strings_packed(void)
{
	struct arena *a = arena_new_small(1024);
	char *s[200];
	char *x, *y;

	x = arena_strdup(a, "ab");
	y = arena_strdup(a, "cd");
	CU_ASSERT_PTR_EQUAL(y, x + 3);
	for (int i = 0; i < 200; i++) {
		void *p;

		s[i] = arena_printf(a, "string %d", i);
		p = arena_alloc(a, 24);
		CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
		memset(p, 0xee, 24);
	}
	for (int i = 0; i < 200; i++) {
		char want[32];

		snprintf(want, sizeof(want), "string %d", i);
		CU_ASSERT_STRING_EQUAL(s[i], want);
	}
	CU_ASSERT_STRING_EQUAL(x, "ab");
	CU_ASSERT_STRING_EQUAL(y, "cd");
	arena_free(&a);
}

static int cleanups_run;
static void
count_cleanup(void *p)
{
	(void)p;
	cleanups_run++;
}

static void
test_arena_cleanup(void)
{
	struct arena *a = arena_new(0);

	arena_add_cleanup(a, count_cleanup, NULL);
	arena_add_cleanup(a, count_cleanup, NULL);
	arena_free(&a);
	CU_ASSERT_EQUAL(cleanups_run, 2);
}

static void
test_buf_limit(void)
{
	struct buf b;

	buf_init(&b, 10);
	CU_ASSERT_EQUAL(buf_puts(&b, "hello"), 0);
	CU_ASSERT_EQUAL(buf_puts(&b, "world"), 0);
	CU_ASSERT_EQUAL(buf_putc(&b, '!'), -1);
	CU_ASSERT(b.overflow);
	CU_ASSERT_EQUAL(b.len, 10);
	CU_ASSERT_STRING_EQUAL((char *)b.data, "helloworld");
	buf_deinit(&b);
}

static void
test_buf_read_path(void)
{
	char path[] = "/tmp/easd-buf-XXXXXX";
	int fd = mkstemp(path);
	const char *error = NULL;
	struct buf b;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "0123456789", 10), 10);
	close(fd);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(buf_read_path(&b, path, &error), 0);
	CU_ASSERT_EQUAL(b.len, 10);
	buf_deinit(&b);
	/* Over the limit: an error, not a silent cut. */
	buf_init(&b, 4);
	CU_ASSERT_EQUAL(buf_read_path(&b, path, &error), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(error, "larger than 4"));
	buf_deinit(&b);
	{
		struct arena *a = arena_new(0);
		char *data;
		size_t len;

		CU_ASSERT_EQUAL(
			arena_read_path(a, path, 0, &data, &len, &error), 0);
		CU_ASSERT_EQUAL(len, 10);
		CU_ASSERT_STRING_EQUAL(data, "0123456789");
		arena_free(&a);
	}
	unlink(path);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(buf_read_path(&b, path, &error), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(error, "cannot read"));
	buf_deinit(&b);
}

static void
test_base64(void)
{
	static const struct {
		const char *plain, *enc;
	} cases[] = {
		{"", ""},	 {"f", "Zg=="},		 {"fo", "Zm8="},
		{"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"},
	};
	char enc[64];
	uint8_t dec[64];

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		size_t n = strlen(cases[i].plain);
		long len;

		base64_encode(cases[i].plain, n, enc);
		CU_ASSERT_STRING_EQUAL(enc, cases[i].enc);
		len = base64_decode(enc, strlen(enc), dec);
		CU_ASSERT_EQUAL(len, (long)n);
		CU_ASSERT(memcmp(dec, cases[i].plain, n) == 0);
	}
	CU_ASSERT_EQUAL(base64_decode("Zm9v!", 5, dec), -1);
	CU_ASSERT_EQUAL(base64_decode("Z", 1, dec), -1);
}

static void
test_time(void)
{
	char out[32];
	int64_t t;

	CU_ASSERT_EQUAL(time_parse("2024-03-05T14:30:00.000Z", &t), 0);
	time_format_compact(t, out);
	CU_ASSERT_STRING_EQUAL(out, "20240305T143000Z");
	CU_ASSERT_EQUAL(time_parse("20240305T143000Z", &t), 0);
	time_format_iso(t, out);
	CU_ASSERT_STRING_EQUAL(out, "2024-03-05T14:30:00.000Z");
	CU_ASSERT_EQUAL(time_parse("2024-13-05T14:30:00Z", &t), -1);
	CU_ASSERT_EQUAL(time_parse("yesterday", &t), -1);
	CU_ASSERT_EQUAL(time_parse("2024-03-05", &t), 0);
}

static void
test_numbers(void)
{
	int64_t v;
	uint32_t u;

	CU_ASSERT_EQUAL(str_to_int64("42", &v), 0);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_EQUAL(str_to_int64("42x", &v), -1);
	CU_ASSERT_EQUAL(str_to_int64("", &v), -1);
	CU_ASSERT_EQUAL(str_to_int64("99999999999999999999", &v), -1);
	CU_ASSERT_EQUAL(str_to_uint32("4294967295", &u), 0);
	CU_ASSERT_EQUAL(str_to_uint32("4294967296", &u), -1);
	CU_ASSERT_EQUAL(str_to_uint32("-1", &u), -1);
}

/* One parser for every listener: IPv4, bracketed IPv6, any address, a
 * name; port 0 reports the port it got; malformed specs are refused with a
 * text that names them. */
static void
test_net_listen(void)
{
	static const char *const good[] = {"127.0.0.1:0", "[::1]:0",
					   "localhost:0"};
	static const char *const bad[] = {"127.0.0.1",
					  "127.0.0.1:",
					  "[::1]0",
					  "[::1",
					  "no.such.host.invalid:0",
					  ":x"};
	const char *err = NULL;
	uint16_t port;
	int fd;

	for (size_t i = 0; i < N_ELEMENTS(good); i++) {
		port = 0;
		fd = net_listen(good[i], 4, &port, &err);
		if (fd < 0 && strcmp(good[i], "[::1]:0") == 0)
			continue; /* no IPv6 on this machine */
		CU_ASSERT(fd >= 0);
		CU_ASSERT(port > 0);
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		err = NULL;
		CU_ASSERT_EQUAL(net_listen(bad[i], 4, &port, &err), -1);
		CU_ASSERT(err != NULL && strstr(err, bad[i]) != NULL);
	}
	/* the port is taken: a clear error, not a crash */
	fd = net_listen("127.0.0.1:0", 4, &port, &err);
	CU_ASSERT_FATAL(fd >= 0);
	{
		char spec[32];

		snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
		CU_ASSERT_EQUAL(net_listen(spec, 4, &port, &err), -1);
		CU_ASSERT(err != NULL && strstr(err, "cannot listen") != NULL);
	}
	close(fd);
}

/* Addresses and CIDR ranges: IPv4 is the mapped IPv6 address, so
 * 127.0.0.1/32 matches a v4 client of a [::] listener too. */
static void
test_net_cidr(void)
{
	static const struct {
		const char *cidr, *addr;
		bool match;
	} cases[] = {
		{"127.0.0.1/32", "127.0.0.1", true},
		{"127.0.0.1/32", "::ffff:127.0.0.1", true},
		{"127.0.0.1/32", "127.0.0.2", false},
		{"10.0.0.0/8", "10.255.1.2", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"192.0.2.128/25", "192.0.2.200", true},
		{"192.0.2.128/25", "192.0.2.100", false},
		{"0.0.0.0/0", "198.51.100.1", true},
		{"0.0.0.0/0", "2001:db8::1", false},
		{"2001:db8::/32", "2001:db8:1::5", true},
		{"2001:db8::/32", "2001:db9::5", false},
		{"::1", "::1", true},
		{"::/0", "10.0.0.1", true},
		{"198.51.100.7", "198.51.100.7", true},
	};
	static const char *const bad[] = {"",	  "10.0.0.0/33", "::/129",
					  "10/8", "1.2.3.4/",	 "1.2.3.4/x",
					  "host", "1.2.3.4:80",	 "/8"};
	struct net_cidr c;
	struct net_addr a;
	char text[NET_ADDR_STRLEN];

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		CU_ASSERT_EQUAL_FATAL(net_cidr_parse(cases[i].cidr, &c), 0);
		CU_ASSERT_EQUAL_FATAL(net_addr_parse(cases[i].addr, &a), 0);
		CU_ASSERT_EQUAL(net_cidr_match(&c, &a), cases[i].match);
	}
	for (size_t i = 0; i < N_ELEMENTS(bad); i++)
		CU_ASSERT_EQUAL(net_cidr_parse(bad[i], &c), -1);
	CU_ASSERT_EQUAL(net_addr_parse("::ffff:192.0.2.1", &a), 0);
	net_addr_format(&a, text);
	CU_ASSERT_STRING_EQUAL(text, "192.0.2.1");
	CU_ASSERT_EQUAL(net_addr_parse("2001:DB8::1", &a), 0);
	net_addr_format(&a, text);
	CU_ASSERT_STRING_EQUAL(text, "2001:db8::1");
}

/* What log lines fn writes to stderr, captured through a file. */
static char *
capture_log(void (*fn)(void))
{
	char path[] = "/tmp/easd-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	static char out[65536];
	ssize_t n;

	CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return out;
}

static void
log_forged(void)
{
	log_ctx_set("req=1 dev=A\rB");
	log_warn("login of '%s' failed",
		 "mallory\n2026-01-01T00:00:00.000Z warn login ok\x1b[2J\x7f"
		 "\xc2\x9b"
		 "\xc3\xa9");
	log_ctx_set(NULL);
}

static void
log_dump(void)
{
	log_block(LOG_WARN, "request", "<a>\n\t<b/>\n</a>", 15);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* A value with a newline, an escape sequence or a C1 control cannot end
 * a line early or forge one: it is escaped, UTF-8 text is not. */
static void
test_log_escapes(void)
{
	char *out = capture_log(log_forged);

	CU_ASSERT_EQUAL(count_lines(out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		out,
		"req=1 dev=A\\rB: login of 'mallory\\n2026-01-01T00:00:00."
		"000Z warn login ok\\x1b[2J\\x7f\\u009b\xc3\xa9' failed\n"));
	CU_ASSERT_PTR_NULL(strchr(out, '\x1b'));
	out = capture_log(log_dump);
	CU_ASSERT_EQUAL(count_lines(out), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "request (15 bytes):\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "| \\t<b/>\n"));
}

static void
test_loopstate(void)
{
	static const char blob[] = "repeat 3 2 {0a0b0c0d}7\n"
				   "probe 0 fresh\n"
				   "suspect 3 3:12\n"
				   "isolated 3 41 12 1700000000 3:12\n"
				   "loops 3 2 1700000001\n"
				   "future 3 what is this\n"
				   "repeat x 1 k\n"
				   "isolated 3 41\n";
	struct arena *a = arena_new(0);
	struct loopstate s, t;
	struct loopstate_fact *f;
	char *text;
	size_t len;

	loopstate_parse(a, (const uint8_t *)blob, strlen(blob), &s);
	CU_ASSERT_EQUAL(s.n, 5); /* unknown and malformed lines dropped */
	f = loopstate_find(&s, LOOPSTATE_REPEAT, 3, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->count, 2);
	CU_ASSERT_STRING_EQUAL(f->key, "{0a0b0c0d}7");
	f = loopstate_find(&s, LOOPSTATE_PROBE, 0, NULL);
	CU_ASSERT(f != NULL && f->fresh);
	f = loopstate_find(&s, LOOPSTATE_ISOLATED, 3, "3:12");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->modseq, 41);
	CU_ASSERT_EQUAL(f->id, 12);
	CU_ASSERT_EQUAL(f->time, 1700000000);
	CU_ASSERT_PTR_NULL(loopstate_find(&s, LOOPSTATE_ISOLATED, 3, "3:13"));
	CU_ASSERT(loopstate_has(&s, 3));
	CU_ASSERT(!loopstate_has(&s, 4));
	/* what is written reads back the same */
	text = loopstate_format(a, &s, &len);
	CU_ASSERT_STRING_EQUAL(text, "repeat 3 2 {0a0b0c0d}7\n"
				     "probe 0 fresh\n"
				     "suspect 3 3:12\n"
				     "isolated 3 41 12 1700000000 3:12\n"
				     "loops 3 2 1700000001\n");
	loopstate_parse(a, (const uint8_t *)text, len, &t);
	CU_ASSERT_EQUAL(t.n, 5);
	/* dropped facts are not written; nothing at all is an empty blob */
	CU_ASSERT_EQUAL(loopstate_drop(&s, LOOPSTATE_SUSPECT, 3), 1);
	CU_ASSERT_PTR_NULL(loopstate_find(&s, LOOPSTATE_SUSPECT, 3, NULL));
	for (size_t i = 0; i < s.n; i++)
		s.v[i].dropped = true;
	text = loopstate_format(a, &s, &len);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_STRING_EQUAL(text, "");
	loopstate_parse(a, NULL, 0, &t);
	CU_ASSERT_EQUAL(t.n, 0);
	f = loopstate_add(a, &t, LOOPSTATE_LOOPS, 0);
	f->count = 1;
	CU_ASSERT_STRING_EQUAL(loopstate_format(a, &t, &len), "loops 0 1 0\n");
	arena_free(&a);
}

static CU_TestInfo common_tests[] = {
	{"arena: many small and one large", test_arena_many_and_large},
	{"arena: cleanups run on free", test_arena_cleanup},
	{"arena: growing arrays keep their elements", test_arena_grow},
	{"arena: strings packed, the rest aligned", test_arena_strings_packed},
	{"buf: limit refuses, keeps content", test_buf_limit},
	{"buf: read a file, refuse past the limit", test_buf_read_path},
	{"base64: RFC 4648 vectors and bad input", test_base64},
	{"time: ISO and compact forms", test_time},
	{"numbers: strict parsing", test_numbers},
	{"net: listen addresses", test_net_listen},
	{"net: addresses and CIDR ranges", test_net_cidr},
	{"log: control characters are escaped", test_log_escapes},
	{"loopstate: the loop blob reads and writes", test_loopstate},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"common", NULL, NULL, NULL, NULL, common_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
