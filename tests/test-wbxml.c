/* Unit tests of wbxml/: the shared example vectors byte for byte, the
 * fixtures from other projects, random round trips, every rejected input,
 * the tag table against eas-codepages.tsv, and libwbxml's xml2wbxml. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "test-main.h"
#include "util.h"
#include "wbxml.h"

#define VECTOR_DIR "tests/data/wbxml"

static int
read_all(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	return 0;
}

/* Same tags, same nesting, same bytes; opaque flags when check_opaque. */
static bool
tree_equal(const struct wbxml_node *a, const struct wbxml_node *b,
	   bool check_opaque)
{
	const struct wbxml_node *ca, *cb;

	if (a->tag != b->tag || a->len != b->len)
		return false;
	if (a->len > 0 && memcmp(a->data, b->data, a->len) != 0)
		return false;
	if (a->len > 0 && (a->data[a->len] != '\0' || b->data[b->len] != '\0'))
		return false;
	if (check_opaque && a->len > 0 && a->opaque != b->opaque)
		return false;
	for (ca = a->child, cb = b->child; ca != NULL && cb != NULL;
	     ca = ca->next, cb = cb->next) {
		if (!tree_equal(ca, cb, check_opaque))
			return false;
	}
	return ca == NULL && cb == NULL;
}

static const uint8_t hdr[] = {0x03, 0x01, 0x6a, 0x00};

/* --- the shared example vectors --- */

static void
test_vectors(void)
{
	DIR *d = opendir(VECTOR_DIR);
	struct dirent *e;
	int count = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d)) != NULL) {
		struct arena *a = arena_new(0);
		struct buf bin, xml, enc, txt;
		struct wbxml_node *dec, *fromxml, *back;
		const char *error = NULL;
		char path[512];
		size_t n = strlen(e->d_name);

		if (n < 7 || strcmp(e->d_name + n - 6, ".wbxml") != 0) {
			arena_free(&a);
			continue;
		}
		buf_init(&bin, 0);
		buf_init(&xml, 0);
		buf_init(&enc, 0);
		buf_init(&txt, 0);
		snprintf(path, sizeof(path), VECTOR_DIR "/%s", e->d_name);
		CU_ASSERT_EQUAL_FATAL(read_all(path, &bin), 0);
		snprintf(path, sizeof(path), VECTOR_DIR "/%.*s.xml",
			 (int)(n - 6), e->d_name);
		CU_ASSERT_EQUAL_FATAL(read_all(path, &xml), 0);

		if (wbxml_decode(a, bin.data, bin.len, &wbxml_limits_default,
				 &dec, &error) < 0) {
			printf("\n%s: %s\n", e->d_name, error);
			CU_FAIL("vector does not decode");
			goto next;
		}
		if (wbxml_from_xml(a, (const char *)xml.data, xml.len, &fromxml,
				   &error) < 0) {
			printf("\n%s: %s\n", path, error);
			CU_FAIL("vector XML does not parse");
			goto next;
		}
		CU_ASSERT(tree_equal(dec, fromxml, true));
		CU_ASSERT_EQUAL(wbxml_encode(fromxml, &enc), 0);
		CU_ASSERT_EQUAL(enc.len, bin.len);
		CU_ASSERT(enc.len == bin.len &&
			  memcmp(enc.data, bin.data, bin.len) == 0);
		/* Our own XML rendering reads back to the same tree. */
		CU_ASSERT_EQUAL(wbxml_to_xml(dec, &txt), 0);
		CU_ASSERT_EQUAL(wbxml_from_xml(a, (const char *)txt.data,
					       txt.len, &back, &error),
				0);
		CU_ASSERT(back != NULL && tree_equal(dec, back, true));
		count++;
	next:
		buf_deinit(&bin);
		buf_deinit(&xml);
		buf_deinit(&enc);
		buf_deinit(&txt);
		arena_free(&a);
	}
	closedir(d);
	CU_ASSERT_EQUAL(count, 16);
}

/* --- fixtures from other projects, read from ../shared at run time --- */

static int fixture_count;

static void
check_fixture(const char *path)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *root;
	const char *error = NULL;
	struct buf b, enc;
	int r;
	/* Horde's are header-less object fragments (fixtures/README.md),
	 * some with several sibling elements. */
	bool fragment = strstr(path, "horde-activesync") != NULL;

	buf_init(&b, 0);
	buf_init(&enc, 0);
	CU_ASSERT_EQUAL_FATAL(read_all(path, &b), 0);
	if (fragment)
		r = wbxml_decode_fragment(a, b.data, b.len,
					  &wbxml_limits_default, &root, &error);
	else
		r = wbxml_decode(a, b.data, b.len, &wbxml_limits_default, &root,
				 &error);
	if (r < 0)
		printf("\n%s: %s\n", path, error);
	CU_ASSERT_EQUAL(r, 0);
	if (r == 0 && !fragment) {
		/* libwbxml-encoded fixtures re-encode to the same bytes. */
		CU_ASSERT_EQUAL(wbxml_encode(root, &enc), 0);
		if (strstr(path, "aosp-exchange") != NULL)
			CU_ASSERT(enc.len == b.len &&
				  memcmp(enc.data, b.data, b.len) == 0);
	}
	fixture_count++;
	buf_deinit(&b);
	buf_deinit(&enc);
	arena_free(&a);
}

static void
walk_fixtures(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL || depth > 8) {
		if (d != NULL)
			closedir(d);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk_fixtures(path, depth + 1);
		else if (n > 6 && strcmp(e->d_name + n - 6, ".wbxml") == 0)
			check_fixture(path);
	}
	closedir(d);
}

static void
test_fixtures(void)
{
	const char *shared = test_shared_dir();
	char dir[512];

	if (shared == NULL) {
		printf("\n  (skipped: ../shared/fixtures not found)\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/fixtures", shared);
	walk_fixtures(dir, 0);
	printf("\n  (%d WBXML fixtures decoded)\n", fixture_count);
	CU_ASSERT(fixture_count > 0);
}

/* --- random trees --- */

static uint64_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift64*: a fixed seed makes a failure reproducible. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint16_t
random_tag(void)
{
	for (;;) {
		uint16_t tag =
			WBXML_TAG(rng() % (WBXML_MAX_PAGE + 1), 5 + rng() % 59);

		if (wbxml_tag_name(tag) != NULL)
			return tag;
	}
}

static void
random_data(struct arena *a, struct wbxml_node *parent)
{
	static const char *const utf8[] = {"a",
					   "Z",
					   " ",
					   "<",
					   "&",
					   "\n",
					   "\xc3\xa9",
					   "\xe2\x82\xac",
					   "\xf0\x9f\x98\x80",
					   "\t",
					   "\""};
	size_t len = 1 + rng() % 40;
	uint8_t tmp[256];
	size_t n = 0;
	unsigned kind = rng() % 4;

	if (kind == 0) {
		/* Opaque bytes, NUL included. */
		for (n = 0; n < len; n++)
			tmp[n] = (uint8_t)rng();
		tmp[rng() % len] = 0;
		wbxml_add_opaque(a, parent, random_tag(), tmp, len);
		return;
	}
	if (kind == 1) {
		/* STR_I text that is not valid UTF-8 (no NUL). */
		for (n = 0; n < len; n++)
			tmp[n] = (uint8_t)(1 + rng() % 255);
	} else {
		for (size_t i = 0; i < len; i++) {
			const char *s = utf8[rng() % N_ELEMENTS(utf8)];

			memcpy(tmp + n, s, strlen(s));
			n += strlen(s);
		}
	}
	wbxml_add_textn(a, parent, random_tag(), (const char *)tmp, n);
}

static struct wbxml_node *
random_tree(struct arena *a)
{
	struct wbxml_node *root = wbxml_new(a, random_tag());
	struct wbxml_node *stack[16];
	size_t depth = 1, nodes = 1 + rng() % 60;

	stack[0] = root;
	while (nodes-- > 0) {
		unsigned what = rng() % 8;

		if (what < 3 && depth < N_ELEMENTS(stack)) {
			stack[depth] =
				wbxml_add(a, stack[depth - 1], random_tag());
			depth++;
		} else if (what < 5 && depth > 1) {
			depth--;
		} else if (what < 7) {
			random_data(a, stack[depth - 1]);
		} else {
			wbxml_add(a, stack[depth - 1], random_tag());
		}
	}
	return root;
}

static void
test_random_roundtrip(void)
{
	struct arena *a = arena_new(0);
	struct buf enc, xml;
	int bad_bin = 0, bad_xml = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	buf_init(&enc, 0);
	buf_init(&xml, 0);
	for (int i = 0; i < 5000; i++) {
		struct wbxml_node *root = random_tree(a), *dec, *back;
		const char *error = NULL;

		buf_reset(&enc);
		buf_reset(&xml);
		CU_ASSERT_EQUAL(wbxml_encode(root, &enc), 0);
		if (wbxml_decode(a, enc.data, enc.len, &wbxml_limits_default,
				 &dec, &error) < 0 ||
		    !tree_equal(root, dec, true)) {
			if (bad_bin++ == 0)
				printf("\ntree %d: %s\n", i,
				       error != NULL ? error : "differs");
		}
		if (i % 5 == 0) {
			CU_ASSERT_EQUAL(wbxml_to_xml(root, &xml), 0);
			if (wbxml_from_xml(a, (const char *)xml.data, xml.len,
					   &back, &error) < 0 ||
			    !tree_equal(root, back, true)) {
				if (bad_xml++ == 0)
					printf("\ntree %d via XML: %s\n%s\n", i,
					       error != NULL ? error
							     : "differs",
					       xml.data);
			}
		}
		if (i % 500 == 499)
			arena_reset(a);
	}
	CU_ASSERT_EQUAL(bad_bin, 0);
	CU_ASSERT_EQUAL(bad_xml, 0);
	buf_deinit(&enc);
	buf_deinit(&xml);
	arena_free(&a);
}

/* --- rejected input: every case names its byte offset --- */

struct bad_case {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	bool with_header;   /* prepend 03 01 6A 00 */
	size_t offset;	    /* of the whole document */
	const char *reason; /* substring of the message */
	struct wbxml_limits limits;
};

#define B(...)                                                                 \
	(const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define DEF_LIMITS                                                             \
	{                                                                      \
		64, 200000, 64 * 1024 * 1024                                   \
	}

static const struct bad_case bad_cases[] = {
	{"empty", B(0x03), false, 1, "truncated public identifier", DEF_LIMITS},
	{"version 1.2", B(0x02, 0x01, 0x6a, 0x00, 0x05), false, 0,
	 "version 0x02", DEF_LIMITS},
	{"public id 2", B(0x03, 0x02, 0x6a, 0x00, 0x05), false, 1,
	 "public identifier 2", DEF_LIMITS},
	{"charset latin1", B(0x03, 0x01, 0x04, 0x00, 0x05), false, 2,
	 "charset 4", DEF_LIMITS},
	{"string table", B(0x03, 0x01, 0x6a, 0x01, 0x41, 0x05), false, 3,
	 "string table length 1", DEF_LIMITS},
	{"truncated header", B(0x03, 0x01, 0x6a), false, 3,
	 "truncated string table length", DEF_LIMITS},
	{"no body", B(0x00), false, 0, "", DEF_LIMITS},
	{"truncated body", B(0x45, 0x4b), true, 6, "truncated: 2 elements",
	 DEF_LIMITS},
	{"truncated STR_I", B(0x45, 0x4b, 0x03, 0x31, 0x32), true, 6,
	 "truncated STR_I", DEF_LIMITS},
	{"truncated SWITCH_PAGE", B(0x45, 0x00), true, 5,
	 "truncated SWITCH_PAGE", DEF_LIMITS},
	{"truncated OPAQUE length", B(0x45, 0xc3, 0x81), true, 6,
	 "truncated OPAQUE length", DEF_LIMITS},
	{"ENTITY", B(0x45, 0x02, 0x41, 0x01), true, 5, "ENTITY", DEF_LIMITS},
	{"LITERAL", B(0x45, 0x04, 0x00, 0x01), true, 5, "LITERAL", DEF_LIMITS},
	{"LITERAL_C", B(0x44, 0x00, 0x01), true, 4, "LITERAL", DEF_LIMITS},
	{"LITERAL_A", B(0x45, 0x84, 0x00), true, 5, "LITERAL", DEF_LIMITS},
	{"LITERAL_AC", B(0x45, 0xc4, 0x00), true, 5, "LITERAL", DEF_LIMITS},
	{"EXT_I_0", B(0x45, 0x40, 0x41, 0x00, 0x01), true, 5, "extension",
	 DEF_LIMITS},
	{"EXT_T_1", B(0x45, 0x81, 0x00, 0x01), true, 5, "extension",
	 DEF_LIMITS},
	{"EXT_2", B(0x45, 0xc2, 0x01), true, 5, "extension", DEF_LIMITS},
	{"PI", B(0x45, 0x43, 0x05, 0x01, 0x01), true, 5,
	 "processing instruction", DEF_LIMITS},
	{"STR_T", B(0x45, 0x4b, 0x83, 0x00, 0x01, 0x01), true, 6, "STR_T",
	 DEF_LIMITS},
	{"attribute bit", B(0xc5, 0x01, 0x01), true, 4, "attribute bit",
	 DEF_LIMITS},
	{"attribute bit, empty tag", B(0x45, 0x8b, 0x01, 0x01), true, 5,
	 "attribute bit", DEF_LIMITS},
	{"code page 26", B(0x00, 0x1a, 0x45, 0x01), true, 4,
	 "unknown code page 26", DEF_LIMITS},
	{"code page 255", B(0x45, 0x00, 0xff, 0x4b, 0x01, 0x01), true, 5,
	 "unknown code page 255", DEF_LIMITS},
	{"token not on page 0", B(0x45, 0x6a, 0x01, 0x01), true, 5,
	 "token 0x2a is not in code page 0", DEF_LIMITS},
	{"token not on page 7", B(0x00, 0x07, 0x7f, 0x01), true, 6,
	 "token 0x3f is not in code page 7", DEF_LIMITS},
	{"mb_u_int32 6 bytes",
	 B(0x45, 0xc3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x41, 0x01), true, 6,
	 "longer than 5 bytes", DEF_LIMITS},
	{"mb_u_int32 33 bits",
	 B(0x45, 0xc3, 0x90, 0x80, 0x80, 0x80, 0x00, 0x01), true, 6,
	 "exceeds 32 bits", DEF_LIMITS},
	{"public id 33 bits",
	 B(0x03, 0x9f, 0xff, 0xff, 0xff, 0x7f, 0x6a, 0x00, 0x05), false, 1,
	 "exceeds 32 bits", DEF_LIMITS},
	{"too deep",
	 B(0x45, 0x46, 0x47, 0x48, 0x01, 0x01, 0x01, 0x01),
	 true,
	 7,
	 "nesting deeper than 3",
	 {3, 100, 100}},
	{"too deep, empty leaf",
	 B(0x45, 0x46, 0x47, 0x08, 0x01, 0x01, 0x01),
	 true,
	 7,
	 "nesting deeper than 3",
	 {3, 100, 100}},
	{"too many nodes",
	 B(0x45, 0x06, 0x07, 0x08, 0x01),
	 true,
	 7,
	 "more than 3 elements",
	 {64, 3, 100}},
	{"string too long",
	 B(0x45, 0x03, 'a', 'b', 'c', 'd', 'e', 0x00, 0x01),
	 true,
	 5,
	 "string longer than 4",
	 {64, 100, 4}},
	{"opaque too long",
	 B(0x45, 0xc3, 0x05, 1, 2, 3, 4, 5, 0x01),
	 true,
	 5,
	 "opaque data longer than 4",
	 {64, 100, 4}},
	{"pieces too long",
	 B(0x45, 0x03, 'a', 'b', 0x00, 0x03, 'c', 'd', 'e', 0x00, 0x01),
	 true,
	 9,
	 "element data longer than 4",
	 {64, 100, 4}},
	{"opaque past the end", B(0x45, 0xc3, 0x10, 1, 2, 3, 0x01), true, 5,
	 "runs past the end", DEF_LIMITS},
	{"opaque huge length",
	 B(0x45, 0xc3, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x01), true, 5,
	 "opaque data longer than", DEF_LIMITS},
	{"trailing element", B(0x05, 0x05), true, 5,
	 "trailing bytes after the root", DEF_LIMITS},
	{"trailing END", B(0x45, 0x01, 0x01), true, 6,
	 "trailing bytes after the root", DEF_LIMITS},
	{"trailing SWITCH_PAGE", B(0x05, 0x00, 0x01), true, 5,
	 "trailing bytes after the root", DEF_LIMITS},
	{"END first", B(0x01), true, 4, "END with no open element", DEF_LIMITS},
	{"text then child",
	 B(0x45, 0x03, 'a', 0x00, 0x4b, 0x03, '1', 0x00, 0x01, 0x01), true, 8,
	 "child element after text", DEF_LIMITS},
	{"child then text", B(0x45, 0x0b, 0x03, 'a', 0x00, 0x01), true, 6,
	 "text after child elements", DEF_LIMITS},
	{"child then opaque", B(0x45, 0x0b, 0xc3, 0x01, 'a', 0x01), true, 6,
	 "text after child elements", DEF_LIMITS},
	{"text outside", B(0x03, 'a', 0x00, 0x05), true, 4,
	 "text outside any element", DEF_LIMITS},
	{"header only", B(0x00, 0x01), true, 6, "no element", DEF_LIMITS},
};

static void
test_bad_input(void)
{
	for (size_t i = 0; i < N_ELEMENTS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct arena *a = arena_new(0);
		struct wbxml_node *root = (void *)1;
		const char *error = NULL;
		uint8_t doc[64];
		size_t len = 0;
		char want[64];

		if (c->with_header) {
			memcpy(doc, hdr, sizeof(hdr));
			len = sizeof(hdr);
		}
		memcpy(doc + len, c->bytes, c->len);
		len += c->len;
		if (strcmp(c->name, "no body") == 0)
			len = 0;
		CU_ASSERT_EQUAL(
			wbxml_decode(a, doc, len, &c->limits, &root, &error),
			-1);
		CU_ASSERT_PTR_NULL(root);
		snprintf(want, sizeof(want), "offset %zu:", c->offset);
		if (error == NULL || strstr(error, want) == NULL ||
		    strstr(error, c->reason) == NULL) {
			printf("\n%s: got \"%s\", want \"%s\" and \"%s\"\n",
			       c->name, error != NULL ? error : "(null)", want,
			       c->reason);
			CU_FAIL("wrong error");
		}
		arena_free(&a);
	}
}

/* --- accepted oddities --- */

static void
test_lenient_input(void)
{
	/* Redundant SWITCH_PAGEs; two STR_I plus an OPAQUE concatenated. */
	static const uint8_t doc[] = {
		0x03, 0x01, 0x6a, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x07,
		0x56, 0x00, 0x07, 0x52, 0x03, 'a',  'b',  0x00, 0x03, 'c',
		0x00, 0xc3, 0x02, 'd',	'e',  0x01, 0x00, 0x00, 0x01,
	};
	struct arena *a = arena_new(0);
	struct wbxml_node *root;
	const char *error = NULL;
	const struct wbxml_node *k;

	CU_ASSERT_EQUAL_FATAL(wbxml_decode(a, doc, sizeof(doc),
					   &wbxml_limits_default, &root,
					   &error),
			      0);
	CU_ASSERT_EQUAL(root->tag, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	k = wbxml_child(root, EAS_FOLDERHIERARCHY_SYNCKEY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->len, 5);
	CU_ASSERT_STRING_EQUAL(wbxml_text(k), "abcde");
	CU_ASSERT(k->opaque);
	arena_free(&a);
}

/* Many tiny pieces concatenate in linear time and space. */
static void
test_many_pieces(void)
{
	struct arena *a = arena_new(0);
	struct buf b;
	struct wbxml_node *root;
	const char *error = NULL;

	buf_init(&b, 0);
	buf_append(&b, hdr, sizeof(hdr));
	buf_putc(&b, 0x45);
	for (int i = 0; i < 20000; i++)
		buf_append(&b, "\x03x", 3); /* STR_I "x" NUL */
	buf_putc(&b, 0x01);
	CU_ASSERT_EQUAL_FATAL(wbxml_decode(a, b.data, b.len,
					   &wbxml_limits_default, &root,
					   &error),
			      0);
	CU_ASSERT_EQUAL(root->len, 20000);
	CU_ASSERT(arena_used(a) < 200000);
	buf_deinit(&b);
	arena_free(&a);
}

/* --- encoder --- */

static void
test_encode_details(void)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC), *dec;
	struct buf b;
	const char *error = NULL;
	static const uint8_t want[] = {
		0x03, 0x01, 0x6a, 0x00, 0x45,		  /* Sync */
		0x13,					  /* GetChanges/ */
		0x4b, 0xc3, 0x03, 'a',	0x00, 'b',  0x01, /* SyncKey, NUL */
		0x00, 0x11, 0x46, 0xc3, 0x01, 0xff, 0x01, /* asb:Type opaque */
		0x00, 0x00, 0x4e, 0x03, '1',  0x00, 0x01, /* Status 1 */
		0x01,
	};

	wbxml_add(a, root, EAS_AIRSYNC_GETCHANGES);
	/* Text holding a NUL goes out as OPAQUE by itself. */
	wbxml_add_textn(a, root, EAS_AIRSYNC_SYNCKEY, "a\0b", 3);
	wbxml_add_opaque(a, root, EAS_AIRSYNCBASE_TYPE, "\xff", 1);
	wbxml_add_int(a, root, EAS_AIRSYNC_STATUS, 1);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(wbxml_encode(root, &b), 0);
	CU_ASSERT_EQUAL(b.len, sizeof(want));
	CU_ASSERT(b.len == sizeof(want) &&
		  memcmp(b.data, want, sizeof(want)) == 0);
	CU_ASSERT_EQUAL(wbxml_decode(a, b.data, b.len, &wbxml_limits_default,
				     &dec, &error),
			0);
	CU_ASSERT(tree_equal(root, dec, false));
	buf_deinit(&b);

	/* Hitting the buffer's limit is an error, not a crash. */
	buf_init(&b, 10);
	CU_ASSERT_EQUAL(wbxml_encode(root, &b), -1);
	CU_ASSERT(b.overflow);
	CU_ASSERT(b.len <= 10);
	buf_deinit(&b);
	arena_free(&a);
}

/* Deep hand-built trees encode, clone and decode without recursion. */
static void
test_deep_tree(void)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC), *n = root;
	struct wbxml_node *copy, *dec;
	struct wbxml_limits lim = {100000, 200000, 1024};
	const char *error = NULL;
	struct buf b;

	for (int i = 0; i < 50000; i++)
		n = wbxml_add(a, n, EAS_AIRSYNC_COLLECTION);
	wbxml_add_text(a, n, EAS_AIRSYNC_STATUS, "1");
	copy = wbxml_clone(a, root);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(wbxml_encode(copy, &b), 0);
	CU_ASSERT_EQUAL(wbxml_decode(a, b.data, b.len, &lim, &dec, &error), 0);
	CU_ASSERT_EQUAL(wbxml_decode(a, b.data, b.len, &wbxml_limits_default,
				     &dec, &error),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(error, "offset 68:"));
	buf_deinit(&b);
	arena_free(&a);
}

/* --- reading the tree --- */

static void
test_accessors(void)
{
	struct arena *a = arena_new(0);
	struct wbxml_node *root = wbxml_new(a, EAS_PING_PING), *f;
	const struct wbxml_node *c;
	int64_t v = 0;

	wbxml_add_text(a, root, EAS_PING_HEARTBEATINTERVAL, "480");
	wbxml_add_text(a, root, EAS_PING_STATUS, "x1");
	f = wbxml_add(a, root, EAS_PING_FOLDERS);
	wbxml_add_textf(a, f, EAS_PING_ID, "%d", 1);
	wbxml_add_textf(a, f, EAS_PING_ID, "%d", 2);
	wbxml_add_ref(a, root, EAS_PING_MAXFOLDERS, "7", 1, false);

	CU_ASSERT_EQUAL(wbxml_child_int(root, EAS_PING_HEARTBEATINTERVAL, &v),
			1);
	CU_ASSERT_EQUAL(v, 480);
	CU_ASSERT_EQUAL(wbxml_child_int(root, EAS_PING_STATUS, &v), -1);
	CU_ASSERT_EQUAL(wbxml_child_int(root, EAS_PING_CLASS, &v), 0);
	CU_ASSERT_PTR_NULL(wbxml_child_text(root, EAS_PING_CLASS));
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(root, EAS_PING_MAXFOLDERS),
			       "7");
	CU_ASSERT_EQUAL(wbxml_count_children(root), 4);
	CU_ASSERT_EQUAL(wbxml_count_children(f), 2);
	c = wbxml_child(f, EAS_PING_ID);
	CU_ASSERT_STRING_EQUAL(wbxml_text(c), "1");
	c = wbxml_next_same(c);
	CU_ASSERT_STRING_EQUAL(wbxml_text(c), "2");
	CU_ASSERT_PTR_NULL(wbxml_next_same(c));
	CU_ASSERT(wbxml_is_empty(wbxml_add(a, root, EAS_PING_FOLDER)));
	CU_ASSERT(!wbxml_is_empty(f));
	CU_ASSERT_STRING_EQUAL(wbxml_text(f), "");
	arena_free(&a);
}

/* wbxml_add_int writes its digits itself: the same text as "%lld". */
static void
test_add_int(void)
{
	static const int64_t values[] = {0,	    7,	       -1,
					 10,	    -10,       1234567890,
					 INT64_MAX, INT64_MIN, INT64_MIN + 1};
	struct arena *a = arena_new(0);
	struct wbxml_node *root = wbxml_new(a, EAS_PING_PING);

	for (size_t i = 0; i < N_ELEMENTS(values); i++) {
		const struct wbxml_node *n =
			wbxml_add_int(a, root, EAS_PING_STATUS, values[i]);
		char want[32];

		snprintf(want, sizeof(want), "%lld", (long long)values[i]);
		CU_ASSERT_STRING_EQUAL(wbxml_text(n), want);
		CU_ASSERT_EQUAL(n->len, strlen(want));
	}
	arena_free(&a);
}

/* --- names and the table --- */

static void
test_names(void)
{
	uint16_t tag = 0;

	CU_ASSERT_STRING_EQUAL(wbxml_tag_name(EAS_AIRSYNC_SYNC), "Sync");
	CU_ASSERT_STRING_EQUAL(wbxml_page_name(17), "AirSyncBase");
	CU_ASSERT_PTR_NULL(wbxml_page_name(26));
	CU_ASSERT_PTR_NULL(wbxml_tag_name(WBXML_TAG(0, 0x3f)));
	CU_ASSERT_PTR_NULL(wbxml_tag_name(WBXML_TAG(30, 0x05)));
	CU_ASSERT_EQUAL(wbxml_tag_lookup("Contacts", "Email1Address", &tag), 0);
	CU_ASSERT_EQUAL(tag, EAS_CONTACTS_EMAIL1ADDRESS);
	CU_ASSERT_EQUAL(wbxml_tag_lookup("Contacts", "Nope", &tag), -1);
	CU_ASSERT_EQUAL(wbxml_tag_lookup("Nope", "Sync", &tag), -1);
}

static void
test_table_matches_tsv(void)
{
	FILE *f = fopen("wbxml/eas-codepages.tsv", "r");
	char line[1024];
	int rows = 0, names = 0, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f)); /* header */
	while (fgets(line, sizeof(line), f) != NULL) {
		char *cols[7] = {NULL}, *p = line;
		int n = 0;
		unsigned page, tok;
		const char *name;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		/* strtok would merge the empty min_version column. */
		while (n < 7 && p != NULL) {
			cols[n++] = p;
			p = strchr(p, '\t');
			if (p != NULL)
				*p++ = '\0';
		}
		CU_ASSERT_FATAL(n >= 5);
		page = (unsigned)strtoul(cols[0], NULL, 10);
		tok = (unsigned)strtoul(cols[3], NULL, 16);
		name = wbxml_tag_name(WBXML_TAG(page, tok));
		if (name == NULL || strcmp(name, cols[4]) != 0 ||
		    strcmp(wbxml_page_name(page), cols[1]) != 0) {
			if (bad++ < 5)
				printf("\nrow %s/%s: table has %s\n", cols[0],
				       cols[3], name != NULL ? name : "NULL");
		}
		rows++;
	}
	fclose(f);
	for (unsigned p = 0; p <= WBXML_MAX_PAGE; p++)
		for (unsigned t = 0; t < 64; t++)
			if (wbxml_tag_name(WBXML_TAG(p, t)) != NULL)
				names++;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(rows > 600);
	CU_ASSERT_EQUAL(names, rows);
}

/* --- XML --- */

static void
test_xml_conventions(void)
{
	static const char libwbxml_style[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD "
		"ActiveSync//EN\""
		" \"http://www.microsoft.com/\">\n"
		"<Sync xmlns=\"AirSync:\" xmlns:cal=\"Calendar:\">\n"
		" <Collections><Collection><Commands><Add><ApplicationData>\n"
		"  <cal:Attendees><cal:Attendee>\n"
		"   <cal:Attendee_Email>ada@example.org</cal:Attendee_Email>\n"
		"  </cal:Attendee></cal:Attendees>\n"
		"  <cal:TimeZone>AAAA</cal:TimeZone>\n"
		"  <Mime xmlns=\"ComposeMail:\">aGk=</Mime>\n"
		" </ApplicationData></Add></Commands></Collection>"
		"</Collections>\n</Sync>\n";
	struct arena *a = arena_new(0);
	struct wbxml_node *root, *back;
	const struct wbxml_node *n;
	const char *error = NULL;
	struct buf xml;

	CU_ASSERT_EQUAL_FATAL(wbxml_from_xml(a, libwbxml_style,
					     strlen(libwbxml_style), &root,
					     &error),
			      0);
	n = wbxml_child(root, EAS_AIRSYNC_COLLECTIONS);
	n = wbxml_child(n, EAS_AIRSYNC_COLLECTION);
	n = wbxml_child(n, EAS_AIRSYNC_COMMANDS);
	n = wbxml_child(n, EAS_AIRSYNC_ADD);
	n = wbxml_child(n, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(
			wbxml_child(wbxml_child(n, EAS_CALENDAR_ATTENDEES),
				    EAS_CALENDAR_ATTENDEE),
			EAS_CALENDAR_EMAIL),
		"ada@example.org");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(n, EAS_CALENDAR_TIMEZONE),
			       "AAAA");
	/* libwbxml carries ComposeMail:Mime as base64 of OPAQUE bytes. */
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(n, EAS_COMPOSEMAIL_MIME), "hi");
	CU_ASSERT(wbxml_child(n, EAS_COMPOSEMAIL_MIME)->opaque);

	/* Our rendering: default namespace, prefixes, opaque marker. */
	buf_init(&xml, 0);
	CU_ASSERT_EQUAL(wbxml_to_xml(root, &xml), 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((char *)xml.data, "<Sync xmlns=\"AirSync:\""));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((char *)xml.data, "xmlns:calendar=\"Calendar:\""));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((char *)xml.data, "<calendar:Email>ada@example.org<"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)xml.data,
				      "<composemail:Mime opaque=\"base64\">"
				      "aGk=</composemail:Mime>"));
	CU_ASSERT_EQUAL(
		wbxml_from_xml(a, (char *)xml.data, xml.len, &back, &error), 0);
	CU_ASSERT(tree_equal(root, back, true));
	buf_deinit(&xml);
	arena_free(&a);
}

static void
test_xml_errors(void)
{
	static const struct {
		const char *xml, *reason;
	} cases[] = {
		{"<Sync xmlns=\"AirSync:\"><Bogus/></Sync>",
		 "<Bogus> is not in code page AirSync"},
		{"<Sync xmlns=\"Nowhere:\"/>", "namespace"},
		{"<Sync xmlns=\"AirSync:\">x<Status>1</Status></Sync>",
		 "mixes text and elements"},
		{"<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"hex\">00"
		 "</SyncKey></Sync>",
		 "unknown encoding"},
		{"<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"base64\">!!"
		 "</SyncKey></Sync>",
		 "bad base64"},
		{"<Sync xmlns=\"AirSync:\">", "XML parse error"},
		{"<!DOCTYPE Sync [<!ENTITY e \"boom\">]>"
		 "<Sync xmlns=\"AirSync:\"><SyncKey>&e;</SyncKey></Sync>",
		 "entity"},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct arena *a = arena_new(0);
		struct wbxml_node *root;
		const char *error = NULL;

		CU_ASSERT_EQUAL(wbxml_from_xml(a, cases[i].xml,
					       strlen(cases[i].xml), &root,
					       &error),
				-1);
		if (error == NULL || strstr(error, cases[i].reason) == NULL) {
			printf("\ncase %zu: got \"%s\"\n", i,
			       error != NULL ? error : "(null)");
			CU_FAIL("wrong XML error");
		}
		arena_free(&a);
	}
}

/* --- libwbxml's xml2wbxml as an independent encoder --- */

/* xml2wbxml needs the DOCTYPE to pick its ActiveSync tables. */
#define XML_HEAD                                                               \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                         \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "    \
	"\"http://www.microsoft.com/\">\n"

static bool
have_xml2wbxml(void)
{
	return system("command -v xml2wbxml >/dev/null 2>&1") == 0;
}

/* Encode path with xml2wbxml and with us; 1 same, 0 different, -1 when
 * xml2wbxml refused it. */
static int
compare_with_libwbxml(const char *path)
{
	char out[] = "/tmp/test-wbxml-XXXXXX", cmd[2048];
	struct arena *a = arena_new(0);
	struct buf theirs, xml, ours;
	struct wbxml_node *root;
	const char *error = NULL;
	int fd = mkstemp(out), ret = -1;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	buf_init(&theirs, 0);
	buf_init(&xml, 0);
	buf_init(&ours, 0);
	snprintf(cmd, sizeof(cmd),
		 "xml2wbxml -a -n -v 1.3 -o '%s' '%s' >/dev/null 2>&1", out,
		 path);
	if (system(cmd) != 0 || read_all(out, &theirs) < 0 || theirs.len == 0)
		goto out;
	CU_ASSERT_EQUAL_FATAL(read_all(path, &xml), 0);
	if (wbxml_from_xml(a, (char *)xml.data, xml.len, &root, &error) < 0) {
		printf("\n%s: %s\n", path, error);
		ret = 0;
		goto out;
	}
	CU_ASSERT_EQUAL(wbxml_encode(root, &ours), 0);
	ret = ours.len == theirs.len &&
	      memcmp(ours.data, theirs.data, ours.len) == 0;
	if (ret == 0)
		printf("\n%s: differs from xml2wbxml\n", path);
out:
	unlink(out);
	buf_deinit(&theirs);
	buf_deinit(&xml);
	buf_deinit(&ours);
	arena_free(&a);
	return ret;
}

static void
test_xml2wbxml(void)
{
	/* Tag names libwbxml 0.11.8 knows, several pages, empty elements,
	 * escapes, a switch back and forth and ComposeMail's OPAQUE Mime. */
	static const char *const docs[] = {
		XML_HEAD
		"<Sync xmlns=\"AirSync:\" xmlns:email=\"Email:\" "
		"xmlns:airsyncbase=\"AirSyncBase:\">\n<Collections><Collection>"
		"<SyncKey>5</SyncKey><CollectionId>1</CollectionId>"
		"<DeletesAsMoves/><GetChanges/><WindowSize>50</WindowSize>"
		"<Options><FilterType>3</"
		"FilterType><airsyncbase:BodyPreference>"
		"<airsyncbase:Type>2</airsyncbase:Type>"
		"<airsyncbase:TruncationSize>5120</airsyncbase:TruncationSize>"
		"</airsyncbase:BodyPreference></Options><Commands><Change>"
		"<ServerId>1:4</ServerId><ApplicationData><email:Read>1"
		"</email:Read></ApplicationData></Change></Commands>"
		"</Collection></Collections></Sync>\n",
		XML_HEAD
		"<SendMail xmlns=\"ComposeMail:\"><ClientId>17</ClientId>"
		"<SaveInSentItems/><MIME>RnJvbTogYUBiLmMKClRlc3QK</MIME>"
		"</SendMail>\n",
		XML_HEAD
		"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>3</SyncKey>"
		"<ParentId>0</ParentId><DisplayName>R&amp;D &lt;2024&gt; "
		"\xc3\xa9t\xc3\xa9</DisplayName><Type>12</Type></"
		"FolderCreate>\n",
	};
	const char *shared = test_shared_dir();
	int same = 0, tried = 0;

	if (!have_xml2wbxml()) {
		printf("\n  (skipped: xml2wbxml not installed)\n");
		return;
	}
	for (size_t i = 0; i < N_ELEMENTS(docs); i++) {
		char path[] = "/tmp/test-wbxml-doc-XXXXXX";
		int fd = mkstemp(path), r;

		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_FATAL(write(fd, docs[i], strlen(docs[i])) ==
				(ssize_t)strlen(docs[i]));
		close(fd);
		r = compare_with_libwbxml(path);
		CU_ASSERT_EQUAL(r, 1);
		unlink(path);
	}
	/* libwbxml's own example documents, when the fixtures are here. */
	if (shared != NULL) {
		char dir[512];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/fixtures/libwbxml-examples",
			 shared);
		d = opendir(dir);
		while (d != NULL && (e = readdir(d)) != NULL) {
			char path[1024];
			size_t n = strlen(e->d_name);
			int r;

			if (n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			r = compare_with_libwbxml(path);
			if (r < 0)
				continue;
			tried++;
			same += r;
		}
		if (d != NULL)
			closedir(d);
		printf("\n  (%d/%d libwbxml examples encode identically)\n",
		       same, tried);
		CU_ASSERT_EQUAL(same, tried);
	}
}

/* An encoded Collection wrapped in Sync and Collections is the encoding
 * of the whole tree, whatever code page the Collection ends in. */
static void
test_encode_wrap(void)
{
	static const uint16_t wrap[] = {EAS_AIRSYNC_SYNC,
					EAS_AIRSYNC_COLLECTIONS};
	static const uint16_t other_page[] = {EAS_EMAIL_SUBJECT};
	struct arena *a = arena_new(0);
	struct wbxml_node *root = wbxml_new(a, EAS_AIRSYNC_SYNC);
	struct wbxml_node *colls = wbxml_add(a, root, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *coll = wbxml_add(a, colls, EAS_AIRSYNC_COLLECTION);
	struct wbxml_node *app;
	struct buf whole, inner, wrapped;

	wbxml_add_text(a, coll, EAS_AIRSYNC_SYNCKEY, "2");
	app = wbxml_add(a, coll, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_EMAIL_SUBJECT, "hello");
	wbxml_add_text(a, app, EAS_AIRSYNCBASE_DATA, "body");
	buf_init(&whole, 0);
	buf_init(&inner, 0);
	buf_init(&wrapped, 0);
	CU_ASSERT_EQUAL(wbxml_encode(root, &whole), 0);
	CU_ASSERT_EQUAL(wbxml_encode(coll, &inner), 0);
	CU_ASSERT_EQUAL(
		wbxml_encode_wrap(wrap, 2, inner.data, inner.len, &wrapped), 0);
	CU_ASSERT_EQUAL(wrapped.len, whole.len);
	CU_ASSERT_EQUAL(memcmp(wrapped.data, whole.data, whole.len), 0);
	/* refused: a wrapper of another page, bytes that are no document */
	buf_reset(&wrapped);
	CU_ASSERT_EQUAL(wbxml_encode_wrap(other_page, 1, inner.data, inner.len,
					  &wrapped),
			-1);
	CU_ASSERT_EQUAL(
		wbxml_encode_wrap(wrap, 2, (const uint8_t *)"abc", 3, &wrapped),
		-1);
	buf_deinit(&whole);
	buf_deinit(&inner);
	buf_deinit(&wrapped);
	arena_free(&a);
}

static CU_TestInfo codec_tests[] = {
	{"shared example vectors", test_vectors},
	{"fixtures decode", test_fixtures},
	{"random trees round-trip", test_random_roundtrip},
	{"bad input names the offset", test_bad_input},
	{"redundant SWITCH_PAGE, concatenated data", test_lenient_input},
	{"many data pieces stay linear", test_many_pieces},
	{"an encoded element wrapped as the whole tree", test_encode_wrap},
	{"encoder details", test_encode_details},
	{"deep tree", test_deep_tree},
	{"accessors", test_accessors},
	{"numbers", test_add_int},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo names_tests[] = {
	{"names", test_names},
	{"table matches eas-codepages.tsv", test_table_matches_tsv},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo xml_tests[] = {
	{"XML conventions", test_xml_conventions},
	{"XML errors", test_xml_errors},
	{"same bytes as xml2wbxml", test_xml2wbxml},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"wbxml codec", NULL, NULL, NULL, NULL, codec_tests},
	{"wbxml names", NULL, NULL, NULL, NULL, names_tests},
	{"wbxml xml", NULL, NULL, NULL, NULL, xml_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
