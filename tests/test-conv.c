/* Tests for the contact, calendar, task and note conversions: every
 * property of a class survives ApplicationData -> stored text ->
 * ApplicationData, for protocol 14.1 and 16.1; imports of desktop exports;
 * bad input; ghosting; body truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "conv.h"
#include "conv-tz.h"
#include "test-main.h"
#include "util.h"

static struct arena *A;

static int
setup(void)
{
	A = arena_new(1 << 16);
	return 0;
}

static int
teardown(void)
{
	arena_free(&A);
	return 0;
}

/* Central European rules: the devices of these tests live in Berlin, so
 * date-only values (birthdays) are their local midnight in UTC. */
static const struct conv_tz berlin = {
	.bias = -60,
	.std_date = {0, 10, 0, 5, 3, 0, 0, 0},
	.dst_date = {0, 3, 0, 5, 2, 0, 0, 0},
	.dst_bias = -60,
};

static struct conv_ctx
ctx_for(unsigned version)
{
	struct conv_ctx c;

	memset(&c, 0, sizeof(c));
	c.version = version;
	c.date_tz = &berlin;
	return c;
}

/* --- tree comparison --- */

static bool node_eq(const struct wbxml_node *x, const struct wbxml_node *y);

/* Same children as a multiset (order-insensitive). */
static bool
children_eq(const struct wbxml_node *x, const struct wbxml_node *y)
{
	const struct wbxml_node *c, *d;
	bool used[512];
	size_t nx = wbxml_count_children(x), ny = wbxml_count_children(y);

	if (nx != ny || ny > 512)
		return false;
	memset(used, 0, sizeof(used));
	for (c = x->child; c != NULL; c = c->next) {
		size_t i = 0;
		bool found = false;

		for (d = y->child; d != NULL; d = d->next, i++) {
			if (!used[i] && node_eq(c, d)) {
				used[i] = true;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

static bool
node_eq(const struct wbxml_node *x, const struct wbxml_node *y)
{
	size_t lx = x->data != NULL ? x->len : 0;
	size_t ly = y->data != NULL ? y->len : 0;

	if (x->tag != y->tag || lx != ly ||
	    (lx > 0 && memcmp(x->data, y->data, lx) != 0))
		return false;
	return children_eq(x, y);
}

static void
dump(const char *what, const struct wbxml_node *n, int depth)
{
	const struct wbxml_node *c;

	fprintf(stderr, "%s%*s%s(0x%04x) '%s'\n", what, depth * 2, "",
		wbxml_tag_name(n->tag) ? wbxml_tag_name(n->tag) : "?", n->tag,
		n->data != NULL ? (const char *)n->data : "");
	for (c = n->child; c != NULL; c = c->next)
		dump(what, c, depth + 1);
}

/* Every element the client sent comes back with the same text and the
 * same children; the Body is compared by Type and Data. */
static void
assert_same(const struct wbxml_node *in, const struct wbxml_node *out)
{
	const struct wbxml_node *c, *d;
	size_t n_in = 0, n_out = 0;

	for (c = in->child; c != NULL; c = c->next) {
		bool found = false;

		n_in++;
		if (c->tag == EAS_AIRSYNCBASE_BODY) {
			d = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
			CU_ASSERT_PTR_NOT_NULL_FATAL(d);
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(c, EAS_AIRSYNCBASE_TYPE),
				wbxml_child_text(d, EAS_AIRSYNCBASE_TYPE));
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(c, EAS_AIRSYNCBASE_DATA),
				wbxml_child_text(d, EAS_AIRSYNCBASE_DATA));
			continue;
		}
		for (d = out->child; d != NULL; d = d->next) {
			if (node_eq(c, d)) {
				found = true;
				break;
			}
		}
		if (!found) {
			dump("missing: ", c, 0);
			dump("out: ", out, 0);
		}
		CU_ASSERT(found);
	}
	for (d = out->child; d != NULL; d = d->next) {
		if (d->tag != EAS_AIRSYNCBASE_NATIVEBODYTYPE)
			n_out++;
	}
	if (n_in != n_out)
		dump("extra? out: ", out, 0);
	CU_ASSERT_EQUAL(n_in, n_out);
}

/* Body type the round trips ask for (0: no preference, i.e. plain). */
static int rt_body_type;

static struct wbxml_node *
roundtrip(enum store_class cls, const struct wbxml_node *in, unsigned version,
	  struct store_item *item)
{
	struct conv_ctx ctx = ctx_for(version);

	if (rt_body_type != 0) {
		ctx.nprefs = 1;
		ctx.prefs[0].type = rt_body_type;
	}
	struct wbxml_node *out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const char *err = NULL;

	memset(item, 0, sizeof(*item));
	if (conv_from_eas(A, cls, in, &ctx, NULL, item, &err) < 0) {
		fprintf(stderr, "from_eas: %s\n", err);
		CU_FAIL_FATAL("conv_from_eas failed");
	}
	CU_ASSERT_EQUAL(item->cls, cls);
	if (conv_to_eas(A, item, &ctx, out, &err) < 0) {
		fprintf(stderr, "to_eas: %s\n", err);
		CU_FAIL_FATAL("conv_to_eas failed");
	}
	return out;
}

static void
add_body(struct wbxml_node *app, const char *type, const char *text)
{
	struct wbxml_node *b = wbxml_add(A, app, EAS_AIRSYNCBASE_BODY);

	wbxml_add_text(A, b, EAS_AIRSYNCBASE_TYPE, type);
	wbxml_add_text(A, b, EAS_AIRSYNCBASE_DATA, text);
}

static void
add_list(struct wbxml_node *app, uint16_t list, uint16_t item,
	 const char *const *v)
{
	struct wbxml_node *l = wbxml_add(A, app, list);

	for (; *v != NULL; v++)
		wbxml_add_text(A, l, item, *v);
}

/* A tiny 1x1 JPEG-ish payload is enough: the converter checks base64 and
 * size, not the image. */
#define PICTURE "/9j/4AAQSkZJRgABAQEASABIAAD/2Q=="

static struct wbxml_node *
full_contact(void)
{
	static const struct {
		uint16_t tag;
		const char *v;
	} props[] = {
		{EAS_CONTACTS_ANNIVERSARY, "2010-06-11T22:00:00.000Z"},
		{EAS_CONTACTS_ASSISTANTNAME, "Ada Assistant"},
		{EAS_CONTACTS_ASSISTANTPHONENUMBER, "+49 30 1000"},
		{EAS_CONTACTS_BIRTHDAY, "1990-05-14T22:00:00.000Z"},
		{EAS_CONTACTS_BUSINESS2PHONENUMBER, "+49 30 1001"},
		{EAS_CONTACTS_BUSINESSADDRESSCITY, "Berlin"},
		{EAS_CONTACTS_BUSINESSADDRESSCOUNTRY, "Germany"},
		{EAS_CONTACTS_BUSINESSADDRESSPOSTALCODE, "10115"},
		{EAS_CONTACTS_BUSINESSADDRESSSTATE, "BE"},
		{EAS_CONTACTS_BUSINESSADDRESSSTREET,
		 "Hauptstr. 1\r\nHinterhaus; 3. OG"},
		{EAS_CONTACTS_BUSINESSFAXNUMBER, "+49 30 1002"},
		{EAS_CONTACTS_BUSINESSPHONENUMBER, "+49 30 1003"},
		{EAS_CONTACTS_CARPHONENUMBER, "+49 170 1004"},
		{EAS_CONTACTS_COMPANYNAME, "ACME, Inc."},
		{EAS_CONTACTS_DEPARTMENT, "R&D"},
		{EAS_CONTACTS_EMAIL1ADDRESS, "\"Max M\" <max@example.com>"},
		{EAS_CONTACTS_EMAIL2ADDRESS, "max@home.example"},
		{EAS_CONTACTS_EMAIL3ADDRESS, "m@x.example"},
		{EAS_CONTACTS_FILEAS, "Mustermann, Max"},
		{EAS_CONTACTS_FIRSTNAME, "Max"},
		{EAS_CONTACTS_HOME2PHONENUMBER, "+49 30 1005"},
		{EAS_CONTACTS_HOMEADDRESSCITY, "Köln"},
		{EAS_CONTACTS_HOMEADDRESSCOUNTRY, "DE"},
		{EAS_CONTACTS_HOMEADDRESSPOSTALCODE, "50667"},
		{EAS_CONTACTS_HOMEADDRESSSTATE, "NRW"},
		{EAS_CONTACTS_HOMEADDRESSSTREET, "Domplatz 2"},
		{EAS_CONTACTS_HOMEFAXNUMBER, "+49 221 1006"},
		{EAS_CONTACTS_HOMEPHONENUMBER, "+49 221 1007"},
		{EAS_CONTACTS_JOBTITLE, "Chief \\ Tester"},
		{EAS_CONTACTS_LASTNAME, "Mustermann"},
		{EAS_CONTACTS_MIDDLENAME, "Maria"},
		{EAS_CONTACTS_MOBILEPHONENUMBER, "+49 170 1008"},
		{EAS_CONTACTS_OFFICELOCATION, "Room 4.12"},
		{EAS_CONTACTS_OTHERADDRESSCITY, "Paris"},
		{EAS_CONTACTS_OTHERADDRESSCOUNTRY, "France"},
		{EAS_CONTACTS_OTHERADDRESSPOSTALCODE, "75001"},
		{EAS_CONTACTS_OTHERADDRESSSTATE, "IDF"},
		{EAS_CONTACTS_OTHERADDRESSSTREET, "1 Rue de Rivoli"},
		{EAS_CONTACTS_PAGERNUMBER, "+49 30 1009"},
		{EAS_CONTACTS_RADIOPHONENUMBER, "+49 30 1010"},
		{EAS_CONTACTS_SPOUSE, "Erika"},
		{EAS_CONTACTS_SUFFIX, "Jr."},
		{EAS_CONTACTS_TITLE, "Dr."},
		{EAS_CONTACTS_WEBPAGE, "https://example.com/max?a=1,b=2"},
		{EAS_CONTACTS_YOMICOMPANYNAME, "アクメ"},
		{EAS_CONTACTS_YOMIFIRSTNAME, "マックス"},
		{EAS_CONTACTS_YOMILASTNAME, "ムスターマン"},
		{EAS_CONTACTS_PICTURE, PICTURE},
		{EAS_CONTACTS_ALIAS, "maxm"},
		{EAS_CONTACTS_WEIGHTEDRANK, "42"},
		{EAS_CONTACTS2_CUSTOMERID, "C-1"},
		{EAS_CONTACTS2_GOVERNMENTID, "G-2"},
		{EAS_CONTACTS2_IMADDRESS, "xmpp:max@example.com"},
		{EAS_CONTACTS2_IMADDRESS2, "max@skype"},
		{EAS_CONTACTS2_IMADDRESS3, "sip:max@example.com"},
		{EAS_CONTACTS2_MANAGERNAME, "Boss"},
		{EAS_CONTACTS2_COMPANYMAINPHONE, "+49 30 1011"},
		{EAS_CONTACTS2_ACCOUNTNAME, "acct"},
		{EAS_CONTACTS2_NICKNAME, "Maxi"},
		{EAS_CONTACTS2_MMS, "+49 170 1012"},
	};
	static const char *const cats[] = {"Friends", "Work, Berlin", NULL};
	static const char *const kids[] = {"Anna", "Ben", NULL};
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	for (size_t i = 0; i < N_ELEMENTS(props); i++)
		wbxml_add_text(A, app, props[i].tag, props[i].v);
	add_list(app, EAS_CONTACTS_CATEGORIES, EAS_CONTACTS_CATEGORY, cats);
	add_list(app, EAS_CONTACTS_CHILDREN, EAS_CONTACTS_CHILD, kids);
	add_body(app, "1", "Met at the fair.\r\nLikes tea; not coffee.");
	return app;
}

static void
test_contact_roundtrip(void)
{
	static const unsigned versions[] = {121, 141, 161};

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		struct wbxml_node *in = full_contact(), *out;
		struct store_item item;

		out = roundtrip(STORE_CLASS_CONTACTS, in, versions[v], &item);
		assert_same(in, out);
		CU_ASSERT_STRING_EQUAL(item.meta.subject, "Mustermann, Max");
		CU_ASSERT_PTR_NOT_NULL(item.meta.uid);
		/* Folded at 75 octets, CRLF line ends. */
		CU_ASSERT_PTR_NOT_NULL(
			strstr((const char *)item.data,
			       "BEGIN:VCARD\r\nVERSION:3.0\r\n"));
		CU_ASSERT_PTR_NOT_NULL(
			strstr((const char *)item.data,
			       "\r\nN:Mustermann;Max;Maria;Dr.;Jr.\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
					      "ORG:ACME\\, Inc.;R&D\r\n"));
		for (const char *p = (const char *)item.data; *p != '\0';) {
			const char *e = strstr(p, "\r\n");

			CU_ASSERT_PTR_NOT_NULL_FATAL(e);
			CU_ASSERT(e - p <= 75);
			p = e + 2;
		}
	}
}

/* An element the converter does not know comes back unchanged. */
static void
test_contact_unknown_kept(void)
{
	struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA), *out;
	struct store_item item;

	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Solo");
	wbxml_add_text(A, in, EAS_CONTACTS_BODYSIZE, "12");
	wbxml_add_opaque(A, in, EAS_CONTACTS_COMPRESSEDRTF, "\x00\x01\x02", 3);
	out = roundtrip(STORE_CLASS_CONTACTS, in, 141, &item);
	assert_same(in, out);
	CU_ASSERT(wbxml_child(out, EAS_CONTACTS_COMPRESSEDRTF)->opaque);
}

static void
test_contact_bad_input(void)
{
	static const struct {
		uint16_t tag;
		const char *v;
		const char *why;
	} bad[] = {
		{EAS_CONTACTS_BIRTHDAY, "yesterday", "date"},
		{EAS_CONTACTS_ANNIVERSARY, "2024-13-01T00:00:00.000Z", "date"},
		{EAS_CONTACTS_PICTURE, "not*base64!", "base64"},
	};
	struct conv_ctx ctx = ctx_for(141);

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct wbxml_node *in =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct store_item item;
		const char *err = NULL;

		memset(&item, 0, sizeof(item));
		wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "X");
		wbxml_add_text(A, in, bad[i].tag, bad[i].v);
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_CONTACTS, in, &ctx,
					      NULL, &item, &err),
				-1);
		CU_ASSERT_PTR_NOT_NULL(err);
		CU_ASSERT_PTR_NULL(item.data);
	}
	/* A picture above the 48 KiB limit. */
	{
		size_t raw = 48 * 1024 + 1;
		uint8_t *bytes = arena_zalloc(A, raw);
		char *b64 = arena_alloc(A, base64_encoded_len(raw) + 1);
		struct wbxml_node *in =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct store_item item;
		const char *err = NULL;

		base64_encode(bytes, raw, b64);
		wbxml_add_text(A, in, EAS_CONTACTS_PICTURE, b64);
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_CONTACTS, in, &ctx,
					      NULL, &item, &err),
				-1);
		CU_ASSERT_PTR_NOT_NULL(err);
	}
}

static char *
read_data(const char *name, size_t *len_r)
{
	const char *dir = getenv("EASD_SRCDIR");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/conv/%s",
		 dir != NULL ? dir : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = arena_alloc(A, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len_r = (size_t)n;
	return buf;
}

static const char *
out_text(const struct wbxml_node *app, uint16_t tag)
{
	const char *t = wbxml_child_text(app, tag);

	return t != NULL ? t : "(absent)";
}

static unsigned import_version = 161;

static struct wbxml_node *
import(enum store_class cls, const char *file, struct store_item *item)
{
	struct conv_ctx ctx = ctx_for(import_version);
	struct wbxml_node *out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const char *err = NULL, *data;
	size_t len = 0;

	data = read_data(file, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	memset(item, 0, sizeof(*item));
	if (conv_from_standard(A, cls, data, len, item, &err) < 0) {
		fprintf(stderr, "%s: %s\n", file, err);
		CU_FAIL_FATAL("import failed");
	}
	if (conv_to_eas(A, item, &ctx, out, &err) < 0) {
		fprintf(stderr, "%s: %s\n", file, err);
		CU_FAIL_FATAL("to_eas failed");
	}
	return out;
}

static void
test_contact_import_apple(void)
{
	struct store_item item;
	struct wbxml_node *o = import(STORE_CLASS_CONTACTS, "apple.vcf", &item);

	CU_ASSERT_STRING_EQUAL(item.meta.subject, "John Appleseed");
	CU_ASSERT_STRING_EQUAL(item.meta.uid,
			       "410FE041-5C4E-48DA-B4DE-04C15EA3DBAC");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_FIRSTNAME), "John");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_LASTNAME), "Appleseed");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_MOBILEPHONENUMBER),
			       "(888) 555-5512");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEPHONENUMBER),
			       "(888) 555-1212");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_EMAIL1ADDRESS),
			       "John-Appleseed@mac.com");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_EMAIL2ADDRESS),
			       "john@work.example");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSADDRESSSTREET),
			       "3494 Kuhl Avenue");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSADDRESSCITY),
			       "Atlanta");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEADDRESSSTREET),
			       "1234 Laurel Street");
	/* dates: the local midnight of the device (Berlin) in UTC */
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BIRTHDAY),
			       "1980-06-21T22:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_ANNIVERSARY),
			       "2005-09-02T22:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_SPOUSE), "Jane");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_COMPANYNAME),
			       "Apple Inc.");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_JOBTITLE), "Engineer");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(o, EAS_CONTACTS_PICTURE));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(o, EAS_AIRSYNCBASE_BODY));
}

static void
test_contact_import_thunderbird(void)
{
	struct store_item item;
	struct wbxml_node *o =
		import(STORE_CLASS_CONTACTS, "thunderbird.vcf", &item);

	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Jürgen Müller");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_FIRSTNAME), "Jürgen");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_LASTNAME), "Müller");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSPHONENUMBER),
			       "+49 89 123");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEPHONENUMBER),
			       "+49 89 456");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_MOBILEPHONENUMBER),
			       "+49 171 789");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSFAXNUMBER),
			       "+49 89 999");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_EMAIL1ADDRESS),
			       "juergen@example.de");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEADDRESSCITY),
			       "München");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_WEBPAGE),
			       "https://example.de");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS2_NICKNAME), "Jü");
	{
		const struct wbxml_node *b =
			wbxml_child(o, EAS_AIRSYNCBASE_BODY);

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(b, EAS_AIRSYNCBASE_DATA),
			"Zeile eins\r\nZeile zwei, mit Komma");
	}
}

/* vCard 2.1 with quoted-printable and bare type parameters. */
static void
test_contact_import_v21(void)
{
	struct store_item item;
	struct wbxml_node *o =
		import(STORE_CLASS_CONTACTS, "v21-qp.vcf", &item);

	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_LASTNAME), "Größe");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_BUSINESSPHONENUMBER),
			       "+1 555 0100");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CONTACTS_HOMEADDRESSSTREET),
			       "Long street name that goes on and on 12");
}

static void
test_contact_import_bad(void)
{
	static const char *const bad[] = {
		"not a vcard at all",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nN:x\r\n",
		"BEGIN:VCARD\r\nBDAY:someday\r\nEND:VCARD\r\n",
	};

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct store_item item;
		const char *err = NULL;

		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_standard(A, STORE_CLASS_CONTACTS,
						   bad[i], strlen(bad[i]),
						   &item, &err),
				-1);
		CU_ASSERT_PTR_NOT_NULL(err);
	}
}

/* --- notes --- */

static struct wbxml_node *
full_note(const char *type, const char *body)
{
	static const char *const cats[] = {"Home", "Ideas", NULL};
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	wbxml_add_text(A, app, EAS_NOTES_SUBJECT, "Shopping\r\nlist");
	wbxml_add_text(A, app, EAS_NOTES_MESSAGECLASS, "IPM.StickyNote");
	wbxml_add_text(A, app, EAS_NOTES_LASTMODIFIEDDATE,
		       "2024-03-05T14:30:00.000Z");
	add_list(app, EAS_NOTES_CATEGORIES, EAS_NOTES_CATEGORY, cats);
	add_body(app, type, body);
	return app;
}

static void
test_note_roundtrip(void)
{
	static const unsigned versions[] = {141, 161};

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		struct store_item item;
		struct wbxml_node *in =
			full_note("1", "Milk\r\nEggs\r\n\r\nX:y");
		struct wbxml_node *out =
			roundtrip(STORE_CLASS_NOTES, in, versions[v], &item);

		assert_same(in, out);
		if (getenv("CONV_DEBUG") != NULL)
			fprintf(stderr, "%s\n", (const char *)item.data);
		CU_ASSERT_EQUAL(item.meta.date, 1709649000);
		CU_ASSERT_STRING_EQUAL(item.meta.subject, "Shopping\r\nlist");
	}
	{
		struct store_item item;
		struct wbxml_node *in = full_note("2", "<p>Hi &amp; bye</p>");
		struct conv_ctx ctx = ctx_for(161);
		struct wbxml_node *out;
		const struct wbxml_node *b;

		rt_body_type = 2;
		out = roundtrip(STORE_CLASS_NOTES, in, 161, &item);
		rt_body_type = 0;
		assert_same(in, out);
		/* A client that only takes plain text gets it converted. */
		ctx.nprefs = 1;
		ctx.prefs[0].type = 1;
		out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		CU_ASSERT_EQUAL(
			conv_to_eas(A, &item, &ctx, out, &(const char *){NULL}),
			0);
		b = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(b, EAS_AIRSYNCBASE_TYPE), "1");
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(b, EAS_AIRSYNCBASE_DATA),
			"Hi & bye\r\n");
	}
}

static void
test_note_bad_input(void)
{
	struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item;
	const char *err = NULL;

	wbxml_add_text(A, in, EAS_NOTES_LASTMODIFIEDDATE, "32/13/2024");
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_NOTES, in, &ctx, NULL,
				      &item, &err),
			-1);
	CU_ASSERT_PTR_NOT_NULL(err);
}

static void
test_note_import_plain(void)
{
	static const char text[] = "Call Bob\nabout the roof\n";
	struct store_item item;
	const char *err = NULL;
	struct wbxml_node *out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	struct conv_ctx ctx = ctx_for(141);

	CU_ASSERT_EQUAL_FATAL(conv_from_standard(A, STORE_CLASS_NOTES, text,
						 strlen(text), &item, &err),
			      0);
	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Call Bob");
	CU_ASSERT_EQUAL(conv_to_eas(A, &item, &ctx, out, &err), 0);
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_NOTES_SUBJECT), "Call Bob");
}

/* --- body --- */

static void
test_body_truncation(void)
{
	/* "Grüße" and more: the cut must not split the two-byte ü or ß. */
	static const char text[] = "Gr\xc3\xbc\xc3\x9f"
				   "e aus K\xc3\xb6ln";
	struct conv_ctx ctx = ctx_for(141);
	size_t full = strlen(text);

	for (uint32_t cut = 0; cut <= full + 1; cut++) {
		struct wbxml_node *app =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		const struct wbxml_node *b, *d;

		ctx.nprefs = 1;
		memset(&ctx.prefs[0], 0, sizeof(ctx.prefs[0]));
		ctx.prefs[0].type = 1;
		ctx.prefs[0].has_truncation = true;
		ctx.prefs[0].truncation_size = cut;
		conv_add_body(A, app, &ctx, text, full, 1);
		b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_EQUAL(atoi(wbxml_child_text(
					b, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE)),
				(int)full);
		d = wbxml_child(b, EAS_AIRSYNCBASE_DATA);
		if (cut >= full) {
			CU_ASSERT_PTR_NULL(
				wbxml_child(b, EAS_AIRSYNCBASE_TRUNCATED));
			CU_ASSERT_STRING_EQUAL(wbxml_text(d), text);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(b, EAS_AIRSYNCBASE_TRUNCATED), "1");
		if (d == NULL) {
			CU_ASSERT(cut <= 2);
			continue;
		}
		CU_ASSERT(d->len <= cut);
		CU_ASSERT(memcmp(d->data, text, d->len) == 0);
		/* Never ends inside a multi-byte sequence. */
		CU_ASSERT((text[d->len] & 0xc0) != 0x80);
	}
	/* cut 3 lands inside ü: only "Gr" is sent. */
	{
		struct wbxml_node *app =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

		ctx.prefs[0].truncation_size = 3;
		conv_add_body(A, app, &ctx, text, full, 1);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(wbxml_child(app, EAS_AIRSYNCBASE_BODY),
					 EAS_AIRSYNCBASE_DATA),
			"Gr");
	}
}

static void
test_body_all_or_none_preview(void)
{
	static const char text[] = "Hello   world,\r\nthis is long";
	struct conv_ctx ctx = ctx_for(141);
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const struct wbxml_node *b;

	ctx.nprefs = 1;
	ctx.prefs[0].type = 1;
	ctx.prefs[0].has_truncation = true;
	ctx.prefs[0].truncation_size = 5;
	ctx.prefs[0].all_or_none = true;
	ctx.prefs[0].preview = 11;
	conv_add_body(A, app, &ctx, text, strlen(text), 1);
	b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_PTR_NULL(wbxml_child(b, EAS_AIRSYNCBASE_DATA));
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_TRUNCATED),
			       "1");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_PREVIEW),
			       "Hello world");
	/* Fits: sent whole. */
	app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	ctx.prefs[0].truncation_size = 1000;
	conv_add_body(A, app, &ctx, text, strlen(text), 1);
	b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA), text);
	/* No preferences: plain, whole. */
	app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	ctx.nprefs = 0;
	conv_add_body(A, app, &ctx, text, strlen(text), 1);
	b = wbxml_child(app, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_TYPE), "1");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA), text);
}

/* --- ghosting --- */

static void
test_ghosting(void)
{
	static const uint16_t supported[] = {
		EAS_CONTACTS_FIRSTNAME,
		EAS_CONTACTS_LASTNAME,
		EAS_CONTACTS_MOBILEPHONENUMBER,
	};
	struct wbxml_node *in = full_contact(), *change, *out;
	struct store_item old, item;
	struct conv_ctx ctx = ctx_for(141);
	const char *err = NULL;

	out = roundtrip(STORE_CLASS_CONTACTS, in, 141, &old);
	/* The device knows only three properties: it changes the first
	 * name, deletes the mobile number (omits it) and says nothing of
	 * the rest, which must survive. */
	change = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(A, change, EAS_CONTACTS_FIRSTNAME, "Moritz");
	wbxml_add_text(A, change, EAS_CONTACTS_LASTNAME, "Mustermann");
	ctx.supported = supported;
	ctx.nsupported = N_ELEMENTS(supported);
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL_FATAL(conv_from_eas(A, STORE_CLASS_CONTACTS, change,
					    &ctx, &old, &item, &err),
			      0);
	out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	ctx.supported = NULL;
	ctx.nsupported = 0;
	CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, &item, &ctx, out, &err), 0);
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CONTACTS_FIRSTNAME), "Moritz");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_MOBILEPHONENUMBER));
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CONTACTS_HOMEADDRESSCITY),
			       "Köln");
	CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CONTACTS2_NICKNAME), "Maxi");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_CONTACTS_PICTURE));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_CONTACTS_CATEGORIES));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_AIRSYNCBASE_BODY));
	/* The UID stays the same across the change. */
	CU_ASSERT_STRING_EQUAL(item.meta.uid, old.meta.uid);
	/* Without Supported, a Change replaces everything. */
	memset(&item, 0, sizeof(item));
	CU_ASSERT_EQUAL_FATAL(conv_from_eas(A, STORE_CLASS_CONTACTS, change,
					    &ctx, &old, &item, &err),
			      0);
	out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, &item, &ctx, out, &err), 0);
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS2_NICKNAME));
}

/* --- calendar --- */

struct tz_case {
	const char *name;
	const char *tzid; /* expected TZID prefix in the stored text */
	int bias;
	struct conv_tz_date std, dst;
	int dst_bias;
	const char *local_start; /* DTSTART local time of 20240305T143000Z */
};

static const struct tz_case tz_cases[] = {
	{"Central Europe",
	 "Europe/Berlin",
	 -60,
	 {0, 10, 0, 5, 3, 0, 0, 0},
	 {0, 3, 0, 5, 2, 0, 0, 0},
	 -60,
	 "20240305T153000"},
	{"US Eastern",
	 "America/New_York",
	 300,
	 {0, 11, 0, 1, 2, 0, 0, 0},
	 {0, 3, 0, 2, 2, 0, 0, 0},
	 -60,
	 "20240305T093000"},
	{"Tokyo, no DST", "Asia/Tokyo", -540, {0}, {0}, 0, "20240305T233000"},
	{"made-up rules",
	 "EAS/",
	 -90,
	 {0, 9, 3, 2, 4, 30, 0, 0},
	 {0, 4, 2, 3, 1, 15, 0, 0},
	 -45,
	 "20240305T160000"},
};

static const char *
tz_blob(const struct tz_case *c)
{
	struct conv_tz tz;
	const char *n = "Some Zone";

	memset(&tz, 0, sizeof(tz));
	tz.bias = c->bias;
	tz.std_date = c->std;
	tz.dst_date = c->dst;
	tz.dst_bias = c->dst_bias;
	for (int i = 0; n[i] != '\0'; i++)
		tz.std_name[i] = tz.dst_name[i] = (uint16_t)n[i];
	return conv_tz_encode(A, &tz);
}

static void
add_attendee(struct wbxml_node *list, const char *email, const char *name,
	     const char *status, const char *type)
{
	struct wbxml_node *at = wbxml_add(A, list, EAS_CALENDAR_ATTENDEE);

	wbxml_add_text(A, at, EAS_CALENDAR_EMAIL, email);
	wbxml_add_text(A, at, EAS_CALENDAR_NAME, name);
	if (status != NULL)
		wbxml_add_text(A, at, EAS_CALENDAR_ATTENDEESTATUS, status);
	if (type != NULL)
		wbxml_add_text(A, at, EAS_CALENDAR_ATTENDEETYPE, type);
}

static void
add_location(struct wbxml_node *app, unsigned version, const char *name)
{
	struct wbxml_node *l;

	if (version < 160) {
		wbxml_add_text(A, app, EAS_CALENDAR_LOCATION, name);
		return;
	}
	l = wbxml_add(A, app, EAS_AIRSYNCBASE_LOCATION);
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_DISPLAYNAME, name);
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_ANNOTATION, "2nd floor");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_STREET, "Hauptstr. 1");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_CITY, "Berlin");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_STATE, "BE");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_COUNTRY, "DE");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_POSTALCODE, "10115");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_LATITUDE, "52.52");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_LONGITUDE, "13.405");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_ACCURACY, "10");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_ALTITUDE, "34");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_ALTITUDEACCURACY, "5");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_LOCATIONURI, "geo:52.52,13.405");
}

/* MS-ASAIRS 2.2.2.25: InstanceId is a compact dateTime like
 * ExceptionStartTime (the ISO form a client may send is read too, see
 * test-conv-fidelity, but never sent back). */
static void
add_exception_id(struct wbxml_node *ex, unsigned version, const char *compact)
{
	wbxml_add_text(A, ex,
		       version < 160 ? EAS_CALENDAR_EXCEPTIONSTARTTIME
				     : EAS_AIRSYNCBASE_INSTANCEID,
		       compact);
}

static struct wbxml_node *
full_event(unsigned version, const char *tz)
{
	static const char *const cats[] = {"Business", "Team, core", NULL};
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	struct wbxml_node *l, *rec, *ex;

	wbxml_add_text(A, app, EAS_CALENDAR_TIMEZONE, tz);
	wbxml_add_text(A, app, EAS_CALENDAR_ALLDAYEVENT, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_BUSYSTATUS, "2");
	wbxml_add_text(A, app, EAS_CALENDAR_ORGANIZERNAME, "Olga Organizer");
	wbxml_add_text(A, app, EAS_CALENDAR_ORGANIZEREMAIL, "olga@example.com");
	wbxml_add_text(A, app, EAS_CALENDAR_DTSTAMP, "20240301T080000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20240305T143000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20240305T153000Z");
	add_location(app, version, "Room 1; Building, A");
	wbxml_add_text(A, app, EAS_CALENDAR_REMINDER, "15");
	wbxml_add_text(A, app, EAS_CALENDAR_SENSITIVITY, "1");
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Weekly sync, all\\hands");
	if (version < 160)
		wbxml_add_text(A, app, EAS_CALENDAR_UID,
			       "040000008200E00074C5B7101A82E008000000001");
	else
		wbxml_add_text(A, app, EAS_CALENDAR_CLIENTUID, "client-uid-1");
	wbxml_add_text(A, app, EAS_CALENDAR_MEETINGSTATUS, "1");
	l = wbxml_add(A, app, EAS_CALENDAR_ATTENDEES);
	add_attendee(l, "a@example.com", "Anna, A.", "3", "1");
	add_attendee(l, "b@example.com", "Bert", "0", "2");
	add_attendee(l, "c@example.com", "Conf Room", "5", "3");
	add_attendee(l, "d@example.com", "Dora", NULL, NULL);
	add_list(app, EAS_CALENDAR_CATEGORIES, EAS_CALENDAR_CATEGORY, cats);
	rec = wbxml_add(A, app, EAS_CALENDAR_RECURRENCE);
	wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, "1");
	wbxml_add_text(A, rec, EAS_CALENDAR_INTERVAL, "1");
	wbxml_add_text(A, rec, EAS_CALENDAR_DAYOFWEEK, "4");
	wbxml_add_text(A, rec, EAS_CALENDAR_UNTIL, "20240430T143000Z");
	wbxml_add_text(A, rec, EAS_CALENDAR_CALENDARTYPE, "0");
	wbxml_add_text(A, rec, EAS_CALENDAR_FIRSTDAYOFWEEK, "1");
	l = wbxml_add(A, app, EAS_CALENDAR_EXCEPTIONS);
	ex = wbxml_add(A, l, EAS_CALENDAR_EXCEPTION);
	wbxml_add_text(A, ex, EAS_CALENDAR_DELETED, "1");
	add_exception_id(ex, version, "20240312T143000Z");
	ex = wbxml_add(A, l, EAS_CALENDAR_EXCEPTION);
	add_exception_id(ex, version, "20240319T143000Z");
	wbxml_add_text(A, ex, EAS_CALENDAR_SUBJECT, "Moved sync");
	wbxml_add_text(A, ex, EAS_CALENDAR_STARTTIME, "20240320T100000Z");
	wbxml_add_text(A, ex, EAS_CALENDAR_ENDTIME, "20240320T110000Z");
	wbxml_add_text(A, ex, EAS_CALENDAR_BUSYSTATUS, "1");
	add_location(ex, version, "Room 2");
	add_body(ex, "1", "Moved because of the holiday.");
	wbxml_add_text(A, app, EAS_CALENDAR_RESPONSEREQUESTED, "1");
	wbxml_add_text(A, app, EAS_CALENDAR_DISALLOWNEWTIMEPROPOSAL, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_RESPONSETYPE, "1");
	wbxml_add_text(A, app, EAS_CALENDAR_APPOINTMENTREPLYTIME,
		       "20240302T090000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ONLINEMEETINGCONFLINK,
		       "sip:conf@example.com;gruu;opaque=app:conf:focus:id:1");
	wbxml_add_text(A, app, EAS_CALENDAR_ONLINEMEETINGEXTERNALLINK,
		       "https://meet.example.com/j/1?pwd=a,b");
	add_body(app, "1", "Agenda:\r\n1. news\r\n2. plans, risks; more");
	return app;
}

/* Drop the 16.x identity elements that legitimately differ: the client's
 * ClientUid is not echoed, the server's UID is added. */
static void
strip_tags(struct wbxml_node *app, uint16_t tag)
{
	struct wbxml_node **pp = &app->child;

	app->last = NULL;
	while (*pp != NULL) {
		if ((*pp)->tag == tag) {
			*pp = (*pp)->next;
			continue;
		}
		app->last = *pp;
		pp = &(*pp)->next;
	}
}

static void
test_calendar_roundtrip(void)
{
	static const unsigned versions[] = {141, 161};

	for (size_t z = 0; z < N_ELEMENTS(tz_cases); z++) {
		for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
			const struct tz_case *tc = &tz_cases[z];
			const char *blob = tz_blob(tc);
			struct wbxml_node *in = full_event(versions[v], blob);
			struct wbxml_node *out;
			struct store_item item;
			icalcomponent *parsed;
			const char *text;
			size_t len;
			const char *err;
			char want[128];

			out = roundtrip(STORE_CLASS_CALENDAR, in, versions[v],
					&item);
			if (versions[v] >= 160) {
				CU_ASSERT_PTR_NOT_NULL(
					wbxml_child(out, EAS_CALENDAR_UID));
				CU_ASSERT_PTR_NULL(wbxml_child(
					out, EAS_CALENDAR_CLIENTUID));
				strip_tags(in, EAS_CALENDAR_CLIENTUID);
				strip_tags(out, EAS_CALENDAR_UID);
			}
			assert_same(in, out);
			/* The blob comes back byte for byte. */
			CU_ASSERT_STRING_EQUAL(
				out_text(out, EAS_CALENDAR_TIMEZONE), blob);
			CU_ASSERT_EQUAL(item.meta.date, 1709649000);
			/* Until 2024-04-30 14:30Z plus one hour. */
			CU_ASSERT_EQUAL(item.meta.date_end, 1714487400 + 3600);
			CU_ASSERT_STRING_EQUAL(item.meta.subject,
					       "Weekly sync, all\\hands");
			CU_ASSERT_PTR_NOT_NULL(item.meta.uid);
			/* The standard text: local time with the matching
			 * TZID, and libical reads it back. */
			snprintf(want, sizeof(want), "DTSTART;TZID=%s",
				 tc->tzid);
			if (strstr((const char *)item.data, want) == NULL)
				fprintf(stderr, "%s\n",
					(const char *)item.data);
			CU_ASSERT_PTR_NOT_NULL(
				strstr((const char *)item.data, want));
			CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
						      tc->local_start));
			CU_ASSERT_EQUAL(
				conv_to_standard(A, &item, &text, &len, &err),
				0);
			parsed = icalparser_parse_string(text);
			CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
			CU_ASSERT_PTR_NOT_NULL(
				icalcomponent_get_first_component(
					parsed, ICAL_VTIMEZONE_COMPONENT));
			icalcomponent_free(parsed);
		}
	}
}

/* 16.x all-day event: dates only, no TimeZone sent or returned. */
static void
test_calendar_allday(void)
{
	struct wbxml_node *in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA), *out;
	struct store_item item;

	wbxml_add_text(A, in, EAS_CALENDAR_ALLDAYEVENT, "1");
	wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME, "20240305T000000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240306T000000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_SUBJECT, "Holiday");
	wbxml_add_text(A, in, EAS_CALENDAR_DTSTAMP, "20240301T080000Z");
	out = roundtrip(STORE_CLASS_CALENDAR, in, 161, &item);
	strip_tags(out, EAS_CALENDAR_UID);
	assert_same(in, out);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)item.data, "DTSTART;VALUE=DATE:20240305"));
	/* 14.1 with a zone: local midnight, stored as a date. */
	in = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(A, in, EAS_CALENDAR_TIMEZONE, tz_blob(&tz_cases[0]));
	wbxml_add_text(A, in, EAS_CALENDAR_ALLDAYEVENT, "1");
	wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME, "20240304T230000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240305T230000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_DTSTAMP, "20240301T080000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_UID, "allday-1");
	out = roundtrip(STORE_CLASS_CALENDAR, in, 141, &item);
	assert_same(in, out);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)item.data, "DTSTART;VALUE=DATE:20240305"));
}

/* Each recurrence type makes the RRULE a calendar program expects, and
 * an endless series ends never. */
static void
test_calendar_recurrence_types(void)
{
	static const struct {
		const char *type, *dow, *dom, *wom, *moy, *occ, *want;
	} cases[] = {
		{"0", NULL, NULL, NULL, NULL, "10", "FREQ=DAILY;COUNT=10"},
		{"0", "62", NULL, NULL, NULL, NULL,
		 "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"},
		{"1", "42", NULL, NULL, NULL, NULL,
		 "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
		{"2", NULL, "5", NULL, NULL, NULL, "FREQ=MONTHLY;BYMONTHDAY=5"},
		{"3", "4", NULL, "2", NULL, NULL,
		 "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2"},
		{"3", "127", NULL, "5", NULL, NULL, "BYSETPOS=-1"},
		{"5", NULL, "5", NULL, "3", NULL,
		 "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=5"},
		{"6", "4", NULL, "1", "3", NULL,
		 "FREQ=YEARLY;BYDAY=TU;BYMONTH=3;BYSETPOS=1"},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct wbxml_node *in =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct wbxml_node *rec, *out;
		struct store_item item;

		wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME,
			       "20240305T143000Z");
		wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240305T153000Z");
		wbxml_add_text(A, in, EAS_CALENDAR_DTSTAMP, "20240301T080000Z");
		wbxml_add_text(A, in, EAS_CALENDAR_UID, "r");
		wbxml_add_text(A, in, EAS_CALENDAR_TIMEZONE,
			       tz_blob(&tz_cases[0]));
		rec = wbxml_add(A, in, EAS_CALENDAR_RECURRENCE);
		wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, cases[i].type);
#define OPT(tag, v)                                                            \
	if (v != NULL)                                                         \
	wbxml_add_text(A, rec, tag, v)
		OPT(EAS_CALENDAR_DAYOFWEEK, cases[i].dow);
		OPT(EAS_CALENDAR_DAYOFMONTH, cases[i].dom);
		OPT(EAS_CALENDAR_WEEKOFMONTH, cases[i].wom);
		OPT(EAS_CALENDAR_MONTHOFYEAR, cases[i].moy);
		OPT(EAS_CALENDAR_OCCURRENCES, cases[i].occ);
#undef OPT
		out = roundtrip(STORE_CLASS_CALENDAR, in, 141, &item);
		assert_same(in, out);
		/* Every part of the expected rule, in libical's order. */
		{
			char *want = arena_strdup(A, cases[i].want), *save;
			const char *rr = strstr(
				strstr((const char *)item.data, "BEGIN:VEVENT"),
				"RRULE:");

			CU_ASSERT_PTR_NOT_NULL_FATAL(rr);
			for (char *part = strtok_r(want, ";", &save);
			     part != NULL; part = strtok_r(NULL, ";", &save)) {
				const char *eol = strchr(rr, '\r');
				const char *hit = strstr(rr, part);

				CU_ASSERT(hit != NULL &&
					  (eol == NULL || hit < eol));
			}
		}
		if (cases[i].occ != NULL) { /* ten days from March 5th */
			CU_ASSERT_EQUAL(item.meta.date_end,
					1709649000 + 9 * 86400 + 3600);
		} else {
			CU_ASSERT_EQUAL(item.meta.date_end, INT64_MAX);
		}
	}
}

static void
test_calendar_bad_input(void)
{
	static const struct {
		uint16_t tag;
		const char *v;
	} bad[] = {
		{EAS_CALENDAR_STARTTIME, "2024-03-05 at noon"},
		{EAS_CALENDAR_TIMEZONE, "AAAA"},
		{EAS_CALENDAR_TIMEZONE, "!!notbase64!!"},
		{EAS_CALENDAR_BUSYSTATUS, "9"},
		{EAS_CALENDAR_SENSITIVITY, "x"},
		{EAS_CALENDAR_DTSTAMP, "20241301T000000Z"},
		{0, NULL}, /* unknown recurrence type */
		{1, NULL}, /* exception without start */
		{2, NULL}, /* end before start */
	};
	struct conv_ctx ctx = ctx_for(141);

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct wbxml_node *in =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct store_item item;
		const char *err = NULL;

		if (bad[i].tag != EAS_CALENDAR_STARTTIME)
			wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME,
				       "20240305T143000Z");
		if (bad[i].v != NULL) {
			wbxml_add_text(A, in, bad[i].tag, bad[i].v);
		} else if (bad[i].tag == 0) {
			struct wbxml_node *r =
				wbxml_add(A, in, EAS_CALENDAR_RECURRENCE);

			wbxml_add_text(A, r, EAS_CALENDAR_TYPE, "4");
		} else if (bad[i].tag == 1) {
			struct wbxml_node *r =
				wbxml_add(A, in, EAS_CALENDAR_RECURRENCE);
			struct wbxml_node *l =
				wbxml_add(A, in, EAS_CALENDAR_EXCEPTIONS);

			wbxml_add_text(A, r, EAS_CALENDAR_TYPE, "0");
			wbxml_add_text(A,
				       wbxml_add(A, l, EAS_CALENDAR_EXCEPTION),
				       EAS_CALENDAR_DELETED, "1");
		} else {
			wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME,
				       "20240305T120000Z");
		}
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_CALENDAR, in, &ctx,
					      NULL, &item, &err),
				-1);
		CU_ASSERT_PTR_NOT_NULL(err);
		CU_ASSERT_PTR_NULL(item.data);
	}
}

static void
test_calendar_import(void)
{
	struct store_item item;
	struct wbxml_node *o;
	struct conv_tz tz;
	const char *b64, *err;
	const struct wbxml_node *rec, *exl;

	import_version = 141;
	o = import(STORE_CLASS_CALENDAR, "event.ics", &item);
	import_version = 161;
	b64 = out_text(o, EAS_CALENDAR_TIMEZONE);
	CU_ASSERT_STRING_EQUAL(item.meta.uid, "import-event-1@example.com");
	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Team lunch");
	/* 12:00 Berlin summer time is 10:00 UTC. */
	CU_ASSERT_EQUAL(item.meta.date, 1719482400);
	CU_ASSERT_EQUAL(item.meta.date_end, INT64_MAX);
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CALENDAR_STARTTIME),
			       "20240627T100000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CALENDAR_ENDTIME),
			       "20240627T110000Z");
	CU_ASSERT_EQUAL_FATAL(conv_tz_decode(A, b64, strlen(b64), &tz, &err),
			      0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(conv_tz_match_iana(&tz));
	CU_ASSERT_STRING_EQUAL(conv_tz_match_iana(&tz), "Europe/Berlin");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CALENDAR_LOCATION), "Canteen");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CALENDAR_ORGANIZEREMAIL),
			       "boss@example.com");
	rec = wbxml_child(o, EAS_CALENDAR_RECURRENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(rec, EAS_CALENDAR_TYPE), "1");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(rec, EAS_CALENDAR_DAYOFWEEK),
			       "16");
	exl = wbxml_child(o, EAS_CALENDAR_EXCEPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(exl);
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(wbxml_child(exl, EAS_CALENDAR_EXCEPTION),
				 EAS_CALENDAR_EXCEPTIONSTARTTIME),
		"20240704T100000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_CALENDAR_REMINDER), "10");
	{
		const char *bad = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";

		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_standard(A, STORE_CLASS_CALENDAR, bad,
						   strlen(bad), &item, &err),
				-1);
	}
}

/* The blob's rules against libical's own zone data. */
static void
test_tz_rules(void)
{
	static const char *const zones[] = {
		"Europe/Berlin",    "America/New_York", "Asia/Tokyo",
		"Australia/Sydney", "Europe/London",
	};

	for (size_t i = 0; i < N_ELEMENTS(zones); i++) {
		icaltimezone *z = icaltimezone_get_builtin_timezone(zones[i]);
		struct conv_tz tz;

		CU_ASSERT_PTR_NOT_NULL_FATAL(z);
		conv_tz_from_ical(z, 1709649000, &tz);
		CU_ASSERT_PTR_NOT_NULL_FATAL(conv_tz_match_iana(&tz));
		CU_ASSERT_STRING_EQUAL(conv_tz_match_iana(&tz), zones[i]);
		/* Offsets agree across a year, hour by hour near switches. */
		for (int64_t t = 1704067200; t < 1735689600;
		     t += 3 * 3600 + 17) {
			struct icaltimetype tt = icaltime_from_timet_with_zone(
				(time_t)t, 0, icaltimezone_get_utc_timezone());
			int dst;
			int off = icaltimezone_get_utc_offset_of_utc_time(
				z, &tt, &dst);

			if (off != conv_tz_offset_at(&tz, t)) {
				fprintf(stderr, "%s at %lld: %d vs %d\n",
					zones[i], (long long)t, off,
					conv_tz_offset_at(&tz, t));
				CU_FAIL("offset differs");
				break;
			}
		}
	}
}

/* --- tasks --- */

static struct wbxml_node *
full_task(void)
{
	static const char *const cats[] = {"Errands", NULL};
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA),
			  *rec;

	wbxml_add_text(A, app, EAS_TASKS_SUBJECT, "File taxes; now");
	wbxml_add_text(A, app, EAS_TASKS_IMPORTANCE, "2");
	wbxml_add_text(A, app, EAS_TASKS_SENSITIVITY, "2");
	add_list(app, EAS_TASKS_CATEGORIES, EAS_TASKS_CATEGORY, cats);
	wbxml_add_text(A, app, EAS_TASKS_STARTDATE, "2024-03-01T00:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_UTCSTARTDATE,
		       "2024-02-29T23:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_DUEDATE, "2024-04-15T00:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_UTCDUEDATE,
		       "2024-04-14T22:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_COMPLETE, "1");
	wbxml_add_text(A, app, EAS_TASKS_DATECOMPLETED,
		       "2024-04-10T09:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_REMINDERSET, "1");
	wbxml_add_text(A, app, EAS_TASKS_REMINDERTIME,
		       "2024-04-14T07:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_ORDINALDATE,
		       "2024-03-01T10:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_SUBORDINALDATE, "5555555555555555");
	rec = wbxml_add(A, app, EAS_TASKS_RECURRENCE);
	wbxml_add_text(A, rec, EAS_TASKS_TYPE, "5");
	wbxml_add_text(A, rec, EAS_TASKS_START, "2024-04-15T00:00:00.000Z");
	wbxml_add_text(A, rec, EAS_TASKS_UNTIL, "2030-04-15T00:00:00.000Z");
	wbxml_add_text(A, rec, EAS_TASKS_INTERVAL, "1");
	wbxml_add_text(A, rec, EAS_TASKS_DAYOFMONTH, "15");
	wbxml_add_text(A, rec, EAS_TASKS_MONTHOFYEAR, "4");
	wbxml_add_text(A, rec, EAS_TASKS_REGENERATE, "0");
	wbxml_add_text(A, rec, EAS_TASKS_DEADOCCUR, "0");
	wbxml_add_text(A, rec, EAS_TASKS_CALENDARTYPE, "1");
	wbxml_add_text(A, rec, EAS_TASKS_ISLEAPMONTH, "0");
	wbxml_add_text(A, rec, EAS_TASKS_FIRSTDAYOFWEEK, "1");
	add_body(app, "1", "Receipts are in the blue folder.");
	return app;
}

static void
test_task_roundtrip(void)
{
	static const unsigned versions[] = {141, 161};

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		struct wbxml_node *in = full_task(), *out;
		struct store_item item;
		icalcomponent *parsed;

		out = roundtrip(STORE_CLASS_TASKS, in, versions[v], &item);
		assert_same(in, out);
		CU_ASSERT_EQUAL(item.meta.date, 1713132000);
		CU_ASSERT(item.meta.complete);
		CU_ASSERT_STRING_EQUAL(item.meta.subject, "File taxes; now");
		CU_ASSERT_PTR_NOT_NULL(
			strstr((const char *)item.data,
			       "RRULE:FREQ=YEARLY;UNTIL=20300415T000000Z;"
			       "BYMONTHDAY=15;BYMONTH=4"));
		CU_ASSERT_PTR_NOT_NULL(
			strstr((const char *)item.data, "PRIORITY:1"));
		parsed = icalparser_parse_string((const char *)item.data);
		CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
		icalcomponent_free(parsed);
	}
}

static void
test_task_bad_and_import(void)
{
	static const struct {
		uint16_t tag;
		const char *v;
	} bad[] = {
		{EAS_TASKS_IMPORTANCE, "3"},
		{EAS_TASKS_DUEDATE, "tomorrow"},
		{EAS_TASKS_COMPLETE, "yes"},
	};
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item;
	struct wbxml_node *o;

	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		struct wbxml_node *in =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		const char *err = NULL;

		wbxml_add_text(A, in, bad[i].tag, bad[i].v);
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_TASKS, in, &ctx,
					      NULL, &item, &err),
				-1);
		CU_ASSERT_PTR_NOT_NULL(err);
	}
	{
		struct wbxml_node *in =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		struct wbxml_node *r = wbxml_add(A, in, EAS_TASKS_RECURRENCE);
		const char *err = NULL;

		wbxml_add_text(A, r, EAS_TASKS_TYPE, "7");
		CU_ASSERT_EQUAL(conv_from_eas(A, STORE_CLASS_TASKS, in, &ctx,
					      NULL, &item, &err),
				-1);
	}
	o = import(STORE_CLASS_TASKS, "task.ics", &item);
	CU_ASSERT_STRING_EQUAL(item.meta.subject, "Renew passport");
	CU_ASSERT_EQUAL(item.meta.date, 1719824400);
	CU_ASSERT(!item.meta.complete);
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_TASKS_UTCDUEDATE),
			       "2024-07-01T09:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_TASKS_IMPORTANCE), "2");
	CU_ASSERT_STRING_EQUAL(out_text(o, EAS_TASKS_COMPLETE), "0");
}

/* A device that knows only subject and times changes them; attendees,
 * recurrence, exceptions, zone and body of the stored event survive. */
static void
test_calendar_ghosting(void)
{
	static const uint16_t supported[] = {
		EAS_CALENDAR_SUBJECT,
		EAS_CALENDAR_STARTTIME,
		EAS_CALENDAR_ENDTIME,
	};
	static const unsigned versions[] = {141, 161};

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		const char *blob = tz_blob(&tz_cases[1]);
		struct wbxml_node *in = full_event(versions[v], blob), *change;
		struct wbxml_node *out;
		struct store_item old, item;
		struct conv_ctx ctx = ctx_for(versions[v]);
		const char *err = NULL;
		const struct wbxml_node *n;

		(void)roundtrip(STORE_CLASS_CALENDAR, in, versions[v], &old);
		change = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		wbxml_add_text(A, change, EAS_CALENDAR_SUBJECT, "Renamed");
		wbxml_add_text(A, change, EAS_CALENDAR_STARTTIME,
			       "20240305T150000Z");
		wbxml_add_text(A, change, EAS_CALENDAR_ENDTIME,
			       "20240305T160000Z");
		ctx.supported = supported;
		ctx.nsupported = N_ELEMENTS(supported);
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL_FATAL(conv_from_eas(A, STORE_CLASS_CALENDAR,
						    change, &ctx, &old, &item,
						    &err),
				      0);
		CU_ASSERT_STRING_EQUAL(item.meta.uid, old.meta.uid);
		ctx.supported = NULL;
		ctx.nsupported = 0;
		out = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
		CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, &item, &ctx, out, &err),
				      0);
		CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CALENDAR_SUBJECT),
				       "Renamed");
		CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CALENDAR_STARTTIME),
				       "20240305T150000Z");
		CU_ASSERT_STRING_EQUAL(out_text(out, EAS_CALENDAR_TIMEZONE),
				       blob);
		n = wbxml_child(out, EAS_CALENDAR_ATTENDEES);
		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_EQUAL(wbxml_count_children(n), 4);
		CU_ASSERT_PTR_NOT_NULL(
			wbxml_child(out, EAS_CALENDAR_RECURRENCE));
		n = wbxml_child(out, EAS_CALENDAR_EXCEPTIONS);
		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_EQUAL(wbxml_count_children(n), 2);
		CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_AIRSYNCBASE_BODY));
		CU_ASSERT_STRING_EQUAL(
			out_text(out, EAS_CALENDAR_ORGANIZEREMAIL),
			"olga@example.com");
	}
}

static CU_TestInfo calendar_tests[] = {
	{"ghosting on a calendar Change", test_calendar_ghosting},
	{"event round trip, every property, 4 zones", test_calendar_roundtrip},
	{"all-day events", test_calendar_allday},
	{"recurrence types", test_calendar_recurrence_types},
	{"bad calendar input", test_calendar_bad_input},
	{"import .ics", test_calendar_import},
	{"time zone rules match libical", test_tz_rules},
	{"task round trip", test_task_roundtrip},
	{"bad tasks, task import", test_task_bad_and_import},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo contact_tests[] = {
	{"contact round trip, every property", test_contact_roundtrip},
	{"unknown elements kept", test_contact_unknown_kept},
	{"bad contact input", test_contact_bad_input},
	{"import Apple Contacts vCard", test_contact_import_apple},
	{"import Thunderbird vCard", test_contact_import_thunderbird},
	{"import vCard 2.1 quoted-printable", test_contact_import_v21},
	{"bad vCards rejected", test_contact_import_bad},
	{"ghosting keeps unsupported properties", test_ghosting},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo note_body_tests[] = {
	{"note round trip", test_note_roundtrip},
	{"bad note input", test_note_bad_input},
	{"plain text note import", test_note_import_plain},
	{"body truncation at UTF-8 boundary", test_body_truncation},
	{"AllOrNone and Preview", test_body_all_or_none_preview},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"contacts", setup, teardown, NULL, NULL, contact_tests},
	{"notes and body", setup, teardown, NULL, NULL, note_body_tests},
	{"calendar and tasks", setup, teardown, NULL, NULL, calendar_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
